"""What the labor report reads besides the time log: the queue, plans, and date helpers.

Counts only; no function here returns a patient's name or contact details.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from desktop.merge_states import APPLYING_STEPS, MERGING_STATUSES, PLANNING_STEPS, PairStatus, Step
from desktop.store import plans as plan_store
from desktop.store.queue import queue_counts

if TYPE_CHECKING:
    from desktop.store.cache import Cache

REMAINING_STATUSES = (PairStatus.NEW, PairStatus.LATER, *MERGING_STATUSES)
QUEUE_BANDS = ("likely", "possible")


def remaining_queue(cache: Cache) -> int:
    """Pairs still to be dealt with (new, later, or being merged; likely or possible)."""
    counts = queue_counts(cache.db)
    return sum(counts.get(f"{b}/{s}", 0) for b in QUEUE_BANDS for s in REMAINING_STATUSES)


def open_plans(cache: Cache) -> tuple[int, int, int]:
    """Active merge plans now: (planned, ready to apply, being applied)."""
    planned = len(plan_store.plans_at(cache.db, PLANNING_STEPS))
    ready = len(plan_store.plans_at(cache.db, [Step.READY]))
    applying = len(plan_store.plans_at(cache.db, APPLYING_STEPS))
    return planned, ready, applying


def month_keys(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """(year, month) from ``first``'s month to ``last``'s, inclusive."""
    out: list[tuple[int, int]] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
