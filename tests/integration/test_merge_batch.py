"""Apply all ready plans over real HTTP; a merged pair gets no second plan."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import prepare_cache, ready_plans

from desktop.config import Settings
from desktop.labor.cost import Period
from desktop.labor.summary import build_summary
from desktop.labor.timelog import TimeLog
from desktop.labor.timelog import rows as timelog_rows
from desktop.merge import AlreadyMerged, MergeFlow, Step
from desktop.merge.batch import apply_ready_plans, finish_merged_plans, waiting_words
from desktop.merge.plan import clinical_history, field_value, same_value
from desktop.scan import run_scan
from desktop.session import Session
from desktop.simulator import FaultConfig, Simulator
from desktop.store.cache import Cache
from desktop.store.queue import get_pair, queue_pairs
from desktop.sync import run_sync
from desktop.timestamps import parse_timestamp


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(size=300, seed=7, rate_limit_per_minute=10_000) as simulator:
        yield simulator


@pytest.fixture
def cache(sim: Simulator, tmp_path: Path) -> Iterator[Cache]:
    key = secrets.token_hex(32)
    prepare_cache(sim, tmp_path / "cache.db", key)
    with Cache.open(tmp_path / "cache.db", key) as opened:
        yield opened


def connect(cache: Cache, sim: Simulator) -> Session:
    return Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=5000)


def survivor_holds_plan(sim: Simulator, flow: MergeFlow) -> bool:
    plan = flow.plan
    survivor = sim.patient(plan.survivor_id)
    return all(same_value(n, field_value(survivor, n), v) for n, v in plan.decisions.items())


@pytest.mark.parametrize("trouble", ["offline", "a refused key"])
def test_apply_all_stops_at_the_first_plan_that_cannot_reach_cliniko(
    cache: Cache, sim: Simulator, trouble: str
) -> None:
    """Offline, or with a key Cliniko refuses, Apply all tried every plan in turn, each failing
    the same way (each after its own waits for an answer: minutes over a dead connection).
    Now the first such failure ends the run; the rest are said not tried, and stay ready."""
    from ui_helpers import closed_port_url

    from desktop.simulator import demo_api_key

    flows = ready_plans(cache, 4, sim)
    key, url = sim.api_key, sim.base_url
    if trouble == "offline":
        url = closed_port_url()
    else:
        key = demo_api_key(99)
    with Session(cache, key, base_url=url, max_requests_per_minute=5000) as session:
        results = apply_ready_plans(cache, session)
    assert [r.plan_id for r in results] == [f.plan_id for f in flows]
    assert not any(r.applied for r in results)
    first, *rest = results
    assert first.error is not None and first.message == first.error.user_message
    assert all(r.message.startswith("Not tried: ") and r.error is None for r in rest)
    steps = [MergeFlow.load(cache, f.plan_id).step for f in flows]
    assert steps == [Step.UPDATE_SURVIVOR] + [Step.READY] * 3  # the rest untouched


def test_apply_all_over_five_plans_reports_the_one_write_cliniko_dropped(
    cache: Cache, sim: Simulator
) -> None:
    flows = ready_plans(cache, 5, sim)
    assert all(f.step is Step.READY for f in flows)
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        # The third plan's PATCH answers 200 but changes nothing; the others go through.
        sim.faults = FaultConfig(silent_write_drop=done == 2)

    with connect(cache, sim) as session:
        results = apply_ready_plans(cache, session, progress=progress)

    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert [r.plan_id for r in results] == [f.plan_id for f in flows]
    assert [r.applied for r in results] == [True, True, False, True, True]
    failed = results[2]
    assert "still had other values" in failed.message
    assert "Nothing has been merged" in failed.message
    for flow, result in zip(flows, results, strict=True):
        again = MergeFlow.load(cache, flow.plan_id)
        if result.applied:
            assert again.step is Step.MERGE_IN_CLINIKO and survivor_holds_plan(sim, again)
        else:
            assert again.step is Step.UPDATE_SURVIVOR and not survivor_holds_plan(sim, again)
            assert again.last_error == failed.message


class FakeClock:
    """Epoch seconds that move only when the test says (here: while Cliniko takes a PATCH)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_apply_all_times_each_update_into_its_pairs_work_a_failed_one_too(
    cache: Cache, sim: Simulator
) -> None:
    """Each update is its pair's work session at ``update_survivor``, ended ``planned`` (as the
    wizard logs an update and then its closing); a failed update is work done too."""
    flows = ready_plans(cache, 3, sim)
    clock = FakeClock()
    patches = iter(range(100))

    def slow_patch_second_dropped() -> bool:
        n = next(patches)
        clock.now += 10.0 * (n + 1)  # the plans' PATCHes take 10 s, 20 s and 30 s
        return n == 1

    sim._api.silent_write_drop = slow_patch_second_dropped
    with connect(cache, sim) as session:
        results = apply_ready_plans(cache, session, timers=TimeLog(cache, clock=clock))

    assert [r.applied for r in results] == [True, False, True]
    logged = timelog_rows(cache, 0.0, 1e12)
    assert [r.plan_id for r in logged] == [f.plan_id for f in flows]
    for n, (flow, row) in enumerate(zip(flows, logged, strict=True)):
        took = 10.0 * (n + 1)
        assert row.patient_ids == flow.plan.patient_ids and row.outcome == "planned"
        assert row.step_seconds == row.step_active_seconds == {"update_survivor": took}
        assert row.active_minutes == row.wall_minutes == took / 60


