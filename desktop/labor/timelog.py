"""The time log: how long every piece of review and merge work took, and who did it.

One *work session* is one stretch of work on one pair (or cluster), from opening it to an
outcome. The UI calls, on the GUI thread::

    log = TimeLog(cache)                       # who: the Cliniko user + the OS user
    work = log.start(["1001", "1002"])         # the pair is opened
    work.enter_step("compare")                 # each wizard page (or queue view) entered
    work.input_at()                            # on key presses and mouse clicks
    work.finish("not_same")                    # merged, not_same, later, skipped, planned,
                                               # restored, abandoned

Active time counts the gaps between consecutive events (start, input, step changes, finish)
that are no longer than the idle threshold; a longer gap (the person was away) counts nothing.
**Waiting for Cliniko's merge** is the exception: while the session is on a step of
:data:`WAIT_STEPS` (the wizard open on "Merge in Cliniko", where the person works in the
browser and the app sees no input), the whole time on the step counts, up to ``wait_cap``
seconds per session (``Settings.merge_wait_cap_minutes``, 20 min); a wait longer than the cap
counts the cap (a *cap hit*: the step's wall time exceeds its active time). When a merge is
detected after Cliniko made it (``finish("merged")`` with the merged records' ``merged_at``
in the cache, earlier than now), the wait and the session end at Cliniko's ``merged_at``.
Wall time per step runs from entering it to entering the next one (or finishing).

Every call writes in its own durable transaction before returning (``input_at`` at most once
per ``min_write_interval`` seconds, default 1 s, so a burst of mouse events costs one write; a
crash loses at most that much). One session is open at a time: :meth:`TimeLog.start` closes any
other open one as ``abandoned`` (pass the same session to the wizard that the queue view
started for the pair). **After a crash** an unfinished session is closed as
``abandoned`` at its last recorded event, the next time :meth:`TimeLog.start` or
:meth:`TimeLog.close_abandoned` runs; reopening the pair starts a new session. The time spent
before the crash is therefore kept (and costed), and the time the app was closed is not.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop import merge_states
from desktop.audit import current_os_user
from desktop.config import Settings
from desktop.merge_states import Outcome
from desktop.store import account_state
from desktop.store import time_log as store
from desktop.store.cache import Cache
from desktop.store.transaction import transaction
from desktop.timestamps import parse_timestamp

OUTCOMES = tuple(Outcome)
WAIT_STEPS = frozenset(merge_states.WAIT_STEPS)  # Cliniko's page is open
Moment = float | dt.datetime | None


def _epoch(moment: Moment, clock: Callable[[], float]) -> float:
    if moment is None:
        return float(clock())
    if isinstance(moment, dt.datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return aware.timestamp()
    return float(moment)


def _pair_key(ids: Sequence[str]) -> str:
    return ":".join(sorted({str(i) for i in ids}))


class WorkSession:
    """The timing of one stretch of work on one pair; see the module docstring."""

    def __init__(self, log: TimeLog, row: dict[str, Any]) -> None:
        self._log = log
        self.session_id: str = row["session_id"]
        self.patient_ids: tuple[str, ...] = tuple(json.loads(row["patient_ids"]))
        self.plan_id: str | None = row["plan_id"]
        self.idle_threshold = float(row["idle_threshold"])
        self.started_at = float(row["started_at"])
        self.last_event_at = float(row["last_event_at"])
        self.ended_at: float | None = row["ended_at"]
        self.active_seconds = float(row["active_seconds"])
        self.current_step: str | None = row["current_step"]
        self.step_entered_at: float | None = row["step_entered_at"]
        self.outcome: str | None = row["outcome"]
        self.step_wall: dict[str, float] = {}
        self.step_active: dict[str, float] = {}
        self._written_at = self.last_event_at

    # ----------------------------------------------------------------- what the UI calls

    def input_at(self, t: Moment = None) -> None:
        """Record keyboard or mouse activity at ``t`` (default: now); ignored once finished."""
        if self.finished:
            return
        at = self._now(t)
        self._activity(at)
        if at - self._written_at >= self._log.min_write_interval:
            self._write()

    def away_at(self, t: Moment = None) -> None:
        """Record activity elsewhere at ``t`` (another window: the report, the settings): the
        time since the last event is not this pair's, so the next gap counts from here."""
        if not self.finished:
            self.last_event_at = max(self.last_event_at, self._now(t))

    def enter_step(self, name: str, t: Moment = None) -> None:
        """The person moved to step ``name`` at ``t`` (entering the current step is a no-op)."""
        at = self._now(t)
        self._activity(at)
        if name != self.current_step:
            self._close_step(at)
            self.current_step, self.step_entered_at = name, at
        self._write()

    def finish(self, outcome: str, t: Moment = None) -> None:
        """End the session with ``outcome`` (one of :data:`OUTCOMES`)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        at = self._now(t)
        if outcome == Outcome.MERGED and t is None:
            at = self._merged_in_cliniko_at(at)
        self._activity(at)
        self._close_step(at)
        self.ended_at, self.outcome = at, outcome
        self._write()

    def set_plan(self, plan_id: str | None) -> None:
        """Link the session to a merge plan."""
        self.plan_id = plan_id
        self._write()

    # ----------------------------------------------------------------- reading

    @property
    def finished(self) -> bool:
        """True once :meth:`finish` ran."""
        return self.ended_at is not None

    @property
    def wall_seconds(self) -> float:
        """From start to finish (or to the last event while running)."""
        return (self.ended_at or self.last_event_at) - self.started_at

    def step_seconds(self) -> dict[str, float]:
        """Wall seconds per step so far (the current step up to the last event)."""
        totals = dict(self.step_wall)
        if self.current_step is not None and self.step_entered_at is not None and not self.finished:
            extra = max(0.0, self.last_event_at - self.step_entered_at)
            totals[self.current_step] = totals.get(self.current_step, 0.0) + extra
        return totals

    @property
    def wait_seconds(self) -> tuple[float, float]:
        """(wall, counted) seconds on the wait steps so far."""
        wall = sum(v for k, v in self.step_wall.items() if k in WAIT_STEPS)
        counted = sum(v for k, v in self.step_active.items() if k in WAIT_STEPS)
        return wall, counted

    # ----------------------------------------------------------------- internals

    def _merged_in_cliniko_at(self, now: float) -> float:
        """When a wait ends with a merge: Cliniko's ``merged_at`` if earlier than ``now``."""
        if self.current_step not in WAIT_STEPS or self.step_entered_at is None:
            return now
        stamp = store.latest_merged_at(self._log.cache.db, self.patient_ids)
        if stamp is None:
            return now
        moment = parse_timestamp(stamp)
        if moment is None:
            return now
        merged = _epoch(moment, time.time)
        return now if merged >= now else max(self.step_entered_at, merged)

    def _now(self, t: Moment) -> float:
        if self.finished:
            raise RuntimeError("this work session is already finished")
        return _epoch(t, self._log.clock)

    def _activity(self, at: float) -> None:
        gap = at - self.last_event_at
        if self.current_step in WAIT_STEPS:
            pass  # the whole wait is counted (up to the cap) when the step closes
        elif 0 < gap <= self.idle_threshold:
            self.active_seconds += gap
            step = self.current_step
            if step is not None:
                self.step_active[step] = self.step_active.get(step, 0.0) + gap
        self.last_event_at = max(self.last_event_at, at)

    def _close_step(self, at: float) -> None:
        if self.current_step is not None and self.step_entered_at is not None:
            step = self.current_step
            spent = max(0.0, at - self.step_entered_at)
            self.step_wall[step] = self.step_wall.get(step, 0.0) + spent
            self.step_entered_at = at
            if step in WAIT_STEPS:
                counted = min(spent, max(0.0, self._log.wait_cap - self.wait_seconds[1]))
                self.step_active[step] = self.step_active.get(step, 0.0) + counted
                self.active_seconds += counted

    def _write(self) -> None:
        with transaction(self._log.cache) as db:
            progress = {
                "plan_id": self.plan_id, "last_event_at": self.last_event_at,
                "ended_at": self.ended_at, "active_seconds": self.active_seconds,
                "current_step": self.current_step, "step_entered_at": self.step_entered_at,
                "outcome": self.outcome,
            }  # fmt: skip
            if not store.update_open_session(db, self.session_id, progress):
                self._adopt_stored(db)  # closed as abandoned when another session started
                return
            store.save_step_times(db, self.session_id, self.step_wall, self.step_active)
        self._written_at = self.last_event_at

    def _adopt_stored(self, db: Any) -> None:
        """Take over the stored end of a session that was closed elsewhere."""
        end = store.session_end(db, self.session_id)
        if end is not None:
            self.ended_at, self.outcome, self.active_seconds, self.last_event_at = end


