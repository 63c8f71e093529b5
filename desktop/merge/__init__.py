"""The guided merge (no Qt): the plan, the persisted step machine, and the online executor.

The wizard drives :class:`MergeFlow` (see :mod:`desktop.merge.steps` for a walk-through).
"""

from __future__ import annotations

from desktop.merge.executor import (
    AlreadyMerged,
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
from desktop.merge.plan import (
    WRITABLE_FIELDS,
    FieldChoice,
    MergePlan,
    changed_fields,
    default_reconciliation,
    suggest_survivor,
)
from desktop.merge.steps import MergeFlow
from desktop.merge.view import ORDER, PlanNotFound, Step

__all__ = [
    "ORDER",
    "WRITABLE_FIELDS",
    "AlreadyMerged",
    "DuplicateToTick",
    "FieldChoice",
    "MergeError",
    "MergeFlow",
    "MergeInstructions",
    "MergePlan",
    "MergedIntoOther",
    "NeedsConnection",
    "PlanNotFound",
    "RestoreNotApplied",
    "Step",
    "StepError",
    "SurvivorChanged",
    "SurvivorGone",
    "WriteNotApplied",
    "changed_fields",
    "default_reconciliation",
    "suggest_survivor",
]
