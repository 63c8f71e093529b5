"""The guided merge as a step machine, persisted in the cache (no Qt).

Steps, in order (:class:`Step`)::

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
    flow.advance()                                         # -> WAIT_FOR_MERGE
    while not flow.poll_once(session): ...                 # on a timer; -> DONE by itself

Every transition (and every failed online attempt) is written in one transaction together with
the audit records of the API calls it made, before the method returns. The app never merges by
itself: MERGE_IN_CLINIKO only tells a person what to do in Cliniko. Use a flow from one thread
at a time; online calls block on HTTP, so run them (and ``poll_once``) in a worker.
"""

from __future__ import annotations

import copy
import itertools
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from desktop.account import fetch_account, remember_account, stored_account
from desktop.cliniko.errors import ClinikoError
from desktop.merge import executor
from desktop.merge.executor import (
    AlreadyMerged,
    MergeError,
    NeedsConnection,
    RestoreResult,
    StepError,
    merged_into,
)
from desktop.merge.plan import (
    WRITABLE_FIELDS,
    decisions_from,
    default_reconciliation,
    field_value,
    now_iso,
    pair_key,
    suggest_survivor,
)
from desktop.merge.view import (
    CANCEL_OUTCOMES,
    CONFIRMED_NOTE,
    ONLINE_ADVANCE,
    ORDER,
    PAIR_STATUS,
    RESTORED_NOTE,
    WRITING_NOTE,
    WRITTEN_STEPS,
    FlowView,
    PlanNotFound,
    Step,
    cached_history,
    forget_history,
    save_history,
)
from desktop.review import audit_trail
from desktop.store import plans as store
from desktop.store import queue
from desktop.store.patients import get_patient, upsert_patients
from desktop.store.transaction import transaction

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from desktop.labor.timelog import WorkSession
    from desktop.session import Session
    from desktop.store.cache import Cache


