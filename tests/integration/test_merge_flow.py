"""The guided merge against the simulator over real HTTP, with the time log beside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from manual_clock import ManualClock

from desktop.cliniko.errors import ClinikoError
from desktop.labor.timelog import TimeLog, rows
from desktop.merge import MergeFlow, Step, WriteNotApplied
from desktop.merge.plan import field_value, same_value
from desktop.session import Session
from desktop.simulator import FaultConfig, Simulator
from desktop.simulator.fixtures import tiny_clinic
from desktop.store.cache import Cache
from desktop.store.patients import get_patient
from desktop.store.queue import get_pair
from desktop.store.transaction import transaction
from desktop.sync import run_sync, sync_notes

KEY = "4d" * 32
PAIR = ("1001", "1002")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp()


def clinic() -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """The tiny clinic, with 1002 holding a value 1001 lacks and one more phone number."""
    patients, history = tiny_clinic()
    dup = next(p for p in patients if p["id"] == "1002")
    dup["occupation"] = "Nurse"
    dup["patient_phone_numbers"].append({"number": "0400 111 222", "phone_type": "Work"})
    return patients, history


@pytest.fixture
def sim() -> Iterator[Simulator]:
    patients, history = clinic()
    with Simulator(patients, history=history, rate_limit_per_minute=10_000) as simulator:
        yield simulator


def open_cache(path: Path) -> Cache:
    return Cache.open(path / "cache.db", KEY)


def connect(cache: Cache, sim: Simulator) -> Session:
    return Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=5000)


def synced_cache(path: Path, sim: Simulator) -> None:
    """Download the clinic and put 1001/1002 in the queue, as a scan would."""
    with open_cache(path) as cache, connect(cache, sim) as session:
        session.identify_user()
        run_sync(session)
        with transaction(cache) as db:
            db.execute(
                "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, scored_at) "
                "VALUES ('1001', '1002', 0.97, 8.5, 'likely', '2026-03-01T00:00:00Z')"
            )


def press_merge_in_cliniko(url: str, duplicate_id: str) -> None:
    """Play the person: tick the duplicate on the (simulated) Cliniko merge page."""
    page = httpx.get(url)
    assert f'value="{duplicate_id}"' in page.text
    done = httpx.post(url, data={"duplicate_ids": [duplicate_id]})
    assert done.status_code == 200 and "Patients merged" in done.text


def audit_paths(cache: Cache) -> list[str]:
    rows_ = cache.db.execute("SELECT method, path FROM audit_log ORDER BY seq").fetchall()
    return [f"{m} {p.split('?')[0]}" for m, p in rows_]


def test_full_guided_merge_with_time_log(tmp_path: Path, sim: Simulator) -> None:
    synced_cache(tmp_path, sim)
    clock = ManualClock(T0)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        log = TimeLog(cache, clock=clock, min_write_interval=0)
        work = log.start(PAIR)
        flow = MergeFlow.start(cache, PAIR, timer=work)
        flow.fetch_history(session)
        assert flow.suggested_survivor() == "1001"  # 3/2/1 history against 2/1/1
        clock.tick(40)
        work.input_at()
        flow.advance()
        clock.tick(10)
        flow.advance(survivor_id=flow.suggested_survivor())
        choices = {c.field: c for c in flow.reconciliation()}
        assert choices["occupation"].chosen == "Nurse"
        clock.tick(30)
        flow.choose("title", "Dr")  # the administrator overrides one field
        flow.advance()
        clock.tick(20)
        flow.advance()
        assert flow.step is Step.READY
        clock.tick(5)
        flow.advance(session)
        clock.tick(3)
        flow.advance(session)
        assert flow.step is Step.MERGE_IN_CLINIKO
        instructions = flow.instructions()
        assert instructions.url == f"{sim.web_url}/patients/1001/merge"
        assert "Jane Smyth, born 12 May 1980, mobile 0412345678, id 1002" in instructions.text
        assert flow.poll_once(session) is False
        flow.advance()
        clock.tick(60)
        press_merge_in_cliniko(instructions.url, "1002")
        assert flow.poll_once(session) is True
        assert flow.step is Step.DONE

        survivor = sim.patient("1001")
        assert survivor["title"] == "Dr" and survivor["occupation"] == "Nurse"
        numbers = [p["number"] for p in survivor["patient_phone_numbers"]]
        assert numbers == ["0412 345 678", "03 9876 5432", "0400 111 222"]
        assert survivor["last_name"] == "Smith"
        duplicate = sim.patient("1002")
        assert duplicate["merged_with_patient"]["links"]["self"].endswith("/patients/1001")
        assert get_patient(cache.db, "1002")["merged_at"] == duplicate["merged_at"]  # type: ignore[index]
        assert get_patient(cache.db, "1001")["title"] == "Dr"  # type: ignore[index]
        assert get_pair(cache.db, *PAIR)["status"] == "merged"  # type: ignore[index]
        paths = audit_paths(cache)
        assert "PATCH /v1/patients/1001" in paths and paths.count("GET /v1/patients/1002") >= 2

        [row] = rows(cache, T0 - 1, T0 + 3600)
        assert row.outcome == "merged" and row.patient_ids == PAIR
        assert row.plan_id == flow.plan_id
        assert row.step_seconds == {
            "compare": 40, "choose_survivor": 10, "reconcile": 30, "review": 20, "ready": 5,
            "update_survivor": 3, "merge_in_cliniko": 0, "wait_for_merge": 60,
        }  # fmt: skip
        assert row.wall_minutes == pytest.approx(168 / 60)
        assert row.active_minutes == pytest.approx(168 / 60)
        assert row.cliniko_user.startswith("1 Alex")


def test_plan_made_offline_then_applied_later(tmp_path: Path, sim: Simulator) -> None:
    synced_cache(tmp_path, sim)
    with open_cache(tmp_path) as cache:  # offline: no session, no client at all
        flow = MergeFlow.start(cache, PAIR)
        flow.advance()
        flow.advance(survivor_id="1001")
        flow.advance()
        flow.advance()
        assert flow.step is Step.READY and not flow.can_advance()
        plan_id = flow.plan_id
    assert sim.stats["requests_by_route"].get("PATCH /patients/{id}", 0) == 0
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:  # back online
        [waiting] = MergeFlow.ready_to_apply(cache)
        assert waiting.plan_id == plan_id
        flow = MergeFlow.load(cache, plan_id)
        flow.advance(session)
        flow.advance(session)
        assert sim.patient("1001")["occupation"] == "Nurse"
        flow.advance()
        sim.merge("1001", ["1002"])
        assert flow.poll_once(session)
        assert MergeFlow.ready_to_apply(cache) == []


def at_merge_step(cache: Cache, session: Session, ids: tuple[str, ...] = PAIR) -> MergeFlow:
    """The records' merge planned with the defaults and applied: at "Merge in Cliniko"."""
    flow = MergeFlow.start(cache, ids)
    for _ in range(4):
        flow.advance()
    flow.advance(session)
    flow.advance(session)
    assert flow.step is Step.MERGE_IN_CLINIKO
    return flow


