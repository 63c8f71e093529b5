"""The stored state of one guided merge, typed: a plan row of ``merge_plans`` as a dataclass."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from desktop.merge.plan import MergePlan, pair_key
from desktop.merge_states import Outcome, PlanStatus, Step


@dataclass
class PlanState:
    """One merge plan as the cache holds it (mutable: the flow changes it, then saves it).

    Attributes:
        plan_id: a random hex id.
        pair_key: the sorted ids joined by ``:`` (one active plan per key).
        patient_ids: the pair (or cluster), sorted.
        survivor_id: the record that stays (None until known).
        duplicate_ids: the other records, merged into the survivor in Cliniko.
        decisions: field -> the value the survivor should end with.
        base_values: field -> the survivor's value when the decision was made.
        step: where the merge stands.
        status: active, done or cancelled.
        outcome: how it ended (merged, not_same or skipped), None while active.
        merge_url: Cliniko's merge page (known once the survivor is updated).
        written_sha256: a hash of the values MergeDesk wrote to the survivor (None: none).
        last_error: the plain-words message of the last failed online attempt.
        created_at, updated_at: ISO 8601 UTC.
        lookalike: the look-alike flags and warnings of its pairs when it was opened
            (``{"flags": [...], "warnings": [...]}``; empty for a plain pair, or a plan made
            by a version that did not keep them).
    """

    plan_id: str
    pair_key: str
    patient_ids: list[str]
    survivor_id: str | None
    duplicate_ids: list[str]
    decisions: dict[str, Any] = field(default_factory=dict)
    base_values: dict[str, Any] = field(default_factory=dict)
    step: Step = Step.COMPARE
    status: PlanStatus = PlanStatus.ACTIVE
    outcome: Outcome | None = None
    merge_url: str | None = None
    written_sha256: str | None = None
    last_error: str | None = None
    created_at: str = ""
    updated_at: str = ""
    lookalike: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def new(cls, patient_ids: Sequence[str], survivor_id: str | None, stamp: str) -> PlanState:
        """A fresh plan at COMPARE for these (sorted, distinct) ids."""
        ids = list(patient_ids)
        return cls(
            plan_id=secrets.token_hex(8), pair_key=pair_key(ids), patient_ids=ids,
            survivor_id=survivor_id,
            duplicate_ids=[i for i in ids if i != survivor_id] if survivor_id else [],
            created_at=stamp, updated_at=stamp,
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PlanState:
        """The state of a row read by :mod:`desktop.store.plans`."""
        return cls(
            plan_id=str(row["plan_id"]), pair_key=str(row["pair_key"]),
            patient_ids=[str(i) for i in row["patient_ids"]],
            survivor_id=None if row["survivor_id"] is None else str(row["survivor_id"]),
            duplicate_ids=[str(i) for i in row["duplicate_ids"]],
            decisions=dict(row["decisions"]), base_values=dict(row["base_values"]),
            step=Step(row["step"]), status=PlanStatus(row["status"]),
            outcome=Outcome(row["outcome"]) if row["outcome"] else None,
            merge_url=row["merge_url"], written_sha256=row["written_sha256"],
            last_error=row["last_error"], created_at=str(row["created_at"]),
            updated_at=str(row["updated_at"]), lookalike=dict(row.get("lookalike") or {}),
        )  # fmt: skip

    def to_row(self) -> dict[str, Any]:
        """The row :func:`desktop.store.plans.save_plan` writes."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def finished(self) -> bool:
        """True when done or cancelled."""
        return self.status is not PlanStatus.ACTIVE

    def plan(self) -> MergePlan:
        """The plan part (survivor, duplicates, decisions) as a frozen :class:`MergePlan`."""
        return MergePlan(
            plan_id=self.plan_id, patient_ids=tuple(self.patient_ids),
            survivor_id=self.survivor_id, duplicate_ids=tuple(self.duplicate_ids),
            decisions=dict(self.decisions), base_values=dict(self.base_values),
            created_at=self.created_at, updated_at=self.updated_at,
        )  # fmt: skip
