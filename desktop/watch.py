"""The watch: catch a duplicate the day it is made, before two histories grow apart.

Every interval (15 minutes by default) the watch runs an incremental sync and re-score (one
request when nothing changed) and reports, through a callback, each likely or possible pair
it has not seen before: which record is new, when it was created, in which window of the
clinic's week (:mod:`desktop.intake`), and what the record says about how it was made (a note
such as "Created by ... assistant", a referral source, the creating user when the API gives
one). It keeps the clinic's upcoming appointments and recent treatment notes (one paged
request each for the whole clinic, refreshed daily; appointments also when new pairs arrive;
:mod:`desktop.activity`) for triage, and the live intake exception rate
with its alarm. Offline or when Cliniko is unavailable it backs off exponentially (capped);
it resumes where it stopped, as sync does: what it has seen is in the cache. No Qt here::

    watch = Watch(session, on_event=print)
    watch.run(stop_event)          # or watch.run_once() from a scheduler (``--once``)
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import sqlite_utils

from desktop.activity import (
    APPOINTMENTS_AT,
    APPOINTMENTS_CHECKED,
    NOTES_AT,
    fetch_recent_notes,
    fetch_upcoming_appointments,
)
from desktop.cliniko.errors import ClinikoUnavailable, Offline, RateLimited, UnexpectedResponse
from desktop.config import Settings
from desktop.intake import (
    INTAKE_DAYS,
    CreationWindow,
    IntakeReport,
    account_time_zone,
    creation_window,
    intake_report,
)
from desktop.labor.timelog import TimeLog
from desktop.matching import MatchSettings
from desktop.merge.batch import finish_merged_plans
from desktop.reconcile import DEFAULT_INTERVAL
from desktop.scan import run_scan
from desktop.session import Session
from desktop.store import watch as watch_store
from desktop.store.appointments import next_appointments
from desktop.store.queue import decode_evidence
from desktop.store.sync_state import get_state, set_state
from desktop.store.transaction import transaction
from desktop.sync import run_sync
from desktop.timestamps import parse_timestamp, utc_stamp
from desktop.triage import RECENT_NOTES_DAYS

log = logging.getLogger(__name__)

# sync_state keys (and those of desktop.activity)
APPOINTMENTS_OVERLAP = timedelta(seconds=120)
LAST_RUN_AT = "watch.last_run_at"
BASELINE_DONE = "watch.baseline_done"
WATCHING_SINCE = "watch.since"  # when the watch first ran: older records are not news
# When the last scan whose pairs the watch took in began (this computer's clock, as the
# queue's scored_at): pairs scored since then are looked at, so those of a scan whose interval
# ended before taking them in (a kill, a failure), or of a scan made from the window, are news.
TAKEN_IN_FROM = "watch.taken_in_from"
ALARM_ON = "watch.intake_alarm"

# What a note says when a phone or chat assistant made the record.
_ASSISTANT_NOTE = re.compile(r"\b(?:created|added|made|booked)\s+(?:by|via)\b[^.\n]{0,80}?"
                             r"\bassistant\b", re.IGNORECASE)  # fmt: skip
# Tried again later, with back-off: no connection, Cliniko down or limiting, or an answer the
# watch could not use (a listing going round in circles, a body that is no JSON).
_TRANSIENT = (Offline, ClinikoUnavailable, RateLimited, UnexpectedResponse)
Clock = Callable[[], float]


@dataclass(frozen=True)
class WatchSettings:
    """How often the watch looks, and how it backs off."""

    every_seconds: float = 15 * 60
    appointment_days: int = 14  # the window of upcoming appointments kept for triage
    appointments_max_age_seconds: float = 24 * 3600  # the whole window (and notes), this often
    recent_notes_days: int = RECENT_NOTES_DAYS  # treatment notes this recent count for triage
    backoff_first_seconds: float = 60.0
    backoff_cap_seconds: float = 30 * 60
    intake_days: int = INTAKE_DAYS  # the live intake rate covers this many days back
    intake_threshold: float = 0.03
    intake_minimum: int = 50
    # how old the last full comparison with Cliniko may be before an interval's sync makes one
    reconcile_every: timedelta | None = DEFAULT_INTERVAL

    @classmethod
    def from_settings(cls, settings: Settings) -> WatchSettings:
        """The administrator's choices from the settings file."""
        return cls(
            every_seconds=settings.watch_every_minutes * 60.0,
            intake_threshold=settings.intake_alarm_threshold,
            intake_minimum=settings.intake_alarm_minimum,
            reconcile_every=settings.reconcile_interval,
        )