class MergeFlow(FlowView):
    """One guided merge, at its stored step. Build it with :meth:`start` or :meth:`load`.

    Attributes:
        cache: the open cache.
        timer: an optional :class:`~desktop.labor.timelog.WorkSession`; every transition enters
            the new step on it, DONE and :meth:`cancel` finish it with the outcome.
    """

    def __init__(
        self,
        cache: Cache,
        row: dict[str, Any],
        *,
        timer: WorkSession | None = None,
        clock: Callable[[], str] = now_iso,
    ) -> None:
        self.cache = cache
        self._row = row
        self.clock = clock
        self.last_restore: RestoreResult | None = None  # what the last restore did
        self.timer: WorkSession | None = None
        if timer is not None:
            self.attach_timer(timer)

    @classmethod
    def start(
        cls,
        cache: Cache,
        patient_ids: Sequence[str],
        *,
        timer: WorkSession | None = None,
        clock: Callable[[], str] = now_iso,
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
            return cls(cache, existing, timer=timer, clock=clock)
        if already_merged(cache, ids):
            raise AlreadyMerged(f"pair {pair_key(ids)} is merged already")
        if session is not None:
            check_merged_in_cliniko(cache, session, ids)
        records = {pid: r for pid in ids if (r := get_patient(cache.db, pid)) is not None}
        suggested = suggest_survivor(records, cached_history(cache.db, ids)) if records else None
        stamp = clock()
        row = {
            "plan_id": secrets.token_hex(8), "pair_key": pair_key(ids), "patient_ids": ids,
            "survivor_id": suggested,
            "duplicate_ids": [i for i in ids if i != suggested] if suggested else [],
            "decisions": {}, "base_values": {}, "step": Step.COMPARE.value, "status": "active",
            "outcome": None, "merge_url": None, "written_sha256": None, "last_error": None,
            "created_at": stamp, "updated_at": stamp,
        }  # fmt: skip
        with transaction(cache) as db:
            store.save_plan(db, row)
            store.log_step(db, row["plan_id"], None, Step.COMPARE.value, stamp, "created")
            _audit_plan(cache, row, "merge plan created")
        return cls(cache, row, timer=timer, clock=clock)

    @classmethod
    def load(
        cls,
        cache: Cache,
        pair_or_plan_id: str | Sequence[str],
        *,
        timer: WorkSession | None = None,
        clock: Callable[[], str] = now_iso,
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
        return cls(cache, row, timer=timer, clock=clock)

    def attach_timer(self, timer: WorkSession) -> None:
        """Time this flow with ``timer`` (enters the current step on it)."""
        self.timer = timer
        if timer.plan_id != self.plan_id:
            timer.set_plan(self.plan_id)
        if not self.finished:
            timer.enter_step(self.step.value)

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
            raise StepError(f"cannot advance from {self.step.value}", user_message=reason)
        with self._restore_on_error():
            return self._advance(session, survivor_id, decisions)

    def _advance(
        self, session: Session | None, survivor_id: str | None, decisions: Mapping[str, Any] | None
    ) -> Step:
        step = self.step
        if step is Step.CHOOSE_SURVIVOR:
            self._choose_survivor(survivor_id or self._row["survivor_id"])
        elif step is Step.RECONCILE:
            self._apply_decisions(decisions or {})
        elif step is Step.UPDATE_SURVIVOR:
            assert session is not None
            return self._update_survivor(session)
        elif step is Step.WAIT_FOR_MERGE:
            assert session is not None
            self.poll_once(session)
            return self.step
        self._move(ORDER[ORDER.index(step) + 1], session)
        return self.step

    def back(self, session: Session | None = None) -> Step:
        """Go one step back. From an online step (updating the survivor, merging in Cliniko)
        this goes back to READY, and when MergeDesk changed the survivor it first puts the
        previous values back through the API and verifies them (needs ``session``).

        Raises:
            NeedsConnection: the survivor must be restored, and there is no session.
            RestoreNotApplied, ClinikoError: the restore failed; the step stays.
        """
        if not self.can_go_back():
            raise StepError(f"cannot go back from {self.step.value}")
        if self.step in WRITTEN_STEPS:
            self.restore(session)
            with self._restore_on_error():
                self._move(Step.READY, session, note="back")
            return self.step
        with self._restore_on_error():
            self._move(ORDER[ORDER.index(self.step) - 1], None, note="back")
        return self.step

    def needs_restore(self) -> bool:
        """True when backing out must first put the survivor's previous values back."""
        return not self.finished and self.survivor_written

    def restore(self, session: Session | None) -> RestoreResult | None:
        """Put back the survivor's values from before MergeDesk updated it, and verify them by
        reading the record back. Audited, and timed as the step ``restore_survivor``. Does
        nothing (returns None) when MergeDesk has not changed the survivor.

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
        if self.timer is not None and not self.timer.finished:
            self.timer.enter_step("restore_survivor")
        try:
            result = executor.restore_survivor(session.client, self.plan)
        except (MergeError, ClinikoError) as exc:
            self._failed(session, exc)
            raise
        self.last_restore = result
        stamp = self.clock()
        fields = ",".join(result.restored_fields) or "nothing"
        with self._restore_on_error(), transaction(self.cache) as db:
            upsert_patients(db, [result.survivor])
            self._row.update(written_sha256=None, last_error=None, updated_at=stamp)
            store.save_plan(db, self._row)
            store.log_step(db, self.plan_id, self.step.value, self.step.value, stamp,
                           RESTORED_NOTE)  # fmt: skip
            session.audit.write_pending()
            session.audit.trail.record_event(
                "restored survivor",
                f"plan {self.plan_id} patient {self._row['survivor_id']} fields {fields}",
            )
        if self.timer is not None and not self.timer.finished:
            self.timer.enter_step(self.step.value)
        return result

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
        ids = " ".join(self._row["patient_ids"])
        with self._restore_on_error(), transaction(self.cache) as db:
            store.log_step(db, self.plan_id, self.step.value, self.step.value, stamp,
                           CONFIRMED_NOTE)  # fmt: skip
            audit_trail(self.cache).record_event(
                "confirmed look-alike pair is one person",
                f"plan {self.plan_id} patients {ids} flags {','.join(flags) or 'warning'}",
            )

    def choose(self, field: str, value: Any) -> None:
        """Save one reconcile decision at once (RECONCILE or REVIEW only)."""
        if self.step not in (Step.RECONCILE, Step.REVIEW) or self.finished:
            raise StepError(f"cannot change fields at {self.step.value}")
        with self._restore_on_error():
            self._apply_decisions({field: value})
            self._move(self.step, None, note=f"chose {field}")

    def cancel(self, outcome: str, session: Session | None = None) -> None:
        """End the review without merging: ``not_same``, ``skipped`` or ``later``.

        ``not_same`` and ``skipped`` close the plan; ``later`` keeps it at its step (reopening
        the pair resumes it). The queue remembers the decision; the timer finishes with it.
        Closing a plan whose survivor MergeDesk changed first restores it (see
        :meth:`restore`; needs ``session``): if that fails, nothing is cancelled.
        """
        if outcome not in CANCEL_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        if self.finished:
            raise StepError("this merge is already finished")
        if outcome != "later":
            self.restore(session)
        stamp = self.clock()
        with self._restore_on_error(), transaction(self.cache) as db:
            for a, b in itertools.combinations(self._row["patient_ids"], 2):
                queue.record_decision(db, a, b, outcome)
            if outcome != "later":
                self._row.update(status="cancelled", outcome=outcome)
            self._row["updated_at"] = stamp
            store.save_plan(db, self._row)
            store.log_step(db, self.plan_id, self.step.value, self.step.value, stamp, outcome)
            _audit_plan(self.cache, self._row, f"merge cancelled: {outcome}")
            if self.timer is not None and not self.timer.finished:
                self.timer.finish(outcome)

    def poll_once(self, session: Session) -> bool:
        """Look once whether Cliniko merged the duplicates into the survivor.

        Call it on a timer at MERGE_IN_CLINIKO or WAIT_FOR_MERGE. Returns True once DONE (the
        cache, queue and time log are updated), False while not merged yet.

        Raises:
            MergedIntoOther: a duplicate went into another patient (the step stays).
            ClinikoError: the API failed (the step stays).
        """
        if self.step is Step.DONE:
            return True
        if self.step not in (Step.MERGE_IN_CLINIKO, Step.WAIT_FOR_MERGE) or self.finished:
            raise StepError(f"nothing to poll at {self.step.value}")
        survivor_id = str(self._row["survivor_id"])
        try:
            result = executor.poll_duplicates(
                session.client, survivor_id, self._row["duplicate_ids"]
            )
            survivor = session.client.get_patient(survivor_id) if result.done else None
        except (MergeError, ClinikoError) as exc:
            self._failed(session, exc)
            raise
        if not result.done:
            with transaction(self.cache):
                session.audit.write_pending()
            return False
        assert survivor is not None
        with self._restore_on_error(), transaction(self.cache) as db:
            upsert_patients(db, [survivor, *result.records.values()])
            forget_history(db, self._row["patient_ids"])  # history moved: fetch it again
            self._row.update(status="done", outcome="merged", last_error=None)
            self._move(Step.DONE, session)
        return True

    def fetch_history(self, session: Session) -> dict[str, dict[str, int]]:
        """Fetch each record's history counts live and cache them (for COMPARE)."""
        counts: dict[str, dict[str, int]] = {}
        try:
            for pid in self._row["patient_ids"]:
                counts[pid] = session.client.history_counts(pid)
        finally:
            with transaction(self.cache) as db:
                save_history(db, counts, self.clock())
                session.audit.write_pending()
        return counts

    # ----------------------------------------------------------------- internals

    @contextmanager
    def _restore_on_error(self) -> Iterator[None]:
        """On an error, go back to what the cache holds (a failed transaction rolled back)."""
        saved = copy.deepcopy(self._row)
        try:
            yield
        except BaseException:
            try:
                self._row = store.get_plan(self.cache.db, self.plan_id) or saved
            except Exception:  # the cache itself failed: keep the copy from before
                self._row = saved
            raise

    def _choose_survivor(self, survivor_id: str | None) -> None:
        ids = self._row["patient_ids"]
        if survivor_id is None or str(survivor_id) not in ids:
            raise StepError("the survivor must be one of the pair's records")
        sid = str(survivor_id)
        if sid != self._row["survivor_id"]:
            self._row["decisions"], self._row["base_values"] = {}, {}
        self._row["survivor_id"] = sid
        self._row["duplicate_ids"] = [i for i in ids if i != sid]

    def _apply_decisions(self, decisions: Mapping[str, Any]) -> None:
        unknown = [f for f in decisions if f not in WRITABLE_FIELDS]
        if unknown:
            raise StepError(f"not writable: {', '.join(sorted(unknown))}")
        survivor, _ = self._survivor_and_duplicates()
        merged = {**self._row["decisions"], **decisions}
        self._row["decisions"] = merged
        self._row["base_values"] = {f: field_value(survivor, f) for f in merged}

    def _fill_defaults(self) -> None:
        if self._row["decisions"]:
            return
        survivor, duplicates = self._survivor_and_duplicates()
        self._row["decisions"] = decisions_from(default_reconciliation(survivor, *duplicates))
        self._row["base_values"] = {f: field_value(survivor, f) for f in self._row["decisions"]}

    def _update_survivor(self, session: Session) -> Step:
        def before_write(fields: Sequence[str]) -> None:
            stamp = self.clock()
            with transaction(self.cache) as db:
                store.log_step(db, self.plan_id, self.step.value, self.step.value, stamp,
                               WRITING_NOTE)  # fmt: skip
                session.audit.write_pending()

        try:
            result = executor.update_survivor(session.client, self.plan, before_write)
            url = self._merge_url(session)
        except (MergeError, ClinikoError) as exc:
            self._failed(session, exc)
            raise
        with transaction(self.cache) as db:
            upsert_patients(db, [result.survivor])
            self._row.update(written_sha256=result.written_sha256, merge_url=url, last_error=None)
            note = "sent " + (", ".join(result.sent_fields) or "nothing")
            self._move(Step.MERGE_IN_CLINIKO, session, note=note)
        return self.step

    def _merge_url(self, session: Session) -> str:
        base, sid = session.client.base_url, str(self._row["survivor_id"])
        if executor.is_loopback(base):
            return executor.merge_page_url(base, sid)
        account = stored_account(self.cache.db)
        if account is None or account.web_root is None:
            account = fetch_account(session.client)
            remember_account(self.cache, account)
        return executor.merge_page_url(base, sid, account)

    def _failed(self, session: Session, exc: Exception) -> None:
        message = getattr(exc, "user_message", None) or "The step failed."
        stamp = self.clock()
        with transaction(self.cache) as db:
            self._row.update(last_error=message, updated_at=stamp)
            store.save_plan(db, self._row)
            store.log_step(db, self.plan_id, self.step.value, self.step.value, stamp,
                           f"failed: {type(exc).__name__}")  # fmt: skip
            session.audit.write_pending()

    def _move(self, to: Step, session: Session | None, *, note: str = "") -> None:
        """Persist the move (plan row, step log, queue status, audit, timer) atomically."""
        from_step = self.step
        if to is Step.RECONCILE and from_step is Step.CHOOSE_SURVIVOR:
            self._fill_defaults()
        stamp = self.clock()
        log.info("merge plan %s: %s -> %s", self.plan_id, from_step.value, to.value)
        with transaction(self.cache) as db:
            self._row.update(step=to.value, updated_at=stamp)
            store.save_plan(db, self._row)
            store.log_step(db, self.plan_id, from_step.value, to.value, stamp, note)
            _audit_plan(self.cache, self._row, f"merge step {from_step.value} -> {to.value}")
            status = PAIR_STATUS.get(to)
            if to is Step.REVIEW and from_step is Step.READY:
                status = "planned"
            if status is not None and to != from_step:
                for a, b in itertools.combinations(self._row["patient_ids"], 2):
                    queue.set_status(db, a, b, status)
            if session is not None:
                session.audit.write_pending()
            if self.timer is not None and not self.timer.finished:
                if to is Step.DONE:
                    self.timer.finish("merged")
                else:
                    self.timer.enter_step(to.value)


def _audit_plan(cache: Cache, row: Mapping[str, Any], action: str) -> None:
    """The administrator's act on a plan in the audit trail (ids only; joins the transaction)."""
    ids = " ".join(row["patient_ids"])
    subject = f"plan {row['plan_id']} survivor {row['survivor_id'] or '-'} patients {ids}"
    audit_trail(cache).record_event(action, subject)


def already_merged(cache: Cache, ids: Sequence[str]) -> bool:
    """True when the cache shows the pair merged: a record merged into another of them, a pair
    marked merged in the queue, or a finished plan of theirs that ended merged."""
    wanted = set(ids)
    for pid in ids:
        record = get_patient(cache.db, pid)
        if record and record.get("merged_at") and merged_into(record) in wanted:
            return True
    for a, b in itertools.combinations(sorted(wanted), 2):
        pair = queue.get_pair(cache.db, a, b)
        if pair is not None and pair.get("status") == "merged":
            return True
    latest = store.latest_plan_for(cache.db, pair_key(ids))
    return latest is not None and latest.get("outcome") == "merged"


def check_merged_in_cliniko(cache: Cache, session: Session, ids: Sequence[str]) -> None:
    """Ask Cliniko whether one of the records is merged into another of them; if so, keep
    what it says in the cache and refuse.

    Raises:
        AlreadyMerged: Cliniko shows the pair merged.
    """
    wanted = set(ids)
    records = [session.client.get_patient(pid) for pid in ids]
    merged = [r for r in records if r.get("merged_at") and merged_into(r) in wanted]
    with transaction(cache) as db:
        if merged:
            upsert_patients(db, merged)
        session.audit.write_pending()
    if merged:
        raise AlreadyMerged("Cliniko shows the pair merged")
