"""Full and incremental sync of Cliniko patients into the local cache.

Plain Python, no Qt: the GUI wraps :func:`run_sync` in a worker, the CLI calls it directly.

A full sync pages through every patient, archived and merged ones included, in Cliniko's
default ``created_at`` order. Each page is written in one transaction together with the link
to the next page, so a crash or Ctrl-C loses at most the page in flight and the next run
continues from the stored link. Before the first page the newest ``updated_at`` is read; it
becomes the watermark of the first incremental sync, so edits made while a long full sync runs
are fetched next time.

An incremental sync asks for everything updated since the watermark minus a small overlap,
sorted by ``updated_at``, and de-duplicates by id. When records move between pages while we
page (an edit pushes a record to the end), fewer distinct ids arrive than the server counted;
the pass is then repeated from the same starting point. An edit can also leave a record where
it was, on a page already read, when its new ``updated_at`` ties with records there; so what
changed in the overlap before the newest change seen is read once more at the end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from desktop.cliniko.client import ClinikoClient
from desktop.cliniko.errors import Cancelled, ClinikoError, ForeignLink
from desktop.cliniko.pages import Page, PageGuard, check_same_origin
from desktop.cliniko.records import RequestRecord
from desktop.reconcile import (
    DEFAULT_INTERVAL,
    ReconcileResult,
    mark_reconciled,
    reconcile,
    reconcile_due,
)
from desktop.session import PendingAudit, Session
from desktop.store.cache import Cache
from desktop.store.patients import upsert_patients
from desktop.store.plans import merged_outside_plans
from desktop.store.quarantine import (
    QuarantinedRecord,
    forget_unseen_without_id,
    quarantined_records,
    record_id,
    release_stored,
    set_aside_bad,
    set_aside_summary,
)
from desktop.store.sync_state import get_state, set_state
from desktop.store.transaction import transaction
from desktop.timestamps import parse_timestamp, utc_stamp

log = logging.getLogger(__name__)

PATIENTS = "/patients"
OVERLAP = timedelta(seconds=120)
MAX_INCREMENTAL_PASSES = 3
# The watermark stays this far behind the server's clock, and a record stamped more than
# FUTURE_SLACK after the server's clock is "in the future" (reported, never the watermark).
WATERMARK_MARGIN = timedelta(seconds=60)
FUTURE_SLACK = timedelta(seconds=60)
# A Date header further than this from this computer's clock is not believed: one saying 1970
# put every patient "in the future" and held the watermark there (one saying 2999, none).
MAX_CLOCK_SKEW = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# sync_state keys
FULL_NEXT = "sync.full.next_url"
FULL_HEAD = "sync.full.head_updated_at"
FULL_DONE = "sync.full.done"
FULL_STARTED = "sync.full.started_at"
WATERMARK = "sync.watermark"
LAST_SYNC_AT = "sync.last_completed_at"


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync is: patients read so far, how many Cliniko counted, patients read/second."""

    phase: str
    done: int
    total: int
    rate: float


@dataclass(frozen=True)
class ConnectionTrouble:
    """A request of the running sync that Cliniko did not answer (``status`` 0), answered
    with a server error, or asked to wait (429): the client waits and asks again, and a
    window says so meanwhile."""

    status: int
    error: str | None = None

    @property
    def slowed_down(self) -> bool:
        """Cliniko answered, asking for fewer requests: the connection itself is fine."""
        return self.status == 429

    def words(self) -> str:
        """What the person is told while the client waits to ask again."""
        if self.slowed_down:
            return "Cliniko asked MergeDesk to slow down: going on in a moment…"
        if self.status:
            return f"Cliniko answered with an error (HTTP {self.status}): trying again…"
        return "Cliniko stopped answering: trying again…"


def connection_trouble(record: RequestRecord) -> ConnectionTrouble | None:
    """The trouble one HTTP exchange shows, or None (an answer, or a cancelled request)."""
    if record.status == 0 and record.error not in (None, "Cancelled"):
        return ConnectionTrouble(0, record.error)
    if record.status >= 500 or record.status == 429:
        return ConnectionTrouble(record.status)
    return None