def test_flow_resumes_after_the_app_is_closed(tmp_path: Path, sim: Simulator) -> None:
    synced_cache(tmp_path, sim)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        flow = at_merge_step(cache, session)
        url = flow.merge_url
    del flow, session, cache  # the window closes: every object is gone

    assert url is not None
    press_merge_in_cliniko(url, "1002")  # merged in Cliniko while MergeDesk was closed
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        flow = MergeFlow.load(cache, list(PAIR))
        assert flow.step is Step.MERGE_IN_CLINIKO and flow.merge_url == url
        assert flow.instructions().duplicates[0].patient_id == "1002"
        assert flow.poll_once(session) is True
        assert flow.step is Step.DONE


def update_not_applied(cache: Cache, session: Session) -> tuple[MergeFlow, str]:
    """The records' merge planned and applied while Cliniko drops the write (the simulator's
    ``silent_write_drop``): the flow at the update step, and what it said."""
    flow = MergeFlow.start(cache, PAIR)
    for _ in range(4):
        flow.advance()
    flow.advance(session)
    with pytest.raises(WriteNotApplied) as raised:
        flow.advance(session)
    return flow, raised.value.user_message


def test_silent_write_drop_is_caught_and_reported(tmp_path: Path, sim: Simulator) -> None:
    synced_cache(tmp_path, sim)
    sim.faults = FaultConfig(silent_write_drop=True)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        flow, message = update_not_applied(cache, session)
        # The field as Cliniko's screens name it, not as the API does.
        assert "still had other values: " in message and "Occupation" in message
        assert "Nurse" not in message and "Jane" not in message
        assert flow.step is Step.UPDATE_SURVIVOR and flow.last_error == message
        assert sim.patient("1001")["occupation"] is None  # the 200 did not stick
        assert "PATCH /v1/patients/1001" in audit_paths(cache)

        sim.faults = None  # the fault clears; trying again works
        flow.advance(session)
        assert flow.step is Step.MERGE_IN_CLINIKO
        assert sim.patient("1001")["occupation"] == "Nurse"


