"""The guided merge's step machine against a real encrypted cache and a fake Cliniko."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from desktop.account import stored_account
from desktop.audit import AuditTrail
from desktop.cliniko.errors import KeyRejected, Offline
from desktop.display import field_label
from desktop.incomplete import incomplete_records
from desktop.merge import (
    ORDER,
    AlreadyMerged,
    ArchivedMeanwhile,
    MergedIntoOther,
    MergeFlow,
    NeedsConnection,
    PlanNotFound,
    RestoreNotApplied,
    Step,
    StepError,
    SurvivorChanged,
    SurvivorGone,
    WriteNotApplied,
)
from desktop.merge.batch import NEW_KEY_IN_USE, forget_refused_key
from desktop.merge.plan import field_value
from desktop.merge_states import Outcome
from desktop.session import PendingAudit
from desktop.simulator.fixtures import tiny_clinic
from desktop.store.cache import Cache
from desktop.store.patients import get_patient, upsert_patients
from desktop.store.plans import get_plan, save_plan, step_log
from desktop.store.queue import get_pair
from desktop.store.transaction import transaction

KEY = "7e" * 32
PAIR = ["1002", "1001"]


class FakeClient:
    """Just enough of ClinikoClient: patients in memory, every call reported for the audit."""

    base_url = "http://127.0.0.1:9/v1"
    shard = "au1"

    def __init__(self, patients: dict[str, dict[str, Any]], audit: PendingAudit) -> None:
        self.patients = patients
        self.audit = audit
        self.silent_drop = False
        self.offline = False
        self.patches: list[dict[str, Any]] = []
        self.during_next_call: Callable[[], None] | None = None  # runs once, mid-request

    def _record(self, method: str, path: str) -> None:
        hook, self.during_next_call = self.during_next_call, None
        if hook is not None:
            hook()
        if self.offline:
            raise Offline("ConnectError", method=method, path=path)
        self.audit.add(SimpleNamespace(method=method, path=path, status=200))

    def get_patient(self, patient_id: str, include_archived: bool = True) -> dict[str, Any]:
        self._record("GET", f"/patients/{patient_id}")
        return copy.deepcopy(self.patients[patient_id])

    def update_patient(self, patient_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._record("PATCH", f"/patients/{patient_id}")
        self.patches.append(dict(fields))
        after = {**self.patients[patient_id], **copy.deepcopy(fields)}
        if not self.silent_drop:
            self.patients[patient_id] = after
        return copy.deepcopy(after)

    def history_counts(self, patient_id: str) -> dict[str, int]:
        self._record("GET", f"/individual_appointments?patient={patient_id}")
        big = patient_id == "1002"
        return {"appointments": 9 if big else 1, "treatment_notes": 0, "invoices": 0,
                "attachments": 0}  # fmt: skip

    def merge(self, survivor_id: str, duplicate_id: str) -> None:
        """Play the person pressing Merge in Cliniko."""
        self.patients[duplicate_id].update(
            merged_at="2026-03-02T10:00:00Z", archived_at="2026-03-02T10:00:00Z",
            merged_with_patient={"links": {"self": f"{self.base_url}/patients/{survivor_id}"}},
        )  # fmt: skip


def open_cache(path: Path) -> Cache:
    return Cache.open(path / "cache.db", KEY)


def make_session(cache: Cache, patients: dict[str, dict[str, Any]]) -> SimpleNamespace:
    audit = PendingAudit(AuditTrail(cache.db, cliniko_user="1 Alex", os_user="alex"))
    return SimpleNamespace(cache=cache, audit=audit, client=FakeClient(patients, audit))


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    patients, _ = tiny_clinic()
    dup = next(p for p in patients if p["id"] == "1002")
    dup["occupation"] = "Nurse"  # 1001 has none: a blank to fill
    dup["patient_phone_numbers"].append({"number": "0400 111 222", "phone_type": "Work"})
    with open_cache(tmp_path) as cache, transaction(cache) as db:
        upsert_patients(db, patients)
        db.execute(
            "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, scored_at) "
            "VALUES ('1001', '1002', 0.97, 8.5, 'likely', '2026-03-01T00:00:00Z')"
        )
    return {"path": tmp_path, "patients": {p["id"]: copy.deepcopy(p) for p in patients}}


def audit_count(cache: Cache) -> int:
    """API calls audited (the administrator's EVENT entries are not counted)."""
    sql = "SELECT count(*) FROM audit_log WHERE method != 'EVENT'"
    return int(cache.db.execute(sql).fetchone()[0])


def status(cache: Cache) -> str:
    pair = get_pair(cache.db, "1001", "1002")
    assert pair is not None
    return str(pair["status"])


def plan_to_ready(flow: MergeFlow) -> None:
    flow.advance()
    flow.advance(survivor_id="1001")
    flow.advance()
    flow.advance()
    assert flow.step is Step.READY


def to_merge_in_cliniko(flow: MergeFlow, session: Any) -> None:
    """Plan the merge, then update the survivor, to reach the merge-in-Cliniko step."""
    plan_to_ready(flow)
    flow.advance(session)
    flow.advance(session)
    assert flow.step is Step.MERGE_IN_CLINIKO


def test_offline_steps_resume_at_every_step_after_reopening(world: dict[str, Any]) -> None:
    path = world["path"]
    with open_cache(path) as cache:
        flow = MergeFlow.start(cache, PAIR)
        plan_id = flow.plan_id
        assert flow.step is Step.COMPARE and flow.plan.survivor_id == "1001"  # older, no history
    expected = [Step.CHOOSE_SURVIVOR, Step.RECONCILE, Step.REVIEW, Step.READY]
    for want in expected:
        with open_cache(path) as cache:
            flow = MergeFlow.load(cache, plan_id)
            flow.advance()
            assert flow.step is want
        with open_cache(path) as cache:  # reopened: the step was stored before returning
            assert MergeFlow.load(cache, plan_id).step is want
            assert MergeFlow.load(cache, PAIR).plan_id == plan_id
            assert MergeFlow.load(cache, "1001:1002").step is want
    with open_cache(path) as cache:
        flow = MergeFlow.load(cache, plan_id)
        assert flow.plan.decisions["occupation"] == "Nurse"  # a blank filled from 1002
        assert flow.plan.decisions["last_name"] == "Smith"
        assert len(flow.plan.decisions["patient_phone_numbers"]) == 3
        assert set(flow.changes()) == {"occupation", "patient_phone_numbers"}
        assert status(cache) == "ready"
        assert [p.plan_id for p in MergeFlow.ready_to_apply(cache)] == [plan_id]
        assert [e["to_step"] for e in step_log(cache.db, plan_id)] == [
            "compare",
            *[s.value for s in expected],
        ]


def test_queue_status_follows_the_plan(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        flow = MergeFlow.start(cache, PAIR)
        assert status(cache) == "new"
        flow.advance()
        assert status(cache) == "planned"
        flow.advance(survivor_id="1001")
        flow.advance()
        flow.advance()
        assert status(cache) == "ready"
        flow.back()
        assert flow.step is Step.REVIEW and status(cache) == "planned"


def test_a_group_no_pair_links_is_refused_and_a_linked_one_is_planned(
    world: dict[str, Any],
) -> None:
    """A stale group (another family's records beside the pair) offered a merge of five."""
    with open_cache(world["path"]) as cache:
        with pytest.raises(StepError) as refused:
            MergeFlow.start(cache, ["1001", "1002", "1003"])  # John Citizen: no pair links him
        assert "not one group of duplicates" in refused.value.user_message
        assert cache.db.execute("SELECT count(*) FROM merge_plans").fetchone()[0] == 0
        with transaction(cache) as db:  # once a pair links him (possible), the group is one
            db.execute(
                "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, scored_at) "
                "VALUES ('1002', '1003', 0.6, 1.0, 'possible', '2026-03-01T00:00:00Z')"
            )
        assert MergeFlow.start(cache, ["1001", "1002", "1003"]).step is Step.COMPARE


def test_guards(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        with pytest.raises(StepError):
            MergeFlow.start(cache, ["1001", "1001"])
        lonely = MergeFlow.start(cache, ["1001", "424242"])  # 424242 is not cached
        assert not lonely.can_advance() and "Sync first" in (lonely.why_not() or "")
        with pytest.raises(StepError):
            lonely.advance()
        assert lonely.step is Step.COMPARE
        flow = MergeFlow.start(cache, PAIR)
        assert not flow.can_go_back()
        with pytest.raises(StepError):
            flow.back()
        with pytest.raises(StepError):
            flow.choose("email", "x@example.com")  # not at RECONCILE yet
        flow.advance()
        with pytest.raises(StepError):
            flow.advance(survivor_id="9999")
        assert flow.step is Step.CHOOSE_SURVIVOR
        flow.advance(survivor_id="1001")
        with pytest.raises(StepError):
            flow.advance(decisions={"created_at": "2020-01-01"})  # read-only
        flow.advance()
        flow.advance()
        assert not flow.can_advance() and flow.can_advance(session=object())  # type: ignore[arg-type]
        with pytest.raises(NeedsConnection) as raised:
            flow.advance()
        assert "Ready to apply" in raised.value.user_message
        assert flow.step is Step.READY
        with pytest.raises(PlanNotFound):
            MergeFlow.load(cache, "no-such-plan")


def test_choices_and_a_changed_survivor(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        flow = MergeFlow.start(cache, PAIR)
        flow.advance()
        flow.advance(survivor_id="1001")
        flow.choose("last_name", "Smyth")
        again = MergeFlow.load(cache, flow.plan_id)
        assert again.plan.decisions["last_name"] == "Smyth"
        chosen = {c.field: c for c in again.reconciliation()}
        assert chosen["last_name"].chosen == "Smyth"
        assert chosen["last_name"].reason == "chosen by you"
        again.back()
        again.advance(survivor_id="1002")  # another survivor: the defaults start over
        assert again.plan.duplicate_ids == ("1001",)
        assert again.plan.decisions["last_name"] == "Smyth"  # now the survivor's own value
        assert again.plan.decisions["address_1"] == "1 Smith Street"  # 1002's blank filled


def test_history_is_fetched_cached_and_audited(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        counts = flow.fetch_history(session)  # type: ignore[arg-type]
        assert counts["1002"]["appointments"] == 9
        assert flow.history()["1002"]["appointments"] == 9  # type: ignore[index]
        assert flow.suggested_survivor() == "1002"
        assert audit_count(cache) == 2


def test_online_steps_to_done(world: dict[str, Any]) -> None:
    path = world["path"]
    with open_cache(path) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        plan_to_ready(flow)
        flow.advance(session)  # type: ignore[arg-type]
        assert flow.step is Step.UPDATE_SURVIVOR
        flow.advance(session)  # type: ignore[arg-type]
        assert flow.step is Step.MERGE_IN_CLINIKO
        assert session.client.patches and "occupation" in session.client.patches[0]
        assert get_patient(cache.db, "1001")["occupation"] == "Nurse"  # type: ignore[index]
        assert audit_count(cache) == 4  # GET survivor, GET duplicate, PATCH, GET read-back
        steps = instructions = flow.instructions()
        assert instructions.url == "http://127.0.0.1:9/patients/1001/merge"
        assert "Jane Smyth, born 12 May 1980, mobile 0412345678, id 1002" in steps.text
        flow.advance()
        assert flow.step is Step.WAIT_FOR_MERGE
    with open_cache(path) as cache:  # closed while waiting, reopened
        session = make_session(cache, world["patients"])
        flow = MergeFlow.load(cache, PAIR)
        assert flow.step is Step.WAIT_FOR_MERGE and flow.merge_url
        assert flow.poll_once(session) is False  # type: ignore[arg-type]
        session.client.merge("1001", "1002")
        assert flow.poll_once(session) is True  # type: ignore[arg-type]
        assert flow.step is Step.DONE and flow.outcome == "merged" and flow.finished
        assert status(cache) == "merged"
        assert get_patient(cache.db, "1002")["merged_at"]  # type: ignore[index]
        assert not flow.can_advance(session)  # type: ignore[arg-type]
        assert MergeFlow.load(cache, PAIR).step is Step.DONE


def test_the_merge_page_opened_while_a_poll_is_out_is_kept_in_order(
    world: dict[str, Any],
) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        session.client.merge("1001", "1002")
        moved: list[bool] = []

        def open_page_on_another_thread() -> None:  # the wizard, while the poll's HTTP is out
            opener = threading.Thread(target=lambda: moved.append(flow.merge_page_opened()))
            opener.start()
            opener.join(timeout=10)

        session.client.during_next_call = open_page_on_another_thread
        assert flow.poll_once(session) is True  # type: ignore[arg-type]
        assert moved == [True]
        moves = [(e["from_step"], e["to_step"]) for e in step_log(cache.db, flow.plan_id)]
        assert moves[-2:] == [("merge_in_cliniko", "wait_for_merge"), ("wait_for_merge", "done")]
        assert flow.step is Step.DONE and flow.outcome == "merged"
        assert flow.merge_page_opened() is False  # after the merge: nothing to move
        assert MergeFlow.load(cache, PAIR).step is Step.DONE


def test_a_silent_write_drop_is_caught_and_the_step_stays(world: dict[str, Any]) -> None:
    path = world["path"]
    with open_cache(path) as cache:
        session = make_session(cache, world["patients"])
        session.client.silent_drop = True
        flow = MergeFlow.start(cache, PAIR)
        plan_to_ready(flow)
        flow.advance(session)  # type: ignore[arg-type]
        with pytest.raises(WriteNotApplied) as raised:
            flow.advance(session)  # type: ignore[arg-type]
        message = raised.value.user_message
        assert "Occupation" in message and "Nothing has been merged" in message
        assert "Nurse" not in message and "Jane" not in str(raised.value)
        assert flow.step is Step.UPDATE_SURVIVOR and flow.last_error == message
        assert audit_count(cache) == 4  # the failed attempt's calls are audited too
    with open_cache(path) as cache:
        flow = MergeFlow.load(cache, PAIR)
        assert flow.step is Step.UPDATE_SURVIVOR and flow.last_error
        session = make_session(cache, world["patients"])
        flow.advance(session)  # type: ignore[arg-type]
        assert flow.step is Step.MERGE_IN_CLINIKO and flow.last_error is None


def test_a_new_key_replaces_only_the_words_of_the_refused_key(world: dict[str, Any]) -> None:
    """Once a new key is in, a plan no longer says to paste one but that it can go on; other
    problems still show."""
    with open_cache(world["path"]) as cache:
        flow = MergeFlow.start(cache, PAIR)
        plan_to_ready(flow)
        for words, kept in ((KeyRejected().user_message, False), (Offline().user_message, True)):
            with transaction(cache) as db:
                row = get_plan(db, flow.plan_id)
                assert row is not None
                save_plan(db, {**row, "last_error": words})
            assert forget_refused_key(cache) == (0 if kept else 1)
            problem = MergeFlow.load(cache, flow.plan_id).problem
            assert problem == (words if kept else NEW_KEY_IN_USE)


def test_offline_and_edited_survivor_stop_the_update(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        plan_to_ready(flow)
        flow.advance(session)  # type: ignore[arg-type]
        session.client.offline = True
        with pytest.raises(Offline):
            flow.advance(session)  # type: ignore[arg-type]
        assert flow.step is Step.UPDATE_SURVIVOR and "internet" in (flow.last_error or "")
        session.client.offline = False
        world["patients"]["1001"]["occupation"] = "Teacher"  # edited in Cliniko meanwhile
        with pytest.raises(SurvivorChanged) as raised:
            flow.advance(session)  # type: ignore[arg-type]
        assert raised.value.fields == ("occupation",)
        assert session.client.patches == []
        # The plan now keeps Cliniko's newer value: saved again and applied, it is not written
        # over (a walk's allergy note was, once the plan was saved again).
        assert MergeFlow.load(cache, flow.plan_id).plan.decisions["occupation"] == "Teacher"
        flow.advance(session)  # type: ignore[arg-type]
        assert flow.step is Step.MERGE_IN_CLINIKO
        assert world["patients"]["1001"]["occupation"] == "Teacher"
        assert all("occupation" not in patch for patch in session.client.patches)


def test_a_merge_into_another_patient_is_an_error(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        session.client.merge("1003", "1002")
        with pytest.raises(MergedIntoOther) as raised:
            flow.poll_once(session)  # type: ignore[arg-type]
        assert "1003" in raised.value.user_message
        assert flow.step is Step.MERGE_IN_CLINIKO and not flow.finished


@pytest.mark.parametrize("way_out", ["back", "not_same"])
def test_a_merge_into_another_patient_leaves_a_way_out(world: dict[str, Any], way_out) -> None:
    """The duplicate ticked on another patient's page: Back, "Not the same person" and the
    look all failed with the same error, so the plan waited for its merge for ever. Now Back
    and "Not the same person" put back what MergeDesk wrote to the record that stays."""
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        survivor = str(flow.state.survivor_id)
        before = dict(flow.plan.base_values)
        session.client.merge("1003", flow.state.duplicate_ids[0])
        with pytest.raises(MergedIntoOther):
            flow.poll_once(session)  # type: ignore[arg-type]
        if way_out == "back":
            flow.back(session)  # type: ignore[arg-type]
            assert flow.step is Step.READY and not flow.finished
        else:
            flow.cancel(Outcome.NOT_SAME, session)  # type: ignore[arg-type]
            assert flow.finished and flow.outcome is Outcome.NOT_SAME
        record = world["patients"][survivor]
        assert all(field_value(record, f) == v for f, v in before.items())


@pytest.mark.parametrize("way_out", ["back", "not_same"])
def test_the_record_that_stays_merged_into_another_patient_is_said_and_ends(
    world: dict[str, Any], way_out
) -> None:
    """The record chosen to stay ticked on a third patient's page: the merge step waited for
    ever, saying nothing. Now the look says so, and Back or "Not the same person" end the
    step (nothing is written to the merged record)."""
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        survivor = str(flow.state.survivor_id)
        session.client.merge("1003", survivor)
        with pytest.raises(SurvivorGone) as raised:
            flow.poll_once(session)  # type: ignore[arg-type]
        assert f"(id {survivor}) was merged in Cliniko into another patient (id 1003)" in (
            raised.value.user_message
        )
        patches = len(session.client.patches)
        if way_out == "back":
            flow.back(session)  # type: ignore[arg-type]
            assert flow.step is Step.READY and flow.last_error is None
        else:
            flow.cancel(Outcome.NOT_SAME, session)  # type: ignore[arg-type]
            assert flow.finished and flow.outcome is Outcome.NOT_SAME
        assert len(session.client.patches) == patches  # nothing sent to the merged record


@pytest.mark.parametrize("archived", ["the record to tick", "the record that stays"])
def test_a_record_archived_in_cliniko_while_the_merge_waits_is_said_until_unarchived(
    world: dict[str, Any], archived: str
) -> None:
    """Someone archived a record of the merge in Cliniko while the merge waited (archiving is
    how duplicates were tidied away before): the merge page no longer offered it, and the
    merge step waited for ever, saying nothing. Now the look says so; unarchived, the
    words go, and the merge finishes."""
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        survivor, duplicate = str(flow.state.survivor_id), flow.state.duplicate_ids[0]
        record = session.client.patients[survivor if "stays" in archived else duplicate]
        record["archived_at"] = "2026-03-02T09:00:00Z"
        with pytest.raises(ArchivedMeanwhile) as raised:
            flow.poll_once(session)  # type: ignore[arg-type]
        said = raised.value.user_message
        assert f"(id {record['id']}) was archived in Cliniko meanwhile, not merged" in said
        assert flow.last_error == said and flow.step is Step.MERGE_IN_CLINIKO
        record["archived_at"] = None  # unarchived in Cliniko
        assert not flow.poll_once(session)  # type: ignore[arg-type]
        assert flow.last_error is None
        session.client.merge(survivor, duplicate)
        assert flow.poll_once(session)  # type: ignore[arg-type]
        assert flow.step is Step.DONE


@pytest.mark.parametrize("archived", ["the record to tick", "the record that stays"])
def test_a_record_archived_in_cliniko_before_apply_is_said_and_nothing_is_written(
    world: dict[str, Any], archived: str
) -> None:
    """A record of a ready plan archived in Cliniko (the old way of tidying a duplicate away):
    Apply said the record to stay "has been archived or merged ... Cancel this merge", or, for
    the record to tick, wrote the values and only the merge step said it. Now Apply refuses
    before writing, by id, with what to do; unarchived, "Try again" goes on."""
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        plan_to_ready(flow)
        survivor, duplicate = str(flow.state.survivor_id), flow.state.duplicate_ids[0]
        record = session.client.patients[survivor if "stays" in archived else duplicate]
        record["archived_at"] = "2026-03-02T09:00:00Z"
        with pytest.raises(ArchivedMeanwhile) as raised:
            flow.advance(session)  # Apply now
            flow.advance(session)  # the update itself
        said = raised.value.user_message
        assert f"(id {record['id']}) was archived in Cliniko meanwhile, not merged" in said
        assert "Nothing was written. Unarchive it in Cliniko (on its page), then press" in said
        assert not session.client.patches
        assert flow.last_error == said
        record["archived_at"] = None  # unarchived in Cliniko
        for _ in range(2):  # "Try again" (the update), or Apply now then the update
            if flow.step is not Step.MERGE_IN_CLINIKO:
                flow.advance(session)
        assert flow.step is Step.MERGE_IN_CLINIKO and session.client.patches


def test_a_merge_done_from_the_other_records_page_writes_the_choices_to_the_one_that_stays(
    world: dict[str, Any],
) -> None:
    """The person merged from the duplicate's page, so the record chosen to stay went into the
    duplicate: the merge step waited for ever, saying nothing, while the record that stays in
    Cliniko lacked the values chosen for it. Now the plan turns to that record, writes the
    choices to it, and finishes."""
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        chosen = dict(flow.plan.decisions)
        gone, stays = flow.state.survivor_id, flow.state.duplicate_ids[0]
        session.client.merge(survivor_id=stays, duplicate_id=gone)  # the other way round
        assert not flow.poll_once(session)  # type: ignore[arg-type]
        assert flow.step is Step.UPDATE_SURVIVOR
        assert flow.state.survivor_id == stays and flow.state.duplicate_ids == [gone]
        assert "merged these records the other way round" in (flow.problem or "")
        assert f"(id {gone}) was merged into" in (flow.problem or "")
        assert flow.merged_in_cliniko and not flow.survivor_written
        events = cache.db.execute("SELECT path FROM audit_log WHERE method = 'EVENT'").fetchall()
        assert any(f"merged the other way in Cliniko: {gone} gone" in e[0] for e in events)
        assert not flow.can_go_back()  # back to choose the archived record to stay: no
        with pytest.raises(StepError):  # merged in Cliniko: not "not the same person" now
            flow.cancel(Outcome.NOT_SAME, session)  # type: ignore[arg-type]
        lacking = [f for f, v in chosen.items() if field_value(world["patients"][stays], f) != v]
        assert lacking  # the record that stays lacks some of the values chosen, named:
        assert "It lacks values you chose: " + ", ".join(
            field_label(f) for f in sorted(lacking)
        ) in (flow.problem or "")
        reopened = MergeFlow.load(cache, flow.plan_id)  # what a restart finds
        assert reopened.step is Step.UPDATE_SURVIVOR and reopened.merged_in_cliniko
        reopened.advance(session)  # type: ignore[arg-type]
        assert reopened.step is Step.MERGE_IN_CLINIKO
        assert all(field_value(world["patients"][stays], f) == v for f, v in chosen.items())
        assert reopened.poll_once(session)  # type: ignore[arg-type]
        assert reopened.step is Step.DONE and reopened.outcome is Outcome.MERGED
        assert get_patient(cache.db, gone)["merged_at"]


@pytest.mark.parametrize("outcome", ["not_same", "skipped", "later"])
def test_cancel_outcomes_mark_the_pair(world: dict[str, Any], outcome: str) -> None:
    with open_cache(world["path"]) as cache:
        flow = MergeFlow.start(cache, PAIR)
        flow.advance()
        flow.cancel(outcome)
        assert status(cache) == outcome
        decided = cache.db.execute("SELECT decision FROM match_decisions").fetchone()[0]
        assert decided == outcome
        again = MergeFlow.start(cache, PAIR)
        if outcome == "later":
            assert again.plan_id == flow.plan_id and again.step is Step.CHOOSE_SURVIVOR
        else:
            assert flow.finished and flow.outcome == outcome
            assert again.plan_id != flow.plan_id and again.step is Step.COMPARE
            with pytest.raises(StepError):
                flow.advance()


def test_every_step_is_a_known_value() -> None:
    assert ORDER[0].value == "compare" and ORDER[-1] is Step.DONE


def test_a_failed_poll_through_advance_keeps_the_error(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        flow.advance()
        assert flow.step is Step.WAIT_FOR_MERGE
        session.client.offline = True
        with pytest.raises(Offline):
            flow.advance(session)  # type: ignore[arg-type]
        assert flow.step is Step.WAIT_FOR_MERGE and flow.last_error
        session.client.offline = False
        assert flow.advance(session) is Step.WAIT_FOR_MERGE  # type: ignore[arg-type]
        session.client.merge("1001", "1002")
        assert flow.advance(session) is Step.DONE  # type: ignore[arg-type]


def test_the_timer_follows_the_flow_and_its_outcome(world: dict[str, Any]) -> None:
    from desktop.labor.timelog import TimeLog, rows

    now = [1_000_000.0]
    with open_cache(world["path"]) as cache:
        log = TimeLog(cache, cliniko_user="u", os_user="o", clock=lambda: now[0])
        flow = MergeFlow.start(cache, PAIR, timer=log.start(PAIR))
        now[0] += 12
        flow.advance()
        now[0] += 8
        flow.cancel("not_same")
        [row] = rows(cache, 0, 2_000_000)
        assert row.outcome == "not_same" and row.plan_id == flow.plan_id
        assert row.step_seconds == {"compare": 12, "choose_survivor": 8}


def test_real_cliniko_merge_page_uses_the_account_subdomain_and_shard(
    world: dict[str, Any],
) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        session.client.base_url = "https://api.au1.cliniko.com/v1"
        session.client.get_public_settings = lambda: {"account": {"subdomain": "sunnyside"}}
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        assert flow.merge_url == "https://sunnyside.au1.cliniko.com/patients/1001"
        assert "2. Press Merge." in flow.instructions().text  # a real Cliniko page
        account = stored_account(cache.db)
        assert account is not None and (account.subdomain, account.shard) == ("sunnyside", "au1")


def test_backing_out_after_the_update_restores_the_survivor_and_is_audited(
    world: dict[str, Any],
) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        before = copy.deepcopy(world["patients"]["1001"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        assert flow.step is Step.MERGE_IN_CLINIKO and flow.needs_restore()
        assert world["patients"]["1001"]["occupation"] == "Nurse"
        with pytest.raises(NeedsConnection):  # putting values back needs Cliniko
            flow.back()
        assert flow.step is Step.MERGE_IN_CLINIKO

        session.client.silent_drop = True  # the restoring PATCH answers 200, changes nothing
        with pytest.raises(RestoreNotApplied) as raised:
            flow.cancel("not_same", session)  # type: ignore[arg-type]
        assert "Occupation, Phone numbers." in raised.value.user_message
        assert "Nurse" not in str(raised.value)
        assert not flow.finished and flow.needs_restore() and flow.last_error

        session.client.silent_drop = False
        assert flow.back(session) is Step.READY  # type: ignore[arg-type]
        assert not flow.needs_restore() and flow.last_error is None
        for name in flow.plan.decisions:
            assert field_value(world["patients"]["1001"], name) == field_value(before, name)
        events = [r[0] for r in cache.db.execute(
            "SELECT path FROM audit_log WHERE method = 'EVENT'").fetchall()]  # fmt: skip
        assert any(e.startswith("restored survivor") and flow.plan_id in e for e in events)
        assert [e["note"] for e in step_log(cache.db, flow.plan_id)].count("writing survivor") == 1
        flow.cancel("not_same")  # nothing left to put back: works offline
        assert flow.outcome == "not_same"


def test_a_flagged_pair_is_applied_only_after_the_confirmation(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        with transaction(cache) as db:
            db.execute("UPDATE match_pairs SET flags = 'twins', warnings = ? WHERE id_a = '1001'",
                       ['["Possibly twins."]'])  # fmt: skip
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        plan_to_ready(flow)
        assert flow.is_lookalike and flow.lookalike_risk() == "twins"
        with pytest.raises(StepError) as held:
            flow.advance(session)  # type: ignore[arg-type]
        assert "twins" in held.value.user_message and not session.client.patches
        flow.confirm_lookalike()
        assert MergeFlow.load(cache, flow.plan_id).lookalike_confirmed
        [event] = cache.db.execute(
            "SELECT path, os_user FROM audit_log WHERE path LIKE 'confirmed look-alike%'"
        ).fetchall()
        assert flow.plan_id in event[0] and "flags twins" in event[0] and event[1]
        flow.advance(session)  # type: ignore[arg-type]
        flow.advance(session)  # type: ignore[arg-type]
        assert flow.step is Step.MERGE_IN_CLINIKO


def test_a_restore_leaves_fields_edited_in_cliniko_since(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        written = session.client.patches[-1]
        assert "occupation" in written and len(written) >= 2
        world["patients"]["1001"]["occupation"] = "Midwife"  # someone edits it in Cliniko
        result = flow.restore(session)  # type: ignore[arg-type]
        assert result is not None and result.left_fields == ("occupation",)
        assert "occupation" not in result.restored_fields and result.restored_fields
        assert world["patients"]["1001"]["occupation"] == "Midwife"
        # Applied again, the plan keeps that newer value rather than its earlier choice.
        assert MergeFlow.load(cache, flow.plan_id).plan.decisions["occupation"] == "Midwife"


def test_a_back_out_never_undoes_a_merge_cliniko_made(world: dict[str, Any]) -> None:
    with open_cache(world["path"]) as cache:
        session = make_session(cache, world["patients"])
        flow = MergeFlow.start(cache, PAIR)
        to_merge_in_cliniko(flow, session)
        assert flow.step is Step.MERGE_IN_CLINIKO and flow.needs_restore()
        session.client.merge("1001", "1002")  # the person merged in Cliniko already
        with pytest.raises(AlreadyMerged) as raised:
            flow.cancel("not_same", session)  # type: ignore[arg-type]
        assert "cannot be undone" in raised.value.user_message
        assert not flow.finished and flow.poll_once(session)  # type: ignore[arg-type]
        assert flow.outcome == "merged"


def test_a_record_planned_to_be_merged_away_is_not_an_incomplete_record(
    world: dict[str, Any],
) -> None:
    """The front desk is asked to complete records at the next visit: not one whose details
    are about to go to the record that stays."""
    with open_cache(world["path"]) as cache:
        with transaction(cache) as db:
            db.execute("UPDATE patients SET date_of_birth = NULL, email = NULL WHERE id = '1002'")
        listed = {r.patient_id for r in incomplete_records(cache.db, datetime.now(UTC))}
        assert "1002" in listed
        flow = MergeFlow.start(cache, PAIR)
        flow.advance()
        flow.advance(survivor_id="1001")
        listed = {r.patient_id for r in incomplete_records(cache.db, datetime.now(UTC))}
        assert "1002" not in listed
        flow.cancel(Outcome.SKIPPED)  # the plan closes
        listed = {r.patient_id for r in incomplete_records(cache.db, datetime.now(UTC))}
        assert "1002" in listed
