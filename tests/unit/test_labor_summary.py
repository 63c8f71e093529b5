"""The labor summary: counts, medians, money, queue projection, duplicate sources, edge cases."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from labor_data import (
    at,
    insert_pair,
    insert_plan,
    insert_session,
    insert_year,
)

from desktop.account import Account, remember_account
from desktop.config import Settings
from desktop.labor.cost import Period
from desktop.labor.report_text import Chart, Paragraph, Table, render_plain, report_blocks
from desktop.labor.summary import build_summary
from desktop.store.cache import Cache

KEY = "6d" * 32
UTC = dt.UTC
MARCH = Period.month(2026, 3)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def summary(cache: Cache, period: Period = MARCH, **settings) -> object:
    return build_summary(cache, period, Settings(**settings), tz=UTC, per_admin=True)


def march_work(cache: Cache) -> None:
    d = dt.date(2026, 3, 3)
    # a merge planned on one day and applied on another: one merge of 10 + 4 minutes
    insert_session(cache, "a1", ["1", "2"], at(d), 600, 900, "planned", plan_id="p1")
    insert_session(cache, "a2", ["2", "1"], at(d, 14), 240, 300, "merged", plan_id="p1")
    insert_session(cache, "b", ["3", "4"], at(d, 10), 360, 400, "merged", user="2 Sam")
    insert_session(cache, "c", ["5", "6"], at(d, 11), 120, 130, "not_same")
    insert_session(cache, "d", ["7", "8"], at(d, 12), 300, 300, "not_same", user="2 Sam")
    insert_session(cache, "e", ["9", "10"], at(d, 13), 60, 600, "later")
    insert_session(cache, "f", ["11", "12"], at(d, 15), 180, 200, "planned", plan_id="p2")
    insert_session(cache, "open", ["13", "14"], at(d, 16), 999, 999, None)  # still open
    insert_session(cache, "feb", ["15", "16"], at(dt.date(2026, 2, 27)), 500, 500, "merged")


def test_counts_medians_hours_and_cost(cache: Cache) -> None:
    march_work(cache)
    s = summary(cache, on_cost_percent=10)
    assert (s.merges_completed, s.reviews_not_same, s.planned_in_period, s.other_cases) == (
        2,
        2,
        1,
        1,
    )
    assert s.sessions == 7  # the open one and February's are left out
    assert s.merge_minutes == pytest.approx(20.0) and s.merge_median == pytest.approx(10.0)
    assert s.review_minutes == pytest.approx(7.0) and s.review_median == pytest.approx(3.5)
    total = (600 + 240 + 360 + 120 + 300 + 60 + 180) / 60
    assert s.total_minutes == pytest.approx(total)
    assert s.hours == Decimal("0.52")
    assert s.cost == (Decimal(total) / 60 * Decimal("28") * Decimal("1.1")).quantize(
        Decimal("0.01")
    )
    assert s.manual_minutes == 30.0 and s.saved_minutes == pytest.approx(10.0)
    assert sum(p.minutes for p in s.series) == pytest.approx(total)
    assert s.granularity == "week"
    admins = {a.who: a for a in s.per_admin}
    assert (admins["Sam"].merges, admins["Sam"].reviews) == (1, 1)
    assert admins["Alex Administrator"].minutes == pytest.approx(total - 11)


def test_wall_time_basis(cache: Cache) -> None:
    march_work(cache)
    s = summary(cache, use_wall_time=True)
    assert s.total_minutes == pytest.approx((900 + 300 + 400 + 130 + 300 + 600 + 200) / 60)
    assert s.merge_median == pytest.approx((400 / 60 + 1200 / 60) / 2)


def test_queue_plans_and_projection(cache: Cache) -> None:
    march_work(cache)
    for i, status in enumerate(("new", "new", "later", "planned", "ready", "merged", "not_same")):
        insert_pair(cache, f"q{i}", f"r{i}", status)
    insert_pair(cache, "u1", "u2", "new", band="unlikely")
    insert_plan(cache, "x1", ["q3", "r3"], "reconcile")
    insert_plan(cache, "x2", ["q4", "r4"], "ready")
    insert_plan(cache, "x3", ["q9", "r9"], "wait_for_merge")
    s = summary(cache)
    assert (s.planned_now, s.ready_now, s.applying_now) == (1, 1, 1)
    assert s.remaining_queue == 5
    p = s.projection
    # two new likely pairs weighted by (1 merged + 0.95 x 20) / (2 reviewed + 20), two certain
    assert p.later == 1 and p.decided == 2 and p.merges_needed == {"likely": 2}
    assert p.expected_merges == pytest.approx(2 + 2 * 20 / 22)
    # minutes from all recorded work: merges of 14, 6 and (in February) 8.3 minutes
    assert p.merge.median == pytest.approx(500 / 60) and p.review.median == pytest.approx(3.5)
    expected = (2 + 40 / 22) * 500 / 60 + (4 / 22) * 3.5
    assert s.projected_cost == s.model.cost(expected)
    assert s.projected_cost_low <= s.projected_cost <= s.projected_cost_high


def test_projection_falls_back_to_the_baseline_then_uses_all_recorded_merges(cache: Cache) -> None:
    insert_pair(cache, "a", "b")
    empty = summary(cache, manual_minutes_per_merge=12)
    assert empty.projection.merge.median == 12 and "baseline" in empty.projection.merge.source
    assert "assumed" in empty.projection.review.source
    insert_session(cache, "old", ["1", "2"], at(dt.date(2025, 5, 1)), 420, 420, "merged")
    later = summary(cache)
    assert later.projection.merge.median == pytest.approx(7.0)
    assert "median of 1 recorded" in later.projection.merge.source


def test_the_chart_stops_at_today(cache: Cache) -> None:
    march_work(cache)
    today = dt.datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    s = build_summary(cache, MARCH, Settings(), tz=UTC, now=today)
    assert [p.label for p in s.series] == ["1 Mar", "2 Mar", "9 Mar"]  # not 16, 23, 30 Mar
    assert sum(p.minutes for p in s.series) == pytest.approx(s.total_minutes)


def test_a_period_with_no_work(cache: Cache) -> None:
    s = summary(cache, Period.month(2024, 2))
    assert not s.has_work and s.hours == 0 and s.cost == 0
    assert s.merge_median is None and s.intake.total.new_patients == 0
    text = render_plain(report_blocks(s))
    assert "No merges or reviews were recorded" in text and "No new patients" in text
    assert re.search(r"Merges completed +0 +0 min +– +\$0\.00", text)


def test_rate_zero(cache: Cache) -> None:
    march_work(cache)
    s = summary(cache, hourly_rate=0.0)
    assert s.cost == 0 and s.projected_cost == 0 and s.hours == Decimal("0.52")
    assert all(p.cost == 0 for p in s.series) and all(a.cost == 0 for a in s.per_admin)
    chart = next(b for b in report_blocks(s) if isinstance(b, Chart))
    assert max(chart.costs) == 0


def test_a_few_seconds_of_work_are_a_bar_beside_the_cost_they_make(cache: Cache) -> None:
    """12 seconds round to "0.00 h" but cost $0.09 at $28 an hour: the chart's bar is not
    zero beside a cost line near the top of its axis."""
    insert_session(cache, "brief", ["1", "2"], at(dt.date(2026, 3, 9)), 12, 12, "skipped")
    s = summary(cache, hourly_rate=28.0)
    assert s.hours == 0 and s.cost > 0
    chart = next(b for b in report_blocks(s) if isinstance(b, Chart))
    assert max(chart.hours) == pytest.approx(12 / 3600)


def test_a_merge_with_no_recorded_steps(cache: Cache) -> None:
    insert_session(cache, "bare", ["1", "2"], at(dt.date(2026, 3, 9)), 0, 0, "merged")
    s = summary(cache)
    assert s.merges_completed == 1 and s.merge_median == 0.0 and s.cost == 0
    table = next(b for b in report_blocks(s) if isinstance(b, Table))
    assert ("Merges completed", "1", "0 min", "0 min", "$0.00") in table.rows


def test_a_year_of_data(cache: Cache) -> None:
    total_seconds = insert_year(cache, 2025)
    remember_account(cache, Account(currency_symbol="£"))
    started = time.perf_counter()
    s = build_summary(
        cache, Period.custom(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), Settings(),
        tz=UTC, per_admin=True,
    )  # fmt: skip
    assert time.perf_counter() - started < 10
    assert s.sessions == 365 * 12
    assert s.total_minutes == pytest.approx(total_seconds / 60)
    assert s.granularity == "month" and len(s.series) == 12
    assert sum(p.minutes for p in s.series) == pytest.approx(total_seconds / 60)
    assert len(s.per_admin) == 3 and sum(a.sessions for a in s.per_admin) == s.sessions
    assert s.model.currency == "£"
    blocks = report_blocks(s)
    assert any(isinstance(b, Paragraph) and "£" in b.text for b in blocks)
    assert f"£{s.cost:,.2f}" in render_plain(blocks)


def test_the_time_putting_a_survivor_back_is_named_in_words(cache: Cache) -> None:
    steps = {"update_survivor": (60.0, 60.0), "restore_survivor": (90.0, 90.0)}
    insert_session(cache, "r", ["1", "2"], at(dt.date(2026, 3, 9)), 150, 150, "restored",
                   steps=steps)  # fmt: skip
    text = render_plain(report_blocks(summary(cache)))
    assert "Restore a merge (back it out)" in text and "restore_survivor" not in text
    assert "Update the record that stays" in text


def test_days_and_times_are_the_clinics_whatever_this_computers_zone(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window gives times on the clinic's clock; the report did on this computer's, so
    work done on the clinic's 1 December (30 November in UTC) fell in November, and the
    printed "Prepared" and the CSV's times were the computer's, unnamed."""
    from desktop.labor.csv_export import csv_rows
    from desktop.labor.report_text import report_blocks

    monkeypatch.setenv("TZ", "America/New_York")  # the computer is elsewhere
    time.tzset()
    try:
        remember_account(cache, Account(time_zone="Australia/Melbourne"))
        # 1 Dec 2026 09:30 in Melbourne is 30 Nov 22:30 UTC, and 17:30 in New York.
        insert_session(
            cache, "m", ["1", "2"], at(dt.date(2026, 11, 30), 22, 30), 300, 300, "merged"
        )
        now = dt.datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
        december = build_summary(cache, Period.month(2026, 12), Settings(), now=now)
        assert december.merges_completed == 1
        november = build_summary(cache, Period.month(2026, 11), Settings(), now=now)
        assert november.merges_completed == 0
        [row] = [r for r in csv_rows(december) if "merged" in r]
        assert "2026-12-01" in row and "09:30:00" in row, row
        text = render_plain(report_blocks(december, "Clinic"))
        assert "Prepared 2 Dec 2026 12:00 AEDT" in text
    finally:
        monkeypatch.undo()
        time.tzset()


