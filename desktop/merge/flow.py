"""The guided merge as a step machine, persisted in the cache (no Qt).

Steps, in order (:class:`~desktop.merge_states.Step`)::

    COMPARE -> CHOOSE_SURVIVOR -> RECONCILE -> REVIEW -> READY            (offline is fine)
      -> UPDATE_SURVIVOR -> MERGE_IN_CLINIKO -> WAIT_FOR_MERGE -> DONE      (needs Cliniko)

Typical use by the wizard::

    flow = MergeFlow.start(cache, ["1001", "1002"])       # or MergeFlow.load(cache, plan_id)
    flow.advance()                                         # COMPARE -> CHOOSE_SURVIVOR
    flow.advance(survivor_id=flow.suggested_survivor())    # -> RECONCILE (defaults filled in)
    flow.choose("email", "a@b.example")                   # any reconcile choice, saved at once
    flow.advance()                                         # -> REVIEW (flow.changes(): the PATCH)
    flow.advance()                                         # -> READY ("ready to apply")
    flow.advance(session)                                  # -> UPDATE_SURVIVOR
    flow.advance(session)                                  # PATCH + verify -> MERGE_IN_CLINIKO
    flow.instructions()                                    # URL + exact text; open the browser
    flow.merge_page_opened()                               # -> WAIT_FOR_MERGE
    while not flow.poll_once(session): ...                 # on a timer; -> DONE by itself

The flow's state is a :class:`~desktop.merge.state.PlanState`. Every transition (and every
failed online attempt) is written in one transaction together with the audit records of the API
calls it made, before the method returns. The app never merges by itself: MERGE_IN_CLINIKO only
tells a person what to do in Cliniko. Use a flow from one thread at a time; online calls block
on HTTP, so run them (and ``poll_once``) in a worker. The one exception: the wizard may call
:meth:`MergeFlow.merge_page_opened` while ``poll_once`` runs in a worker (both moves are made
under the cache's lock, one after the other).
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from desktop.account import fetch_account, remember_account, stored_account
from desktop.cliniko.errors import ClinikoError
from desktop.merge import executor
from desktop.merge.executor import (
    AlreadyMerged,
    BackOutInterrupted,
    MergeError,
    MergeInstructions,
    NeedsConnection,
    RestoreResult,
    StepError,
    SurvivorDrifted,
)
from desktop.merge.lookalike import linked_as_one, lookalike_marks, risk_in_words
from desktop.merge.merged_check import already_merged, check_merged_in_cliniko
from desktop.merge.plan import (
    WRITABLE_FIELDS,
    FieldChoice,
    MergePlan,
    changed_fields,
    clinical_history,
    decisions_from,
    default_reconciliation,
    field_value,
    link_addresses,
    pair_key,
    suggest_survivor,
    swapped_names,
)
from desktop.merge.state import PlanState
from desktop.merge_states import (
    APPLYING_STEPS,
    CANCEL_OUTCOMES,
    LOOKALIKE_GATED_STEPS,
    ONLINE_ADVANCE,
    ORDER,
    PAIR_STATUS,
    RESTORE_STEP,
    WAIT_STEPS,
    WRITTEN_STEPS,
    Outcome,
    PairStatus,
    PlanNote,
    PlanStatus,
    Step,
)
from desktop.review import audit_trail
from desktop.store import plans as store
from desktop.store import queue
from desktop.store.history_counts import cached_counts, forget_counts, save_counts
from desktop.store.patients import get_patient, upsert_patients
from desktop.store.transaction import transaction
from desktop.timestamps import utc_stamp

log = logging.getLogger(__name__)
# The step log's note when the person picks the record that stays ("chose 1001 to stay").
_CHOSE = "chose "


def _past_the_choice(entry: Mapping[str, Any]) -> bool:
    """True for a step log entry that moves on from the choice of the record that stays."""
    return (entry["from_step"], entry["to_step"]) == (Step.CHOOSE_SURVIVOR, Step.RECONCILE)


# The step log's marks after which the record that stays holds nothing MergeDesk wrote: the
# previous values are back, or the record written to was merged into the one that stays now.
_NOTHING_WRITTEN = (PlanNote.RESTORED, PlanNote.MERGED_OTHER_WAY)


if TYPE_CHECKING:
    from sqlite_utils import Database

    from desktop.session import Session
    from desktop.store.cache import Cache


class StepTimer(Protocol):
    """What the flow needs of a timer of the work (the labor time log's ``WorkSession``)."""

    plan_id: str | None

    @property
    def finished(self) -> bool:
        """True once :meth:`finish` ran."""
        ...

    def set_plan(self, plan_id: str | None) -> None:
        """Link the timing to a merge plan."""

    def enter_step(self, name: str) -> None:
        """The person moved to step ``name`` (entering the current step is a no-op)."""

    def finish(self, outcome: str, t: float | None = None) -> None:
        """End the timing with ``outcome`` (an :class:`~desktop.merge_states.Outcome`), at
        ``t`` (epoch seconds; None: now)."""


class PlanNotFound(MergeError):
    """No plan matches the id or pair given to :meth:`MergeFlow.load`."""

    default_message = "This merge plan no longer exists."


class MergeFlow:
    """One guided merge, at its stored step. Build it with :meth:`start` or :meth:`load`.

    Attributes:
        cache: the open cache.
        state: the plan as stored (change it only through the flow's methods).
        timer: an optional :class:`StepTimer`; every transition enters the new step on it,
            DONE and :meth:`cancel` finish it with the outcome.
        clock: ISO 8601 UTC now (inject a fake one in tests).
        last_restore: what the last :meth:`restore` did (None before one).
    """

    def __init__(
        self,
        cache: Cache,
        state: PlanState,
        *,
        timer: StepTimer | None = None,
        clock: Callable[[], str] = utc_stamp,
    ) -> None:
        self.cache = cache
        self.state = state
        self.clock = clock
        self.last_restore: RestoreResult | None = None
        # (link field, id) -> the name Cliniko gives what it points at (fetched for display).
        self.link_names: dict[tuple[str, str], str] = {}
        self.timer: StepTimer | None = None
        if timer is not None:
            self.attach_timer(timer)

    @classmethod
    def start(
        cls,
        cache: Cache,
        patient_ids: Sequence[str],
        *,
        timer: StepTimer | None = None,
        clock: Callable[[], str] = utc_stamp,
        session: Session | None = None,
    ) -> MergeFlow:
        """Open the pair's (or cluster's) active plan, or create one at COMPARE.

        The survivor is pre-filled with :func:`suggest_survivor` from the cached records and
        the cached history counts (refresh them with :meth:`fetch_history`). A pair already
        merged is refused: by the cache (a record merged into another of the pair, the queue,
        a finished plan), and with ``session`` also by Cliniko itself.

        Raises:
            AlreadyMerged: the pair is merged already (no plan is made).
        """
        ids = sorted({str(i) for i in patient_ids})
        if len(ids) < 2:
            raise StepError("a merge needs at least two different records")
        existing = store.open_plan_for(cache.db, pair_key(ids))
        if existing is not None:
            return cls(cache, PlanState.from_row(existing), timer=timer, clock=clock)
        if already_merged(cache, ids):
            raise AlreadyMerged(f"pair {pair_key(ids)} is merged already")
        if len(ids) > 2 and not linked_as_one(cache.db, ids):
            raise StepError(
                f"records {', '.join(ids)} are not linked as one group",
                user_message="These records are not one group of duplicates as the last scan "
                "found them, so no merge was started. Select the pair in the queue again.",
            )
        if session is not None:
            check_merged_in_cliniko(cache, session, ids)
        records = {pid: r for pid in ids if (r := get_patient(cache.db, pid)) is not None}
        suggested = suggest_survivor(records, cached_counts(cache.db, ids)) if records else None
        stamp = clock()
        state = PlanState.new(ids, suggested, stamp)
        flags, warnings = lookalike_marks(cache.db, ids)
        if flags or warnings:
            state.lookalike = {"flags": list(flags), "warnings": list(warnings)}
        with transaction(cache) as db:
            store.save_plan(db, state.to_row())
            store.log_step(db, state.plan_id, None, Step.COMPARE, stamp, "created")
            _audit_plan(cache, state, "merge plan created")
        return cls(cache, state, timer=timer, clock=clock)

    @classmethod
    def load(
        cls,
        cache: Cache,
        pair_or_plan_id: str | Sequence[str],
        *,
        timer: StepTimer | None = None,
        clock: Callable[[], str] = utc_stamp,
    ) -> MergeFlow:
        """The flow at its stored step, by plan id or by the pair's ids (``["1001", "1002"]``
        or ``"1001:1002"``: the active plan, else the newest one).

        Raises:
            PlanNotFound: nothing matches.
        """
        wanted = pair_or_plan_id
        if isinstance(wanted, str) and ":" not in wanted:
            row = store.get_plan(cache.db, wanted)
        else:
            key = pair_key(wanted.split(":") if isinstance(wanted, str) else list(wanted))
            row = store.open_plan_for(cache.db, key) or store.latest_plan_for(cache.db, key)
        if row is None:
            raise PlanNotFound("no matching plan")
        return cls(cache, PlanState.from_row(row), timer=timer, clock=clock)

    @staticmethod
    def ready_to_apply(cache: Cache) -> list[MergePlan]:
        """Plans saved and waiting for a connection (at READY), oldest first."""
        return [PlanState.from_row(r).plan() for r in store.plans_at(cache.db, [Step.READY])]

    @staticmethod
    def in_progress(cache: Cache) -> list[MergePlan]:
        """Every active plan past READY (an online step was started), oldest first."""
        return [PlanState.from_row(r).plan() for r in store.plans_at(cache.db, APPLYING_STEPS)]

    def attach_timer(self, timer: StepTimer) -> None:
        """Time this flow with ``timer`` (enters the current step on it)."""
        self.timer = timer
        if timer.plan_id != self.plan_id:
            timer.set_plan(self.plan_id)
        if not self.finished:
            timer.enter_step(self.step)

    # ----------------------------------------------------------------- state

    @property
    def plan_id(self) -> str:
        """The plan's id (give it to :meth:`load`)."""
        return self.state.plan_id

    @property
    def plan(self) -> MergePlan:
        """The plan as stored (a copy)."""
        return self.state.plan()

    @property
    def step(self) -> Step:
        """The current step."""
        return self.state.step

    @property
    def status(self) -> PlanStatus:
        """Active, done or cancelled."""
        return self.state.status

    @property
    def outcome(self) -> Outcome | None:
        """Merged, not the same or skipped once finished (None while active)."""
        return self.state.outcome

    @property
    def finished(self) -> bool:
        """True when done or cancelled."""
        return self.state.finished

    @property
    def needs_connection(self) -> bool:
        """True when moving on from the current step talks to Cliniko (offline it can't)."""
        return self.step in ONLINE_ADVANCE and not self.finished

    @property
    def waits_for_cliniko(self) -> bool:
        """True at the steps where Cliniko's merge page is open and the flow polls."""
        return self.step in WAIT_STEPS and not self.finished

    @property
    def last_error(self) -> str | None:
        """The plain-words message of the last failed online attempt (cleared on success)."""
        return self.state.last_error

    @property
    def merge_url(self) -> str | None:
        """The Cliniko page to open at MERGE_IN_CLINIKO (known once the survivor is updated)."""
        return self.state.merge_url

    def records(self) -> dict[str, dict[str, Any]]:
        """The cached records of the pair, by id (missing ones are left out)."""
        return {pid: r for pid in self.state.patient_ids if (r := get_patient(self.cache.db, pid))}

    def history(self) -> dict[str, dict[str, int] | None]:
        """Cached history counts by id (None: unknown, e.g. never fetched while online)."""
        return cached_counts(self.cache.db, self.state.patient_ids)

    def history_unknown(self) -> bool:
        """True while a record's history counts are not in the cache."""
        return any(counts is None for counts in self.history().values())

    def suggested_survivor(self) -> str:
        """The suggested survivor: more clinical history, then the older record."""
        return suggest_survivor(self.records(), self.history())

    def richer_record(self) -> tuple[str, int, int] | None:
        """(id, its history size, the survivor's) of a record to be merged away that has more
        clinical history than the chosen survivor (chosen while the history was unknown, say);
        None when a record's history is unknown, or none has more."""
        history, survivor = self.history(), self.plan.survivor_id
        if survivor is None or any(counts is None for counts in history.values()):
            return None
        sizes = {pid: clinical_history(counts) for pid, counts in history.items()}
        richest = max(sizes, key=lambda pid: sizes[pid])
        if sizes[richest] <= sizes.get(survivor, 0):
            return None
        return richest, sizes[richest], sizes.get(survivor, 0)

    def reconciliation(self) -> list[FieldChoice]:
        """Every differing field with the default choice, overridden by the plan's decisions."""
        survivor, duplicates = self._survivor_and_duplicates()
        decided = self.state.decisions
        choices = default_reconciliation(survivor, *duplicates)
        return [
            replace(c, chosen=decided[c.field],
                    reason="chosen by you" if decided[c.field] != c.chosen else c.reason)
            if c.field in decided else c
            for c in choices
        ]  # fmt: skip

    def swapped_names(self) -> Mapping[str, Any] | None:
        """The other record naming the person the other way round from the one that stays
        (first name and last name swapped), or None."""
        survivor, duplicates = self._survivor_and_duplicates()
        return swapped_names(survivor, *duplicates)

    def link_addresses(self) -> dict[tuple[str, str], str]:
        """(link field, id) -> the address of what the records' link fields point at (a
        concession type, a referring doctor), for the ones whose names are not yet known."""
        found = link_addresses(list(self.records().values()))
        return {key: url for key, url in found.items() if key not in self.link_names}

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
        none of its pairs is flagged): those it was opened with, and any a scan stored since.

        A scan can no longer take a flag away: applying the plan gives the record that stays
        some of the other's details, and scored again the pair may look like one person.
        """
        flags, warnings = lookalike_marks(self.cache.db, self.state.patient_ids)
        kept = self.state.lookalike
        return (
            tuple(dict.fromkeys([*kept.get("flags", ()), *flags])),
            tuple(dict.fromkeys([*kept.get("warnings", ()), *warnings])),
        )

    @property
    def is_lookalike(self) -> bool:
        """True when any pair of this plan carries a look-alike flag or warning."""
        flags, warnings = self.lookalike()
        return bool(flags or warnings)

    def lookalike_risk(self) -> str:
        """The risk in words, for the confirmation: "twins", "a parent and child", ..."""
        flags, _ = self.lookalike()
        return risk_in_words(flags)

    def _notes(self) -> list[str]:
        return [e["note"] for e in store.step_log(self.cache.db, self.plan_id)]

    @property
    def chosen_without_history(self) -> bool:
        """True when the record that stays was last chosen with a record's history unknown
        (offline, say): read later, it may say another record has more."""
        went_on = [e for e in store.step_log(self.cache.db, self.plan_id) if _past_the_choice(e)]
        return bool(went_on) and went_on[-1]["note"] == PlanNote.CHOSEN_BLIND

    @property
    def lookalike_confirmed(self) -> bool:
        """True once the person confirmed a flagged pair is one person (recorded and audited)."""
        return PlanNote.CONFIRMED in self._notes()

    def _last_survivor_mark(self, *, failures: bool = False) -> str:
        """The step log's last note on writing the survivor: WRITING, a RESTORING note, or
        RESTORED ("" when there is none); with ``failures``, a FAILED note too."""
        kinds = (PlanNote.RESTORING, PlanNote.FAILED) if failures else (PlanNote.RESTORING,)
        marks = [
            n for n in self._notes()
            if n in (PlanNote.WRITING, *_NOTHING_WRITTEN) or n.startswith(kinds)
        ]  # fmt: skip
        return marks[-1] if marks else ""

    @property
    def survivor_written(self) -> bool:
        """True when MergeDesk sent a change to the survivor that has not been put back yet
        (a back-out begun and not ended has not put it back; the record written to was merged
        into the one that stays now, which has nothing from MergeDesk yet)."""
        return self._last_survivor_mark() not in ("", *_NOTHING_WRITTEN)

    @property
    def merged_in_cliniko(self) -> bool:
        """True once Cliniko shows the records merged, the other way round (the plan then only
        writes the chosen values to the record that stays)."""
        return PlanNote.MERGED_OTHER_WAY in self._notes()

    @property
    def restore_interrupted(self) -> str | None:
        """What a back-out was for (``back``, ``not_same``...) when it began and neither ended
        nor failed (MergeDesk stopped during it), else None; None once the plan is finished
        (merged in Cliniko while an answer waited for the look that found it: the merge
        stands)."""
        if self.finished:
            return None
        mark = self._last_survivor_mark(failures=True)
        if not mark.startswith(PlanNote.RESTORING):
            return None
        return mark.removeprefix(PlanNote.RESTORING).lstrip(": ") or "back"

    @property
    def problem(self) -> str | None:
        """What to tell the person about this merge now: a back-out MergeDesk stopped during
        (its note is newer than any error), else the last error. At the merge step the next
        look at Cliniko (:meth:`poll_once`) says more exactly what a cut-off back-out left."""
        why = self.restore_interrupted
        return BackOutInterrupted(why).user_message if why else self.state.last_error

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
        if step is Step.COMPARE and len(self.records()) < len(self.state.patient_ids):
            return "The records of this pair are not in the local cache. Sync first."
        if step is Step.CHOOSE_SURVIVOR and not self.state.survivor_id:
            return "Choose the record that stays."
        return self.lookalike_hold()

    def lookalike_hold(self) -> str | None:
        """Why a flagged pair may not be applied or merged yet (no confirmation), or None."""
        gated = self.step in LOOKALIKE_GATED_STEPS
        if gated and self.is_lookalike and not self.lookalike_confirmed:
            return (
                f"These records may belong to {self.lookalike_risk()}. Check them, then tick "
                "the confirmation that they are the same person before applying the merge."
            )
        return None

    def can_go_back(self) -> bool:
        """True when :meth:`back` is allowed (not at COMPARE, not once finished, not once
        Cliniko shows the records merged the other way round)."""
        return (
            not self.finished
            and self.step not in (Step.COMPARE, Step.DONE)
            and not self.merged_in_cliniko
        )

    def needs_restore(self) -> bool:
        """True when backing out must first put the survivor's previous values back."""
        return not self.finished and self.survivor_written

    # ----------------------------------------------------------------- transitions

    def advance(
        self,
        session: Session | None = None,
        *,
        survivor_id: str | None = None,
        decisions: Mapping[str, Any] | None = None,
    ) -> Step:
        """Do the current step's work and move on; returns the new (or unchanged) step.

        ``survivor_id`` is read at CHOOSE_SURVIVOR, ``decisions`` (field -> value) at RECONCILE.
        READY, UPDATE_SURVIVOR and WAIT_FOR_MERGE need ``session``. At WAIT_FOR_MERGE this is
        :meth:`poll_once` (the step stays until Cliniko shows the merge).

        Raises:
            StepError, NeedsConnection: a guard refused (nothing changed).
            MergeError, ClinikoError: an online step failed; the step stays where it is and
                :attr:`last_error` holds the message.
        """
        reason = self.why_not(session)
        if reason is not None:
            if self.step in ONLINE_ADVANCE and session is None:
                raise NeedsConnection("no session")
            raise StepError(f"cannot advance from {self.step}", user_message=reason)
        with self._restore_on_error():
            return self._advance(session, survivor_id, decisions)

    def _advance(
        self, session: Session | None, survivor_id: str | None, decisions: Mapping[str, Any] | None
    ) -> Step:
        step, note = self.step, ""
        if step is Step.COMPARE and not self._survivor_settled():
            # The choice opens on the suggestion of now (the history may be known since).
            self._choose_survivor(self.suggested_survivor())
        elif step is Step.CHOOSE_SURVIVOR:
            self._choose_survivor(survivor_id or self.state.survivor_id)
            if self.history_unknown():
                note = PlanNote.CHOSEN_BLIND
        elif step is Step.RECONCILE:
            self._apply_decisions(decisions or {})
        elif step is Step.UPDATE_SURVIVOR:
            assert session is not None
            return self._update_survivor(session)
        elif step is Step.WAIT_FOR_MERGE:
            assert session is not None
            self.poll_once(session)
            return self.step
        self._move(ORDER[ORDER.index(step) + 1], session, note=note)
        return self.step

    def merge_page_opened(self) -> bool:
        """The person opened Cliniko's merge page: MERGE_IN_CLINIKO -> WAIT_FOR_MERGE.

        Safe to call while :meth:`poll_once` runs in a worker: the check and the move hold the
        cache's lock, which the poll's own move holds too, so whichever comes second sees the
        other's step. Returns True when it moved, False when the flow was elsewhere (already
        waiting, or merged by the poll meanwhile).
        """
        with self.cache.lock:
            if self.finished or self.step is not Step.MERGE_IN_CLINIKO:
                return False
            self.advance()
        return True

    def back(self, session: Session | None = None) -> Step:
        """Go one step back. From an online step (updating the survivor, merging in Cliniko)
        this goes back to READY, and when MergeDesk changed the survivor it first puts the
        previous values back through the API and verifies them (needs ``session``).

        Raises:
            NeedsConnection: the survivor must be restored, and there is no session.
            RestoreNotApplied, ClinikoError: the restore failed; the step stays.
        """
        if not self.can_go_back():
            raise StepError(f"cannot go back from {self.step}")
        if self.step in WRITTEN_STEPS:
            self.restore(session, why="back")
            with self._restore_on_error():
                self.state.last_error = None  # it spoke of the step left (the merge's look)
                self._move(Step.READY, session, note="back")
            return self.step
        with self._restore_on_error():
            self._move(ORDER[ORDER.index(self.step) - 1], None, note="back")
        return self.step

    def restore(self, session: Session | None, why: str = "back") -> RestoreResult | None:
        """Put back the survivor's values from before MergeDesk updated it, and verify them by
        reading the record back. Audited, and timed as the step ``restore_survivor``. Does
        nothing (returns None) when MergeDesk has not changed the survivor.

        ``why`` (``back``, or the answer that ends the merge) goes in the note written before
        its first request: a back-out cut off by a kill is then said as such
        (:attr:`restore_interrupted`).

        Raises:
            NeedsConnection: a restore is needed and there is no session.
            RestoreNotApplied, ClinikoError: it did not work; :attr:`last_error` says so and
                the flow stays where it is, so it can be tried again.
        """
        if not self.needs_restore():
            return None
        if session is None:
            raise NeedsConnection(
                "restore needs a session",
                user_message=(
                    "MergeDesk already changed the record that stays in Cliniko. Backing out "
                    "puts its previous values back, and that needs a connection to Cliniko. "
                    "Nothing is lost: try again when you are online."
                ),
            )
        self._time_step(RESTORE_STEP)
        with transaction(self.cache) as db:  # ahead of its first request: a kill anywhere
            self._log_restoring(db, why)  # in the back-out is said on reopening
            session.audit.write_pending()
        try:
            result = executor.restore_survivor(session.client, self.plan)
        except (MergeError, ClinikoError) as exc:
            self._failed(session, exc)
            raise
        self.last_restore = result
        stamp = self.clock()
        fields = ",".join(result.restored_fields) or "nothing"
        self._keep_cliniko_values(result.survivor, result.left_fields)
        with self._restore_on_error(), transaction(self.cache) as db:
            upsert_patients(db, [result.survivor])
            self.state.written_sha256, self.state.last_error = None, None
            self.state.updated_at = stamp
            store.save_plan(db, self.state.to_row())
            store.log_step(db, self.plan_id, self.step, self.step, stamp, PlanNote.RESTORED)
            session.audit.write_pending()
            session.audit.trail.record_event(
                "restored survivor",
                f"plan {self.plan_id} patient {self.state.survivor_id} fields {fields}",
            )
        self._time_step(self.step)
        return result

    def restore_decided(self, why: str) -> None:
        """Note a back-out for ``why`` decided while a request is out (it begins when that
        ends), when MergeDesk changed the survivor: a kill before it begins is then said on
        reopening as a back-out that put nothing back yet, and Apply all leaves the plan alone,
        as after a kill during one (the answer was lost without a word)."""
        if self.needs_restore():
            with transaction(self.cache) as db:
                self._log_restoring(db, why)

    def _log_restoring(self, db: Database, why: str) -> None:
        """The step log's note that a back-out for ``why`` begins (:attr:`restore_interrupted`
        reads it until the back-out ends or fails)."""
        note = f"{PlanNote.RESTORING}: {why}"
        store.log_step(db, self.plan_id, self.step, self.step, self.clock(), note)

    def confirm_lookalike(self) -> None:
        """Record that the person checked a flagged pair and found one person, not look-alikes.

        Written with an audit event (ids and flags only; the trail names the Cliniko user and
        the OS user) in one transaction. Unlocks applying the plan (see :meth:`why_not`).
        """
        if self.finished:
            raise StepError("this merge is already finished")
        if self.lookalike_confirmed:
            return
        flags, _ = self.lookalike()
        stamp = self.clock()
        ids = " ".join(self.state.patient_ids)
        with self._restore_on_error(), transaction(self.cache) as db:
            store.log_step(db, self.plan_id, self.step, self.step, stamp, PlanNote.CONFIRMED)
            audit_trail(self.cache).record_event(
                "confirmed look-alike pair is one person",
                f"plan {self.plan_id} patients {ids} flags {','.join(flags) or 'warning'}",
            )

    def pick_survivor(self, survivor_id: str) -> None:
        """Save the record chosen to stay at once (CHOOSE_SURVIVOR only), before Next, as
        :meth:`choose` saves a field: a crash then loses nothing the person picked."""
        if self.step is not Step.CHOOSE_SURVIVOR or self.finished:
            raise StepError(f"cannot choose the record that stays at {self.step}")
        if survivor_id == self.state.survivor_id:
            return
        with self._restore_on_error():
            self._choose_survivor(survivor_id)
            self._move(self.step, None, note=f"{_CHOSE}{survivor_id} to stay")

    def follow_suggestion(self) -> bool:
        """At the choice of the record that stays, make the suggestion of now the plan's,
        while nobody has chosen: the records' history may have been read since the plan took
        the suggestion of its start. True when the record that stays changed."""
        if self.finished or self.step is not Step.CHOOSE_SURVIVOR or self._survivor_settled():
            return False
        suggested = self.suggested_survivor()
        if suggested == self.state.survivor_id:
            return False
        with self._restore_on_error():
            self._choose_survivor(suggested)
            self._move(self.step, None, note=f"suggested {suggested} to stay")
        return True

    def _survivor_settled(self) -> bool:
        """True once the person picked the record that stays, or went on past the choice
        with the record on show."""
        return any(
            _past_the_choice(e) or (e["note"] or "").startswith(_CHOSE)
            for e in store.step_log(self.cache.db, self.plan_id)
        )

    def choose(self, field: str, value: Any) -> None:
        """Save one reconcile decision at once (RECONCILE or REVIEW only)."""
        if self.step not in (Step.RECONCILE, Step.REVIEW) or self.finished:
            raise StepError(f"cannot change fields at {self.step}")
        with self._restore_on_error():
            self._apply_decisions({field: value})
            self._move(self.step, None, note=f"chose {field}")

    def cancel(self, outcome: Outcome, session: Session | None = None) -> None:
        """End the review without merging: not the same person, skipped, or later.

        ``NOT_SAME`` and ``SKIPPED`` close the plan; ``LATER`` keeps it at its step (reopening
        the pair resumes it). The queue remembers the decision; the timer finishes with it.
        Closing a plan whose survivor MergeDesk changed first restores it (see
        :meth:`restore`; needs ``session``): if that fails, nothing is cancelled.
        """
        if outcome not in CANCEL_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        if self.finished:
            raise StepError("this merge is already finished")
        outcome = Outcome(outcome)
        if outcome is not Outcome.LATER:
            if self.merged_in_cliniko:
                raise StepError("these records are merged in Cliniko already")
            self.restore(session, why=outcome)
        stamp = self.clock()
        with self._restore_on_error(), transaction(self.cache) as db:
            for a, b in itertools.combinations(self.state.patient_ids, 2):
                queue.record_decision(db, a, b, outcome)
            if outcome is not Outcome.LATER:
                self.state.status, self.state.outcome = PlanStatus.CANCELLED, outcome
            self.state.updated_at = stamp
            store.save_plan(db, self.state.to_row())
            store.log_step(db, self.plan_id, self.step, self.step, stamp, outcome)
            _audit_plan(self.cache, self.state, f"merge cancelled: {outcome}")
            if self.timer is not None and not self.timer.finished:
                self.timer.finish(outcome)

    def poll_once(self, session: Session) -> bool:
        """Look once whether Cliniko merged the duplicates into the survivor.

        Call it on a timer at MERGE_IN_CLINIKO or WAIT_FOR_MERGE. Returns True once DONE (the
        cache, queue and time log are updated), False while not merged yet.

        Raises:
            MergedIntoOther: a duplicate went into another patient (the step stays).
            ArchivedMeanwhile: a record of the merge was archived in Cliniko (the step stays).
            ClinikoError: the API failed (the step stays).
        """
        if self.step is Step.DONE:
            return True
        if not self.waits_for_cliniko:
            raise StepError(f"nothing to poll at {self.step}")
        survivor_id = str(self.state.survivor_id)
        try:
            survivor = executor.read_patient(session.client, survivor_id)
            if survivor.get("merged_at"):
                stays = executor.merged_into(survivor)
                if stays not in self.state.duplicate_ids:  # ticked on a third patient's page
                    raise executor.survivor_merged_elsewhere(survivor_id, stays)
                other_way = executor.read_patient(session.client, str(stays))
                self._merged_the_other_way(session, survivor, other_way)  # from its page
                return False
            if survivor.get("archived_at"):  # by someone in Cliniko: nothing merges into it
                raise executor.ArchivedMeanwhile(survivor_id, stays=True)
            result = executor.poll_duplicates(
                session.client, survivor_id, list(self.state.duplicate_ids)
            )
        except (MergeError, ClinikoError) as exc:
            self._failed(session, exc, note=PlanNote.LOOK_FAILED)
            raise
        if not result.done:
            drifted = executor.drifted_fields(self.plan, survivor)
            cut_off = self.restore_interrupted
            with self._restore_on_error(), transaction(self.cache) as db:
                if drifted:  # changed in Cliniko since the update: write it again first
                    upsert_patients(db, [survivor])
                    # A back-out MergeDesk did not finish is no change made in Cliniko.
                    self.state.last_error = (
                        BackOutInterrupted(cut_off) if cut_off else SurvivorDrifted(drifted)
                    ).user_message
                    self._move(Step.UPDATE_SURVIVOR, session, note="changed in Cliniko")
                elif result.merged:  # some ticked and merged, some not (yet)
                    ticks = self.instructions().duplicates
                    self.state.last_error = executor.partly_merged_words(result, ticks)
                    store.save_plan(db, self.state.to_row())
                elif cut_off:  # stopped before it put anything back: the answer is not lost
                    message = BackOutInterrupted(cut_off, none_back=True).user_message
                    if self.state.last_error != message:
                        self.state.last_error = message
                        store.save_plan(db, self.state.to_row())
                elif self.state.last_error and self._last_failure_was_a_look():
                    self.state.last_error = None  # this look went through
                    store.save_plan(db, self.state.to_row())
                session.audit.write_pending()
            return False
        with self._restore_on_error(), transaction(self.cache) as db:
            upsert_patients(db, [survivor, *result.records.values()])
            forget_counts(db, self.state.patient_ids)  # history moved: fetch it again
            self.state.status, self.state.outcome = PlanStatus.DONE, Outcome.MERGED
            self.state.last_error = None
            self._move(Step.DONE, session)
        return True

    def _merged_the_other_way(
        self, session: Session, gone: dict[str, Any], stays: dict[str, Any]
    ) -> None:
        """The record chosen to stay was merged into a duplicate in Cliniko (from that record's
        page). The duplicate is the record that stays now: the plan's values are to be written
        to it (back at the update step), and the merge step then finds the merge done."""
        with self._restore_on_error(), transaction(self.cache) as db:
            upsert_patients(db, [gone, stays])
            self.state.survivor_id = stays_id = str(stays["id"])
            self.state.duplicate_ids = [i for i in self.state.patient_ids if i != stays_id]
            self.state.base_values = {f: field_value(stays, f) for f in self.state.decisions}
            self.state.written_sha256 = self.state.merge_url = None
            lacking = sorted(changed_fields(self.plan, stays))
            self.state.last_error = executor.merged_other_way_words(gone, stays, lacking)
            _audit_plan(
                self.cache, self.state, f"merged the other way in Cliniko: {gone['id']} gone"
            )
            self._move(Step.UPDATE_SURVIVOR, session, note=PlanNote.MERGED_OTHER_WAY)

    def fetch_history(self, session: Session) -> dict[str, dict[str, int]]:
        """Fetch each record's history counts live and cache them (for COMPARE)."""
        counts: dict[str, dict[str, int]] = {}
        try:
            for pid in self.state.patient_ids:
                counts[pid] = session.client.history_counts(pid)
        finally:
            with transaction(self.cache) as db:
                save_counts(db, counts, self.clock())
                session.audit.write_pending()
        return counts

    # ----------------------------------------------------------------- internals

    @contextmanager
    def _restore_on_error(self) -> Iterator[None]:
        """On an error, go back to what the cache holds (a failed transaction rolled back)."""
        saved = copy.deepcopy(self.state)
        try:
            yield
        except BaseException:
            try:
                row = store.get_plan(self.cache.db, self.plan_id)
                self.state = PlanState.from_row(row) if row is not None else saved
            except Exception:  # the cache itself failed: keep the copy from before
                self.state = saved
            raise

    def _time_step(self, name: str) -> None:
        if self.timer is not None and not self.timer.finished:
            self.timer.enter_step(name)

    def _choose_survivor(self, survivor_id: str | None) -> None:
        ids = self.state.patient_ids
        if survivor_id is None or str(survivor_id) not in ids:
            raise StepError("the survivor must be one of the pair's records")
        sid = str(survivor_id)
        if sid != self.state.survivor_id:
            self.state.decisions, self.state.base_values = {}, {}
        self.state.survivor_id = sid
        self.state.duplicate_ids = [i for i in ids if i != sid]

    def _apply_decisions(self, decisions: Mapping[str, Any]) -> None:
        unknown = [f for f in decisions if f not in WRITABLE_FIELDS]
        if unknown:
            raise StepError(f"not writable: {', '.join(sorted(unknown))}")
        survivor, _ = self._survivor_and_duplicates()
        merged = {**self.state.decisions, **decisions}
        self.state.decisions = merged
        self.state.base_values = {f: field_value(survivor, f) for f in merged}

    def _keep_cliniko_values(self, survivor: Mapping[str, Any], fields: Sequence[str]) -> None:
        """Someone changed ``fields`` of the record that stays in Cliniko after the plan was
        made: the plan now keeps the values Cliniko has (``survivor``), and the cache holds
        them. A walk's earlier choice stayed in the plan, and once the plan was saved again
        it was written over a newer note."""
        if not fields:
            return
        with self._restore_on_error(), transaction(self.cache) as db:
            upsert_patients(db, [dict(survivor)])
            for name in fields:
                value = field_value(survivor, name)
                self.state.decisions[name] = self.state.base_values[name] = value
            store.save_plan(db, self.state.to_row())

    def _fill_defaults(self) -> None:
        if self.state.decisions:
            return
        survivor, duplicates = self._survivor_and_duplicates()
        self.state.decisions = decisions_from(default_reconciliation(survivor, *duplicates))
        self.state.base_values = {f: field_value(survivor, f) for f in self.state.decisions}

    def _survivor_and_duplicates(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        records = self.records()
        sid = self.state.survivor_id
        if sid not in records or any(d not in records for d in self.state.duplicate_ids):
            raise StepError("the records of this pair are not in the local cache")
        return records[sid], [records[d] for d in self.state.duplicate_ids]

    def _update_survivor(self, session: Session) -> Step:
        def before_write(fields: Sequence[str]) -> None:
            stamp = self.clock()
            with transaction(self.cache) as db:
                store.log_step(db, self.plan_id, self.step, self.step, stamp, PlanNote.WRITING)
                session.audit.write_pending()

        try:
            result = executor.update_survivor(
                session.client, self.plan, before_write, merged_already=self.merged_in_cliniko
            )
            url = self._merge_url(session)
        except executor.SurvivorChanged as exc:
            self._keep_cliniko_values(exc.survivor, exc.fields)
            self._failed(session, exc)
            raise
        except (MergeError, ClinikoError) as exc:
            self._failed(session, exc)
            raise
        with transaction(self.cache) as db:
            upsert_patients(db, [result.survivor])
            self.state.written_sha256, self.state.merge_url = result.written_sha256, url
            self.state.last_error = None
            note = "sent " + (", ".join(result.sent_fields) or "nothing")
            self._move(Step.MERGE_IN_CLINIKO, session, note=note)
        return self.step

    def _merge_url(self, session: Session) -> str:
        base, sid = session.client.base_url, str(self.state.survivor_id)
        if executor.is_loopback(base):
            return executor.merge_page_url(base, sid)
        account = stored_account(self.cache.db)
        if account is None or account.web_root is None:
            account = fetch_account(session.client)
            remember_account(self.cache, account)
        return executor.merge_page_url(base, sid, account)

    def _failed(
        self, session: Session, exc: Exception, *, note: PlanNote = PlanNote.FAILED
    ) -> None:
        message = getattr(exc, "user_message", None) or "The step failed."
        stamp = self.clock()
        with transaction(self.cache) as db:
            self.state.last_error, self.state.updated_at = message, stamp
            store.save_plan(db, self.state.to_row())
            store.log_step(db, self.plan_id, self.step, self.step, stamp,
                           f"{note}: {type(exc).__name__}")  # fmt: skip
            session.audit.write_pending()

    def _last_failure_was_a_look(self) -> bool:
        """True when the newest failure noted is the merge step's look at Cliniko (whose words
        go once a look goes through), not a back-out's (which stay until it is tried again)."""
        failures = [n for n in self._notes() if n.startswith(PlanNote.FAILED)]
        return bool(failures) and failures[-1].startswith(PlanNote.LOOK_FAILED)

    def _move(self, to: Step, session: Session | None, *, note: str = "") -> None:
        """Persist the move (plan row, step log, queue status, audit, timer) atomically."""
        with transaction(self.cache) as db:  # holds the cache's lock: see merge_page_opened
            from_step = self.step
            if to is Step.RECONCILE and from_step is Step.CHOOSE_SURVIVOR:
                self._fill_defaults()
            stamp = self.clock()
            log.info("merge plan %s: %s -> %s", self.plan_id, from_step, to)
            self.state.step, self.state.updated_at = to, stamp
            store.save_plan(db, self.state.to_row())
            store.log_step(db, self.plan_id, from_step, to, stamp, note)
            _audit_plan(self.cache, self.state, f"merge step {from_step} -> {to}")
            status = PAIR_STATUS.get(to)
            if to is Step.REVIEW and from_step is Step.READY:
                status = PairStatus.PLANNED
            if to is Step.UPDATE_SURVIVOR and from_step in WAIT_STEPS:
                status = PairStatus.READY  # to be written again before the merge
            if status is not None and to != from_step:
                for a, b in itertools.combinations(self.state.patient_ids, 2):
                    queue.set_status(db, a, b, status)
            if session is not None:
                session.audit.write_pending()
            if self.timer is not None and not self.timer.finished:
                if to is Step.DONE:
                    self.timer.finish(Outcome.MERGED)
                else:
                    self.timer.enter_step(to)


def _audit_plan(cache: Cache, state: PlanState, action: str) -> None:
    """The administrator's act on a plan in the audit trail (ids only; joins the transaction)."""
    ids = " ".join(state.patient_ids)
    subject = f"plan {state.plan_id} survivor {state.survivor_id or '-'} patients {ids}"
    audit_trail(cache).record_event(action, subject)
