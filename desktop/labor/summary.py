"""The labor-cost summary of a period: counts, times and money only (no patient data).

Build it once and render it anywhere (:mod:`desktop.labor.report_text` turns it into the
blocks the PDF, the printer and the preview all draw)::

    summary = build_summary(cache, Period.last_month(), load_settings(data_dir))
    summary.hours, summary.cost, summary.merges_completed

Work is counted in the period it was done: every finished work session that *started* in the
period, costed at its active minutes (wall minutes with ``Settings.use_wall_time``). Sessions on
the same records form one *case*; a case is a merge when one of its sessions ended ``merged``,
a review when one ended ``not_same``, planned when it ended at a saved plan, abandoned when
its work was left unfinished (the app closed or crashed, another pair opened), other otherwise
(later, skipped). Restores (a merge backed out) are cases of their own. Its minutes are the sum
of its sessions' minutes in the period.

A merge is one record merged into another, as the projection counts them: a group of three
records merged at once is two merges, each with half the group's minutes (it was counted as
one merge, priced once against the manual baseline of a merge per record).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from desktop.audit import cliniko_user_words
from desktop.config import Settings
from desktop.intake import IntakeReport, account_time_zone, intake_report
from desktop.labor import sources
from desktop.labor.cost import CostModel, Period, hours
from desktop.labor.cost import stored_currency as stored_currency
from desktop.labor.debt import DebtFigures, IntegrationRule, debt_figures, newer_records
from desktop.labor.projection import Projection, build_projection
from desktop.labor.timelog import WAIT_STEPS, TimeRow, rows
from desktop.merge_states import ORDER, Outcome
from desktop.store import review_counts
from desktop.store.cache import Cache
from desktop.store.patient_origin import origin_of

WEEKLY_UP_TO_DAYS = 100  # longer periods get a monthly chart
_PRIORITY = (
    Outcome.MERGED, Outcome.NOT_SAME, Outcome.PLANNED, Outcome.ABANDONED, Outcome.LATER,
    Outcome.SKIPPED,
)  # fmt: skip
KINDS: dict[str, str] = {
    Outcome.MERGED: "merge", Outcome.NOT_SAME: "review", Outcome.PLANNED: "planned",
    Outcome.ABANDONED: "abandoned", Outcome.RESTORED: "restore",
}  # fmt: skip
KIND_LABELS = {
    "merge": "Merges completed",
    "review": 'Reviews ended "not the same person"',
    "restore": "Merges backed out (restored)",
    "abandoned": "Merges abandoned (left unfinished)",
    "planned": "Merges planned, not yet done",
    "other": "Pairs looked at without a decision (later, or moved on)",
}
CORRECTION_KINDS = ("merge", "planned")  # work on records judged the same person


@dataclass(frozen=True)
class Case:
    """The sessions on one set of records in the period."""

    patient_ids: tuple[str, ...]
    outcome: str
    minutes: float
    sessions: int

    @property
    def kind(self) -> str:
        """``merge``, ``review``, ``restore``, ``abandoned``, ``planned`` or ``other``."""
        return KINDS.get(self.outcome, "other")

    @property
    def merges(self) -> int:
        """Records merged into another by this case (records - 1; none unless a merge)."""
        return max(1, len(self.patient_ids) - 1) if self.kind == "merge" else 0


def merge_minutes(cases: Sequence[Case]) -> list[float]:
    """The minutes of each merge of ``cases``: a group's minutes shared by its merges."""
    return [c.minutes / c.merges for c in cases for _ in range(c.merges)]


@dataclass(frozen=True)
class KindLine:
    """One kind of work in the period: how many cases, their minutes, the median."""

    kind: str
    label: str
    count: int
    minutes: float
    median: float | None


@dataclass(frozen=True)
class StepLine:
    """One step of the guided merge: the minutes spent on it in the period."""

    step: str
    minutes: float
    sessions: int


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
    kinds: tuple[KindLine, ...] = ()


@dataclass(frozen=True)
class LaborSummary:
    """Everything the report shows for one period; see the module docstring."""

    period: Period
    model: CostModel
    generated_at: dt.datetime
    rows: tuple[TimeRow, ...]
    cases: tuple[Case, ...]
    # work in the period
    kinds: tuple[KindLine, ...]
    steps: tuple[StepLine, ...]
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
    # how time is counted
    idle_threshold_seconds: float
    wait_cap_minutes: float
    waits: int
    wait_cap_hits: int
    # now
    planned_now: int
    ready_now: int
    applying_now: int
    remaining_queue: int
    projection: Projection
    projected_hours: Decimal
    projected_cost: Decimal
    projected_cost_low: Decimal
    projected_cost_high: Decimal
    # where duplicates come from
    intake: IntakeReport
    # comparisons
    manual_minutes_per_merge: float
    manual_minutes: float
    saved_minutes: float
    saved_hours: Decimal
    saved_cost: Decimal
    debt: DebtFigures
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


