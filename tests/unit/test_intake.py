"""The intake exception rate: each patient recorded as it arrived, by the scans of a real cache."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desktop import scan as scan_module
from desktop.account import Account, remember_account
from desktop.intake import (
    CreationWindow,
    IntakeCounts,
    account_time_zone,
    creation_window,
    intake_report,
)
from desktop.matching import MatchEngine, ScanResult
from desktop.scan import run_scan
from desktop.store import Cache, queue, transaction, upsert_patients
from desktop.store.intake import intake_of

KEY = "5e" * 32
MELBOURNE = ZoneInfo("Australia/Melbourne")  # UTC+11 in January
FIRSTS = ["Olivia", "Jack", "Mia", "Noah", "Ava", "Liam", "Zoe", "Oscar", "Ruby", "Leo"]
OLD = "2020-01-01T00:00:00Z"


def pid(n: int) -> str:
    return str(1_480_000_000_000_000_000 + n)


def person(n: int, created_at: str = OLD, **extra) -> dict:
    """A Cliniko patient JSON; n picks a distinct person."""
    data = {
        "id": pid(n),
        "first_name": FIRSTS[n % 10],
        "last_name": f"Surname{n}q",
        "date_of_birth": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "email": f"person{n}@example.com",
        "patient_phone_numbers": [{"number": f"04{10_000_000 + n * 7919:08d}"}],
        "address_1": f"{n} Long Road",
        "city": "Carlton",
        "post_code": "3053",
        "created_at": created_at,
        "updated_at": created_at,
        "archived_at": None,
        "merged_at": None,
        "merged_with_patient": None,
    }
    data.update(extra)
    return data


def copy_of(n: int, new: int, created_at: str, **extra) -> dict:
    """A second record of person ``n`` made later: same details, first name in capitals."""
    dup = person(n, created_at, id=pid(new), **extra)
    dup["first_name"] = dup["first_name"].upper()
    return dup


def add(cache: Cache, patients: list[dict], synced_at: str) -> None:
    with transaction(cache) as db:
        upsert_patients(db, patients, synced_at=synced_at)


# The fixture month, January 2025 in Melbourne.
AT_10AM_TUESDAY = "2025-01-06T23:00:00Z"  # Tue 7 Jan 10:00 local (Monday in UTC)
AT_9PM_WEDNESDAY = "2025-01-08T10:00:00Z"  # Wed 8 Jan 21:00 local (business hours in UTC)
AT_9AM_SATURDAY = "2025-01-10T22:00:00Z"  # Sat 11 Jan 09:00 local (a Friday in UTC)
JANUARY = (datetime(2025, 1, 1, tzinfo=MELBOURNE), datetime(2025, 2, 1, tzinfo=MELBOURNE))


@pytest.fixture
def month(tmp_path):
    """A clinic scanned once, then a month of arrivals scanned as they came: three copies of
    existing patients (one in each window, the first merged away later) and twenty new people
    on the Tuesday after; one of those is edited later to look like an existing patient."""
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        add(cache, [person(n) for n in range(200)], "2024-12-01T00:00:00Z")
        assert run_scan(cache).kind == "full"
        add(cache, [copy_of(10, 900, AT_10AM_TUESDAY)], "2025-01-07T00:00:00Z")
        assert run_scan(cache).kind == "incremental"
        add(cache, [copy_of(20, 901, AT_9PM_WEDNESDAY)], "2025-01-09T00:00:00Z")
        run_scan(cache)
        add(cache, [copy_of(30, 902, AT_9AM_SATURDAY)], "2025-01-11T00:00:00Z")
        run_scan(cache)
        fresh = [person(n, f"2025-01-14T00:{n - 500:02d}:00Z") for n in range(500, 520)]
        add(cache, fresh, "2025-01-14T01:00:00Z")
        run_scan(cache)
        merged = copy_of(
            10,
            900,
            AT_10AM_TUESDAY,
            merged_at="2025-01-20T00:00:00Z",
            updated_at="2025-01-20T00:00:00Z",
            merged_with_patient={"links": {"self": f"https://x/patients/{pid(10)}"}},
        )
        later_lookalike = copy_of(40, 500, "2025-01-14T00:00:00Z", updated_at="2025-01-21T00:00Z")
        add(cache, [merged, later_lookalike], "2025-01-21T00:00:00Z")
        run_scan(cache)
        yield cache


def test_each_new_patient_is_recorded_as_it_arrived(month):
    found = intake_of(month.db, [pid(900), pid(901), pid(902), pid(500), pid(501), pid(10)])
    assert found[pid(900)] == (AT_10AM_TUESDAY, pid(10))
    assert found[pid(901)] == (AT_9PM_WEDNESDAY, pid(20))
    assert found[pid(902)] == (AT_9AM_SATURDAY, pid(30))
    # The original is never the duplicate, and a later edit does not rewrite how 500 arrived
    # (it is now a likely duplicate of 40, but was not when it was created).
    assert found[pid(10)] == (OLD, None)
    assert queue.get_pair(month.db, *queue.ordered(pid(40), pid(500)))["band"] == "likely"
    assert found[pid(500)][1] is None and found[pid(501)][1] is None


def test_the_fixture_month_counts_a_merged_duplicate_and_sorts_windows_locally(month):
    report = intake_report(month.db, *JANUARY, MELBOURNE)
    assert report.total == IntakeCounts(23, 3)  # the copy merged on the 20th still counts
    assert report.by_window == {
        CreationWindow.BUSINESS_HOURS: IntakeCounts(21, 1),
        CreationWindow.AFTER_HOURS: IntakeCounts(1, 1),
        CreationWindow.WEEKEND: IntakeCounts(1, 1),
    }
    assert report.by_week == (
        (date(2025, 1, 6), IntakeCounts(3, 3)),
        (date(2025, 1, 13), IntakeCounts(20, 0)),
    )
    assert report.total.rate == pytest.approx(3 / 23)


def test_the_alarm_waits_for_the_minimum_sample(month):
    quiet = intake_report(month.db, *JANUARY, MELBOURNE)  # 23 new patients, minimum 50
    assert not quiet.alarm and quiet.alarm_text() == ""
    loud = intake_report(month.db, *JANUARY, MELBOURNE, minimum=20)
    assert loud.alarm
    text = loud.alarm_text()
    assert "13.0% of new patients (3 of 23)" in text
    assert "after hours (1 of 1, 100.0%)" in text and "weekend (1 of 1" in text
    assert "week of 6 Jan 2025" in text and "13 Jan" not in text
    assert "too rigid" in text and "channels" in text
    assert "Surname" not in text and "Olivia" not in text.title()
    high_bar = intake_report(month.db, *JANUARY, MELBOURNE, minimum=20, threshold=0.2)
    assert not high_bar.alarm


def test_the_status_line_says_too_few_to_judge_below_the_minimum(month):
    quiet = intake_report(month.db, *JANUARY, MELBOURNE)  # 23 new patients, minimum 50
    line = quiet.status_text(30)
    assert line == "Intake, 30 days: 23 new patients, too few to judge (the rate counts from 50)"
    assert "%" not in line
    loud = intake_report(month.db, *JANUARY, MELBOURNE, minimum=20)
    assert loud.status_text(30) == (
        "Intake, 30 days: 13.0% of 23 new patients arrived as duplicates — alarm"
    )
    calm = intake_report(month.db, *JANUARY, MELBOURNE, minimum=20, threshold=0.2)
    assert calm.status_text(30).endswith("arrived as duplicates")


def test_a_period_holds_only_the_patients_created_in_it(month):
    december = intake_report(
        month.db,
        datetime(2024, 12, 1, tzinfo=MELBOURNE),
        datetime(2025, 1, 1, tzinfo=MELBOURNE),
        MELBOURNE,
    )
    assert december.total == IntakeCounts(0, 0) and december.total.rate == 0.0
    assert december.by_week == ()
    # Naive times are UTC: the Saturday copy falls on Friday 10 Jan in UTC.
    friday_utc = intake_report(month.db, datetime(2025, 1, 10), datetime(2025, 1, 11), MELBOURNE)
    assert friday_utc.total == IntakeCounts(1, 1)


def test_when_both_records_are_new_to_the_first_scan_only_the_later_one_counts(tmp_path):
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        people = [person(n, "2025-03-03T00:00:00Z") for n in range(60)]
        people.append(copy_of(7, 700, "2025-03-04T00:00:00Z"))
        add(cache, people, "2025-03-05T00:00:00Z")
        run_scan(cache)
        found = intake_of(cache.db, [pid(7), pid(700)])
        assert found[pid(7)][1] is None
        assert found[pid(700)][1] == pid(7)


def test_a_first_scan_records_every_patient_once_with_its_creation_time_in_utc(tmp_path):
    """Most rows are copied in SQL, the rest one by one: each patient is recorded once, a
    time with an offset in UTC, a missing one as missing, the later copy with its original."""
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        people = [person(n, "2025-03-03T00:00:00Z") for n in range(60)]
        people[3] = person(3, "2025-03-03T10:30:00+10:00")
        people[4] = person(4, "")
        people.append(copy_of(7, 700, "2025-03-04T09:00:00+11:00"))
        add(cache, people, "2025-03-05T00:00:00Z")
        run_scan(cache)
        scanned_at = queue.last_scan(cache.db)["started_at"]
        found = intake_of(cache.db, [p["id"] for p in people])
        assert len(found) == 61
        assert found[pid(3)] == ("2025-03-03T00:30:00Z", None)
        assert found[pid(4)] == (None, None)
        assert found[pid(700)] == ("2025-03-03T22:00:00Z", pid(7))
        assert found[pid(59)] == ("2025-03-03T00:00:00Z", None)
        first_scored = cache.db.execute(
            "SELECT DISTINCT first_scored_at FROM patient_intake"
        ).fetchall()
        assert len(first_scored) == 1 and first_scored[0][0] >= scanned_at


def test_a_creation_time_no_calendar_has_is_left_out_of_the_weeks_and_stops_nothing(tmp_path):
    """A server's "2025-03-31T10:00:99Z" (second 99) is stored as received; the intake report
    counts the patients it can place in time and leaves that one out (it used to raise, and
    the watch's status line and the labor summary with it)."""
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        people = [person(n, "2025-03-03T00:00:00Z") for n in range(30)]
        people[5] = person(5, "2025-03-31T10:00:99Z")
        add(cache, people, "2025-03-05T00:00:00Z")
        run_scan(cache)
        march = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
        report = intake_report(cache.db, *march, tz=MELBOURNE)
        assert report.total.new_patients == 29
        assert sum(c.new_patients for _, c in report.by_week) == 29


def test_a_patient_synced_while_a_full_scan_runs_is_recorded_by_the_scan_that_scores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full scan records the patients it read, not one that arrived while it matched:
    that one is recorded, with the record it copies, by the next scan, which scores it."""
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        add(cache, [person(n) for n in range(200)], "2024-12-01T00:00:00Z")

        class SyncMeanwhile(MatchEngine):
            def scan_columns(self, columns: dict[str, list[Any]]) -> ScanResult:
                add(cache, [copy_of(10, 900, AT_10AM_TUESDAY)], "2025-01-07T00:00:00Z")
                return super().scan_columns(columns)

        monkeypatch.setattr(scan_module, "MatchEngine", SyncMeanwhile)
        run_scan(cache, full=True)
        assert intake_of(cache.db, [pid(900)]) == {}
        monkeypatch.undo()
        assert run_scan(cache).kind == "incremental"
        assert intake_of(cache.db, [pid(900)]) == {pid(900): (AT_10AM_TUESDAY, pid(10))}


@pytest.mark.parametrize(
    ("utc", "window"),
    [
        (datetime(2025, 1, 6, 21, 0, tzinfo=UTC), CreationWindow.BUSINESS_HOURS),  # Tue 08:00
        (datetime(2025, 1, 6, 20, 59, tzinfo=UTC), CreationWindow.AFTER_HOURS),  # Tue 07:59
        (datetime(2025, 1, 7, 7, 0, tzinfo=UTC), CreationWindow.AFTER_HOURS),  # Tue 18:00
        (datetime(2025, 1, 10, 13, 0, tzinfo=UTC), CreationWindow.WEEKEND),  # Sat 00:00
        (datetime(2025, 1, 12, 12, 59, tzinfo=UTC), CreationWindow.WEEKEND),  # Sun 23:59
        (datetime(2025, 1, 12, 13, 0), CreationWindow.AFTER_HOURS),  # naive = UTC: Mon 00:00
    ],
)
def test_creation_window_reads_the_clinics_clock(utc, window):
    assert creation_window(utc, MELBOURNE) == window


def test_business_hours_can_be_set():
    tuesday_7_30 = datetime(2025, 1, 6, 20, 30, tzinfo=UTC)
    assert creation_window(tuesday_7_30, MELBOURNE, opens=time(7, 0)) == "business hours"


def test_the_time_zone_is_the_accounts(tmp_path):
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        local = account_time_zone(cache.db)
        assert local.utcoffset(datetime(2025, 1, 1)) is not None
        remember_account(cache, Account(time_zone="Australia/Melbourne"))
        assert account_time_zone(cache.db) == MELBOURNE
        remember_account(cache, Account(time_zone="Not/AZone"))
        assert account_time_zone(cache.db) == local
