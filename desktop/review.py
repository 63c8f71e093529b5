"""The administrator's review decisions on a pair, written with their audit entry, and undone.

Qt-free, so the window and the CLI decide the same way::

    decided = record_review_decision(cache, "1001", "1002", "not_same")
    undo_review_decision(cache, decided)   # the pair is back as it was, and that is audited

The decision (or its undo) and an audit entry naming it (ids only) are committed in one
transaction before the caller moves on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.audit import AuditTrail
from desktop.merge_states import MERGING_STATUSES, Outcome, PairStatus
from desktop.store import account_state, time_log
from desktop.store import queue as queue_store
from desktop.store.cache import Cache
from desktop.store.transaction import transaction

ALREADY_MERGED = "These records are already merged in Cliniko."
# Short enough for the status bar beside the intake rate; the merge window does the rest
# (it closes the plan and puts back what MergeDesk changed in Cliniko).
MERGE_UNDER_WAY = "A merge is under way: to stop it, press S and choose “Not the same person”."


def why_not_decide(status: str, decision: str) -> str:
    """Why the queue cannot take ``decision`` on a pair in ``status`` ("" when it can).

    A merged pair is done. A pair being merged has a plan, which "Apply all ready plans" would
    still apply, and perhaps a record in Cliniko already updated: only the merge window closes
    the plan and puts that record back, so "not the same" goes through it. "Later" keeps the
    plan, as the window's own "Later" does.
    """
    if status == PairStatus.MERGED:
        return ALREADY_MERGED
    if status in MERGING_STATUSES and decision != Outcome.LATER:
        return MERGE_UNDER_WAY
    return ""


@dataclass(frozen=True)
class ReviewDecision:
    """A decision written, with what it replaced (to undo it).

    Attributes:
        id_a, id_b: the pair, in storage order.
        decision: ``not_same``, ``later`` or ``skipped``.
        previous_status: the pair's status before (``new``, ``later``...).
        previous_decision: the remembered decision row before, or None.
        work_session: the time log's session the decision ended (the window's), or None.
    """

    id_a: str
    id_b: str
    decision: str
    previous_status: str
    previous_decision: tuple[Any, ...] | None
    work_session: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The pair's ids in storage order."""
        return (self.id_a, self.id_b)


def audit_trail(cache: Cache) -> AuditTrail:
    """An audit trail attributed to the Cliniko user last connected and the OS user."""
    return AuditTrail(
        cache.db,
        cliniko_user=account_state.cliniko_user(cache.db),
        seal=cache.audit_seal,
    )


def record_review_decision(cache: Cache, id_a: str, id_b: str, decision: str) -> ReviewDecision:
    """Write a review decision (``not_same``, ``later``, ``skipped``) and its audit entry."""
    a, b = queue_store.ordered(id_a, id_b)
    with transaction(cache) as db:
        status, previous = queue_store.decision_state(db, a, b)
        queue_store.record_decision(db, a, b, decision)
        audit_trail(cache).record_event(f"decided {decision}", f"patients {a} {b}")
    return ReviewDecision(a, b, decision, status, previous)


def undecided(cache: Cache, id_a: str, id_b: str, decision: str) -> ReviewDecision:
    """``decision``, about to be made elsewhere (the merge window's "Not the same person"),
    with the pair's state now: what an undo of it puts back."""
    a, b = queue_store.ordered(id_a, id_b)
    status, previous = queue_store.decision_state(cache.db, a, b)
    return ReviewDecision(a, b, decision, status, previous)


def undo_review_decision(cache: Cache, decided: ReviewDecision) -> None:
    """Put the pair back as it was before ``decided`` (status and decision), audited. The
    work session the decision ended keeps its minutes but ends as "skipped": the pair is
    undecided again, and the labor summary counts no "not the same person" for it."""
    a, b = decided.id_a, decided.id_b
    with transaction(cache) as db:
        queue_store.restore_decision_state(
            db, a, b, decided.previous_status, decided.previous_decision
        )
        if decided.work_session is not None:
            time_log.take_back_outcome(db, decided.work_session, decided.decision, Outcome.SKIPPED)
        audit_trail(cache).record_event(f"undid {decided.decision}", f"patients {a} {b}")
