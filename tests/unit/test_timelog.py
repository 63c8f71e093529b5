"""The time log: active time with idle gaps, per-step times, crash safety, report rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from labor_data import insert_patient
from manual_clock import ManualClock

from desktop.labor.timelog import TimeLog, rows
from desktop.store.cache import Cache
from desktop.store.sync_state import set_state
from desktop.store.transaction import transaction

KEY = "5c" * 32
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp()
UTC = dt.UTC


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def make_log(cache: Cache, clock: ManualClock, **kwargs) -> TimeLog:
    return TimeLog(cache, cliniko_user="1 Alex Admin", os_user="alex", clock=clock, **kwargs)


def test_active_time_skips_idle_gaps_and_steps_are_timed(cache: Cache) -> None:
    clock = ManualClock(T0)
    log = make_log(cache, clock, idle_threshold=120)
    work = log.start(["1002", "1001"], step="compare")
    clock.at(30)
    work.input_at()  # +30 active
    clock.at(90)
    work.enter_step("choose_survivor")  # +60 active; compare took 90 s
    clock.at(400)
    work.input_at()  # 310 s away: not active
    clock.at(450)
    work.enter_step("reconcile")  # +50; choose_survivor took 360 s
    clock.at(570)
    work.finish("merged")  # +120 (exactly the threshold counts)
    assert work.active_seconds == pytest.approx(260)
    assert work.wall_seconds == pytest.approx(570)
    assert work.step_seconds() == {"compare": 90, "choose_survivor": 360, "reconcile": 120}
    assert work.step_active == {"compare": 90, "choose_survivor": 50, "reconcile": 120}

    [row] = rows(cache, dt.date(2026, 3, 2), dt.date(2026, 3, 3), tz=UTC)
    assert row.outcome == "merged" and row.patient_ids == ("1001", "1002")
    assert row.active_minutes == pytest.approx(260 / 60)
    assert row.wall_minutes == pytest.approx(570 / 60)
    assert row.step_seconds == {"compare": 90, "choose_survivor": 360, "reconcile": 120}
    assert row.step_active_seconds["choose_survivor"] == 50
    assert (row.cliniko_user, row.os_user) == ("1 Alex Admin", "alex")
    assert row.date == dt.date(2026, 3, 2)


def test_work_in_another_window_is_not_the_pairs(cache: Cache) -> None:
    """30 s on the pair, 80 s of clicks in the report (each gap under the idle threshold),
    then 10 s back on the pair: 40 s are the pair's, and the wall time is all 120 s."""
    clock = ManualClock(T0)
    work = make_log(cache, clock, idle_threshold=120).start(["1", "2"], step="compare")
    clock.at(30)
    work.input_at()
    for t in (50, 70, 90, 110):
        clock.at(t)
        work.away_at()
    clock.at(120)
    work.finish("later")
    assert work.active_seconds == pytest.approx(40)
    assert work.wall_seconds == pytest.approx(120)


def test_a_not_same_review_is_timed(cache: Cache) -> None:
    clock = ManualClock(T0)
    work = make_log(cache, clock).start(["1", "2"], step="compare")
    clock.at(42)
    work.finish("not_same")
    [row] = rows(cache, T0 - 1, T0 + 1)
    assert row.outcome == "not_same" and row.step_seconds == {"compare": 42}
    assert row.active_minutes == pytest.approx(42 / 60)