def test_a_merged_pair_gets_no_second_plan(cache: Cache, sim: Simulator) -> None:
    [flow] = ready_plans(cache, 1, sim)
    ids = list(flow.plan.patient_ids)
    with connect(cache, sim) as session:
        flow.advance(session)
        flow.advance(session)
        assert flow.step is Step.MERGE_IN_CLINIKO
        sim.merge(flow.plan.survivor_id, list(flow.plan.duplicate_ids))
        assert flow.poll_once(session) and flow.step is Step.DONE

    with pytest.raises(AlreadyMerged) as refused:  # the cache knows
        MergeFlow.start(cache, ids)
    assert "already merged" in refused.value.user_message
    plans = cache.db.execute(
        "SELECT count(*) FROM merge_plans WHERE pair_key = ?", [":".join(sorted(ids))]
    ).fetchone()[0]
    assert plans == 1


def test_a_pair_merged_in_cliniko_behind_the_cache_is_refused_online(
    cache: Cache, sim: Simulator
) -> None:
    pair = next(
        p for p in queue_pairs(cache.db, statuses=("new",), bands=("likely",))
        if not p["flags"] and p["cluster_id"] is None
    )  # fmt: skip
    ids = [pair["id_a"], pair["id_b"]]
    sim.merge(ids[0], [ids[1]])  # merged in Cliniko's web page; the cache has not synced
    with connect(cache, sim) as session:
        with pytest.raises(AlreadyMerged):
            MergeFlow.start(cache, ids, session=session)
        with pytest.raises(AlreadyMerged):  # the cache learnt it: refused offline too
            MergeFlow.start(cache, ids)


def test_applying_a_plan_whose_pair_was_merged_meanwhile_is_refused(
    cache: Cache, sim: Simulator
) -> None:
    [flow] = ready_plans(cache, 1, sim)
    sim.merge(flow.plan.survivor_id, list(flow.plan.duplicate_ids))
    with connect(cache, sim) as session:
        [result] = apply_ready_plans(cache, session)
    assert not result.applied and "already merged" in result.message


def test_apply_all_leaves_an_unconfirmed_look_alike_alone(cache: Cache, sim: Simulator) -> None:
    twins = next(p for p in queue_pairs(cache.db, statuses=("new",), bands=("likely", "possible"))
                 if "twins" in p["flags"] and p["cluster_id"] is None)  # fmt: skip
    flow = MergeFlow.start(cache, [twins["id_a"], twins["id_b"]])
    for _ in range(4):
        flow.advance()
    assert flow.step is Step.READY
    before = sim.patient(flow.plan.survivor_id)
    with connect(cache, sim) as session:
        [result] = apply_ready_plans(cache, session, timers=TimeLog(cache))
        assert not result.applied and "twins" in result.message
        assert timelog_rows(cache, 0.0, 1e12, include_open=True) == []  # no work was done
        assert sim.patient(flow.plan.survivor_id) == before
        flow.confirm_lookalike()
        [result] = apply_ready_plans(cache, session)
    assert result.applied