@dataclass
class SyncResult:
    """What one run of :func:`run_sync` did.

    ``patients_written`` counts distinct patients this run stored new or changed (each once,
    however many passes read it; one Cliniko sent again as it was is not counted).
    ``quarantined`` names the records kept aside (``patient 12`` or ``record page 2 #5``);
    ``future_ids`` the patients whose ``updated_at`` was ahead of the server's clock.
    """

    mode: str
    patients_written: int = 0
    requests: int = 0
    passes: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    watermark: str | None = None
    quarantined: list[str] = field(default_factory=list)
    future_ids: list[str] = field(default_factory=list)
    # (patient, survivor): merged in Cliniko into the record that stays of a MergeDesk merge
    # that did not name that patient (ticked by mistake on Cliniko's merge page?)
    merged_outside: list[tuple[str, str]] = field(default_factory=list)
    reconciliation: ReconcileResult | None = None
    set_aside: list[QuarantinedRecord] = field(default_factory=list)
    # A full sync whose pages ended before the count Cliniko gave: (records read, count).
    listed_short: tuple[int, int] | None = None


ProgressCallback = Callable[[SyncProgress], None]


def needs_full_sync(cache: Cache) -> bool:
    """Return True while no full sync has completed (or one is half-way)."""
    return get_state(cache.db, WATERMARK) is None or get_state(cache.db, FULL_NEXT) is not None


def run_sync(
    session: Session,
    *,
    progress: ProgressCallback | None = None,
    full: bool = False,
    reconcile_now: bool = False,
    reconcile_every: timedelta | None = DEFAULT_INTERVAL,
) -> SyncResult:
    """Bring the cache up to date with Cliniko; resumes an interrupted full sync.

    Args:
        session: the connected session (client, cache, audit queue, cancel event). When its
            cancel event is set, the sync stops promptly; every page already written stays.
        progress: called after every page.
        full: start a fresh full sync even when an incremental one would do.
        reconcile_now: afterwards, compare the whole cache with Cliniko (see
            :mod:`desktop.reconcile`).
        reconcile_every: ... and do so anyway when the last comparison (or full sync) is
            older than this; None never does it unasked.

    Raises:
        ClinikoError: the sync could not finish (its ``user_message`` says why and what to
            do); every page stored before stays, and the next sync carries on.
        OtherAccountsCache: the key belongs to another clinic than the cache (nothing read).
    """
    cache = session.cache
    session.check_account()
    if full and get_state(cache.db, FULL_NEXT) is None:
        with transaction(cache):
            set_state(cache.db, WATERMARK, None)
    runner = _Runner(session.client, cache, session.audit, progress, session.cancel)
    try:
        if needs_full_sync(cache):
            runner.full_sync()
        else:
            runner.incremental_sync()
        due = reconcile_every is not None and reconcile_due(cache.db, reconcile_every)
        if reconcile_now or due:
            runner.result.reconciliation = reconcile(session)
    except Cancelled:
        runner.result.cancelled = True
        log.info("Sync cancelled; %d patients written so far", runner.result.patients_written)
    finally:
        runner.flush_audit()
        runner.result.seconds = time.monotonic() - runner.started
        runner.report_oddities()
    runner.result.set_aside = quarantined_records(cache.db)
    runner.result.merged_outside = merged_outside_plans(cache.db, runner.written)
    return runner.result


def sync_summary(result: SyncResult) -> str:
    """What a finished sync did, in a few words: "no patient changed (1 request, 0.0 s)"."""
    n, requests = result.patients_written, result.requests
    what = (
        "no patient changed" if n == 0 else f"{n:,} patient{'' if n == 1 else 's'} new or changed"
    )
    return f"{what} ({requests:,} request{'' if requests == 1 else 's'}, {result.seconds:.1f} s)"


def short_listing_note(result: SyncResult) -> str | None:
    """What to say when a full sync's pages ended before Cliniko's own count, or None."""
    if result.listed_short is None:
        return None
    read, listed = result.listed_short
    return (
        f"Cliniko said it holds {listed:,} patients, but its list ended after {read:,}: "
        f"{listed - read:,} may be missing from this computer's copy, so MergeDesk cannot "
        "look for their duplicates. Sync again later; if this stays, contact "
        "support@mergedesk.app."
    )