def test_a_survivor_changed_in_cliniko_after_its_update_is_written_again_before_the_merge(
    tmp_path: Path, sim: Simulator
) -> None:
    """After the update, someone (or a restored copy) puts the record that stays back as it
    was. The merge step's poll sees it: the plan goes back to the update with the fields
    named, so the person does not merge a record without the values they chose."""
    synced_cache(tmp_path, sim)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        flow = at_merge_step(cache, session)
        assert sim.patient("1001")["occupation"] == "Nurse"
        assert flow.poll_once(session) is False and flow.step is Step.MERGE_IN_CLINIKO
        sim.touch_patient("1001", occupation="")  # back as it was before the update

        assert flow.poll_once(session) is False
        assert flow.step is Step.UPDATE_SURVIVOR
        assert "(fields: Occupation)" in (flow.last_error or "")
        assert "do not merge in Cliniko now" in (flow.last_error or "")
        assert get_pair(cache.db, *PAIR)["status"] == "ready"  # type: ignore[index]
        reopened = MergeFlow.load(cache, flow.plan_id)  # kept across a restart
        assert reopened.step is Step.UPDATE_SURVIVOR and reopened.last_error == flow.last_error

        flow.advance(session)  # "Try again": written and checked again
        assert flow.step is Step.MERGE_IN_CLINIKO and flow.last_error is None
        assert sim.patient("1001")["occupation"] == "Nurse"
        flow.advance()
        sim.merge("1001", ["1002"])
        assert flow.poll_once(session) is True


def group_of_three(cache: Cache) -> None:
    """1003 joins the group of 1001 and 1002 through 1002, as a scan would put it."""
    with transaction(cache) as db:
        db.execute(
            "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, scored_at) "
            "VALUES ('1002', '1003', 0.8, 2.0, 'possible', '2026-03-01T00:00:00Z')"
        )


def test_a_merge_half_done_in_cliniko_says_which_record_is_still_to_tick(
    tmp_path: Path, sim: Simulator
) -> None:
    """A walk ticked one planned record and another patient by mistake: the merge step kept
    saying "Waiting for Cliniko to show the merge…", and backing out said it finished the
    merge, which it did not."""
    from desktop.merge import AlreadyMerged

    synced_cache(tmp_path, sim)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        group_of_three(cache)
        flow = at_merge_step(cache, session, ("1001", "1002", "1003"))
        assert flow.plan.survivor_id == "1001"
        sim.merge("1001", ["1002", "1004"])  # 1003 left out, 1004 ticked by mistake
        assert not flow.poll_once(session)
        said = flow.last_error or ""
        assert said.startswith("Cliniko shows Jane Smyth (id 1002) merged, but not yet: ")
        assert "id 1003. Tick it on the merge page" in said
        assert "a merge cannot be undone in Cliniko" in said
        with pytest.raises(AlreadyMerged) as backed_out:
            flow.cancel("not_same", session)
        assert "finishes once Cliniko shows every record of it merged" in (
            backed_out.value.user_message
        )
        assert flow.step is Step.MERGE_IN_CLINIKO
        sim.merge("1001", ["1003"])
        assert flow.poll_once(session) and flow.step is Step.DONE
        # The next sync names the patient merged in by mistake (the plan never named 1004).
        synced = run_sync(session)
        assert synced.merged_outside == [("1004", "1001")]
        assert any(
            note.startswith("Cliniko merged patient 1004 into patient 1001, the record that stays")
            for note in sync_notes(synced)
        )


def test_a_group_merged_from_another_records_page_ends_with_the_choices_on_that_record(
    tmp_path: Path, sim: Simulator
) -> None:
    """A group of three merged from the page of one of the records to tick (the record chosen
    to stay ticked there with the third): the plan turns to that record, the choices are
    written to it, and the next look finds the merge done."""
    synced_cache(tmp_path, sim)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        group_of_three(cache)
        flow = at_merge_step(cache, session, ("1001", "1002", "1003"))
        chosen = dict(flow.plan.decisions)
        assert flow.plan.survivor_id == "1001" and chosen
        other_page = f"{sim.base_url.removesuffix('/v1')}/patients/1002/merge"
        press_merge_in_cliniko(other_page, "1001")  # and 1003 below, as the person ticks both
        assert httpx.post(other_page, data={"duplicate_ids": ["1003"]}).status_code == 200
        assert not flow.poll_once(session)
        assert flow.step is Step.UPDATE_SURVIVOR and flow.plan.survivor_id == "1002"
        assert sorted(flow.plan.duplicate_ids) == ["1001", "1003"]
        assert "(id 1001) was merged into" in (flow.problem or "")
        flow.advance(session)
        assert flow.step is Step.MERGE_IN_CLINIKO
        assert flow.poll_once(session) and flow.step is Step.DONE
    for name, wanted in chosen.items():
        assert same_value(name, field_value(sim.patient("1002"), name), wanted), name


