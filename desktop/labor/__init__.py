"""Labor: the time log and the labor-cost report (no Qt).

``timelog`` (work sessions; the wait on Cliniko's merge page counts up to a cap), ``cost``
(cost model, periods, the stored currency), ``projection`` (the queue still to do, weighted by
each band's measured precision), ``debt`` (semantic debt ratio and monthly TCO), ``summary``
(:func:`~desktop.labor.summary.build_summary` -> ``LaborSummary``), ``report_text`` (the
document model: blocks, and plain text), ``csv_export`` (one row per work session) and
``report_cli`` (``mergedesk report``). Printing and PDF are in ``desktop.ui.report_document``.
"""
