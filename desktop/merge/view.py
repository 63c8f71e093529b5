"""Read-only side of a guided merge: the steps, the stored plan, and what the wizard shows."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from desktop.merge import executor
from desktop.merge.executor import MergeError, MergeInstructions, NeedsConnection, StepError
from desktop.merge.plan import (
    FieldChoice,
    MergePlan,
    changed_fields,
    default_reconciliation,
    suggest_survivor,
)
from desktop.store import plans as store
from desktop.store.patients import get_patient
from desktop.store.queue import get_pair

if TYPE_CHECKING:
    from desktop.session import Session
    from desktop.store.cache import Cache


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


ORDER: tuple[Step, ...] = tuple(Step)
OFFLINE_STEPS = frozenset(ORDER[: ORDER.index(Step.READY) + 1])
ONLINE_ADVANCE = frozenset({Step.READY, Step.UPDATE_SURVIVOR, Step.WAIT_FOR_MERGE})
CANCEL_OUTCOMES = ("not_same", "later", "skipped")
# Steps that change Cliniko or lead to its merge: a look-alike needs the confirmation first.
APPLY_STEPS = frozenset({Step.READY, Step.UPDATE_SURVIVOR, Step.MERGE_IN_CLINIKO})
# Steps at which the survivor may hold values MergeDesk wrote (a back-out restores them).
WRITTEN_STEPS = frozenset({Step.UPDATE_SURVIVOR, Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE})
# The queue status a pair gets when its plan reaches a step.
PAIR_STATUS = {Step.CHOOSE_SURVIVOR: "planned", Step.READY: "ready", Step.DONE: "merged"}


# Notes in the plan's step log that mark what happened outside a transition.
CONFIRMED_NOTE = "look-alike confirmed"  # the person checked: one person, not look-alikes
WRITING_NOTE = "writing survivor"  # write-ahead: a PATCH of the survivor is about to be sent
RESTORED_NOTE = "restored survivor"  # the survivor's previous values are back (verified)

# The risk a look-alike flag names, for the confirmation ("... the same person, not twins").
RISKS = {
    "twins": "twins",
    "parent_child": "a parent and child",
    "siblings": "siblings",
    "household": "two people of one household",
    "family_card": "two members of one family",
    "other_first_name": "two members of one family",
    "common_name": "two people who share a common name",
    "other_birth_date": "two people with the same name",
    "names_only": "two people with the same name",
    "child_record": "a child and a parent",
    "ambiguous": "a relative who matches too",
}
DEFAULT_RISK = "two different people who look alike"


class PlanNotFound(MergeError):
    """No plan matches the id or pair given to :meth:`MergeFlow.load`."""

    default_message = "This merge plan no longer exists."


HISTORY_KEYS = ("appointments", "treatment_notes", "invoices", "attachments")


def cached_history(db: Any, ids: Sequence[str]) -> dict[str, dict[str, int] | None]:
    """History counts kept in the cache, by id (None where never fetched)."""
    out: dict[str, dict[str, int] | None] = dict.fromkeys(ids)
    for pid in ids:
        row = db.execute(
            "SELECT appointments, treatment_notes, invoices, attachments FROM history_counts "
            "WHERE patient_id = ?",
            [pid],
        ).fetchone()
        if row is not None:
            out[pid] = dict(zip(HISTORY_KEYS, row, strict=True))
    return out


def save_history(db: Any, counts: Mapping[str, Mapping[str, int]], fetched_at: str) -> None:
    """Store fetched history counts by id (does not commit)."""
    for pid, c in counts.items():
        db.execute(
            "INSERT INTO history_counts (patient_id, appointments, treatment_notes, invoices, "
            "attachments, fetched_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(patient_id) DO UPDATE "
            "SET appointments = excluded.appointments, treatment_notes = excluded.treatment_notes,"
            " invoices = excluded.invoices, attachments = excluded.attachments, "
            "fetched_at = excluded.fetched_at",
            [pid, *(c.get(k) for k in HISTORY_KEYS), fetched_at],
        )


def forget_history(db: Any, ids: Sequence[str]) -> None:
    """Drop cached history counts of these records (does not commit)."""
    marks = ", ".join("?" for _ in ids)
    db.execute(f"DELETE FROM history_counts WHERE patient_id IN ({marks})", list(ids))


class FlowView:
    """The state of one stored plan and the guards; :class:`~desktop.merge.steps.MergeFlow`
    adds the transitions."""

    cache: Cache
    _row: dict[str, Any]

    @staticmethod
    def ready_to_apply(cache: Cache) -> list[MergePlan]:
        """Plans saved and waiting for a connection (at READY), oldest first."""
        return [plan_from_row(r) for r in store.plans_at(cache.db, [Step.READY.value])]

    @staticmethod
    def in_progress(cache: Cache) -> list[MergePlan]:
        """Every active plan past READY (an online step was started), oldest first."""
        steps = [s.value for s in ORDER[ORDER.index(Step.UPDATE_SURVIVOR) : -1]]
        return [plan_from_row(r) for r in store.plans_at(cache.db, steps)]

    # ----------------------------------------------------------------- state

    @property
    def plan_id(self) -> str:
        """The plan's id (give it to :meth:`load`)."""
        return str(self._row["plan_id"])

    @property
    def plan(self) -> MergePlan:
        """The plan as stored (a copy)."""
        return plan_from_row(self._row)

    @property
    def step(self) -> Step:
        """The current step."""
        return Step(self._row["step"])

    @property
    def status(self) -> str:
        """``active``, ``done`` or ``cancelled``."""
        return str(self._row["status"])

    @property
    def outcome(self) -> str | None:
        """``merged``, ``not_same`` or ``skipped`` once finished (None while active)."""
        return self._row["outcome"]

    @property
    def finished(self) -> bool:
        """True when done or cancelled."""
        return self.status != "active"

    @property
    def last_error(self) -> str | None:
        """The plain-words message of the last failed online attempt (cleared on success)."""
        return self._row["last_error"]

    @property
    def merge_url(self) -> str | None:
        """The Cliniko page to open at MERGE_IN_CLINIKO (known once the survivor is updated)."""
        return self._row["merge_url"]

    def records(self) -> dict[str, dict[str, Any]]:
        """The cached records of the pair, by id (missing ones are left out)."""
        return {
            pid: r for pid in self._row["patient_ids"] if (r := get_patient(self.cache.db, pid))
        }

    def history(self) -> dict[str, dict[str, int] | None]:
        """Cached history counts by id (None: unknown, e.g. never fetched while online)."""
        return cached_history(self.cache.db, self._row["patient_ids"])

    def suggested_survivor(self) -> str:
        """The suggested survivor: more clinical history, then the older record."""
        return suggest_survivor(self.records(), self.history())

    def reconciliation(self) -> list[FieldChoice]:
        """Every differing field with the default choice, overridden by the plan's decisions."""
        survivor, duplicates = self._survivor_and_duplicates()
        decided = self._row["decisions"]
        choices = default_reconciliation(survivor, *duplicates)
        return [
            FieldChoice(c.field, c.survivor_value, c.duplicate_value, decided[c.field],
                        "chosen by you" if decided[c.field] != c.chosen else c.reason, c.options)
            if c.field in decided else c
            for c in choices
        ]  # fmt: skip

    def changes(self) -> dict[str, Any]:
        """What the PATCH will send, against the cached survivor (shown at REVIEW)."""
        survivor, _ = self._survivor_and_duplicates()
        return changed_fields(self.plan, survivor)

    def instructions(self) -> MergeInstructions:
        """The page to open in Cliniko and the exact text naming each record to tick."""
        if self.merge_url is None:
            raise StepError("the merge page is known once the survivor has been updated")
        survivor, duplicates = self._survivor_and_duplicates()
        return executor.merge_instructions(self.merge_url, survivor, duplicates)

    # ----------------------------------------------------------------- look-alikes

    def lookalike(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The look-alike flags and warning texts of every pair in this plan (both empty when
        none of its pairs is flagged), as the scan stored them."""
        flags: list[str] = []
        warnings: list[str] = []
        for a, b in itertools.combinations(sorted(self._row["patient_ids"]), 2):
            pair = get_pair(self.cache.db, a, b)
            if pair is None:
                continue
            flags += [f for f in pair.get("flags") or [] if f not in flags]
            warnings += [str(w) for w in pair.get("warnings") or [] if str(w) not in warnings]
        return tuple(flags), tuple(warnings)

    @property
    def is_lookalike(self) -> bool:
        """True when any pair of this plan carries a look-alike flag or warning."""
        flags, warnings = self.lookalike()
        return bool(flags or warnings)

    def lookalike_risk(self) -> str:
        """The risk in words, for the confirmation: "twins", "a parent and child", ..."""
        flags, _ = self.lookalike()
        risks = list(dict.fromkeys(RISKS.get(f, DEFAULT_RISK) for f in flags)) or [DEFAULT_RISK]
        return " or ".join(risks)

    def _notes(self) -> list[str]:
        return [e["note"] for e in store.step_log(self.cache.db, self.plan_id)]

    @property
    def lookalike_confirmed(self) -> bool:
        """True once the person confirmed a flagged pair is one person (recorded and audited)."""
        return CONFIRMED_NOTE in self._notes()

    @property
    def survivor_written(self) -> bool:
        """True when MergeDesk sent a change to the survivor that has not been put back yet."""
        marks = [n for n in self._notes() if n in (WRITING_NOTE, RESTORED_NOTE)]
        return bool(marks) and marks[-1] == WRITING_NOTE

    def _survivor_and_duplicates(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        records = self.records()
        sid = self._row["survivor_id"]
        if sid not in records or any(d not in records for d in self._row["duplicate_ids"]):
            raise StepError("the records of this pair are not in the local cache")
        return records[sid], [records[d] for d in self._row["duplicate_ids"]]

    # ----------------------------------------------------------------- guards

    def can_advance(self, session: Session | None = None) -> bool:
        """True when :meth:`advance` (with this session, or offline) would be allowed."""
        return self.why_not(session) is None

    def why_not(self, session: Session | None = None) -> str | None:
        """Why :meth:`advance` would refuse, in plain words; None when it would not."""
        step = self.step
        if self.finished or step is Step.DONE:
            return "This merge is finished."
        if step in ONLINE_ADVANCE and session is None:
            return NeedsConnection.default_message
        if step is Step.COMPARE and len(self.records()) < len(self._row["patient_ids"]):
            return "The records of this pair are not in the local cache. Sync first."
        if step is Step.CHOOSE_SURVIVOR and not self._row["survivor_id"]:
            return "Choose the record that stays."
        return self.lookalike_hold()

    def lookalike_hold(self) -> str | None:
        """Why a flagged pair may not be applied or merged yet (no confirmation), or None."""
        if self.step in APPLY_STEPS and self.is_lookalike and not self.lookalike_confirmed:
            return (
                f"These records may belong to {self.lookalike_risk()}. Check them, then tick "
                "the confirmation that they are the same person before applying the merge."
            )
        return None

    def can_go_back(self) -> bool:
        """True when :meth:`back` is allowed (not at COMPARE, not once finished)."""
        return not self.finished and self.step not in (Step.COMPARE, Step.DONE)


def plan_from_row(row: Mapping[str, Any]) -> MergePlan:
    """A :class:`MergePlan` from a stored plan row."""
    return MergePlan(
        plan_id=str(row["plan_id"]),
        patient_ids=tuple(row["patient_ids"]),
        survivor_id=row["survivor_id"],
        duplicate_ids=tuple(row["duplicate_ids"]),
        decisions=dict(row["decisions"]),
        base_values=dict(row["base_values"]),
        created_at=str(row["created_at"]),
        updated_at=str(row["updated_at"]),
    )
