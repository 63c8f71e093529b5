"""Apply every ready plan in one run (no Qt): update each survivor, verify it, report per plan.

Typical use (in a worker; the UI shows a progress bar from the callback)::

    results = apply_ready_plans(cache, session, progress=lambda done, total: ...)
    failed = [r for r in results if not r.applied]    # each with a plain-words message
    to_merge = [r.plan_id for r in results if r.applied]  # now at "Merge in Cliniko"

One plan failing (a PATCH that answers 200 but changes nothing is caught by the read-back)
does not stop the others; a failure that every plan would meet the same way (Cliniko not
reached, not answering, refusing the key or limiting requests) ends the run there, and the
plans after it are reported not tried. A plan still needing the look-alike confirmation is not
applied, nor one whose record that stays was chosen offline when a record merged away turns
out to have more clinical history, nor one whose "Not the same person" (or Back) MergeDesk
stopped during.

Given ``timers`` (the labor time log, :class:`~desktop.labor.timelog.TimeLog`), each plan's
update is logged as the work session of its pair, as the merge wizard logs it: the step
``update_survivor`` from the start of the update to its end, ending with the plan saved
(``planned``), whether it went through or failed (the wizard's update step counts a failed
try too). A plan not tried (look-alike, already finished) logs nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from desktop.cliniko.errors import (
    ClinikoError,
    ClinikoUnavailable,
    KeyRejected,
    Offline,
    RateLimited,
    RoleNotAllowed,
)
from desktop.merge.executor import MergeError, answer_words
from desktop.merge.flow import MergeFlow, StepTimer
from desktop.merge.plan import MergePlan, more_history
from desktop.merge_states import APPLY_FROM, WAIT_STEPS, Outcome, Step
from desktop.store import plans as store
from desktop.store.patients import get_patient
from desktop.store.transaction import transaction
from desktop.timestamps import parse_timestamp

if TYPE_CHECKING:
    from desktop.session import Session
    from desktop.store.cache import Cache

log = logging.getLogger(__name__)


class StepTimers(Protocol):
    """What the batch needs of the labor time log (``TimeLog``): a clock and a way to start
    timing one pair's work."""

    clock: Callable[[], float]

    def start(
        self,
        patient_ids: Sequence[str],
        *,
        plan_id: str | None = None,
        step: str | None = None,
        t: float | None = None,
    ) -> StepTimer:
        """Begin timing work on ``patient_ids`` at ``t`` (epoch seconds), at ``step``."""
        ...


@dataclass(frozen=True)
class BatchResult:
    """How one plan fared: ``applied`` (now at "Merge in Cliniko") or a message why not;
    ``error``: Cliniko's error, when that is why."""

    plan_id: str
    patient_ids: tuple[str, ...]
    survivor_id: str | None
    applied: bool
    message: str
    error: ClinikoError | None = None


# Failures of the connection or the account, not of one plan: every plan after would meet them.
RUN_STOPPERS = (Offline, ClinikoUnavailable, KeyRejected, RoleNotAllowed, RateLimited)
NEW_KEY_IN_USE = (
    "The last try stopped because Cliniko refused the API key then in use. A new key is in use "
    "now: try again to go on."
)
NOT_TRIED = "Not tried: the run stopped at the plan above (see why there). It stays ready."


def plans_to_apply(cache: Cache) -> list[str]:
    """Ids of the active plans waiting to be applied (ready, or a failed update), oldest first."""
    return [r["plan_id"] for r in store.plans_at(cache.db, APPLY_FROM)]


def plans_apply_all_leaves(cache: Cache, plan_ids: Sequence[str]) -> list[str]:
    """Those of ``plan_ids`` (plans waiting to be applied, :func:`plans_to_apply`) that Apply
    all will leave as they are (see :func:`left_alone`)."""
    return [p for p in plan_ids if left_alone(MergeFlow.load(cache, p)) is not None]


