"""Write-ahead audit: a PATCH Cliniko applied is in the trail even if the app dies after it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.audit import open_intents, verify
from desktop.session import Session
from desktop.simulator import Simulator
from desktop.simulator.fixtures import tiny_clinic
from desktop.store.cache import Cache
from desktop.store.transaction import transaction
from desktop.sync import run_sync

KEY = "6a" * 32

# Plans the merge of 1001 and 1002 and dies by SIGKILL the moment a PATCH's answer arrives,
# before the step's transaction can commit: the update's PATCH ("update"), or, once the update
# is done, the PATCH that puts the previous values back on "not the same person" ("back_out";
# it prints the plan and its step first), or that back-out's first read ("back_out_read").
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from desktop.merge import MergeFlow
    from desktop.session import Session
    from desktop.store.cache import Cache

    path, base_url, api_key, key, stage = sys.argv[1:6]
    cache = Cache.open(path, key)
    session = Session(cache, api_key, base_url=base_url, max_requests_per_minute=5000)
    queue = session.client._on_request

    def die_after_patch(record):
        queue(record)
        if record.method == "PATCH" or stage == "back_out_read":
            os.kill(os.getpid(), signal.SIGKILL)

    flow = MergeFlow.start(cache, ["1001", "1002"])
    flow.advance()
    flow.advance(survivor_id="1001")
    flow.advance()
    flow.advance()
    if stage.startswith("back_out"):
        flow.advance(session)
        flow.advance(session)
        print(flow.plan_id, flow.step, flush=True)
    session.client._on_request = die_after_patch
    if stage == "update":
        flow.advance(session)
        flow.advance(session)
    else:
        flow.cancel("not_same", session)
    print("the PATCH did not kill the process")
    """
)


def killed_back_out(tmp_path: Path, sim: Simulator, stage: str) -> tuple[Path, str]:
    """A synced cache, and the plan of :data:`CHILD` killed at the merge step's back-out
    (``stage``): the cache's path and the plan's id."""
    from desktop.merge import Step

    path = tmp_path / "cache.db"
    with Cache.open(path, KEY) as cache, connect(cache, sim) as session:
        session.identify_user()
        run_sync(session)
    plan_id, step = run_child(path, sim, stage).split()
    assert step == Step.MERGE_IN_CLINIKO
    return path, plan_id


