"""The queue projection: clusters need records - 1 merges, weighted by each band's measured
precision (a prior until there are reviews); "later" and "not the same" are left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from labor_data import at, insert_pair, insert_session

from desktop.config import Settings
from desktop.labor.cost import Period
from desktop.labor.projection import (
    PRIOR_WEIGHT,
    PRIORS,
    BandPrecision,
    build_projection,
    spanning_merges,
)
from desktop.labor.report_text import render_plain, report_blocks
from desktop.labor.summary import build_summary
from desktop.store.cache import Cache

KEY = "3b" * 32


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def fixture_queue(cache: Cache, reviewed: bool) -> None:
    """A pair, a cluster of three, a pair for later, a pair found "not the same", a planned
    merge and a "possible" pair; with ``reviewed``, merges and refusals already decided."""
    insert_pair(cache, "1", "2")  # a pair: 1 merge
    insert_pair(cache, "3", "4")  # a cluster of three records: 2 merges, not 3
    insert_pair(cache, "4", "5")
    insert_pair(cache, "3", "5", band="possible")
    insert_pair(cache, "6", "7", "later")  # left out
    insert_pair(cache, "8", "9", "not_same", band="possible")  # left out (but reviewed)
    insert_pair(cache, "10", "11", "planned")  # already judged the same person: certain
    insert_pair(cache, "12", "13", band="possible")
    if reviewed:
        for a, b in (("20", "21"), ("22", "23"), ("24", "25")):
            insert_pair(cache, a, b, "merged")
        insert_pair(cache, "26", "27", "not_same")
        insert_pair(cache, "28", "29", "merged", band="possible")


def test_groups_need_records_minus_one_merges_and_later_is_left_out() -> None:
    pairs = [
        ("1", "2", "likely", "new"),
        ("3", "4", "likely", "new"), ("4", "5", "likely", "new"), ("3", "5", "possible", "new"),
        ("10", "11", "likely", "planned"), ("12", "13", "possible", "new"),
    ]  # fmt: skip
    assert spanning_merges(pairs) == (4, 9, {"likely": 3, "possible": 1}, 1)
    # the strongest links are taken first: a cluster joined by one possible and one likely link
    assert spanning_merges([("3", "5", "possible", "new"), ("3", "4", "likely", "new"),
                            ("4", "5", "likely", "new")])[2] == {"likely": 2}  # fmt: skip


def test_band_precision_is_the_prior_until_there_are_reviews() -> None:
    none = BandPrecision("likely", 0, 0, prior=0.95)
    assert none.estimate == pytest.approx(0.95) and none.low < 0.95 < none.high
    some = BandPrecision("possible", 2, 8, prior=0.6)  # 2 of 10 were the same person
    assert some.estimate == pytest.approx((2 + 0.6 * PRIOR_WEIGHT) / (10 + PRIOR_WEIGHT))
    many = BandPrecision("possible", 20, 80, prior=0.6)
    assert abs(many.estimate - 0.2) < abs(some.estimate - 0.2)  # reviews outweigh the prior
    assert many.high - many.low < some.high - some.low
    assert "2 of 10 reviewed pairs" in some.describe() and "prior 60%" in some.describe()


def test_projection_on_the_fixture_queue_without_reviews(cache: Cache) -> None:
    fixture_queue(cache, reviewed=False)
    s = build_summary(cache, Period.month(2026, 3), Settings(manual_minutes_per_merge=15),
                      tz=dt.UTC)  # fmt: skip
    p = s.projection
    assert (p.groups, p.records, p.decided, p.later) == (4, 9, 1, 1)
    assert p.merges_needed == {"likely": 3, "possible": 1}
    # the "not the same" pair is the only review: possible = (0 + 0.6 x 20) / (1 + 20)
    likely, possible = PRIORS["likely"], (0.6 * 20) / 21
    assert p.precision["likely"].estimate == pytest.approx(likely)
    assert p.precision["possible"].estimate == pytest.approx(possible)
    merges = 1 + 3 * likely + possible
    reviews = 3 * (1 - likely) + (1 - possible)
    assert p.expected_merges == pytest.approx(merges)
    assert p.expected_reviews == pytest.approx(reviews)
    assert p.minutes() == pytest.approx(merges * 15 + reviews * 3.0)  # baseline, assumed review
    assert s.projected_cost == s.model.cost(merges * 15 + reviews * 3.0)
    text = render_plain(report_blocks(s))
    assert "prior 95% counted as 20 reviews" in text and "0 of 0 reviewed pairs" in text
    assert "the manual baseline" in text and "Pairs put off" in text


def test_projection_on_the_fixture_queue_with_reviews_and_recorded_minutes(cache: Cache) -> None:
    fixture_queue(cache, reviewed=True)
    day = dt.date(2026, 3, 3)
    for n, seconds in enumerate((600, 900, 1200)):
        insert_session(cache, f"m{n}", [f"9{n}", f"8{n}"], at(day, 9 + n), seconds, seconds,
                       "merged")  # fmt: skip
    insert_session(cache, "r", ["70", "71"], at(day, 15), 240, 240, "not_same")
    s = build_summary(cache, Period.month(2026, 3), Settings(), tz=dt.UTC)
    p = s.projection
    likely = (3 + 0.95 * 20) / (4 + 20)  # 3 of 4 likely pairs were the same person
    possible = (1 + 0.6 * 20) / (2 + 20)
    assert p.precision["likely"].estimate == pytest.approx(likely)
    assert p.precision["possible"].estimate == pytest.approx(possible)
    # Three merges: too few for quartiles, the range runs from the least to the most.
    assert (p.merge.median, p.merge.low, p.merge.high) == (15.0, 10.0, 20.0)
    assert p.review.median == 4.0
    merges = 1 + 3 * likely + possible
    reviews = 3 * (1 - likely) + (1 - possible)
    assert p.minutes() == pytest.approx(merges * 15 + reviews * 4)
    assert p.minutes("low") < p.minutes() < p.minutes("high")
    assert s.projected_cost_low < s.projected_cost < s.projected_cost_high
    text = render_plain(report_blocks(s))
    assert '"likely": 3 of 4 reviewed pairs were the same person' in text


def test_one_recorded_merge_does_not_make_a_narrow_range() -> None:
    """After one merge of 1.1 minutes the projection's range was that merge's time to that
    merge's time; until five are recorded it reaches the manual baseline."""
    p = build_projection([("1", "2", "likely", "new")], {}, 0, [1.1], [], 15.0)
    assert (p.merge.median, p.merge.low, p.merge.high) == (1.1, 1.1, 15.0)
    assert "until 5 are recorded" in p.merge.source
    assert p.minutes("high") > 5 * p.minutes()
    many = build_projection(
        [("1", "2", "likely", "new")], {}, 0, [1.0, 1.1, 1.2, 1.3, 1.4], [], 15.0
    )
    assert many.merge.high < 2  # five recorded: their quartiles


def test_an_empty_queue_projects_nothing() -> None:
    p = build_projection([], {}, 0, [], [], 15.0)
    assert p.expected_merges == 0 and p.minutes() == 0 and p.minutes("high") == 0