def plans_waiting_for_cliniko(cache: Cache) -> list[str]:
    """Ids of the active plans whose survivor is updated and that wait for Cliniko's merge."""
    return [r["plan_id"] for r in store.plans_at(cache.db, WAIT_STEPS)]


def forget_refused_key(cache: Cache) -> int:
    """A new API key is in use: the plans whose last try Cliniko refused for the old key stop
    telling to paste a new one, and say they can go on. Returns how many."""
    with transaction(cache) as db:
        return store.replace_last_errors(db, KeyRejected.refused, NEW_KEY_IN_USE)


def finish_merged_plans(
    cache: Cache, session: Session, timers: StepTimers | None = None
) -> list[str]:
    """Finish the plans waiting for Cliniko's merge whose duplicates the cache (after a sync)
    shows merged: each is checked in Cliniko, as the merge window's poll does, and becomes
    DONE. Returns their ids. One whose record that stays the cache shows merged (into a
    duplicate: the merge done from the other record's page) is checked too, and waits to be
    applied again, to the record that stays now (:meth:`MergeFlow.poll_once`).

    A merge done in Cliniko while no merge window was open (after Apply all, say) was never
    counted: the plan waited for ever, the labor summary called it "being applied". Given
    ``timers``, each logs a work session ending "merged" at Cliniko's ``merged_at`` with no
    time of its own (the work was timed before; the wait on Cliniko's page was not seen).
    """
    done: list[str] = []
    for plan_id in plans_waiting_for_cliniko(cache):
        flow = MergeFlow.load(cache, plan_id)
        merged = [get_patient(cache.db, d) or {} for d in flow.plan.duplicate_ids]
        survivor = get_patient(cache.db, str(flow.plan.survivor_id)) or {}
        other_way = bool(survivor.get("merged_at"))  # the look turns the plan to the update
        if not other_way and (not merged or not all(r.get("merged_at") for r in merged)):
            continue
        try:
            finished = flow.poll_once(session)
        except (MergeError, ClinikoError) as exc:  # into another patient, or offline: said
            log.info("plan %s not finished: %s", plan_id, type(exc).__name__)  # in its window
            continue
        if not finished:
            continue
        done.append(plan_id)
        if timers is not None:
            at = max(_epoch(record.get("merged_at")) or timers.clock() for record in merged)
            work = timers.start(flow.plan.patient_ids, plan_id=plan_id, step=Step.DONE, t=at)
            work.finish(Outcome.MERGED, t=at)
    return done


def _epoch(stamp: object) -> float | None:
    """Seconds since 1970 of a Cliniko timestamp, or None."""
    moment = parse_timestamp(stamp)
    return moment.timestamp() if moment is not None else None


def finished_words(count: int) -> str:
    """What the status bar says when a sync found waiting merges made in Cliniko."""
    if count == 1:
        return "Merged in Cliniko: a merge waiting there was made; the pair is now under Merged."
    return f"Merged in Cliniko: {count} merges waiting there were made; they are now under Merged."


def waiting_words(count: int, qualifier: str = "") -> str:
    """``2 wait for their merge in Cliniko`` (``1 waits for its``); ``qualifier`` goes before
    the verb (``2 more already wait…``)."""
    verb = "waits for its" if count == 1 else "wait for their"
    return " ".join(filter(None, (str(count), qualifier, verb, "merge in Cliniko")))


def apply_ready_plans(
    cache: Cache,
    session: Session,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    timers: StepTimers | None = None,
) -> list[BatchResult]:
    """Update the survivor of every ready plan and verify it; one result per plan, in order.

    ``progress(done, total)`` is called after each plan. ``cancel`` stops before the next plan.
    ``timers`` logs the time of each plan's update (see the module docstring).
    """
    plan_ids = plans_to_apply(cache)
    results: list[BatchResult] = []
    stopped = False
    for done, plan_id in enumerate(plan_ids, start=1):
        if cancel is not None and cancel.is_set():
            break
        result = (
            _not_tried(cache, plan_id) if stopped else _apply_one(cache, session, plan_id, timers)
        )
        stopped = stopped or isinstance(result.error, RUN_STOPPERS)
        results.append(result)
        if progress is not None:
            progress(done, len(plan_ids))
    return results