@dataclass(frozen=True)
class NewPair:
    """A likely or possible pair the watch found, and how its newer record came to be."""

    id_a: str
    id_b: str
    band: str
    probability: float
    new_id: str  # the later-created record of the two
    other_id: str
    created_at: datetime | None  # of the new record (UTC)
    window: CreationWindow | None  # of ``created_at``, on the clinic's clock
    signals: tuple[str, ...]  # what the record says about how it was made
    why: tuple[str, ...]  # the strongest evidence, in words (no patient data)
    next_appointments: dict[str, str] = field(default_factory=dict)  # id -> UTC text


@dataclass
class IntervalReport:
    """What one interval did."""

    started_at: datetime
    requests: int = 0
    changed: int = 0
    new_pairs: list[NewPair] = field(default_factory=list)
    intake: IntakeReport | None = None
    appointments_fetched: bool = False  # the cached appointments or treatment notes changed
    merges_finished: list[str] = field(default_factory=list)  # plans Cliniko's merge ended
    offline: str = ""  # the plain-words reason, when the interval could not reach Cliniko
    next_in: float = 0.0  # seconds until the next interval
    # (patient, survivor): merged into a MergeDesk merge's record that stays, not in its plan
    merged_outside: list[tuple[str, str]] = field(default_factory=list)
    # The watch's first look: how many pairs of the queue it took as its starting point (not
    # news); None on every later look.
    baseline: int | None = None

    def checked_words(self) -> str:
        """What a look asked for now ("Check now") found, in a line."""
        if self.offline:
            minutes = max(1, round(self.next_in / 60))
            return f"Checked now: {self.offline} The watch tries again in {minutes} min."
        found = len(self.new_pairs)
        if not found:
            return "Checked now: no new duplicates."
        return f"Checked now: {found:,} new pair{'s' if found != 1 else ''}."

    def baseline_words(self) -> str:
        """The first look's line: the pairs already in the queue are not news ("" later)."""
        if self.baseline is None:
            return ""
        known = f"{self.baseline:,} pair{'s' if self.baseline != 1 else ''}"
        return (
            f"First look: the watch takes the {known} already in the queue as known; from now "
            "on it announces each new duplicate."
        )


def live_intake(
    db: sqlite_utils.Database, settings: WatchSettings, now: datetime, tz: tzinfo
) -> IntakeReport:
    """The live intake exception rate: the settings' last days up to ``now``, judged by their
    threshold and minimum."""
    return intake_report(
        db,
        now - timedelta(days=settings.intake_days),
        now + timedelta(seconds=1),
        tz,
        threshold=settings.intake_threshold,
        minimum=settings.intake_minimum,
    )


@dataclass(frozen=True)
class WatchEvent:
    """What the watch tells its listener: ``pair`` (a new pair), ``alarm`` (the intake rate
    crossed its threshold), ``offline`` (retrying later), ``interval`` (one interval done)."""

    kind: str
    report: IntervalReport
    pair: NewPair | None = None
    message: str = ""
    # Why an ``offline`` interval failed: the listener tells a lost connection from Cliniko
    # answering but not serving (too many requests), as for any other call.
    error: Exception | None = None


def source_signals(origin: dict[str, Any]) -> tuple[str, ...]:
    """What a record says about how it was made, in words (no patient data)."""
    found = []
    match = _ASSISTANT_NOTE.search(origin.get("notes") or "")
    if match:
        found.append(f'note: "{match.group(0).strip()}"')
    referral = (origin.get("referral_source") or "").strip()
    if referral:
        found.append(f"referral source: {referral[:60]}")
    creator = origin.get("created_by")
    if creator:
        found.append(f"created by Cliniko user {creator}")
    return tuple(found)


def why_flagged(evidence: Iterable[dict[str, Any]], limit: int = 3) -> tuple[str, ...]:
    """The strongest evidence for a pair, in words that name no value."""
    points = sorted(
        (e for e in evidence if e.get("field") != "prior" and (e.get("weight") or 0) > 0),
        key=lambda e: -float(e.get("weight") or 0),
    )
    words = []
    for e in points[:limit]:
        # An alias names both first names: say what it is without them.
        words.append("a nickname or preferred name" if e.get("level") == "alias" else e["text"])
    return tuple(words)


