"""The audit trail for people: entries of a date range, a CSV export, and a one-line head.

Qt-free, shared by ``mergedesk audit`` and the audit screen::

    result = verify_cache(cache)
    rows = entries_for_days(cache, date(2026, 3, 1), date(2026, 3, 31))
    export_csv(cache, date(2026, 3, 1), date(2026, 3, 31), Path("audit.csv"))
    print(head_line(cache))   # for the labor report

Dates are whole days in this computer's time zone; entries are stored in UTC.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from desktop.audit import AuditVerification, verify
from desktop.store import audit_log
from desktop.store.cache import Cache

CSV_COLUMNS: tuple[str, ...] = (
    *(name for name in audit_log.HASHED_COLUMNS if name != "prev_hash"),
    "entry_hash",
    "sealed",
)


def verify_cache(cache: Cache) -> AuditVerification:
    """Verify a cache's trail with its keychain seal (see :func:`desktop.audit.verify`)."""
    return verify(cache.db, cache.audit_seal)


def _utc_bound(day: dt.date) -> str:
    """Local midnight starting ``day``, as the UTC ISO text entries are stored with."""
    local = dt.datetime.combine(day, dt.time()).astimezone()
    return local.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entries_for_days(cache: Cache, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Entries from the start of ``first`` to the end of ``last`` (local days), oldest first."""
    rows = audit_log.entries_between(
        cache.db.conn, _utc_bound(first), _utc_bound(last + dt.timedelta(days=1))
    )
    for row in rows:
        row["sealed"] = "yes" if row.pop("mac", None) else "no"
        row.pop("prev_hash", None)
    return rows


def export_csv(cache: Cache, first: dt.date, last: dt.date, path: Path) -> int:
    """Write the entries of a date range to a CSV (private to this user); return the count."""
    rows = entries_for_days(cache, first, last)
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        if sys.platform != "win32":
            os.chmod(path, 0o600)
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def head_line(cache: Cache) -> str:
    """One line naming the trail's head as the keychain holds it, for reports.

    ``Audit trail: 1,234 entries, head 3fa9c2d1e0b4a7f8 (kept in the keychain).``
    """
    seal = cache.audit_seal
    anchor = seal.anchor() if seal is not None else None
    if anchor is not None:
        return (
            f"Audit trail: {anchor.count:,} entries, head {anchor.head[:16]} "
            "(kept in the keychain)."
        )
    last = audit_log.last_entry(cache.db.conn)
    if last is None:
        return "Audit trail: no entries yet."
    return f"Audit trail: {last[0]:,} entries, head {last[1][:16]} (not yet sealed)."
