"""CSV export of the rows under a labor summary: one row per work session, ids only.

Columns: date, start time and its offset from UTC (the clinic's time zone), outcome, kind
(merge/review/planned/other, the session's case), active and wall minutes, the costed
minutes, cost, currency, who (Cliniko user, OS user), patient ids, plan id. The last row
(outcome ``total``) sums the minutes and gives the report's total cost to the cent: costed
from the summed minutes, as the report does. The rows' costs add up to it: each is cut to the
cent and the cents left over go to the rows with the largest remainders (rounding each on its
own made $4.00 of rows under a $3.98 total).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from desktop.labor.cost import share_cents, to_decimal
from desktop.labor.summary import LaborSummary

COLUMNS = (
    "date", "start_time", "utc_offset", "outcome", "kind", "active_minutes", "wall_minutes",
    "costed_minutes", "cost", "currency", "cliniko_user", "os_user", "patient_ids", "plan_id",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (prefix ``'``)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _utc_offset(moment: dt.datetime) -> str:
    """``+10:00``: how far the start time's zone is from UTC ("" for a time without one)."""
    offset = moment.utcoffset()
    if offset is None:
        return ""
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def csv_rows(summary: LaborSummary) -> list[list[str]]:
    """The export as lists of strings (header first)."""
    model = summary.model
    kinds = {c.patient_ids: c.kind for c in summary.cases}
    out = [list(COLUMNS)]
    minutes_of = [model.minutes_of(row) for row in summary.rows]
    exact = [to_decimal(m) / 60 * model.loaded_rate for m in minutes_of]
    costs = share_cents(exact, summary.cost)
    for row, minutes, cost in zip(summary.rows, minutes_of, costs, strict=True):
        out.append(
            [
                row.date.isoformat(), row.started_at.strftime("%H:%M:%S"),
                _utc_offset(row.started_at), row.outcome,
                kinds.get(tuple(sorted(row.patient_ids)), "other"),
                f"{row.active_minutes:.4f}", f"{row.wall_minutes:.4f}", f"{minutes:.4f}",
                f"{cost:.2f}", model.currency,
                safe_cell(row.cliniko_user), safe_cell(row.os_user),
                " ".join(row.patient_ids), row.plan_id or "",
            ]
        )  # fmt: skip
    out.append(
        ["", "", "", "total", "", f"{summary.active_minutes:.4f}", f"{summary.wall_minutes:.4f}",
         f"{summary.total_minutes:.4f}", f"{summary.cost:.2f}", model.currency, "", "", "", ""]
    )  # fmt: skip
    return out


def csv_text(summary: LaborSummary) -> str:
    """The export as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(summary))
    return buffer.getvalue()


def write_csv(summary: LaborSummary, path: Path) -> int:
    """Write the export (UTF-8 with BOM, so Excel reads the currency symbol); return how many
    work sessions (the total row not counted)."""
    table = csv_rows(summary)
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(table)
    return len(summary.rows)
