"""Labor: the time log and the labor-cost report (no Qt).

``timelog`` (work sessions), ``cost`` (cost model, periods, the stored currency), ``summary``
(:func:`~desktop.labor.summary.build_summary` -> ``LaborSummary``), ``report_text`` (the
document model: blocks, and plain text), ``csv_export`` (one row per work session) and
``report_cli`` (``mergedesk report``). Printing and PDF are in ``desktop.ui.report_document``.
"""