class TimeLog:
    """Starts work sessions and closes those a crash left open.

    Args:
        cache: the open cache.
        cliniko_user: who owns the API key (default: the label ``Session.identify_user`` kept,
            read as each session starts: the first connect happens after the window opens).
        os_user: the OS account (default: the current one).
        idle_threshold: seconds without input after which a gap stops counting as active
            (default: ``Settings.idle_threshold_seconds``, 120).
        clock: epoch seconds now (inject a fake one in tests).
        min_write_interval: ``input_at`` writes at most this often (seconds).
        wait_cap: seconds of waiting for Cliniko's merge that count per session (default:
            ``Settings.merge_wait_cap_minutes`` x 60, 20 minutes).
    """

    def __init__(
        self,
        cache: Cache,
        *,
        cliniko_user: str | None = None,
        os_user: str | None = None,
        idle_threshold: float | None = None,
        clock: Callable[[], float] = time.time,
        min_write_interval: float = 1.0,
        wait_cap: float | None = None,
    ) -> None:
        self.cache = cache
        self.wait_cap = float(
            Settings().merge_wait_cap_minutes * 60 if wait_cap is None else wait_cap
        )
        self._cliniko_user = cliniko_user
        self.os_user = os_user if os_user is not None else current_os_user()
        self.idle_threshold = float(
            Settings().idle_threshold_seconds if idle_threshold is None else idle_threshold
        )
        self.clock = clock
        self.min_write_interval = min_write_interval

    @classmethod
    def from_settings(cls, cache: Cache, settings: Settings) -> TimeLog:
        """The time log with the idle threshold and the merge wait cap of ``settings``."""
        return cls(
            cache, idle_threshold=settings.idle_threshold_seconds,
            wait_cap=settings.merge_wait_cap_minutes * 60,
        )  # fmt: skip

    @property
    def cliniko_user(self) -> str:
        """Who the next session is attributed to: the one given, else who last connected."""
        if self._cliniko_user is not None:
            return self._cliniko_user
        return account_state.cliniko_user(self.cache.db)

    def start(
        self,
        patient_ids: Sequence[str],
        *,
        plan_id: str | None = None,
        step: str | None = None,
        t: Moment = None,
    ) -> WorkSession:
        """Begin timing work on a pair (or cluster); closes sessions a crash left open first."""
        at = _epoch(t, self.clock)
        ids = sorted({str(i) for i in patient_ids})
        row = {
            "session_id": secrets.token_hex(8), "pair_key": _pair_key(ids),
            "patient_ids": json.dumps(ids), "plan_id": plan_id,
            "cliniko_user": self.cliniko_user, "os_user": self.os_user,
            "idle_threshold": self.idle_threshold, "started_at": at, "last_event_at": at,
            "ended_at": None, "active_seconds": 0.0, "current_step": None,
            "step_entered_at": None, "outcome": None,
        }  # fmt: skip
        with transaction(self.cache) as db:
            self._close_open(db)
            store.insert_session(db, row)
        session = WorkSession(self, row)
        if step is not None:
            session.enter_step(step, at)
        return session

    def close_abandoned(self) -> int:
        """Close every unfinished session as ``abandoned``; returns how many (call at start-up)."""
        with transaction(self.cache) as db:
            return self._close_open(db)

    def _close_open(self, db: Any) -> int:
        return store.close_unfinished(db, WAIT_STEPS, self.wait_cap)


