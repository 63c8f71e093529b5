"""The report's record-keeping line: the audit trail's head and the last reconciliation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desktop.audit_export import head_line
from desktop.reconcile import last_reconciliation
from desktop.store.cache import Cache
from desktop.timestamps import day_words


@dataclass(frozen=True)
class RecordKeeping:
    """What the report prints about the records behind its figures (no patient data)."""

    audit_head: str
    last_reconciliation: str


def record_keeping(cache: Cache, zone: dt.tzinfo | None) -> RecordKeeping:
    """The audit head (as the keychain holds it) and when the cache was last compared with
    Cliniko, with how many records had drifted: the day on the clock of ``zone`` (the
    report's, so that it agrees with "Prepared ...")."""
    last = last_reconciliation(cache.db)
    if last is None:
        compared = "Cache not yet compared in full with Cliniko."
    else:
        drifted = (
            "no record"
            if last.drifted == 0
            else f"{last.drifted:,} record{'s' if last.drifted != 1 else ''}"
        )
        day = day_words(last.at.astimezone(zone))
        compared = f"Cache last compared with Cliniko on {day}: {drifted} had drifted."
    return RecordKeeping(head_line(cache), compared)