def run_child(path: Path, sim: Simulator, stage: str) -> str:
    """Run :data:`CHILD` to its kill; returns what it printed."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), sim.base_url, sim.api_key, KEY, stage],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    return child.stdout


@pytest.fixture
def sim() -> Iterator[Simulator]:
    patients, history = tiny_clinic()
    dup = next(p for p in patients if p["id"] == "1002")
    dup["occupation"] = "Nurse"  # 1001 has none: the PATCH fills it
    with Simulator(patients, history=history, rate_limit_per_minute=10_000) as simulator:
        yield simulator


def connect(cache: Cache, sim: Simulator) -> Session:
    return Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=5000)


def test_a_kill_after_the_patch_leaves_the_intent_and_the_next_start_records_the_outcome(
    tmp_path: Path, sim: Simulator
) -> None:
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY) as cache, connect(cache, sim) as session:
        session.identify_user()
        run_sync(session)
        with transaction(cache) as db:
            db.execute(
                "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, scored_at) "
                "VALUES ('1001', '1002', 0.97, 8.5, 'likely', '2026-03-01T00:00:00Z')"
            )
    run_child(path, sim, "update")
    assert sim.patient("1001")["occupation"] == "Nurse"  # Cliniko applied the PATCH

    with Cache.open(path, KEY) as cache:
        [intent] = open_intents(cache.db)
        assert intent["path"].startswith("PATCH /v1/patients/1001 fields=")
        methods = [m for (m,) in cache.db.execute("SELECT method FROM audit_log ORDER BY seq")]
        assert "PATCH" not in methods  # the request record itself died with the process
        with connect(cache, sim) as session:
            session.identify_user()
        assert open_intents(cache.db) == []
        [(outcome,)] = cache.db.execute(
            "SELECT path FROM audit_log WHERE method = 'OUTCOME'"
        ).fetchall()
        assert outcome.startswith(f"intent {intent['seq']}: unknown (stopped before the answer)")
        assert outcome.endswith("patient 1001 with the intended values: applied")
        assert verify(cache.db).ok


def test_a_write_that_completes_has_its_intent_before_it_and_its_outcome_after(
    tmp_path: Path, sim: Simulator
) -> None:
    with Cache.open(tmp_path / "cache.db", KEY) as cache, connect(cache, sim) as session:
        session.client.update_patient("1001", {"occupation": "Nurse"})
        with transaction(cache):
            session.audit.write_pending()
        rows = cache.db.execute("SELECT seq, method, path FROM audit_log ORDER BY seq").fetchall()
    [(seq, _, intent)] = [r for r in rows if r[1] == "INTENT"]
    assert intent == "PATCH /v1/patients/1001 fields=occupation"
    after = [(m, p) for s, m, p in rows if s > seq]
    assert after == [("PATCH", "/v1/patients/1001"), ("OUTCOME", f"intent {seq}: 200")]


def test_the_administrators_merge_decisions_are_in_the_chain_with_both_users(
    tmp_path: Path, sim: Simulator
) -> None:
    from desktop.merge import MergeFlow

    with Cache.open(tmp_path / "cache.db", KEY) as cache, connect(cache, sim) as session:
        session.identify_user()
        run_sync(session)
        flow = MergeFlow.start(cache, ["1002", "1001"])
        flow.advance()
        flow.advance(survivor_id="1001")
        flow.cancel("not_same")
        events = cache.db.execute(
            "SELECT path, cliniko_user, os_user FROM audit_log WHERE method = 'EVENT' ORDER BY seq"
        ).fetchall()
    subject = f"plan {flow.plan_id} survivor 1001 patients 1001 1002"
    assert [path for path, _, _ in events] == [
        f"merge plan created: {subject}",
        f"merge step compare -> choose_survivor: {subject}",
        f"merge step choose_survivor -> reconcile: {subject}",
        f"merge cancelled: not_same: {subject}",
    ]
    assert all(cliniko and os_user for _, cliniko, os_user in events)


def test_a_write_whose_intent_cannot_be_recorded_is_not_sent(tmp_path: Path, sim: Simulator):
    from desktop.cliniko.client import ClinikoClient

    def refuse(*_args: object) -> None:
        raise OSError("disk full")

    with ClinikoClient(sim.api_key, base_url=sim.base_url, before_write=refuse) as client:
        with pytest.raises(OSError):
            client.update_patient("1001", {"occupation": "Nurse"})
        assert client.get_patient("1001")["id"] == "1001"  # reads do not ask
    assert sim.patient("1001").get("occupation") != "Nurse"


def test_a_kill_during_a_back_out_is_said_on_reopening_and_the_back_out_can_end(
    tmp_path: Path, sim: Simulator
) -> None:
    """A kill between the back-out's PATCH and its commit left the plan at the merge step
    with the previous values back in Cliniko: reopened, it read as someone having changed the
    record in Cliniko, and the person's answer was gone without a word."""
    from desktop.merge import MergeFlow, Step

    path, plan_id = killed_back_out(tmp_path, sim, "back_out")
    assert sim.patient("1001").get("occupation") in (None, "")  # the back-out reached Cliniko

    with Cache.open(path, KEY) as cache, connect(cache, sim) as session:
        flow = MergeFlow.load(cache, plan_id)
        assert flow.restore_interrupted == "not_same"
        assert not flow.poll_once(session)  # the merge step's first look
        assert flow.step is Step.UPDATE_SURVIVOR  # nothing to merge in Cliniko now
        said = flow.last_error or ""
        assert "changed in Cliniko" not in said and "did not finish" in said, said
        assert "“Not the same person”" in said, said
        flow.cancel("not_same", session)  # the answer given again ends it
        again = MergeFlow.load(cache, plan_id)
        assert again.finished and not again.survivor_written and not again.restore_interrupted
    assert sim.patient("1001").get("occupation") in (None, "")


def test_a_kill_before_a_back_out_sent_anything_keeps_the_answer_to_give_again(
    tmp_path: Path, sim: Simulator
) -> None:
    """A kill during the back-out's first reads: nothing was put back in Cliniko, and reopened
    the merge step showed its instructions as if "Not the same person" had never been said."""
    from desktop.merge import MergeFlow, Step

    path, plan_id = killed_back_out(tmp_path, sim, "back_out_read")
    assert sim.patient("1001").get("occupation") == "Nurse"  # the update is still there

    with Cache.open(path, KEY) as cache, connect(cache, sim) as session:
        flow = MergeFlow.load(cache, plan_id)
        assert flow.restore_interrupted == "not_same"
        assert not flow.poll_once(session)
        assert flow.step is Step.MERGE_IN_CLINIKO  # the merge may go on
        said = flow.last_error or ""
        assert "“Not the same person” was under way" in said and "None of them is back" in said
        flow.cancel("not_same", session)  # the answer given again ends it
        assert MergeFlow.load(cache, plan_id).finished
    assert sim.patient("1001").get("occupation") in (None, "")