def _case_key(row: TimeRow) -> tuple[tuple[str, ...], bool]:
    return tuple(sorted(row.patient_ids)), row.outcome == Outcome.RESTORED


def group_cases(time_rows: Sequence[TimeRow], model: CostModel) -> list[Case]:
    """Group sessions by their records (restores apart); outcome by priority merged >
    not_same > planned > abandoned > later > skipped, an abandoned one with no merge plan
    counted as skipped."""
    grouped: dict[tuple[tuple[str, ...], bool], list[TimeRow]] = defaultdict(list)
    for row in time_rows:
        grouped[_case_key(row)].append(row)
    cases = []
    for (ids, _), members in grouped.items():
        outcomes = {r.outcome for r in members}
        outcome = next((o for o in _PRIORITY if o in outcomes), members[-1].outcome)
        if outcome == Outcome.ABANDONED and not any(r.plan_id for r in members):
            # Left when the app closed with no merge begun: looked at, not a merge abandoned.
            outcome = Outcome.SKIPPED
        minutes = sum(model.minutes_of(r) for r in members)
        cases.append(Case(ids, outcome, minutes, len(members)))
    return cases


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def kind_lines(cases: Sequence[Case]) -> tuple[KindLine, ...]:
    """One line per kind of work, in the report's order."""
    out = []
    for kind, label in KIND_LABELS.items():
        if kind == "merge":
            minutes = merge_minutes(cases)
        else:
            minutes = [c.minutes for c in cases if c.kind == kind]
        out.append(KindLine(kind, label, len(minutes), float(sum(minutes)), _median(minutes)))
    return tuple(out)


def who(row: TimeRow) -> str:
    """Who did the work: the Cliniko user's name (label minus its id), else the OS user."""
    return cliniko_user_words(row.cliniko_user)[0] or row.os_user or "unknown"


def _buckets(period: Period, today: dt.date) -> tuple[str, list[tuple[str, dt.date, dt.date]]]:
    """Chart buckets clipped to the period, up to ``today``: weeks (from Monday) or months."""
    out: list[tuple[str, dt.date, dt.date]] = []
    last = min(period.end, today + dt.timedelta(days=1))
    if period.days <= WEEKLY_UP_TO_DAYS:
        day = period.start - dt.timedelta(days=period.start.weekday())
        while day < last:
            nxt = day + dt.timedelta(days=7)
            start = max(day, period.start)
            out.append((f"{start.day} {start:%b}", start, min(nxt, period.end)))
            day = nxt
        return "week", out
    one_year = period.start.year == period.last_day.year
    for year, month in sources.month_keys(period.start, period.last_day):
        first = dt.date(year, month, 1)
        if first >= last and out:
            break
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        label = f"{first:%b}" if one_year else f"{first:%b %y}"
        out.append((label, max(first, period.start), min(nxt, period.end)))
    return "month", out


def _series(
    time_rows: Sequence[TimeRow], period: Period, model: CostModel, today: dt.date
) -> tuple[str, list[SeriesPoint]]:
    granularity, buckets = _buckets(period, today)
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
                name, sum(c.merges for c in cases), sum(c.kind == "review" for c in cases),
                len(members), m, hours(m), model.cost(m), kind_lines(cases),
            )
        )  # fmt: skip
    return lines


