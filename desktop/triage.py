"""Clinical triage: pairs whose two records are both in use come first.

A pair whose two records both have an upcoming appointment (or both have treatment notes) is a
split history in the making: a therapist reads one record while the other holds the rest. Such
pairs go to the top of the queue, soonest booking first, labelled e.g. "split history, booked
Tue 8 Dec 10:30"; the rest keep their order. Reads the cached appointments (offline too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol, TypeVar

import sqlite_utils

from desktop.intake import account_time_zone
from desktop.store.appointments import booked_patients, patients_with_notes


class _Pair(Protocol):
    @property
    def id_a(self) -> str: ...
    @property
    def id_b(self) -> str: ...


P = TypeVar("P", bound=_Pair)


def booking_label(starts_at: str, tz: tzinfo) -> str:
    """``Tue 8 Dec 10:30`` on the clinic's clock."""
    moment = datetime.fromisoformat(starts_at.replace("Z", "+00:00")).astimezone(tz)
    return f"{moment:%a} {moment.day} {moment:%b %H:%M}"


def split_history(
    db: sqlite_utils.Database, pairs: Iterable[_Pair], now: datetime
) -> dict[tuple[str, str], tuple[int, str, str]]:
    """Per pair in clinical use: (rank, sort key, label). Rank 0: both records booked (sort by
    the sooner booking); rank 1: both have treatment notes."""
    tz = account_time_zone(db)
    booked = booked_patients(db, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    noted = patients_with_notes(db)
    out: dict[tuple[str, str], tuple[int, str, str]] = {}
    for pair in pairs:
        a, b = pair.id_a, pair.id_b
        if a in booked and b in booked:
            soonest = min(booked[a], booked[b])
            out[(a, b)] = (0, soonest, f"split history, booked {booking_label(soonest, tz)}")
        elif a in noted and b in noted:
            out[(a, b)] = (1, "", "split history: treatment notes on both records")
    return out


def triage_order(rows: Sequence[P], marks: dict[tuple[str, str], tuple[int, str, str]]) -> list[P]:
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
    found = next_appointments(db, ids, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return {pid: booking_label(starts, tz) for pid, starts in found.items()}
