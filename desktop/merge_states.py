"""The words a guided merge is stored in: its steps, the pair statuses, outcomes and plan notes.

A low-level module (no Qt, no imports from the rest of ``desktop``) so that ``store/``,
``merge/``, ``labor/`` and ``ui/`` all read the same names without importing each other.
Every enum is a ``StrEnum`` whose values are the exact strings the cache has always stored:
``PairStatus.MERGED == "merged"``, so stored rows and SQL parameters need no migration.

The step machine itself is :class:`desktop.merge.MergeFlow`; this module only says which steps
exist, in which order, and what each group of them means.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """Where a guided merge stands (the value is what the cache and the time log store)."""

    COMPARE = "compare"
    CHOOSE_SURVIVOR = "choose_survivor"
    RECONCILE = "reconcile"
    REVIEW = "review"
    READY = "ready"
    UPDATE_SURVIVOR = "update_survivor"
    MERGE_IN_CLINIKO = "merge_in_cliniko"
    WAIT_FOR_MERGE = "wait_for_merge"
    DONE = "done"


class PairStatus(StrEnum):
    """Where a pair stands in the review queue (``match_pairs.status``)."""

    NEW = "new"
    LATER = "later"
    NOT_SAME = "not_same"
    SKIPPED = "skipped"
    PLANNED = "planned"
    READY = "ready"
    IN_CLINIKO = "in_cliniko"  # the survivor is updated; the merge waits to be done in Cliniko
    MERGED = "merged"


class PlanStatus(StrEnum):
    """Whether a merge plan is still open (``merge_plans.status``)."""

    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """How a stretch of work on a pair ended (the time log), or how a plan ended."""

    MERGED = "merged"
    NOT_SAME = "not_same"
    LATER = "later"
    SKIPPED = "skipped"
    PLANNED = "planned"  # left with a plan saved, not merged yet
    ABANDONED = "abandoned"  # left unfinished (closed at the next start)
    RESTORED = "restored"  # backed out after the survivor was updated, and put it back


class PlanNote(StrEnum):
    """Notes in a plan's step log that mark what happened outside a transition."""

    CONFIRMED = "look-alike confirmed"  # the person checked: one person, not look-alikes
    WRITING = "writing survivor"  # write-ahead: a PATCH of the survivor is about to be sent
    RESTORED = "restored survivor"  # the survivor's previous values are back (verified)
    # a back-out (putting the previous values back) begins, before its first request; the
    # note goes on with why, e.g. "restoring survivor: not_same" (see MergeFlow.restore)
    RESTORING = "restoring survivor"
    FAILED = "failed"  # a step's request failed; goes on with the error, e.g. "failed: X"
    # the merge step's look at Cliniko failed (a FAILED note too), e.g. "failed look: Offline"
    LOOK_FAILED = "failed look"
    # on the step past the choice of the record that stays, made with a record's history unknown
    CHOSEN_BLIND = "chosen without history"
    # Cliniko merged the record that stays into a duplicate (the merge done from the other
    # record's page): that duplicate stays now, and MergeDesk has written nothing to it yet
    MERGED_OTHER_WAY = "merged the other way"


# ------------------------------------------------------------------ the steps, grouped

ORDER: tuple[Step, ...] = tuple(Step)


def steps_between(first: Step, last: Step) -> tuple[Step, ...]:
    """The steps from ``first`` to ``last``, both included, in order."""
    return ORDER[ORDER.index(first) : ORDER.index(last) + 1]


# Steps whose advance needs a connection to Cliniko; every other step works offline (a plan
# is made up to "ready to apply" without Cliniko).
ONLINE_ADVANCE = frozenset({Step.READY, Step.UPDATE_SURVIVOR, Step.WAIT_FOR_MERGE})
# Steps a plan stands at while it is being planned (the pair is "planned" in the queue).
PLANNING_STEPS = steps_between(Step.CHOOSE_SURVIVOR, Step.REVIEW)
# Steps from which applying a plan updates the survivor (READY, or a failed update retried).
APPLY_FROM = (Step.READY, Step.UPDATE_SURVIVOR)
# Steps of a plan being applied: an online step was started and the merge is not done yet.
APPLYING_STEPS = steps_between(Step.UPDATE_SURVIVOR, Step.WAIT_FOR_MERGE)
# Steps at which Cliniko's merge page is (or can be) open: polled; the waiting counts as work.
WAIT_STEPS = (Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE)
# Steps that change Cliniko or lead to its merge: a look-alike needs the confirmation first.
LOOKALIKE_GATED_STEPS = frozenset({Step.READY, Step.UPDATE_SURVIVOR, Step.MERGE_IN_CLINIKO})
# Steps at which the survivor may hold values MergeDesk wrote (a back-out restores them).
WRITTEN_STEPS = frozenset({Step.UPDATE_SURVIVOR, Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE})
# The time log's name for the work of putting the survivor's previous values back.
RESTORE_STEP = "restore_survivor"

# The queue status a pair gets when its plan reaches a step.
PAIR_STATUS = {
    Step.CHOOSE_SURVIVOR: PairStatus.PLANNED,
    Step.READY: PairStatus.READY,
    Step.MERGE_IN_CLINIKO: PairStatus.IN_CLINIKO,
    Step.DONE: PairStatus.MERGED,
}
# How a review may end without merging (also the decisions the queue remembers).
CANCEL_OUTCOMES = (Outcome.NOT_SAME, Outcome.LATER, Outcome.SKIPPED)
# Queue statuses of a pair the person is merging: planned, ready to apply, or updated and
# waiting for its merge in Cliniko.
MERGING_STATUSES = (PairStatus.PLANNED, PairStatus.READY, PairStatus.IN_CLINIKO)
# Queue statuses a rescan never overwrites: the person planned or merged the pair.
KEPT_STATUSES = (*MERGING_STATUSES, PairStatus.MERGED)