def merged_outside_words(
    patient: str, survivor: str, named: Callable[[str], str] = lambda pid: f"patient {pid}"
) -> str:
    """A patient merged into a MergeDesk merge's record that stays though its plan did not
    name it, said with what to do (``named`` says who an id is: ids only by default)."""
    return (
        f"Cliniko merged {named(patient)} into {named(survivor)}, the record that stays of a "
        "merge MergeDesk planned, though the plan did not name it. If it was ticked by mistake "
        "on Cliniko's merge page: a merge cannot be undone there, so re-create that patient in "
        "Cliniko and move their appointments and notes back by hand."
    )


def sync_notes(result: SyncResult) -> list[str]:
    """What a sync found that the administrator should know, in plain words, ids only.

    For the CLI and the app: records kept aside (all of them, not only this run's), patients
    stamped in the future, and what a reconciliation repaired.
    """
    notes = [set_aside_summary(result.set_aside)] if result.set_aside else []
    short = short_listing_note(result)
    if short:
        notes.append(short)
    if result.future_ids:
        ids = " ".join(result.future_ids[:20])
        future = len(result.future_ids)
        has = "patient has" if future == 1 else "patients have"
        notes.append(
            f"{future:,} {has} a last-changed time in the future on Cliniko's side "
            f"(ids {ids}). They are stored; later changes are still fetched."
        )
    for patient, survivor in result.merged_outside:
        notes.append(merged_outside_words(patient, survivor))
    done = result.reconciliation
    if done is not None:
        missing, gone = len(done.added), len(done.not_on_cliniko)
        notes.append(
            f"Compared {done.checked:,} patients with Cliniko: {len(done.drifted):,} had "
            f"drifted and {missing:,} {'was' if missing == 1 else 'were'} missing; all repaired."
            + (
                f" {gone:,} cached {'patient is' if gone == 1 else 'patients are'} no longer "
                "listed by Cliniko."
                if gone
                else ""
            )
        )
    return notes