def _not_tried(cache: Cache, plan_id: str) -> BatchResult:
    plan = MergeFlow.load(cache, plan_id).plan
    return BatchResult(plan_id, plan.patient_ids, plan.survivor_id, False, NOT_TRIED)


def _apply_one(
    cache: Cache, session: Session, plan_id: str, timers: StepTimers | None
) -> BatchResult:
    flow = MergeFlow.load(cache, plan_id)
    plan = flow.plan
    reason = left_alone(flow) or flow.why_not(session) or _chosen_blind(flow, session)
    if reason is not None:
        return BatchResult(plan_id, plan.patient_ids, plan.survivor_id, False, reason)
    started = timers.clock() if timers is not None else 0.0
    applied, message, error = _update_survivor(flow, session)
    if timers is not None:
        _log_update(timers, plan, started)
    return BatchResult(plan_id, plan.patient_ids, plan.survivor_id, applied, message, error)


# Where a plan Apply all left is found: every plan it takes is listed "Ready to apply".
THIS_MERGE = "this merge (Queue > Show merges ready to apply)"


def left_alone(flow: MergeFlow) -> str | None:
    """Why Apply all will leave a plan as it is, known before it runs (no connection needed):
    an answer MergeDesk stopped during, or a look-alike nobody confirmed; None otherwise."""
    under_way = answer_under_way(flow)
    if under_way is None and flow.lookalike_hold() is not None:
        return (
            f"Not applied: these records may belong to {flow.lookalike_risk()}. Open {THIS_MERGE} "
            "to check them, and tick there that they are the same person to apply it."
        )
    return under_way


def answer_under_way(flow: MergeFlow) -> str | None:
    """Why not to apply a plan whose back-out MergeDesk stopped during ("Not the same person"
    after a failed update, say): writing the values again would go against that answer."""
    why = flow.restore_interrupted
    if why is None:
        return None
    answer = answer_words(why) or "Going back (Back)"
    return (
        f"Not applied: {answer} was under way for these records when MergeDesk stopped. Open "
        f"{THIS_MERGE} to finish it, or to apply it after all."
    )


def _chosen_blind(flow: MergeFlow, session: Session) -> str | None:
    """Why not to apply a plan whose record that stays was chosen without the records' history
    (offline) when, read now, a record to be merged away has more; None otherwise."""
    if not flow.history_unknown() and not flow.chosen_without_history:
        return None  # known when the choice was made: the person's choice stands
    try:
        flow.fetch_history(session)
    except ClinikoError:
        return None  # the update says what is wrong with the connection
    richer = flow.richer_record()
    if richer is None:
        return None
    _, theirs, ours = richer
    return (
        "Not applied: the record to be merged away has more clinical history than the record "
        f"that stays ({more_history(theirs, ours)}), "
        f"which was not known when it was chosen. Open {THIS_MERGE} to check the choice."
    )


def _update_survivor(flow: MergeFlow, session: Session) -> tuple[bool, str, ClinikoError | None]:
    """Update the plan's survivor and verify it: (applied, what happened in plain words,
    Cliniko's error when that is why not)."""
    try:
        while flow.step in APPLY_FROM:
            flow.advance(session)
    except (MergeError, ClinikoError) as exc:
        log.info("plan %s not applied: %s", flow.plan_id, type(exc).__name__)
        said = getattr(exc, "user_message", None) or "The update failed."
        return False, said, exc if isinstance(exc, ClinikoError) else None
    return True, "Updated and checked. Next: merge in Cliniko.", None


def _log_update(timers: StepTimers, plan: MergePlan, started: float) -> None:
    """Log the update from ``started`` to now as its pair's work session (written once it is
    over, so the session is never left open while the update runs)."""
    work = timers.start(
        plan.patient_ids, plan_id=plan.plan_id, step=Step.UPDATE_SURVIVOR, t=started
    )
    work.finish(Outcome.PLANNED)
