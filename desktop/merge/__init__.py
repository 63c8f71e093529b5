"""The guided merge (no Qt): the plan, the persisted step machine, and the online executor.

The wizard drives :class:`MergeFlow` (see :mod:`desktop.merge.flow` for a walk-through); the
steps and their groups are in :mod:`desktop.merge_states`.
"""

from __future__ import annotations

from desktop.merge.executor import (
    AlreadyMerged,
    ArchivedMeanwhile,
    DuplicateToTick,
    MergedIntoOther,
    MergeError,
    MergeInstructions,
    NeedsConnection,
    RestoreNotApplied,
    StepError,
    SurvivorChanged,
    SurvivorGone,
    WriteNotApplied,
)
from desktop.merge.flow import MergeFlow, PlanNotFound, StepTimer
from desktop.merge.plan import (
    WRITABLE_FIELDS,
    FieldChoice,
    MergePlan,
    changed_fields,
    default_reconciliation,
    suggest_survivor,
)
from desktop.merge.state import PlanState
from desktop.merge_states import ORDER, Step

__all__ = [
    "ORDER",
    "WRITABLE_FIELDS",
    "AlreadyMerged",
    "ArchivedMeanwhile",
    "DuplicateToTick",
    "FieldChoice",
    "MergeError",
    "MergeFlow",
    "MergeInstructions",
    "MergePlan",
    "MergedIntoOther",
    "NeedsConnection",
    "PlanNotFound",
    "PlanState",
    "RestoreNotApplied",
    "Step",
    "StepError",
    "StepTimer",
    "SurvivorChanged",
    "SurvivorGone",
    "WriteNotApplied",
    "changed_fields",
    "default_reconciliation",
    "suggest_survivor",
]