class _Runner:
    """One sync run: pages in, transactions out."""

    def __init__(
        self,
        client: ClinikoClient,
        cache: Cache,
        audit: PendingAudit,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.audit = audit
        self.progress = progress
        self.cancel = cancel
        self.started = time.monotonic()
        self.result = SyncResult(mode="full")
        self.written: set[str] = set()  # patients this run has stored new or changed so far
        self.read = 0  # records this run has read from Cliniko (for the rate)
        self.server_now: datetime | None = None  # the newest Date header believed
        self._clock_doubted = False  # a Date header far from this computer's clock was said

    # -- full ---------------------------------------------------------------------------

    def full_sync(self) -> None:
        db = self.cache.db
        next_url = get_state(db, FULL_NEXT)
        if next_url is not None and not _on_server(next_url, self.client.base_url):
            # Stopped half-way against another server (a test server, or one given with
            # --base-url since): its link would be refused for ever; start again here.
            log.info("The interrupted full sync was against another server; starting again")
            next_url = None
        if next_url is None:
            head = self._newest_updated_at()
            next_url = _patients_url(archived=True)
            with transaction(self.cache):
                set_state(db, FULL_HEAD, utc_stamp(head))
                set_state(db, FULL_STARTED, utc_stamp())
                set_state(db, FULL_NEXT, next_url)
                set_state(db, FULL_DONE, "0")
            log.info("Full sync started")
        else:
            log.info("Resuming an interrupted full sync")
        done = int(get_state(db, FULL_DONE) or 0)
        guard: PageGuard | None = None
        while next_url:
            self._check_cancel()
            page = self._fetch(next_url)
            guard = guard or self.client.page_guard(page.url)
            stop, link = _follow(guard, page)
            self._future_ids(page)
            done += len(page.items)
            if stop is not None:
                # The links that led here can't be trusted to have covered every page: the
                # next sync reads the list again from the start (what is stored stays).
                link, done = _patients_url(archived=True), 0
            with transaction(self.cache, durable=False):
                self._store(page, guard.pages)
                set_state(db, FULL_NEXT, link)
                set_state(db, FULL_DONE, str(done))
                if link is None and stop is None:
                    if done < guard.most_entries:  # no way to read the rest: said, not hidden
                        self.result.listed_short = (done, guard.most_entries)
                    head = parse_timestamp(get_state(db, FULL_HEAD)) or EPOCH
                    set_state(db, WATERMARK, utc_stamp(self._cap(head)))
                    set_state(db, LAST_SYNC_AT, utc_stamp())
                    mark_reconciled(db, 0)  # the cache is now what Cliniko listed
                    forget_unseen_without_id(db, get_state(db, FULL_STARTED) or utc_stamp())
                self._write_audit()
            self._report("full", done, page.total_entries)
            if stop is not None:
                raise stop
            next_url = link
        self.result.watermark = get_state(db, WATERMARK)
        log.info("Full sync finished: %d patients", done)

    def _newest_updated_at(self) -> datetime:
        """Read the newest updated_at before paging, the first incremental's watermark.

        Never later than the server's clock now, minus the margin: anything edited while the
        full sync pages is newer than that. When the newest record's stamp is unusable (in
        the future, unreadable) or there is none, that clock is the answer.
        """
        url = _patients_url(archived=True, sort="updated_at:desc", per_page=1)
        page = self._fetch(url)
        stamps = [s for s in map(self._stamp_of, page.items) if s is not None]
        self._future_ids(page)
        ceiling = self._now_on_server() - WATERMARK_MARGIN
        return min(max(stamps), ceiling) if stamps else ceiling

    # -- incremental ----------------------------------------------------------------------

    def incremental_sync(self) -> None:
        self.result.mode = "incremental"
        db = self.cache.db
        stored = get_state(db, WATERMARK)
        watermark = parse_timestamp(stored)
        if watermark is None:
            log.warning("The stored sync watermark is unreadable; reading every change again")
            watermark = EPOCH
        # A watermark pinned ahead of the clock by an older version would hide every edit.
        watermark = min(watermark, datetime.now(UTC))
        since = watermark - OVERLAP
        newest = watermark
        for _ in range(MAX_INCREMENTAL_PASSES):
            complete, newest = self._read_changes(since, newest)
            if complete:
                break
            log.info("Records moved while paging; fetching the changes again")
        # A record edited while we paged keeps its place among pages already read when its
        # new updated_at ties with records there (ties are not ordered by time): read what
        # changed in the last moments once more, so the edit is not left for the next sync.
        recent = newest - OVERLAP
        if recent > since:
            newest = self._read_changes(recent, newest)[1]
        mark = utc_stamp(self._cap(newest))
        with transaction(self.cache):
            set_state(db, WATERMARK, mark)
            set_state(db, LAST_SYNC_AT, utc_stamp())
            self._write_audit()
        self.result.watermark = mark

    def _read_changes(self, since: datetime, newest: datetime) -> tuple[bool, datetime]:
        """One pass over the patients updated since ``since``, written page by page.

        Returns whether every record the server counted arrived (none moved between pages
        while we paged) and the newest ``updated_at`` seen so far (never one in the future).
        """
        self.result.passes += 1
        seen: set[str] = set()
        total = 0
        url: str | None = _patients_url(
            archived=True, sort="updated_at", updated_since=utc_stamp(since)
        )
        guard: PageGuard | None = None
        while url:
            self._check_cancel()
            page = self._fetch(url)
            guard = guard or self.client.page_guard(page.url)
            stop, url = _follow(guard, page)
            total = page.total_entries
            seen |= {str(p.get("id")) for p in page.items}
            future = set(self._future_ids(page))
            stamps = [
                stamp
                for item in page.items
                if record_id(item) not in future and (stamp := self._stamp_of(item)) is not None
            ]
            newest = max([newest, *stamps])
            with transaction(self.cache, durable=False):
                # A record seen twice was edited while we paged: its later copy is newer.
                self._store(page, guard.pages)
                self._write_audit()
            self._report("incremental", len(seen), total)
            if stop is not None:
                raise stop
        return len(seen) >= total, newest

    # -- shared -------------------------------------------------------------------------

    def _fetch(self, url: str) -> Page:
        page = self.client.fetch_page(url, key="patients")
        self.result.requests += 1
        told, now = page.server_time, datetime.now(UTC)
        if told is not None and abs(told - now) > MAX_CLOCK_SKEW:
            if not self._clock_doubted:
                log.warning(
                    "Cliniko's clock (its Date header) says %s, this computer's %s: "
                    "going by this computer's",
                    utc_stamp(told),
                    utc_stamp(now),
                )
                self._clock_doubted = True
            page = replace(page, server_time=None)
        if page.server_time is not None:
            self.server_now = max(filter(None, [self.server_now, page.server_time]))
        return page

    def _store(self, page: Page, number: int) -> None:
        """Store a page's good records and quarantine the others (inside a transaction)."""
        good, labels = set_aside_bad(self.cache.db, page.items, number)
        known = self.result.quarantined
        known += [label for label in labels if label not in known]
        self.read += len(page.items)
        self.written.update(upsert_patients(self.cache.db, good))
        release_stored(self.cache.db, {str(p["id"]) for p in good})
        self.result.patients_written = len(self.written)

    def _stamp_of(self, item: dict[str, Any]) -> datetime | None:
        """A record's updated_at when it is readable and not ahead of the server's clock."""
        stamp = parse_timestamp(item.get("updated_at"))
        if stamp is None or stamp > self._now_on_server() + FUTURE_SLACK:
            return None
        return stamp

    def _future_ids(self, page: Page) -> list[str]:
        """Ids on ``page`` stamped after the server's clock; remembered for the report."""
        limit = (page.server_time or self._now_on_server()) + FUTURE_SLACK
        found = []
        for item in page.items:
            stamp = parse_timestamp(item.get("updated_at"))
            pid = record_id(item)
            if stamp is not None and stamp > limit and pid is not None:
                found.append(pid)
                if pid not in self.result.future_ids:
                    self.result.future_ids.append(pid)
        return found

    def _now_on_server(self) -> datetime:
        return self.server_now or datetime.now(UTC)

    def _cap(self, stamp: datetime) -> datetime:
        """``stamp``, but never past the server's clock, nor this computer's, minus the margin.

        A server whose clock says 2999 would otherwise set a watermark in 2998, and every
        edit made before this computer's clock reaches it again would be skipped (an earlier
        watermark only reads a few records twice).
        """
        clock = min(self._now_on_server(), datetime.now(UTC))
        return min(stamp, clock - WATERMARK_MARGIN)

    def report_oddities(self) -> None:
        """Log (ids only) the records kept aside and those stamped in the future."""
        if self.result.future_ids:
            log.warning(
                "%d patients have an updated_at ahead of Cliniko's clock: %s",
                len(self.result.future_ids),
                " ".join(self.result.future_ids[:50]),
            )

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def _report(self, phase: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.progress(SyncProgress(phase, done, total, self.read / elapsed))

    def _write_audit(self) -> None:
        """Write the request records gathered since the last page (inside a transaction)."""
        self.audit.write_pending()

    def flush_audit(self) -> None:
        """Write request records left over after an error, in their own transaction."""
        if self.audit.has_pending():
            with transaction(self.cache):
                self.audit.write_pending()


def _on_server(url: str, base_url: str) -> bool:
    """True when ``url`` is a page of the API at ``base_url``."""
    try:
        check_same_origin(url, base_url)
    except ForeignLink:
        return False
    return True


def _follow(guard: PageGuard, page: Page) -> tuple[ClinikoError | None, str | None]:
    """The guard's verdict on ``page``: (why to stop after storing it, or None; next link)."""
    try:
        return None, guard.next_link(page)
    except ClinikoError as stop:
        log.warning("Stopped paging: %s", stop.detail)
        return stop, None


def _patients_url(
    *,
    archived: bool,
    sort: str | None = None,
    per_page: int = 100,
    updated_since: str | None = None,
) -> str:
    """Build the relative URL of a patients listing (the client adds the base URL)."""
    params: list[str] = []
    if archived:
        params.append("q[]=archived_at:*")
    if updated_since:
        params.append(f"q[]=updated_at:>={updated_since}")
    if sort:
        params.append(f"sort={sort}")
    params.append(f"per_page={per_page}")
    return PATIENTS + "?" + "&".join(params)