def test_pairs_moved_on_from_are_not_called_put_off(cache: Cache) -> None:
    """A pair looked at and left by J (skipped) was counted under "Pairs put off (later,
    skipped)": a walk put off one pair and undid it, and the report said 7."""
    march_work(cache)
    text = render_plain(report_blocks(summary(cache)))
    assert "Pairs looked at without a decision (later, or moved on)" in text
    assert "Pairs put off (later, skipped)" not in text


def test_a_pair_left_open_when_the_app_closed_is_no_merge_abandoned(cache: Cache) -> None:
    """A pair only selected in the list when the app was closed (or died) ends "abandoned";
    with no merge begun it is a pair looked at, not "Merges abandoned (left unfinished)"
    (a walk read 1 there for a pair it never opened)."""
    d = dt.date(2026, 3, 3)
    insert_session(cache, "looked", ["1", "2"], at(d), 30, 30, "abandoned")
    insert_session(cache, "begun", ["3", "4"], at(d, 10), 60, 60, "abandoned", plan_id="p9")
    s = summary(cache)
    kinds = {c.patient_ids: c.kind for c in s.cases}
    assert kinds == {("1", "2"): "other", ("3", "4"): "abandoned"}


def test_a_group_of_three_merged_at_once_is_two_merges(cache: Cache) -> None:
    """A walk merged a group of three records and the summary said one merge, priced once
    against the manual baseline, where the projection counts a group's records - 1 merges."""
    d = dt.date(2026, 3, 3)
    insert_session(cache, "g", ["1", "2", "3"], at(d), 720, 800, "merged", plan_id="p1")
    insert_session(cache, "p", ["4", "5"], at(d, 11), 240, 260, "merged", plan_id="p2")
    s = summary(cache, manual_minutes_per_merge=15)
    assert s.merges_completed == 3
    assert s.manual_minutes == 45.0 and s.saved_minutes == pytest.approx(45 - 16)
    assert s.merge_minutes == pytest.approx(16.0)
    assert s.merge_median == pytest.approx(6.0)  # 6, 6 (the group's 12 min) and 4
    assert s.projection.merge.median == pytest.approx(6.0)
    merged = next(k for k in s.kinds if k.kind == "merge")
    assert (merged.count, merged.minutes) == (3, pytest.approx(16.0))
    text = render_plain(report_blocks(s))
    assert "a group of three records merged at once is two merges" in text