def step_lines(time_rows: Sequence[TimeRow], model: CostModel) -> tuple[StepLine, ...]:
    """Minutes per merge step (active or wall, per the model), steps in the wizard's order."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for row in time_rows:
        seconds = row.step_seconds if model.use_wall_time else row.step_active_seconds
        for step, value in seconds.items():
            totals[step] += value / 60.0
            counts[step] += 1
    order = [str(s) for s in ORDER] + sorted(set(totals) - set(ORDER))
    return tuple(StepLine(s, totals[s], counts[s]) for s in order if s in totals)


def wait_hits(time_rows: Sequence[TimeRow]) -> tuple[int, int]:
    """(sessions that waited for Cliniko's merge, those whose wait reached the cap)."""
    waits = hits = 0
    for row in time_rows:
        wall = sum(v for k, v in row.step_seconds.items() if k in WAIT_STEPS)
        counted = sum(v for k, v in row.step_active_seconds.items() if k in WAIT_STEPS)
        if any(k in WAIT_STEPS for k in row.step_seconds):
            waits += 1
            hits += wall > counted + 1.0
    return waits, hits


def _projection(cache: Cache, model: CostModel, settings: Settings, tz: dt.tzinfo) -> Projection:
    """The queue's projection from all recorded work (see :mod:`desktop.labor.projection`)."""
    everything = group_cases(rows(cache, 0.0, 1e12, tz=tz), model)
    db = cache.db
    return build_projection(
        review_counts.open_pairs(db), review_counts.reviewed_by_band(db),
        review_counts.count_later(db), merge_minutes(everything),
        [c.minutes for c in everything if c.kind == "review"],
        max(0.0, float(settings.manual_minutes_per_merge or 0)),
    )  # fmt: skip


def _debt(
    cache: Cache, cases: Sequence[Case], settings: Settings, model: CostModel, period: Period,
    tz: dt.tzinfo,
) -> DebtFigures:  # fmt: skip
    rule = IntegrationRule.from_settings(settings)
    work = [(c.patient_ids, c.minutes) for c in cases if c.kind in CORRECTION_KINDS]
    origins = origin_of(cache.db, {i for ids, _ in work for i in ids}) if rule.named else {}

    def is_integration(ids: Sequence[str]) -> bool:
        return any(rule.matches(*origins[i], tz) for i in newer_records(ids, origins))

    return debt_figures(work, is_integration, rule, settings, model, period.months)


def build_summary(
    cache: Cache,
    period: Period,
    settings: Settings,
    *,
    currency: str | None = None,
    tz: dt.tzinfo | None = None,
    per_admin: bool = False,
    now: dt.datetime | None = None,
    today: dt.date | None = None,
) -> LaborSummary:
    """Summarise the work of ``period`` (days read in ``tz``, default the clinic's zone: the
    Cliniko account's, else this computer's), as the window gives times.

    ``currency`` defaults to the symbol stored by :func:`desktop.account.remember_account`
    (else ``$``). The chart stops at ``today`` (default: ``now``'s day): weeks to come are not
    drawn.
    """
    zone = tz or account_time_zone(cache.db)
    generated = (now or dt.datetime.now(zone)).astimezone(zone)
    model = CostModel.from_settings(settings, currency or stored_currency(cache))
    time_rows = rows(cache, period.start, period.end, tz=zone)
    cases = group_cases(time_rows, model)
    merges = merge_minutes(cases)
    reviews = [c.minutes for c in cases if c.kind == "review"]
    total = sum(model.minutes_of(r) for r in time_rows)
    waits, hits = wait_hits(time_rows)

    planned_now, ready_now, applying_now = sources.open_plans(cache)
    projection = _projection(cache, model, settings, zone)
    start = dt.datetime.combine(period.start, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(period.end, dt.time(), tzinfo=zone)
    intake = intake_report(
        cache.db, start, end, zone, threshold=float(settings.intake_alarm_threshold),
        minimum=int(settings.intake_alarm_minimum),
    )  # fmt: skip

    manual_per_merge = max(0.0, float(settings.manual_minutes_per_merge or 0))
    manual = len(merges) * manual_per_merge
    saved = manual - sum(merges)
    granularity, series = _series(time_rows, period, model, today or generated.date())
    return LaborSummary(
        period=period, model=model, generated_at=generated,
        rows=tuple(time_rows), cases=tuple(cases), kinds=kind_lines(cases),
        steps=step_lines(time_rows, model),
        merges_completed=len(merges), reviews_not_same=len(reviews),
        planned_in_period=sum(c.kind == "planned" for c in cases),
        other_cases=sum(c.kind == "other" for c in cases),
        total_minutes=total, active_minutes=sum(r.active_minutes for r in time_rows),
        wall_minutes=sum(r.wall_minutes for r in time_rows),
        merge_minutes=sum(merges), merge_median=_median(merges),
        review_minutes=sum(reviews), review_median=_median(reviews),
        hours=hours(total), cost=model.cost(total),
        idle_threshold_seconds=float(settings.idle_threshold_seconds),
        wait_cap_minutes=float(settings.merge_wait_cap_minutes), waits=waits, wait_cap_hits=hits,
        planned_now=planned_now, ready_now=ready_now, applying_now=applying_now,
        remaining_queue=sources.remaining_queue(cache), projection=projection,
        projected_hours=hours(projection.minutes()),
        projected_cost=model.cost(projection.minutes()),
        projected_cost_low=model.cost(projection.minutes("low")),
        projected_cost_high=model.cost(projection.minutes("high")),
        intake=intake,
        manual_minutes_per_merge=manual_per_merge, manual_minutes=manual,
        saved_minutes=saved, saved_hours=hours(saved), saved_cost=model.cost(saved),
        debt=_debt(cache, cases, settings, model, period, zone),
        granularity=granularity, series=tuple(series),
        per_admin=tuple(_per_admin(time_rows, model)) if per_admin else None,
    )  # fmt: skip