def test_a_back_out_that_fails_is_not_said_to_be_cut_off_by_a_stop(
    tmp_path: Path, sim: Simulator
) -> None:
    """ "Not the same person" at the merge step while Cliniko does not answer: the error is
    said, and a later look at Cliniko does not call it a back-out MergeDesk stopped during."""
    synced_cache(tmp_path, sim)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        flow = at_merge_step(cache, session)
        sim.faults = FaultConfig(drop_rate=1.0)
        session.client.max_retries, session.client.backoff_base = 1, 0.01
        with pytest.raises(ClinikoError):
            flow.cancel("not_same", session)
        failed = flow.problem
        assert failed and "stopped" not in failed
        sim.faults = None
        assert flow.poll_once(session) is False
        assert flow.restore_interrupted is None and flow.problem == failed
        flow.cancel("not_same", session)
        assert flow.finished and sim.patient("1001")["occupation"] in (None, "")


def test_a_back_out_cut_off_at_the_update_step_is_said_over_the_older_error(
    tmp_path: Path, sim: Simulator
) -> None:
    """The update did not stick (its error is kept), "Not the same person" began its back-out
    and MergeDesk stopped: reopened at the update step, the window said the update's error
    and nothing of the answer under way."""
    from desktop.merge_states import PlanNote
    from desktop.store import plans as plan_store
    from desktop.timestamps import utc_stamp

    synced_cache(tmp_path, sim)
    sim.faults = FaultConfig(silent_write_drop=True)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        flow, _ = update_not_applied(cache, session)
        assert flow.needs_restore() and flow.problem == flow.last_error
        with transaction(cache) as db:  # what the back-out's first step leaves
            note = f"{PlanNote.RESTORING}: not_same"
            plan_store.log_step(db, flow.plan_id, flow.step, flow.step, utc_stamp(), note)
        reopened = MergeFlow.load(cache, flow.plan_id)
        assert reopened.step is Step.UPDATE_SURVIVOR
        assert "“Not the same person” was under way" in (reopened.problem or "")


@pytest.mark.parametrize(
    "odd",
    [
        {"updated_at": "not a time"},  # kept as it came: the next sync's watermark broke
        {"first_name": "\ud800"},  # no valid Unicode: the cache refused it with a crash
    ],
)
def test_a_record_cliniko_sends_malformed_during_a_merge_is_said_and_not_kept(
    tmp_path: Path, sim: Simulator, odd: dict[str, Any]
) -> None:
    """The merge step read the record that stays, changed since (a drift) and malformed: it
    went into the cache as it came, past the checks a sync makes (or crashed the step)."""
    from desktop.merge.executor import RecordUnreadable

    synced_cache(tmp_path, sim)
    with open_cache(tmp_path) as cache, connect(cache, sim) as session:
        flow = at_merge_step(cache, session)
        kept = get_patient(cache.db, "1001")
        with sim.state.lock:  # as a hostile server sends it: past the simulator's own checks
            sim.state._patients["1001"].update({"occupation": "", **odd})
        with pytest.raises(RecordUnreadable) as raised:
            flow.poll_once(session)
        said = raised.value.user_message
        assert "patient 1001" in said and "cannot read" in said and "Jane" not in said
        assert flow.step is Step.MERGE_IN_CLINIKO and flow.problem == said
        assert get_patient(cache.db, "1001") == kept


def test_the_record_that_stays_follows_a_history_read_after_the_plan_began(
    tmp_path: Path,
) -> None:
    """The plan took the suggestion of its start, made before the records' history was read
    (the older record); with the history in, the choice still opened on it, against the "★
    suggested" beside the record with more. A record the person picked stays picked."""
    from desktop.store.history_counts import save_counts
    from desktop.timestamps import utc_stamp

    patients, _ = clinic()
    with Simulator(patients, rate_limit_per_minute=10_000) as plain:
        synced_cache(tmp_path, plain)
    richer = {"appointments": 9, "treatment_notes": 9, "invoices": 9, "attachments": 0}
    poorer = {"appointments": 1, "treatment_notes": 0, "invoices": 0, "attachments": 0}
    with open_cache(tmp_path) as cache:
        flow = MergeFlow.start(cache, PAIR)
        assert flow.plan.survivor_id == "1001"  # the older record: no history known yet
        with transaction(cache) as db:  # read while the records are compared
            save_counts(db, {"1001": poorer, "1002": richer}, utc_stamp())
        flow.advance()
        assert flow.step is Step.CHOOSE_SURVIVOR and flow.plan.survivor_id == "1002"
        assert not flow.follow_suggestion()  # already the suggestion

        flow.pick_survivor("1001")  # the person's choice, against the suggestion
        with transaction(cache) as db:
            save_counts(db, {"1001": poorer, "1002": {**richer, "invoices": 20}}, utc_stamp())
        assert not flow.follow_suggestion()
        flow.back()
        flow.advance()
        assert MergeFlow.load(cache, flow.plan_id).plan.survivor_id == "1001"
