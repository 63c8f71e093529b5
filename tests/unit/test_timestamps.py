"""Times as the cache stores them and as the window says them: one home for both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.timestamps import (
    canonical_stamp,
    day_words,
    moment_words,
    parse_timestamp,
    utc_stamp,
)

MELBOURNE_SUMMER = timezone(timedelta(hours=11))


def test_a_stamp_is_utc_to_the_second_whatever_zone_the_moment_is_in() -> None:
    moment = datetime(2026, 12, 6, 9, 30, 15, 999_000, tzinfo=MELBOURNE_SUMMER)
    assert utc_stamp(moment) == "2026-12-05T22:30:15Z"
    assert utc_stamp(datetime(2026, 12, 5, 22, 30, 15)) == "2026-12-05T22:30:15Z"  # naive: UTC


def test_now_is_stamped_when_no_moment_is_given() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamped = parse_timestamp(utc_stamp())
    assert stamped is not None and before <= stamped <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-08T10:30:00Z", "2026-12-08T10:30:00Z"),
        ("2026-12-08T10:30:00+11:00", "2026-12-07T23:30:00Z"),
        ("2026-12-08T10:30:00.250Z", "2026-12-08T10:30:00Z"),
        ("2026-12-08T10:30:00", "2026-12-08T10:30:00Z"),  # no zone: UTC, as Cliniko's are
    ],
)
def test_a_time_written_any_iso_way_is_stored_in_one_form(text: str, utc: str) -> None:
    assert canonical_stamp(text) == utc


@pytest.mark.parametrize(
    "text",
    ["", "99", "2026-12-08", "2026-12-99T10:30:00Z", "2026-12-08T10:30:99Z", "tomorrow", None, 7],
)
def test_what_is_not_a_moment_is_none_not_an_error(text: object) -> None:
    assert parse_timestamp(text) is None
    assert canonical_stamp(text) is None


@given(st.text(max_size=40))
def test_no_text_makes_the_parser_raise(text: str) -> None:
    moment = parse_timestamp(text)
    assert moment is None or moment.tzinfo is UTC


def test_dates_read_as_the_window_says_them() -> None:
    assert day_words(date(2026, 12, 5)) == "5 Dec 2026"
    assert moment_words(datetime(2026, 12, 5, 7, 4)) == "5 Dec 2026 07:04"
