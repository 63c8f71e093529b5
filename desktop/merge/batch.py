"""Apply every ready plan in one run (no Qt): update each survivor, verify it, report per plan.

Typical use (in a worker; the UI shows a progress bar from the callback)::

    results = apply_ready_plans(cache, session, progress=lambda done, total: ...)
    failed = [r for r in results if not r.applied]    # each with a plain-words message
    to_merge = [r.plan_id for r in results if r.applied]  # now at "Merge in Cliniko"

One plan failing (a PATCH that answers 200 but changes nothing is caught by the read-back)
does not stop the others. A plan still needing the look-alike confirmation is not applied.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desktop.cliniko.errors import ClinikoError
from desktop.merge.executor import MergeError
from desktop.merge.flow import MergeFlow
from desktop.merge_states import APPLY_FROM, WAIT_STEPS
from desktop.store import plans as store

if TYPE_CHECKING:
    from desktop.session import Session
    from desktop.store.cache import Cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    """How one plan fared: ``applied`` (now at "Merge in Cliniko") or a message why not."""

    plan_id: str
    patient_ids: tuple[str, ...]
    survivor_id: str | None
    applied: bool
    message: str


def plans_to_apply(cache: Cache) -> list[str]:
    """Ids of the active plans waiting to be applied (ready, or a failed update), oldest first."""
    return [r["plan_id"] for r in store.plans_at(cache.db, APPLY_FROM)]


def plans_waiting_for_cliniko(cache: Cache) -> list[str]:
    """Ids of the active plans whose survivor is updated and that wait for Cliniko's merge."""
    return [r["plan_id"] for r in store.plans_at(cache.db, WAIT_STEPS)]


def apply_ready_plans(
    cache: Cache,
    session: Session,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[BatchResult]:
    """Update the survivor of every ready plan and verify it; one result per plan, in order.

    ``progress(done, total)`` is called after each plan. ``cancel`` stops before the next plan.
    """
    plan_ids = plans_to_apply(cache)
    results: list[BatchResult] = []
    for done, plan_id in enumerate(plan_ids, start=1):
        if cancel is not None and cancel.is_set():
            break
        results.append(_apply_one(cache, session, plan_id))
        if progress is not None:
            progress(done, len(plan_ids))
    return results


def _apply_one(cache: Cache, session: Session, plan_id: str) -> BatchResult:
    flow = MergeFlow.load(cache, plan_id)
    plan = flow.plan
    try:
        reason = flow.why_not(session)
        if reason is not None:
            return BatchResult(plan_id, plan.patient_ids, plan.survivor_id, False, reason)
        while flow.step in APPLY_FROM:
            flow.advance(session)
    except (MergeError, ClinikoError) as exc:
        log.info("plan %s not applied: %s", plan_id, type(exc).__name__)
        message = getattr(exc, "user_message", None) or "The update failed."
        return BatchResult(plan_id, plan.patient_ids, plan.survivor_id, False, message)
    return BatchResult(
        plan_id, plan.patient_ids, plan.survivor_id, True,
        "Updated and checked. Next: merge in Cliniko.",
    )  # fmt: skip