def test_apply_all_leaves_a_plan_whose_survivor_was_chosen_without_its_history(
    cache: Cache, sim: Simulator
) -> None:
    """Planned offline, the record that stays was the older one (no history known). Read
    when applying, the other record has more: Apply all leaves the plan for a person to check;
    a plan whose choice the history bears out is applied."""
    blind, sound = ready_plans(cache, 2)
    poorer = clinical_history(sim.history_counts(blind.plan.survivor_id))
    other = blind.plan.duplicate_ids[0]
    while clinical_history(sim.history_counts(other)) <= poorer:
        sim.write_note(other)
    kept, gone = sound.plan.survivor_id, sound.plan.duplicate_ids[0]
    while clinical_history(sim.history_counts(kept)) < clinical_history(sim.history_counts(gone)):
        sim.write_note(kept)
    before = sim.patient(blind.plan.survivor_id)
    with connect(cache, sim) as session:
        first, second = apply_ready_plans(cache, session)
    assert not first.applied and "more clinical history" in first.message
    assert f"against {poorer})" in first.message
    assert sim.patient(blind.plan.survivor_id) == before
    assert second.applied, second.message
    assert MergeFlow.load(cache, blind.plan_id).step is Step.READY


def test_a_choice_made_without_the_history_is_checked_though_the_history_came_in_since(
    cache: Cache, sim: Simulator
) -> None:
    """Planned offline, the record that stays chosen without its history; the history was
    read afterwards (the queue's compare view reads it for the pair on show). Apply all took
    "the history is known" for "it was known at the choice" and applied the poorer record."""
    from desktop.store.history_counts import save_counts
    from desktop.store.transaction import transaction
    from desktop.timestamps import utc_stamp

    [blind] = ready_plans(cache, 1)  # offline: no history known at the choice
    kept, other = blind.plan.survivor_id, blind.plan.duplicate_ids[0]
    while clinical_history(sim.history_counts(other)) <= clinical_history(sim.history_counts(kept)):
        sim.write_note(other)
    with transaction(cache) as db:  # read later, with the pair on show in the queue
        save_counts(db, {pid: sim.history_counts(pid) for pid in (kept, other)}, utc_stamp())
    before = sim.patient(kept)
    with connect(cache, sim) as session:
        [result] = apply_ready_plans(cache, session)
    assert not result.applied and "more clinical history" in result.message
    assert sim.patient(kept) == before


def test_apply_all_leaves_a_plan_whose_not_the_same_answer_was_cut_off(
    cache: Cache, sim: Simulator
) -> None:
    """Its update did not stick, and "Not the same person" was under way when MergeDesk
    stopped: the plan waits at the update step, and Apply all wrote the merge's values again
    against that answer."""
    from desktop.merge_states import PlanNote
    from desktop.store import plans as plan_store
    from desktop.store.transaction import transaction
    from desktop.timestamps import utc_stamp

    [flow] = ready_plans(cache, 1, sim)
    sim.faults = FaultConfig(silent_write_drop=True)
    with connect(cache, sim) as session:
        [result] = apply_ready_plans(cache, session)
        assert not result.applied and MergeFlow.load(cache, flow.plan_id).needs_restore()
        sim.faults = None
        with transaction(cache) as db:  # what the back-out's first step leaves
            step, note = Step.UPDATE_SURVIVOR, f"{PlanNote.RESTORING}: not_same"
            plan_store.log_step(db, flow.plan_id, step, step, utc_stamp(), note)
        before = sim.patient(flow.plan.survivor_id)
        [result] = apply_ready_plans(cache, session)
    assert not result.applied and "“Not the same person” was under way" in result.message
    assert sim.patient(flow.plan.survivor_id) == before


def test_plans_waiting_in_cliniko_are_counted_in_words() -> None:
    assert waiting_words(1) == "1 waits for its merge in Cliniko"
    assert waiting_words(2, "more already") == "2 more already wait for their merge in Cliniko"


