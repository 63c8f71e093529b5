"""The watch against the live simulator, on a manual clock: hours of a clinic in seconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from manual_clock import ManualClock

from desktop.intake import CreationWindow, IntakeCounts
from desktop.reconcile import LAST_AT
from desktop.session import Session
from desktop.simulator import Simulator
from desktop.simulator.live import LiveClinic, LiveEvent, LiveRates
from desktop.store.cache import Cache
from desktop.store.patients import get_patient
from desktop.store.queue import queue_pairs
from desktop.store.sync_state import set_state
from desktop.store.transaction import transaction
from desktop.store.watch import found_since
from desktop.triage import split_history, triage_order
from desktop.watch import IntervalReport, Watch, WatchEvent, WatchSettings

# Friday 4 December 2026, 16:00 in Melbourne (the simulated user's zone): two business hours,
# the evening and the first hours of the weekend follow.
FRIDAY_4PM = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
INTERVAL = 15 * 60
BUSY_EVENING = LiveRates(
    business_per_hour=3.0,
    after_hours_per_hour=3.0,
    weekend_per_hour=3.0,
    assistant_share=0.7,
    assistant_duplicate_share=0.6,
)
ALARM_MINIMUM = 12


def _open(data_dir: Path) -> Cache:
    return Cache.open(data_dir / "cache.db", "7a" * 32)


@contextmanager
def watched_clinic(data_dir: Path) -> Iterator[tuple[Simulator, ManualClock, Watch, list]]:
    """A 1,500-patient clinic, synced and scanned once by the watch, at 16:00 on a Friday."""
    clock = ManualClock(FRIDAY_4PM.timestamp())
    with (
        Simulator(size=1500, seed=4, clock=clock, rate_limit_per_minute=1000) as sim,
        _open(data_dir) as cache,
        # client pacing above the simulator's limit: the test waits on its manual clock only
        Session(
            cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=60_000
        ) as session,
    ):
        session.identify_user()
        events: list[WatchEvent] = []
        settings = WatchSettings(intake_minimum=ALARM_MINIMUM)
        watch = Watch(session, settings=settings, on_event=events.append, clock=clock)
        first = watch.run_once()
        assert not first.new_pairs, "the queue the watch starts from is not news"
        yield sim, clock, watch, events


@dataclass(frozen=True)
class QueuePair:
    id_a: str
    id_b: str
    flags: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.id_a, self.id_b)


@dataclass
class Evening:
    """Ten hours of the live clinic under the watch: what was planted, what was reported."""

    live: LiveClinic
    reports: list[IntervalReport]
    events: list[WatchEvent]
    made: list[list[LiveEvent]]  # per interval: the patients created so far
    found: list[dict]


@pytest.fixture(scope="module")
def evening(tmp_path_factory) -> Iterator[Evening]:
    with watched_clinic(tmp_path_factory.mktemp("evening")) as (sim, clock, watch, events):
        live = sim.go_live(hours=10, seed=4, rates=BUSY_EVENING)
        reports, made = [], []
        for _ in range(10 * 4):
            clock.tick(INTERVAL)
            report = watch.run_once()
            reports.append(report)
            made.append([e for e in live.created() if e.at <= report.started_at])
        yield Evening(live, reports, events, made, found_since(watch.cache.db, "2026-12-04"))


def test_the_watch_finds_each_planted_duplicate_within_one_interval(evening) -> None:
    planted = evening.live.planted_duplicates()
    assistant = [e for e in planted if e.source == "phone assistant"]
    assert len(assistant) >= 5 and {e.window for e in assistant} >= {"after hours", "weekend"}
    pairs = [e for e in evening.events if e.kind == "pair"]
    found = {(e.pair.new_id, e.pair.other_id): e for e in pairs}
    assert len(found) == len(pairs), "each pair is news once"
    for made in planted:
        event = found.get((made.patient_id, made.duplicate_of))
        assert event is not None, f"planted duplicate {made.patient_id} was not reported"
        pair = event.pair  # likely, or possible when the matcher sees a look-alike risk
        assert timedelta(0) <= event.report.started_at - made.at <= timedelta(seconds=INTERVAL)
        assert pair.created_at == made.at
        assert pair.window == CreationWindow(made.window)
        if made.source == "phone assistant":
            assert any("phone assistant" in s for s in pair.signals)
            booked = made.booking_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert pair.next_appointments.get(made.patient_id) == booked
    # The cache remembers which record was new and its window (the "New since" filter).
    stored = {(r["new_id"], r["window"]) for r in evening.found}
    assert {(m.patient_id, m.window) for m in planted} <= stored


def test_the_intake_alarm_sounds_when_the_rate_crosses_the_threshold(evening) -> None:
    """The live rate counts every new patient once, and as a duplicate each planted one the
    watch reported as likely (the intake definition); the alarm sounds once, at the first
    interval with enough new patients and a rate above 3%."""
    likely = {e.pair.new_id for e in evening.events if e.kind == "pair" and e.pair.band == "likely"}
    expected_alarm_at = None
    for report, made in zip(evening.reports, evening.made, strict=True):
        duplicates = sum(1 for e in made if e.duplicate_of and e.patient_id in likely)
        assert report.intake.total == IntakeCounts(len(made), duplicates)
        rate = duplicates / len(made) if made else 0.0
        if expected_alarm_at is None and len(made) >= ALARM_MINIMUM and rate > 0.03:
            expected_alarm_at = report.started_at
    alarms = [e for e in evening.events if e.kind == "alarm"]
    assert expected_alarm_at is not None
    assert [e.report.started_at for e in alarms] == [expected_alarm_at]
    assert "after hours" in alarms[0].message or "weekend" in alarms[0].message


def test_one_request_per_interval_when_nothing_changed(tmp_path) -> None:
    with watched_clinic(tmp_path) as (sim, clock, watch, _events):
        live = sim.go_live(hours=2, seed=9, rates=BUSY_EVENING)
        for _ in range(2 * 4 + 1):  # two busy hours, and the overlap after the last arrival
            clock.tick(INTERVAL)
            watch.run_once()
        assert live.created(), "the clinic was busy first"
        for _ in range(8):  # two quiet hours
            before = sim.stats["requests_total"]
            clock.tick(INTERVAL)
            report = watch.run_once()
            assert sim.stats["requests_total"] - before == 1
            assert report.requests == 1 and not report.new_pairs


def test_the_watch_compares_with_cliniko_as_often_as_the_setting_says(tmp_path) -> None:
    with watched_clinic(tmp_path) as (sim, clock, watch, _events):
        target = sim.patients_snapshot()[3]["id"]
        sim.drift_patient(target, first_name="Quietly")  # Cliniko's updated_at stays the same
        two_days_ago = datetime.now(UTC) - timedelta(days=2)
        with transaction(watch.cache) as db:
            set_state(db, LAST_AT, two_days_ago.strftime("%Y-%m-%dT%H:%M:%SZ"))

        watch.settings = replace(watch.settings, reconcile_every=None)  # off
        clock.tick(INTERVAL)
        watch.run_once()
        assert get_patient(watch.cache.db, target)["first_name"] != "Quietly"

        watch.settings = replace(watch.settings, reconcile_every=timedelta(days=1))
        clock.tick(INTERVAL)
        watch.run_once()
        assert get_patient(watch.cache.db, target)["first_name"] == "Quietly", "due after a day"


def test_offline_backs_off_exponentially(tmp_path) -> None:
    with watched_clinic(tmp_path) as (sim, _clock, watch, events):
        watch.session.client.max_retries = 0
        sim.stop()
        delays = [watch.run_once().next_in for _ in range(7)]
    assert delays == [60, 120, 240, 480, 960, 1800, 1800]
    offline = [e for e in events if e.kind == "offline"]
    assert len(offline) == 7 and offline[0].message


def test_recent_treatment_notes_count_for_triage_and_old_ones_do_not(tmp_path) -> None:
    """Notes are fetched for the whole clinic once a day (only those written since the last
    look). Both records written in this week come first, then both written in last month; a
    pair whose two records have only notes from months ago is not "in clinical use"."""
    with watched_clinic(tmp_path) as (sim, clock, watch, _events):
        db = watch.cache.db
        now = datetime.fromtimestamp(clock(), UTC)
        queue = [QueuePair(r["id_a"], r["id_b"]) for r in queue_pairs(db)]
        marked = split_history(db, queue, now)
        seen: Counter[str] = Counter(i for p in queue for i in p.key)
        # Pairs not yet in clinical use whose records are in no other pair.
        quiet = [p for p in queue if p.key not in marked and all(seen[i] == 1 for i in p.key)]
        old, last_month, this_week = quiet[:3]
        for pair, days_later in ((old, 70), (last_month, 30), (this_week, 1)):
            for patient_id in pair.key:
                sim.write_note(patient_id)  # now, on the clinic's clock
            clock.tick(days_later * 24 * 3600)
            report = watch.run_once()  # the day's look at the clinic's notes
            assert report.appointments_fetched

        later = datetime.fromtimestamp(clock(), UTC)  # 101 days on
        marks = split_history(db, queue, later)
        assert old.key not in marks, "notes from 101 days ago are not recent"
        assert marks[this_week.key][0] == marks[last_month.key][0] == 1
        order = [p.key for p in triage_order(queue, marks)]
        assert order.index(this_week.key) < order.index(last_month.key)
        assert "treatment notes on both records, latest" in marks[this_week.key][2]


def test_a_record_with_a_creation_time_years_ahead_is_not_news(tmp_path) -> None:
    """A copy of a patient whose creation time is years ahead (a clock or an import gone
    wrong) is in the queue, but the first interval does not announce it, as it announces
    nothing else the watch started from."""
    from desktop.simulator.sample_clinic import generate_clinic

    patients = [dict(p) for p in generate_clinic(300, 5).patients]
    known = next(
        p
        for p in patients
        if p["date_of_birth"] and p["patient_phone_numbers"] and not p["archived_at"]
    )
    ahead = {**known, "id": "9900000000000000401", "created_at": "2031-01-01T00:00:00Z"}
    clock = ManualClock(FRIDAY_4PM.timestamp())
    with (
        Simulator(patients=[*patients, ahead], clock=clock) as sim,
        _open(tmp_path) as cache,
        Session(cache, sim.api_key, base_url=sim.base_url) as session,
    ):
        first = Watch(session, settings=WatchSettings(), clock=clock).run_once()
        assert not first.new_pairs
        queued = {(p["id_a"], p["id_b"]) for p in queue_pairs(cache.db)}
        assert any(ahead["id"] in key and known["id"] in key for key in queued)


def test_a_merge_done_in_cliniko_with_no_merge_window_open_is_finished_by_the_watch(
    tmp_path: Path,
) -> None:
    """Applied (Apply all), then merged in Cliniko while MergeDesk's merge window was
    closed: the watch's next interval ends the plan, so the merge is counted."""
    from ui_helpers import ready_plans

    from desktop.merge import MergeFlow, Step
    from desktop.merge.batch import apply_ready_plans

    with watched_clinic(tmp_path) as (sim, clock, watch, _events):
        [flow] = ready_plans(watch.cache, 1, sim)
        [applied] = apply_ready_plans(watch.cache, watch.session)
        assert applied.applied
        sim.merge(flow.plan.survivor_id, list(flow.plan.duplicate_ids))
        clock.tick(INTERVAL)
        watch.run_once()
        assert MergeFlow.load(watch.cache, flow.plan_id).step is Step.DONE
        outcomes = watch.cache.db.execute("SELECT outcome FROM time_sessions").fetchall()
        assert ("merged",) in outcomes
