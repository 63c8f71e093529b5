"""The labor-cost summary of a period: counts, times and money only (no patient data).

Build it once and render it anywhere (:mod:`desktop.labor.report_text` turns it into the
blocks the PDF, the printer and the preview all draw)::

    summary = build_summary(cache, Period.last_month(), load_settings(data_dir))
    summary.hours, summary.cost, summary.merges_completed

Work is counted in the period it was done: every finished work session that *started* in the
period, costed at its active minutes (wall minutes with ``Settings.use_wall_time``). Sessions on
the same records form one *case*; a case is a merge when one of its sessions ended ``merged``,
a review when one ended ``not_same``, planned when it ended at a saved plan, other otherwise
(later, skipped, abandoned). Its minutes are the sum of its sessions' minutes in the period.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from desktop.config import Settings
from desktop.labor import sources
from desktop.labor.cost import CostModel, Period, cents, hours, stored_currency, to_decimal
from desktop.labor.timelog import TimeRow, rows
from desktop.store.cache import Cache

DUPLICATE_SHARE_LIMIT = 0.03  # above this share of new patients, intake matching is too rigid
WEEKLY_UP_TO_DAYS = 100  # longer periods get a monthly chart
_PRIORITY = ("merged", "not_same", "planned", "later", "skipped", "abandoned")
KINDS = {"merged": "merge", "not_same": "review", "planned": "planned"}


@dataclass(frozen=True)
class Case:
    """The sessions on one set of records in the period."""

    patient_ids: tuple[str, ...]
    outcome: str
    minutes: float
    sessions: int

    @property
    def kind(self) -> str:
        """``merge``, ``review``, ``planned`` or ``other``."""
        return KINDS.get(self.outcome, "other")


@dataclass(frozen=True)
class SeriesPoint:
    """One bar of the chart: a week or a month."""

    label: str
    start: dt.date
    end: dt.date
    minutes: float
    hours: Decimal
    cost: Decimal


@dataclass(frozen=True)
class AdminLine:
    """One administrator's share of the period's work."""

    who: str
    merges: int
    reviews: int
    sessions: int
    minutes: float
    hours: Decimal
    cost: Decimal


@dataclass(frozen=True)
class LaborSummary:
    """Everything the report shows for one period; see the module docstring."""

    period: Period
    model: CostModel
    generated_at: dt.datetime
    rows: tuple[TimeRow, ...]
    cases: tuple[Case, ...]
    # work in the period
    merges_completed: int
    reviews_not_same: int
    planned_in_period: int
    other_cases: int
    total_minutes: float
    active_minutes: float
    wall_minutes: float
    merge_minutes: float
    merge_median: float | None
    review_minutes: float
    review_median: float | None
    hours: Decimal
    cost: Decimal
    # now
    planned_now: int
    ready_now: int
    applying_now: int
    remaining_queue: int
    projection_minutes: float
    projection_source: str
    projected_hours: Decimal
    projected_cost: Decimal
    # where duplicates come from
    duplicates_by_month: tuple[tuple[str, int], ...]
    new_patients: int
    new_duplicates: int
    duplicate_share: float | None
    # comparisons
    manual_minutes_per_merge: float
    manual_minutes: float
    saved_minutes: float
    saved_hours: Decimal
    saved_cost: Decimal
    automation_hours: Decimal | None
    debt_ratio: Decimal | None
    # chart and breakdown
    granularity: str
    series: tuple[SeriesPoint, ...]
    per_admin: tuple[AdminLine, ...] | None

    @property
    def sessions(self) -> int:
        """Finished work sessions in the period."""
        return len(self.rows)

    @property
    def has_work(self) -> bool:
        """True when any work was recorded in the period."""
        return bool(self.rows)

    @property
    def duplicate_share_high(self) -> bool:
        """True when more than 3% of the period's new patients were duplicates."""
        return self.duplicate_share is not None and self.duplicate_share > DUPLICATE_SHARE_LIMIT


def group_cases(time_rows: Sequence[TimeRow], model: CostModel) -> list[Case]:
    """Group sessions by their records; outcome by priority merged > not_same > planned > ..."""
    grouped: dict[tuple[str, ...], list[TimeRow]] = defaultdict(list)
    for row in time_rows:
        grouped[tuple(sorted(row.patient_ids))].append(row)
    cases = []
    for ids, members in grouped.items():
        outcomes = {r.outcome for r in members}
        outcome = next((o for o in _PRIORITY if o in outcomes), members[-1].outcome)
        minutes = sum(model.minutes_of(r) for r in members)
        cases.append(Case(ids, outcome, minutes, len(members)))
    return cases


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def who(row: TimeRow) -> str:
    """Who did the work: the Cliniko user's name (label minus its id), else the OS user."""
    label = row.cliniko_user.split(" ", 1)
    if len(label) == 2 and label[0].isdigit():
        return label[1]
    return row.cliniko_user or row.os_user or "unknown"


def _buckets(period: Period) -> tuple[str, list[tuple[str, dt.date, dt.date]]]:
    """Chart buckets clipped to the period: weeks (from Monday) or calendar months."""
    out: list[tuple[str, dt.date, dt.date]] = []
    if period.days <= WEEKLY_UP_TO_DAYS:
        day = period.start - dt.timedelta(days=period.start.weekday())
        while day < period.end:
            nxt = day + dt.timedelta(days=7)
            start = max(day, period.start)
            out.append((f"{start:%b} {start.day}", start, min(nxt, period.end)))
            day = nxt
        return "week", out
    one_year = period.start.year == period.last_day.year
    for year, month in sources.month_keys(period.start, period.last_day):
        first = dt.date(year, month, 1)
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        label = f"{first:%b}" if one_year else f"{first:%b %y}"
        out.append((label, max(first, period.start), min(nxt, period.end)))
    return "month", out