class Watch:
    """Sync, re-score and report new pairs, interval after interval (see the module doc)."""

    def __init__(
        self,
        session: Session,
        *,
        settings: WatchSettings | None = None,
        match_settings: MatchSettings | None = None,
        on_event: Callable[[WatchEvent], None] | None = None,
        clock: Clock = time.time,
        failures: int = 0,
    ) -> None:
        """``failures``: intervals that could not reach Cliniko so far (for the back-off, when
        the caller makes a new Watch for each interval)."""
        self.session = session
        self.cache = session.cache
        self.settings = settings or WatchSettings()
        self.match_settings = match_settings or MatchSettings()
        self.on_event = on_event or (lambda event: None)
        self.clock = clock
        self.failures = failures
        if get_state(self.cache.db, WATCHING_SINCE) is None:
            with transaction(self.cache) as db:
                set_state(db, WATCHING_SINCE, utc_stamp(datetime.fromtimestamp(clock(), UTC)))

    # ----- one interval ----------------------------------------------------------------------
    def run_once(self) -> IntervalReport:
        """One interval: sync, re-score, report new pairs and the intake rate. Offline or
        with Cliniko unavailable, reports that and schedules a retry with back-off."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        report = IntervalReport(started_at=now)
        try:
            self._interval(report, now)
        except _TRANSIENT as error:
            self.failures += 1
            delay = min(
                self.settings.backoff_cap_seconds,
                self.settings.backoff_first_seconds * 2 ** (self.failures - 1),
            )
            report.offline = getattr(error, "user_message", "") or "Cliniko could not be reached."
            report.next_in = delay
            log.info("Watch: Cliniko unreachable; trying again in %.0f s", delay)
            self.on_event(WatchEvent("offline", report, message=report.offline, error=error))
            return report
        self.failures = 0
        report.next_in = self.settings.every_seconds
        self.on_event(WatchEvent("interval", report))
        return report

    def _interval(self, report: IntervalReport, now: datetime) -> None:
        synced = run_sync(self.session, reconcile_every=self.settings.reconcile_every)
        report.requests += synced.requests
        report.merged_outside = synced.merged_outside
        if synced.cancelled:
            return
        # A merge done in Cliniko with no merge window open (after Apply all) ends its plan.
        report.merges_finished = finish_merged_plans(self.cache, self.session, TimeLog(self.cache))
        scan_began = utc_stamp()
        summary = run_scan(self.cache, settings=self.match_settings)
        report.changed = summary.changed
        tz = account_time_zone(self.cache.db)
        if get_state(self.cache.db, BASELINE_DONE) != "1":
            with transaction(self.cache) as db:
                # The queue the watch starts from is not news; what was made since it started
                # is. A creation time a day or more after now is a clock or an import gone
                # wrong (a record made while this interval ran is still news).
                report.baseline = watch_store.record_baseline(
                    db, get_state(db, WATCHING_SINCE) or "", utc_stamp(now + timedelta(days=1))
                )
                set_state(db, BASELINE_DONE, "1")
                set_state(db, TAKEN_IN_FROM, "")  # every pair the baseline left is news
        # The bookings are read before the pairs are taken in, so a run ended meanwhile (a
        # kill, a failed request) leaves them for the next; taken in, they are said at once.
        new_pairs = bool(self._unseen(scan_began))
        try:
            fetched = self._refresh_activity(now, new_pairs)
        finally:
            self._take_in(report, now, tz, scan_began)
        report.requests += fetched
        report.appointments_fetched = fetched > 0
        report.intake = live_intake(self.cache.db, self.settings, now, tz)
        self._alarm(report)

    def _unseen(self, scan_began: str) -> list[dict[str, Any]]:
        """The pairs scored since the last scan whose pairs the watch took in (this one's,
        the first time) that are new to it."""
        taken_from = get_state(self.cache.db, TAKEN_IN_FROM)
        return watch_store.unseen_pairs(
            self.cache.db, scan_began if taken_from is None else taken_from
        )

    def _take_in(self, report: IntervalReport, now: datetime, tz: tzinfo, scan_began: str) -> None:
        """Record the new pairs as found, with their next bookings, and say each."""
        with transaction(self.cache) as db:
            pairs = self._describe(self._unseen(scan_began), tz)
            watch_store.record_found(
                db,
                [
                    (p.id_a, p.id_b, p.band, p.new_id,
                     utc_stamp(p.created_at) if p.created_at else None,
                     p.window.value if p.window else None, "\n".join(p.signals),
                     utc_stamp(now))
                    for p in pairs
                ],
            )  # fmt: skip
            set_state(db, LAST_RUN_AT, utc_stamp(now))
            set_state(db, TAKEN_IN_FROM, scan_began)
        if pairs:
            booked = next_appointments(
                self.cache.db, {i for p in pairs for i in (p.id_a, p.id_b)}, utc_stamp(now)
            )
            pairs = [replace(p, next_appointments=_booked(booked, p)) for p in pairs]
        report.new_pairs = pairs
        for pair in pairs:
            self.on_event(WatchEvent("pair", report, pair=pair))

    def _describe(self, found: list[dict[str, Any]], tz: tzinfo) -> list[NewPair]:
        """Which record of each found pair is new, when and how it was made."""
        if not found:
            return []
        origins = watch_store.record_origins(
            self.cache.db, {i for row in found for i in (row["id_a"], row["id_b"])}
        )
        pairs = []
        for row in found:
            a, b = row["id_a"], row["id_b"]
            created = {i: parse_timestamp((origins.get(i) or {}).get("created_at")) for i in (a, b)}
            epoch = datetime.min.replace(tzinfo=UTC)
            new_id = max((a, b), key=lambda i: (created[i] or epoch, int(i) if i.isdigit() else 0))
            other = b if new_id == a else a
            when = created[new_id]
            pairs.append(
                NewPair(
                    id_a=a,
                    id_b=b,
                    band=row["band"],
                    probability=float(row["probability"]),
                    new_id=new_id,
                    other_id=other,
                    created_at=when,
                    window=creation_window(when, tz) if when else None,
                    signals=source_signals(origins.get(new_id) or {}),
                    why=why_flagged(decode_evidence(row["evidence"])),
                )
            )
        return pairs

    # ----- clinical activity (upcoming appointments, recent treatment notes) ----------------
    def _stale(self, key: str, now: datetime) -> bool:
        fetched = parse_timestamp(get_state(self.cache.db, key))
        age = self.settings.appointments_max_age_seconds
        return fetched is None or (now - fetched).total_seconds() >= age

    def _refresh_activity(self, now: datetime, new_pairs: bool) -> int:
        """Fetch the clinic's upcoming appointments (the whole window when the cached one is a
        day old; what was booked or changed since the last look when new pairs arrived: their
        bookings are news too) and, daily, the treatment notes written since the last look.
        Returns the requests made."""
        requests = 0
        end = now + timedelta(days=self.settings.appointment_days)
        if self._stale(APPOINTMENTS_AT, now):
            requests += fetch_upcoming_appointments(self.session, now, end)
        elif new_pairs:
            db = self.cache.db
            checked = parse_timestamp(
                get_state(db, APPOINTMENTS_CHECKED) or get_state(db, APPOINTMENTS_AT)
            )
            assert checked is not None
            requests += fetch_upcoming_appointments(
                self.session, now, end, changed_since=checked - APPOINTMENTS_OVERLAP
            )
        if self._stale(NOTES_AT, now):
            since = now - timedelta(days=self.settings.recent_notes_days)
            last = parse_timestamp(get_state(self.cache.db, NOTES_AT))
            requests += fetch_recent_notes(
                self.session, since, now, written_since=last and last - APPOINTMENTS_OVERLAP
            )
        return requests

    # ----- intake ----------------------------------------------------------------------------
    def _alarm(self, report: IntervalReport) -> None:
        """Say so when the intake rate crosses its threshold (once, until it falls back)."""
        assert report.intake is not None
        was_on = get_state(self.cache.db, ALARM_ON) == "1"
        is_on = report.intake.alarm
        if is_on != was_on:
            with transaction(self.cache) as db:
                set_state(db, ALARM_ON, "1" if is_on else "0")
        if is_on and not was_on:
            self.on_event(WatchEvent("alarm", report, message=report.intake.alarm_text()))

    # ----- the loop --------------------------------------------------------------------------
    def run(self, stop: threading.Event, wait: Callable[[float], bool] | None = None) -> None:
        """Run intervals until ``stop`` is set (setting it also cancels a sync in flight)."""
        wait = wait or stop.wait
        cancel = self.session.cancel

        def relay() -> None:
            stop.wait()
            cancel.set()

        threading.Thread(target=relay, name="watch-stop", daemon=True).start()
        while not stop.is_set():
            report = self.run_once()
            if wait(report.next_in):
                break


def _booked(booked: dict[str, str], pair: NewPair) -> dict[str, str]:
    return {i: booked[i] for i in (pair.id_a, pair.id_b) if i in booked}


__all__ = [
    "IntervalReport",
    "NewPair",
    "Watch",
    "WatchEvent",
    "WatchSettings",
    "source_signals",
    "why_flagged",
]