def test_every_call_is_written_before_it_returns(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    cache = Cache.open(tmp_path / "c.db", KEY)
    log = make_log(cache, clock, min_write_interval=0)
    work = log.start(["1", "2"], step="compare")
    clock.at(20)
    work.input_at()
    clock.at(50)
    work.enter_step("reconcile")
    clock.at(70)
    work.input_at()
    cache.close()  # a crash: nothing finished

    clock.at(5000)
    with Cache.open(tmp_path / "c.db", KEY) as reopened:
        log = make_log(reopened, clock)
        assert rows(reopened, T0, T0 + 10_000) == []  # unfinished: not reported yet
        assert log.close_abandoned() == 1
        [row] = rows(reopened, T0, T0 + 10_000)
        assert row.outcome == "abandoned"
        assert row.active_minutes == pytest.approx(70 / 60)
        assert row.wall_minutes == pytest.approx(70 / 60)  # ends at the last event, not now
        assert row.step_seconds == {"compare": 50, "reconcile": 20}


def test_starting_again_closes_the_crashed_session_as_abandoned(cache: Cache) -> None:
    clock = ManualClock(T0)
    log = make_log(cache, clock)
    log.start(["1", "2"], step="compare")
    clock.at(10)
    again = log.start(["1", "2"], step="compare")
    clock.at(15)
    again.finish("later")
    outcomes = [r.outcome for r in rows(cache, T0, T0 + 100)]
    assert outcomes == ["abandoned", "later"]


def test_input_writes_are_coalesced_but_finish_always_writes(cache: Cache) -> None:
    clock = ManualClock(T0)
    log = make_log(cache, clock, min_write_interval=5)
    work = log.start(["1", "2"])
    for second in range(1, 4):
        clock.at(second)
        work.input_at()
    stored = cache.db.execute("SELECT active_seconds FROM time_sessions").fetchone()[0]
    assert stored == 0  # held in memory for up to 5 s
    clock.at(6)
    work.input_at()
    assert cache.db.execute("SELECT active_seconds FROM time_sessions").fetchone()[0] == 6


def test_defaults_come_from_settings_and_the_session_user(cache: Cache) -> None:
    with transaction(cache) as db:
        set_state(db, "cliniko.user", "7 Sam Reception")
    log = TimeLog(cache)
    assert log.idle_threshold == 120
    assert log.cliniko_user == "7 Sam Reception" and log.os_user


def test_a_session_carries_who_connected_when_it_started(cache: Cache) -> None:
    """The window (and its time log) opens before the first connect: work after it is the
    connected user's (every session of a first start had no Cliniko user), and after
    another key is connected, the new user's."""
    log = TimeLog(cache)
    before = log.start(["1", "2"])
    before.finish("later")
    with transaction(cache) as db:
        set_state(db, "cliniko.user", "7 Sam Reception")
    log.start(["3", "4"]).finish("later")
    with transaction(cache) as db:
        set_state(db, "cliniko.user", "9 Kim Front Desk")
    log.start(["5", "6"]).finish("later")
    users = [u for (u,) in cache.db.execute(
        "SELECT cliniko_user FROM time_sessions ORDER BY started_at, rowid")]  # fmt: skip
    assert users == ["", "7 Sam Reception", "9 Kim Front Desk"]


def test_rows_filter_by_local_day_and_carry_no_names(cache: Cache) -> None:
    clock = ManualClock(T0)
    log = make_log(cache, clock)
    for day in range(3):
        clock.at(day * 86_400)
        work = log.start(["10", "11"], step="compare")
        clock.at(day * 86_400 + 60)
        work.finish("skipped")
    found = rows(cache, dt.date(2026, 3, 3), dt.date(2026, 3, 5), tz=UTC)
    assert [r.date for r in found] == [dt.date(2026, 3, 3), dt.date(2026, 3, 4)]
    melbourne = dt.timezone(dt.timedelta(hours=11))
    assert rows(cache, dt.date(2026, 3, 2), dt.date(2026, 3, 3), tz=melbourne)[0].date == (
        dt.date(2026, 3, 2)
    )
    fields = set(found[0].__dataclass_fields__)
    assert not {"first_name", "last_name", "name", "label"} & fields


def test_finished_sessions_refuse_more_events_and_bad_outcomes(cache: Cache) -> None:
    clock = ManualClock(T0)
    work = make_log(cache, clock).start(["1", "2"])
    with pytest.raises(ValueError):
        work.finish("exploded")
    work.finish("skipped")
    work.input_at()  # a late key press after the outcome is ignored
    with pytest.raises(RuntimeError):
        work.enter_step("compare")
    with pytest.raises(RuntimeError):
        work.finish("merged")


def test_a_forgotten_session_is_closed_when_another_starts(cache: Cache) -> None:
    clock = ManualClock(T0)
    log = make_log(cache, clock, min_write_interval=0)
    first = log.start(["1", "2"], step="compare")
    clock.at(30)
    first.input_at()
    clock.at(40)
    second = log.start(["3", "4"], step="compare")
    clock.at(50)
    first.input_at()  # the forgotten one learns it was closed and stays closed
    assert first.finished and first.outcome == "abandoned"
    second.finish("skipped")
    found = {r.patient_ids: r for r in rows(cache, T0, T0 + 100)}
    assert found[("1", "2")].outcome == "abandoned"
    assert found[("1", "2")].active_minutes == pytest.approx(0.5)
    assert found[("3", "4")].outcome == "skipped"


def test_the_wait_for_clinikos_merge_counts_as_work_up_to_the_cap(cache: Cache) -> None:
    clock = ManualClock(T0)
    log = make_log(cache, clock, wait_cap=20 * 60)
    work = log.start(["1", "2"], step="review")
    clock.at(100)
    work.enter_step("merge_in_cliniko")  # +100 by the idle rule
    clock.at(160)
    work.enter_step("wait_for_merge")  # Cliniko's page is open: the app sees no input
    clock.at(160 + 360)
    work.finish("merged")  # six minutes later, without a key press
    assert work.step_active == {"review": 100, "merge_in_cliniko": 60, "wait_for_merge": 360}
    assert work.active_seconds == pytest.approx(520) == work.wall_seconds
    assert work.wait_seconds == (420, 420)

    long = log.start(["3", "4"], step="merge_in_cliniko")
    clock.tick(45 * 60)  # the person went to lunch with the wizard open
    long.finish("merged")
    assert long.active_seconds == 20 * 60 and long.wall_seconds == 45 * 60
    found = {r.patient_ids: r for r in rows(cache, T0, T0 + 10_000)}
    capped = found[("3", "4")]
    assert capped.step_seconds == {"merge_in_cliniko": 2700}
    assert capped.step_active_seconds == {"merge_in_cliniko": 1200}
    assert found[("1", "2")].active_minutes == pytest.approx(520 / 60)


def test_idle_gaps_outside_the_wait_still_count_nothing(cache: Cache) -> None:
    clock = ManualClock(T0)
    work = make_log(cache, clock).start(["1", "2"], step="compare")
    clock.at(600)  # ten minutes away from the compare page
    work.enter_step("merge_in_cliniko")
    clock.at(660)
    work.finish("planned")  # the wizard closed on the wait: 60 s counted
    assert work.active_seconds == 60 and work.step_active == {"merge_in_cliniko": 60}
    assert work.step_seconds() == {"compare": 600, "merge_in_cliniko": 60}


def test_a_crash_during_the_wait_keeps_it_up_to_the_last_event(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    cache = Cache.open(tmp_path / "c.db", KEY)
    log = make_log(cache, clock, min_write_interval=0, wait_cap=300)
    work = log.start(["1", "2"], step="merge_in_cliniko")
    clock.at(240)
    work.input_at()  # a click on "Check now"
    cache.close()
    with Cache.open(tmp_path / "c.db", KEY) as reopened:
        assert make_log(reopened, clock, wait_cap=300).close_abandoned() == 1
        [row] = rows(reopened, T0, T0 + 1000)
        assert row.outcome == "abandoned" and row.active_minutes == pytest.approx(4)
        assert row.step_active_seconds == {"merge_in_cliniko": 240}


def test_a_merge_detected_late_is_timed_to_clinikos_merged_at(cache: Cache) -> None:
    clock = ManualClock(T0)
    work = make_log(cache, clock).start(["1", "2"], step="merge_in_cliniko")
    merged = dt.datetime.fromtimestamp(T0 + 300, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    insert_patient(cache, "1", "2020-01-01T00:00:00Z")
    insert_patient(cache, "2", "2021-01-01T00:00:00Z", merged, "1")
    clock.at(50 * 60)  # the app was offline; the merge is seen 50 minutes after it was made
    work.finish("merged")
    assert work.wall_seconds == 300 and work.active_seconds == 300
    [row] = rows(cache, T0, T0 + 10_000)
    assert row.step_seconds == {"merge_in_cliniko": 300}


def test_a_restore_is_an_outcome_of_its_own(cache: Cache) -> None:
    clock = ManualClock(T0)
    work = make_log(cache, clock).start(["1", "2"], step="compare")
    clock.at(90)
    work.finish("restored")
    assert [r.outcome for r in rows(cache, T0, T0 + 100)] == ["restored"]
