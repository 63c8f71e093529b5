"""Incomplete records: patients with too little to identify them, and what to ask next visit.

A record made from a phone call (name and phone only) cannot be told apart from a namesake and
cannot be matched with confidence. This lists such records, newest first, with their next
appointment and the details to ask for. Once the front desk completes one, the next sync
brings the edit and the incremental scan re-scores it (no action needed here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

import sqlite_utils

from desktop.account import stored_account
from desktop.display import full_name, readable
from desktop.intake import account_time_zone
from desktop.store.incomplete import thin_records
from desktop.timestamps import moment_words, parse_timestamp
from desktop.triage import next_visit

_ASK = (
    ("has_email", "email address"),
    ("has_address", "home address"),
    ("has_medicare", "Medicare number"),
)
# Medicare cards are Australia's: a clinic elsewhere is not told to ask for one.
MEDICARE_COUNTRIES = ("AU", "")  # "": the account's country not known yet


@dataclass(frozen=True)
class IncompleteRecord:
    """One record too thin to identify a person."""

    patient_id: str
    name: str
    created: str  # e.g. "6 Dec 2026 03:44" on the clinic's clock
    ask_for: tuple[str, ...]  # in the order to ask
    next_visit: str = ""  # e.g. "Tue 8 Dec 10:30", "" when none is booked

    @property
    def ask_text(self) -> str:
        """What to ask at the next visit, in words."""
        items = list(self.ask_for)
        if len(items) <= 1:
            return "Ask for the " + (items[0] if items else "missing details") + "."
        return "Ask for the " + ", ".join(items[:-1]) + " and " + items[-1] + "."


def incomplete_records(
    db: sqlite_utils.Database, now: datetime, limit: int = 500
) -> list[IncompleteRecord]:
    """Records without a birth date and with at most one other detail, newest first."""
    rows = thin_records(db, limit)
    visits = next_visit(db, [r["id"] for r in rows], now)
    tz = account_time_zone(db)
    account = stored_account(db)
    country = account.country_code if account else ""
    asked = [
        (k, label) for k, label in _ASK if k != "has_medicare" or country in MEDICARE_COUNTRIES
    ]
    out = []
    for row in rows:
        ask = ("date of birth", *(label for key, label in asked if not row[key]))
        visit = visits.get(row["id"], "")
        created = _created(row["created_at"], tz)
        out.append(IncompleteRecord(row["id"], full_name(row), created, ask, visit))
    return out


def _created(created_at: str | None, tz: tzinfo) -> str:
    """``6 Dec 2026 03:44`` on the clinic's clock, as the rest of the window gives dates; the
    stored text when it is not a timestamp."""
    moment = parse_timestamp(created_at)
    if moment is None:
        return readable(created_at or "")
    return moment_words(moment.astimezone(tz))
