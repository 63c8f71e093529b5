"""Clinical triage: pairs whose two records are both in use come first.

A pair whose two records both have an upcoming appointment (or both have a treatment note
written in the last 90 days) is a split history in the making: a therapist reads one record
while the other holds the rest. Such pairs go to the top of the queue, soonest booking first,
labelled e.g. "split history, booked Tue 8 Dec 10:30"; the rest keep their order. A pair a
look-alike rule says may be two people (siblings, a parent and child) is not one: two people
each in care is no split history. Reads the cached appointments and notes (offline too;
:mod:`desktop.activity` fetches them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol, TypeVar

import sqlite_utils

from desktop.intake import account_time_zone
from desktop.matching.lookalike import may_be_two_people
from desktop.store.appointments import booked_patients, latest_notes
from desktop.timestamps import parse_timestamp, utc_stamp, weekday_words

RECENT_NOTES_DAYS = 90  # a treatment note this recent means the record is in clinical use
# What a split history label means, after it (the queue's Notes cell, often cut off, says it
# again in its tooltip).
SPLIT_HISTORY_MEANS = (
    "Both records are in use: whoever opens one sees only part of this patient's history "
    "until the two are merged."
)


def split_history_words(label: str) -> str:
    """A triage label as a sentence, and on a line of its own what it means ("Split history,
    booked Tue 8 Dec 10:30.", "Both records are in use: ...")."""
    return f"{label[:1].upper()}{label[1:]}.\n{SPLIT_HISTORY_MEANS}"


class _Pair(Protocol):
    @property
    def id_a(self) -> str: ...
    @property
    def id_b(self) -> str: ...
    @property
    def flags(self) -> str: ...  # look-alike rule names joined by ";"


P = TypeVar("P", bound=_Pair)


def booking_label(starts_at: datetime, tz: tzinfo) -> str:
    """``Tue 8 Dec 10:30`` on the clinic's clock."""
    return weekday_words(starts_at.astimezone(tz))


def _day_label(written_at: datetime, tz: tzinfo) -> str:
    """``2 Dec`` on the clinic's clock."""
    moment = written_at.astimezone(tz)
    return f"{moment.day} {moment:%b}"


def split_history(
    db: sqlite_utils.Database,
    pairs: Iterable[_Pair],
    now: datetime,
    recent_days: int = RECENT_NOTES_DAYS,
) -> dict[tuple[str, str], tuple[int, float, str]]:
    """Per pair in clinical use (never one a rule says may be two people): (rank, sort key,
    label). Rank 0: both records booked (the sooner booking first); rank 1: both records have
    a treatment note written in the last ``recent_days`` days (the most recently written-in
    pair first)."""
    tz = account_time_zone(db)
    # Cached times are UTC stamps, so the sooner is the smaller text; only a pair's own are
    # parsed (a stamp no calendar has, cached by an older version, counts as none).
    booked = booked_patients(db, utc_stamp(now))
    noted = latest_notes(db, utc_stamp(now - timedelta(days=recent_days)))
    out: dict[tuple[str, str], tuple[int, float, str]] = {}
    for pair in pairs:
        a, b = pair.id_a, pair.id_b
        if may_be_two_people(pair.flags):
            continue
        if a in booked and b in booked:
            if soonest := parse_timestamp(min(booked[a], booked[b])):
                label = f"split history, booked {booking_label(soonest, tz)}"
                out[(a, b)] = (0, soonest.timestamp(), label)
        elif a in noted and b in noted:
            # the later of the two notes is at least as recent as the earlier one
            both_since = parse_timestamp(min(noted[a], noted[b]))
            latest = parse_timestamp(max(noted[a], noted[b]))
            if both_since and latest:
                words = f"treatment notes on both records, latest {_day_label(latest, tz)}"
                out[(a, b)] = (1, -both_since.timestamp(), f"split history: {words}")
    return out


def triage_order(
    rows: Sequence[P], marks: dict[tuple[str, str], tuple[int, float, str]]
) -> list[P]:
    """``rows`` with the pairs in clinical use first (booked soonest first), the rest after
    in their order."""
    first = sorted(
        (r for r in rows if (r.id_a, r.id_b) in marks),
        key=lambda r: marks[(r.id_a, r.id_b)][:2],
    )
    return first + [r for r in rows if (r.id_a, r.id_b) not in marks]


def next_visit(db: sqlite_utils.Database, ids: Iterable[str], now: datetime) -> dict[str, Any]:
    """Per id: its next appointment label, for the compare view (ids with none left out)."""
    from desktop.store.appointments import next_appointments

    tz = account_time_zone(db)
    found = next_appointments(db, ids, utc_stamp(now))
    return {
        pid: booking_label(starts, tz)
        for pid, text in found.items()
        if (starts := parse_timestamp(text))
    }
