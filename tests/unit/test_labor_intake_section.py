"""The report's intake section: new patients that arrived as duplicates, measured at arrival
(kept when they are merged later), by week and creation window, with the alarm's minimum."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from labor_data import insert_patient

from desktop.config import Settings
from desktop.labor.cost import Period
from desktop.labor.report_text import Paragraph, Table, render_plain, report_blocks
from desktop.labor.summary import build_summary
from desktop.store.cache import Cache
from desktop.store.intake import record_first_scores
from desktop.store.transaction import transaction

KEY = "4c" * 32
MARCH = Period.month(2026, 3)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def scan(cache: Cache, likely: list[tuple[str, str]], at: str) -> None:
    with transaction(cache) as db:
        record_first_scores(db, likely, None, at)


def fixture_month(cache: Cache, plain: int = 0) -> None:
    """An old patient, its duplicate made on Tuesday 3 March (business hours) and merged away
    a week later, a new patient on Saturday 7 March that never was a duplicate, and ``plain``
    more new patients on weekdays after hours."""
    insert_patient(cache, "old", "2025-05-01T10:00:00Z")
    insert_patient(cache, "dup", "2026-03-03T10:00:00Z")
    insert_patient(cache, "fresh", "2026-03-07T10:00:00Z")
    for i in range(plain):
        insert_patient(cache, f"p{i}", f"2026-03-{9 + i % 5:02d}T20:00:00Z")
    scan(cache, [("dup", "old")], "2026-03-20T00:00:00Z")
    with transaction(cache) as db:  # the duplicate is merged away after it was counted
        db.execute("UPDATE patients SET merged_at = '2026-03-10T00:00:00Z' WHERE id = 'dup'")


def section(cache: Cache, **settings) -> tuple[object, str]:
    s = build_summary(cache, MARCH, Settings(**settings), tz=dt.UTC)
    return s, render_plain(report_blocks(s))


def test_a_week_begun_in_the_month_before_is_named_by_the_months_first_day(
    cache: Cache,
) -> None:
    """December 2026 begins on a Tuesday: its first week's row is "Week of 1 Dec", as the
    chart's bar is, not the Monday before (30 Nov), whose patients it does not count."""
    insert_patient(cache, "nov", "2026-11-30T10:00:00Z")
    insert_patient(cache, "dec", "2026-12-02T10:00:00Z")
    insert_patient(cache, "later", "2026-12-08T10:00:00Z")
    scan(cache, [], "2026-12-20T00:00:00Z")
    s = build_summary(cache, Period.month(2026, 12), Settings(), tz=dt.UTC)
    weeks = next(b for b in report_blocks(s) if isinstance(b, Table) and b.headers[0] == "Week")
    assert [row[:2] for row in weeks.rows] == [("Week of 1 Dec", "1"), ("Week of 7 Dec", "1")]


def test_a_duplicate_counts_at_arrival_even_after_it_is_merged(cache: Cache) -> None:
    fixture_month(cache)
    s, text = section(cache)
    total = s.intake.total
    assert (total.new_patients, total.arrived_as_duplicates) == (2, 1)
    assert "1 of 2 new patients (50.0%)" in text
    blocks = report_blocks(s)
    weeks = next(b for b in blocks if isinstance(b, Table) and b.headers[0] == "Week")
    assert weeks.rows == (("Week of 2 Mar", "2", "1", "50.0%"),)
    windows = next(b for b in blocks if isinstance(b, Table) and b.headers[0] == "Created")
    assert ("Business hours", "1", "1", "100.0%") in windows.rows
    assert ("Weekend", "1", "0", "0.0%") in windows.rows
    # 2 new patients is below the minimum sample: no alarm, and the report says why
    assert not s.intake.alarm
    assert "No alarm, too few to judge: 2 new patients, and the 3% alarm counts from 50." in text
    assert "turned out to be duplicates" not in text  # the old merged-away figure is gone


def test_one_new_patient_is_said_in_the_singular(cache: Cache) -> None:
    insert_patient(cache, "solo", "2026-03-04T10:00:00Z")
    scan(cache, [], "2026-03-20T00:00:00Z")
    assert "too few to judge: 1 new patient, and" in section(cache)[1]


def test_the_alarm_needs_the_minimum_and_the_threshold(cache: Cache) -> None:
    fixture_month(cache, plain=48)  # 50 new patients, 1 arrived as a duplicate: 2%
    s, text = section(cache)
    assert s.intake.total.new_patients == 50 and not s.intake.alarm
    assert "Within the 3% alarm threshold" in text
    s, text = section(cache, intake_alarm_threshold=0.01)  # the settings move the line
    assert s.intake.alarm
    warning = next(b for b in report_blocks(s) if isinstance(b, Paragraph) and b.tone == "warning")
    assert "above the 1.0% threshold" in warning.text and "business hours" in warning.text
    assert not section(cache, intake_alarm_minimum=60, intake_alarm_threshold=0.01)[0].intake.alarm


def test_no_new_patients(cache: Cache) -> None:
    _, text = section(cache)
    assert "No new patients were recorded by a scan in this period." in text