# ----------------------------------------------------------------------------- report rows


@dataclass(frozen=True)
class TimeRow:
    """One finished work session, as the labor-cost report needs it (ids only, no names)."""

    session_id: str
    date: dt.date
    started_at: dt.datetime
    ended_at: dt.datetime
    outcome: str
    active_minutes: float
    wall_minutes: float
    step_seconds: dict[str, float]
    step_active_seconds: dict[str, float]
    cliniko_user: str
    os_user: str
    patient_ids: tuple[str, ...]
    plan_id: str | None


def _bound(value: dt.date | dt.datetime | float, tz: dt.tzinfo) -> float:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).timestamp()
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=tz).timestamp()
    return float(value)


def rows(
    cache: Cache,
    start: dt.date | dt.datetime | float,
    end: dt.date | dt.datetime | float,
    *,
    tz: dt.tzinfo | None = None,
    include_open: bool = False,
) -> list[TimeRow]:
    """Work sessions that started in ``[start, end)``, oldest first.

    Dates and naive datetimes are read in ``tz`` (default: the computer's local zone), and each
    row's ``date`` is its start's day in that zone. Unfinished sessions are left out unless
    ``include_open`` (they then end at their last event, outcome ``"open"``).
    """
    zone = tz or dt.datetime.now().astimezone().tzinfo or dt.UTC
    start_at, end_at = _bound(start, zone), _bound(end, zone)
    found = store.sessions_started_between(cache.db, start_at, end_at, include_open=include_open)
    steps = store.step_times_started_between(cache.db, start_at, end_at)
    out = []
    for r in found:
        ended = r["ended_at"] if r["ended_at"] is not None else r["last_event_at"]
        started = dt.datetime.fromtimestamp(r["started_at"], zone)
        walls, actives = steps.get(r["session_id"], ({}, {}))
        out.append(
            TimeRow(
                session_id=r["session_id"], date=started.date(), started_at=started,
                ended_at=dt.datetime.fromtimestamp(ended, zone), outcome=r["outcome"] or "open",
                active_minutes=float(r["active_seconds"]) / 60.0,
                wall_minutes=(ended - r["started_at"]) / 60.0, step_seconds=dict(walls),
                step_active_seconds=dict(actives), cliniko_user=r["cliniko_user"],
                os_user=r["os_user"], patient_ids=tuple(json.loads(r["patient_ids"])),
                plan_id=r["plan_id"],
            )
        )  # fmt: skip
    return out