def test_a_plan_keeps_its_look_alike_warning_when_its_own_changes_are_scored(
    cache: Cache, sim: Simulator
) -> None:
    """Applying a flagged plan gives the record that stays the other record's details (a
    Medicare number, a phone): scored again by the watch while the merge waits in Cliniko,
    the pair no longer looks like two people. The plan still warns (the merge window's banner
    and the hold before applying read this), when opened again and after backing out."""
    flagged, seen = [], set()
    for p in queue_pairs(cache.db, statuses=("new",), bands=("likely", "possible")):
        if p["flags"] and p["cluster_id"] is None and not {p["id_a"], p["id_b"]} & seen:
            flagged.append(p)  # each record in one plan only
            seen |= {p["id_a"], p["id_b"]}
    plans = [MergeFlow.start(cache, [p["id_a"], p["id_b"]]) for p in flagged]
    for flow in plans:
        for _ in range(4):
            flow.advance()
        flow.confirm_lookalike()
    with connect(cache, sim) as session:
        for flow in plans:
            while flow.step is not Step.MERGE_IN_CLINIKO:
                flow.advance(session)  # update the record that stays, check it stuck
        run_sync(session)
        run_scan(cache)  # what the watch does every few minutes
        # The queue's row keeps its warning too (the main window's ⚠ and compare banner).
        for pair in flagged:
            rescored = get_pair(cache.db, pair["id_a"], pair["id_b"]) or {}
            assert set(pair["flags"]) <= set(rescored.get("flags", ())), rescored
            assert rescored["band"] != "likely" or pair["band"] == "likely"
        for flow, pair in zip(plans, flagged, strict=True):
            assert set(pair["flags"]) <= set(flow.lookalike()[0]), pair["flags"]
            assert MergeFlow.load(cache, flow.plan_id).is_lookalike
            flow.back(session)
            assert set(pair["flags"]) <= set(flow.lookalike()[0])
        fresh = MergeFlow.start(cache, [flagged[0]["id_a"], flagged[0]["id_b"]])
        assert fresh.plan_id == plans[0].plan_id and fresh.is_lookalike


def test_a_merge_done_in_cliniko_after_apply_all_is_finished_by_the_next_sync(
    cache: Cache, sim: Simulator
) -> None:
    """Applied with Apply all, merged in Cliniko with no merge window open: the next sync
    finishes the plan, and the labor summary counts the merge (it said "being applied" and
    the merge was never counted)."""
    [flow] = ready_plans(cache, 1, sim)
    log = TimeLog(cache)
    with connect(cache, sim) as session:
        [result] = apply_ready_plans(cache, session, timers=log)
        assert result.applied
        assert finish_merged_plans(cache, session, log) == []  # not merged yet
        sim.merge(flow.plan.survivor_id, list(flow.plan.duplicate_ids))
        run_sync(session)
        assert finish_merged_plans(cache, session, log) == [flow.plan_id]
        assert finish_merged_plans(cache, session, log) == []  # once
    done = MergeFlow.load(cache, flow.plan_id)
    assert done.step is Step.DONE and done.finished
    assert get_pair(cache.db, *flow.plan.patient_ids)["status"] == "merged"  # type: ignore[index]
    merged_at = sim.patient(flow.plan.duplicate_ids[0])["merged_at"]
    sessions = {r.outcome: r for r in timelog_rows(cache, 0.0, 1e12)}
    assert sorted(sessions) == ["merged", "planned"], sessions
    merged = sessions["merged"]  # at Cliniko's merged_at, with no time of its own
    assert merged.started_at == parse_timestamp(merged_at)
    assert merged.active_minutes == 0 and merged.plan_id == flow.plan_id
    today = dt.date.today()
    summary = build_summary(
        cache, Period(today - dt.timedelta(days=1), today + dt.timedelta(days=2), "now"), Settings()
    )
    assert summary.merges_completed == 1 and summary.applying_now == 0


def test_a_merge_done_the_other_way_round_after_apply_all_is_applied_again_and_finished(
    cache: Cache, sim: Simulator
) -> None:
    """Applied with Apply all, then merged in Cliniko from the other record's page (the record
    chosen to stay went into the duplicate): the plan waited for ever, the labor summary said
    "being applied", and the record that stays lacked the values chosen. Now the next sync
    turns the plan to that record, Apply all writes the values to it, and the sync after the
    look finishes the merge."""
    [flow] = ready_plans(cache, 1, sim)
    chosen = dict(flow.plan.decisions)
    gone, stays = str(flow.plan.survivor_id), flow.plan.duplicate_ids[0]
    with connect(cache, sim) as session:
        [result] = apply_ready_plans(cache, session)
        assert result.applied
        sim.merge(stays, [gone])  # from the other record's page
        run_sync(session)
        assert finish_merged_plans(cache, session) == []
        turned = MergeFlow.load(cache, flow.plan_id)
        assert turned.step is Step.UPDATE_SURVIVOR and turned.plan.survivor_id == stays
        assert "the other way round" in (turned.problem or "")
        [again] = apply_ready_plans(cache, session)
        assert again.applied, again
        run_sync(session)
        assert finish_merged_plans(cache, session) == [flow.plan_id]
    for name, wanted in chosen.items():
        assert same_value(name, field_value(sim.patient(stays), name), wanted), name
    assert MergeFlow.load(cache, flow.plan_id).step is Step.DONE
    assert get_pair(cache.db, gone, stays)["status"] == "merged"  # type: ignore[index]
