"""What the watch says: the notification, the source of a record, why a pair was flagged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from desktop.cli_watch import describe_pair, parse_every
from desktop.digest import notification_text, since_label, source_of
from desktop.intake import CreationWindow
from desktop.watch import NewPair, source_signals, why_flagged

MELBOURNE = ZoneInfo("Australia/Melbourne")


def pair(band: str, window: CreationWindow | None, new: str = "2", other: str = "1") -> NewPair:
    return NewPair(other, new, band, 0.99, new, other, None, window, (), ())


def test_the_notification_counts_bands_and_windows() -> None:
    pairs = [
        pair("likely", CreationWindow.AFTER_HOURS, "2"),
        pair("likely", CreationWindow.AFTER_HOURS, "3"),
        pair("likely", CreationWindow.BUSINESS_HOURS, "4"),
    ]
    assert (
        notification_text(pairs, "9:00")
        == "3 new likely duplicates found since 9:00, 2 created after hours"
    )
    mixed = [pair("possible", CreationWindow.WEEKEND, "2"), pair("likely", None, "3")]
    assert notification_text(mixed, "Sat 9:00") == (
        "1 new likely duplicate and 1 possible found since Sat 9:00, 1 at the weekend"
    )
    assert notification_text([pair("possible", None)], "9:00") == (
        "1 new possible duplicate found since 9:00"
    )


def test_a_new_record_matching_a_patient_with_two_records_is_one_duplicate() -> None:
    """Shaz Bautista, made on Saturday, matches Sharon Bautista and Sharon Page (one patient,
    two records): one new duplicate made at the weekend, in two pairs, not two of each."""
    both = [
        pair("likely", CreationWindow.WEEKEND, new="9", other="1"),
        pair("possible", CreationWindow.WEEKEND, new="9", other="2"),
    ]
    assert notification_text(both, "3:50") == (
        "1 new likely duplicate found since 3:50 (2 pairs in the queue), 1 at the weekend"
    )


def test_since_is_said_on_the_clinics_clock() -> None:
    nine = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # Fri 4 Dec 09:00 in Melbourne
    assert since_label(nine, MELBOURNE, today=date(2026, 12, 4)) == "9:00"
    assert since_label(nine, MELBOURNE, today=date(2026, 12, 5)) == "Fri 9:00"


def test_source_signals_read_the_record_not_the_person() -> None:
    signals = source_signals(
        {
            "notes": "Prefers mornings. Created by Riley, the after-hours phone assistant (call).",
            "referral_source": "Online booking",
            "created_by": None,
        }
    )
    assert signals == (
        'note: "Created by Riley, the after-hours phone assistant"',
        "referral source: Online booking",
    )
    assert source_signals({"notes": "Knee pain since March."}) == ()
    assert source_of("\n".join(signals)) == "an assistant (note on the record)"
    assert source_of("referral source: Online booking") == "referral source “Online booking”"
    assert source_of("") == "no sign on the record"


def test_why_flagged_names_no_one() -> None:
    evidence = [
        {"field": "prior", "level": "prior", "weight": -14.0, "text": "how rare duplicates are"},
        {"field": "First name", "level": "alias", "weight": 6.0, "text": "Jim / Dimitrios: a "
         "known nickname"},
        {"field": "Phone", "level": "same", "weight": 16.0, "text": "same mobile number"},
        {"field": "Email", "level": "different", "weight": -3.0, "text": "different emails"},
    ]  # fmt: skip
    assert why_flagged(evidence) == ("same mobile number", "a nickname or preferred name")


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("1h", 3600), ("90s", 90), ("5", 300), ("0.5h", 1800)]
)
def test_the_interval_reads_as_written(text: str, seconds: float) -> None:
    assert parse_every(text) == seconds


def test_the_digest_never_gives_a_bare_rate_of_a_handful_of_new_patients() -> None:
    """One new patient who arrived as a duplicate is not "100.0% of 1 new patients": the
    digest says what the status bar says, too few to judge."""
    from collections import Counter

    from desktop.digest import Digest
    from desktop.intake import IntakeCounts, IntakeReport

    def digest(new: int, duplicates: int) -> str:
        intake = IntakeReport(IntakeCounts(new, duplicates), (), {}, 0.03, 50)
        day = date(2026, 12, 6)
        return Digest(day, 1, 1, {"weekend": 1}, Counter(["an assistant"]), intake).text()

    few = digest(1, 1)
    assert "1 new patient, too few to judge (the rate counts from 50)" in few
    assert "100.0%" not in few
    many = digest(200, 12)
    assert "6.0% of 200 new patients arrived as duplicates — alarm (above the 3% threshold)." in (
        many
    )
    # What the alarm suggests, for a keyboard (the window's rate says it only on hover).
    assert "This suggests either that the search" in many


def test_the_printed_pair_gives_its_times_on_the_clinics_clock() -> None:
    """A record made at 21:10 and both bookings early on a Melbourne morning: the line says
    the clinic's days (the UTC date of an 08:30 booking in Melbourne is the day before)."""
    booked = NewPair(
        "1",
        "2",
        "likely",
        0.99,
        "2",
        "1",
        datetime(2026, 12, 2, 10, 10, tzinfo=UTC),
        CreationWindow.AFTER_HOURS,
        (),
        ("same mobile number",),
        {"1": "2026-12-08T21:30:00Z", "2": "2026-12-09T02:00:00Z"},
    )
    line = describe_pair(booked, MELBOURNE)
    assert "(new, created Wed 2 Dec 21:10 (after hours)) ~ 1" in line
    assert line.endswith("| both booked: split history, next Wed 9 Dec 08:30")
    unreadable = replace(booked, next_appointments={"1": "soon", "2": "later"})
    assert describe_pair(unreadable, MELBOURNE).endswith("| both booked: split history")