def _series(
    time_rows: Sequence[TimeRow], period: Period, model: CostModel
) -> tuple[str, list[SeriesPoint]]:
    granularity, buckets = _buckets(period)
    minutes = [0.0] * len(buckets)
    for row in time_rows:
        for i, (_, start, end) in enumerate(buckets):
            if start <= row.date < end:
                minutes[i] += model.minutes_of(row)
                break
    points = [
        SeriesPoint(label, start, end, m, hours(m), model.cost(m))
        for (label, start, end), m in zip(buckets, minutes, strict=True)
    ]
    return granularity, points


def _per_admin(time_rows: Sequence[TimeRow], model: CostModel) -> list[AdminLine]:
    by_who: dict[str, list[TimeRow]] = defaultdict(list)
    for row in time_rows:
        by_who[who(row)].append(row)
    lines = []
    for name, members in sorted(by_who.items()):
        cases = group_cases(members, model)
        m = sum(model.minutes_of(r) for r in members)
        lines.append(
            AdminLine(
                name, sum(c.kind == "merge" for c in cases), sum(c.kind == "review" for c in cases),
                len(members), m, hours(m), model.cost(m),
            )
        )  # fmt: skip
    return lines


def _projection(
    cache: Cache, merge_median: float | None, model: CostModel, settings: Settings, tz: dt.tzinfo
) -> tuple[float, str]:
    """Minutes per merge for the projection: this period's median, else all-time, else manual."""
    if merge_median is not None:
        return merge_median, "median of this period's merges"
    everything = rows(cache, 0.0, 1e12, tz=tz)
    all_time = [c.minutes for c in group_cases(everything, model) if c.kind == "merge"]
    if all_time:
        return float(statistics.median(all_time)), "median of all recorded merges"
    return float(settings.manual_minutes_per_merge), "manual baseline (no merges recorded yet)"


def build_summary(
    cache: Cache,
    period: Period,
    settings: Settings,
    *,
    currency: str | None = None,
    tz: dt.tzinfo | None = None,
    per_admin: bool = False,
    now: dt.datetime | None = None,
) -> LaborSummary:
    """Summarise the work of ``period`` (days read in ``tz``, default the computer's zone).

    ``currency`` defaults to the symbol stored by
    :func:`~desktop.labor.cost.remember_account_settings` (else ``$``).
    """
    zone = tz or dt.datetime.now().astimezone().tzinfo or dt.UTC
    model = CostModel.from_settings(settings, currency or stored_currency(cache))
    time_rows = rows(cache, period.start, period.end, tz=zone)
    cases = group_cases(time_rows, model)
    merges = [c.minutes for c in cases if c.kind == "merge"]
    reviews = [c.minutes for c in cases if c.kind == "review"]
    total = sum(model.minutes_of(r) for r in time_rows)
    merge_median = _median(merges)

    planned_now, ready_now, applying_now = sources.open_plans(cache)
    remaining = sources.remaining_queue(cache)
    per_merge, source = _projection(cache, merge_median, model, settings, zone)
    projected = remaining * per_merge

    last = period.last_day
    back = last.year * 12 + last.month - 12  # 12 months up to the period's last one
    first_month = min(dt.date(back // 12, back % 12 + 1, 1), period.start.replace(day=1))
    by_month = sources.duplicates_created(cache, first_month, last, zone)
    new_count, new_dups = sources.new_patients(cache, period.start, period.end, zone)

    manual_per_merge = max(0.0, float(settings.manual_minutes_per_merge or 0))
    manual = len(merges) * manual_per_merge
    saved = manual - sum(merges)
    automation = debt = None
    if settings.automation_hours_saved_per_month is not None:
        automation = cents(to_decimal(settings.automation_hours_saved_per_month) * to_decimal(
            period.months))  # fmt: skip
        debt = cents(hours(total) / automation) if automation > 0 else None
    granularity, series = _series(time_rows, period, model)
    return LaborSummary(
        period=period, model=model, generated_at=now or dt.datetime.now(zone),
        rows=tuple(time_rows), cases=tuple(cases),
        merges_completed=len(merges), reviews_not_same=len(reviews),
        planned_in_period=sum(c.kind == "planned" for c in cases),
        other_cases=sum(c.kind == "other" for c in cases),
        total_minutes=total, active_minutes=sum(r.active_minutes for r in time_rows),
        wall_minutes=sum(r.wall_minutes for r in time_rows),
        merge_minutes=sum(merges), merge_median=merge_median,
        review_minutes=sum(reviews), review_median=_median(reviews),
        hours=hours(total), cost=model.cost(total),
        planned_now=planned_now, ready_now=ready_now, applying_now=applying_now,
        remaining_queue=remaining, projection_minutes=per_merge, projection_source=source,
        projected_hours=hours(projected), projected_cost=model.cost(projected),
        duplicates_by_month=tuple((f"{dt.date(y, m, 1):%b %Y}", n) for (y, m), n in by_month),
        new_patients=new_count, new_duplicates=new_dups,
        duplicate_share=(new_dups / new_count) if new_count else None,
        manual_minutes_per_merge=manual_per_merge, manual_minutes=manual,
        saved_minutes=saved, saved_hours=hours(saved), saved_cost=model.cost(saved),
        automation_hours=automation, debt_ratio=debt,
        granularity=granularity, series=tuple(series),
        per_admin=tuple(_per_admin(time_rows, model)) if per_admin else None,
    )  # fmt: skip
