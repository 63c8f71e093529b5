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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from desktop.cliniko.client import ClinikoClient
from desktop.cliniko.errors import Cancelled
from desktop.session import PendingAudit, Session
from desktop.store.cache import Cache
from desktop.store.patients import upsert_patients
from desktop.store.sync_state import get_state, set_state, transaction

log = logging.getLogger(__name__)

PATIENTS = "/patients"
OVERLAP = timedelta(seconds=120)
MAX_INCREMENTAL_PASSES = 3

# sync_state keys
FULL_NEXT = "sync.full.next_url"
FULL_HEAD = "sync.full.head_updated_at"
FULL_DONE = "sync.full.done"
WATERMARK = "sync.watermark"
LAST_SYNC_AT = "sync.last_completed_at"


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync is: patients written so far, how many Cliniko counted, patients/second."""

    phase: str
    done: int
    total: int
    rate: float


@dataclass
class SyncResult:
    """What one run of :func:`run_sync` did."""

    mode: str
    patients_written: int = 0
    requests: int = 0
    passes: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    watermark: str | None = None


ProgressCallback = Callable[[SyncProgress], None]


def needs_full_sync(cache: Cache) -> bool:
    """Return True while no full sync has completed (or one is half-way)."""
    return get_state(cache.db, WATERMARK) is None or get_state(cache.db, FULL_NEXT) is not None


def run_sync(
    session: Session,
    *,
    progress: ProgressCallback | None = None,
    full: bool = False,
) -> SyncResult:
    """Bring the cache up to date with Cliniko; resumes an interrupted full sync.

    Args:
        session: the connected session (client, cache, audit queue, cancel event). When its
            cancel event is set, the sync stops promptly; every page already written stays.
        progress: called after every page.
        full: start a fresh full sync even when an incremental one would do.
    """
    cache = session.cache
    if full and get_state(cache.db, FULL_NEXT) is None:
        with transaction(cache):
            set_state(cache.db, WATERMARK, None)
    runner = _Runner(session.client, cache, session.audit, progress, session.cancel)
    try:
        if needs_full_sync(cache):
            runner.full_sync()
        else:
            runner.incremental_sync()
    except Cancelled:
        runner.result.cancelled = True
        log.info("Sync cancelled; %d patients written so far", runner.result.patients_written)
    finally:
        runner.flush_audit()
        runner.result.seconds = time.monotonic() - runner.started
    return runner.result


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
        self.written: set[str] = set()  # patients an incremental sync has written so far

    # -- full ---------------------------------------------------------------------------

    def full_sync(self) -> None:
        db = self.cache.db
        next_url = get_state(db, FULL_NEXT)
        if next_url is None:
            head = self._newest_updated_at()
            next_url = _patients_url(archived=True)
            with transaction(self.cache):
                set_state(db, FULL_HEAD, head or "")
                set_state(db, FULL_NEXT, next_url)
                set_state(db, FULL_DONE, "0")
            log.info("Full sync started")
        else:
            log.info("Resuming an interrupted full sync")
        done = int(get_state(db, FULL_DONE) or 0)
        while next_url:
            self._check_cancel()
            page = self.client.fetch_page(next_url, key="patients")
            self.result.requests += 1
            total = page.total_entries
            done += len(page.items)
            next_url = page.next_url
            with transaction(self.cache, durable=False):
                written = upsert_patients(db, page.items)
                set_state(db, FULL_NEXT, next_url)
                set_state(db, FULL_DONE, str(done))
                if next_url is None:
                    head = get_state(db, FULL_HEAD) or _newest(page.items)
                    set_state(db, WATERMARK, head or _epoch())
                    set_state(db, LAST_SYNC_AT, _now())
                self._write_audit()
            self.result.patients_written += written
            self._report("full", done, total)
        self.result.watermark = get_state(db, WATERMARK)
        log.info("Full sync finished: %d patients", done)

    def _newest_updated_at(self) -> str | None:
        """Read the newest updated_at before paging, the first incremental's watermark."""
        url = _patients_url(archived=True, sort="updated_at:desc", per_page=1)
        page = self.client.fetch_page(url, key="patients")
        self.result.requests += 1
        return _newest(page.items)

    # -- incremental ----------------------------------------------------------------------

    def incremental_sync(self) -> None:
        self.result.mode = "incremental"
        db = self.cache.db
        watermark = get_state(db, WATERMARK) or _epoch()
        since = _format(_parse(watermark) - OVERLAP)
        newest = watermark
        for _ in range(MAX_INCREMENTAL_PASSES):
            complete, newest = self._read_changes(since, newest)
            if complete:
                break
            log.info("Records moved while paging; fetching the changes again")
        # A record edited while we paged keeps its place among pages already read when its
        # new updated_at ties with records there (ties are not ordered by time): read what
        # changed in the last moments once more, so the edit is not left for the next sync.
        recent = _format(_parse(newest) - OVERLAP)
        if recent > since:
            newest = self._read_changes(recent, newest)[1]
        with transaction(self.cache):
            set_state(db, WATERMARK, newest)
            set_state(db, LAST_SYNC_AT, _now())
            self._write_audit()
        self.result.watermark = newest

    def _read_changes(self, since: str, newest: str) -> tuple[bool, str]:
        """One pass over the patients updated since ``since``, written page by page.

        Returns whether every record the server counted arrived (none moved between pages
        while we paged) and the newest ``updated_at`` seen so far.
        """
        db = self.cache.db
        self.result.passes += 1
        seen: set[str] = set()
        total = 0
        url: str | None = _patients_url(archived=True, sort="updated_at", updated_since=since)
        while url:
            self._check_cancel()
            page = self.client.fetch_page(url, key="patients")
            self.result.requests += 1
            total = page.total_entries
            url = page.next_url
            ids = {str(p.get("id")) for p in page.items}
            seen |= ids
            newest = max([newest, *(str(p.get("updated_at") or "") for p in page.items)])
            with transaction(self.cache, durable=False):
                # A record seen twice was edited while we paged: its later copy is newer.
                upsert_patients(db, page.items)
                self._write_audit()
            self.result.patients_written += len(ids - self.written)
            self.written |= ids
            self._report("incremental", len(seen), total)
        return len(seen) >= total, newest

    # -- shared -------------------------------------------------------------------------

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()

    def _report(self, phase: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.progress(SyncProgress(phase, done, total, self.result.patients_written / elapsed))

    def _write_audit(self) -> None:
        """Write the request records gathered since the last page (inside a transaction)."""
        self.audit.write_pending()

    def flush_audit(self) -> None:
        """Write request records left over after an error, in their own transaction."""
        if self.audit.has_pending():
            with transaction(self.cache):
                self.audit.write_pending()


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


def _newest(items: list[dict]) -> str | None:
    stamps = [str(p["updated_at"]) for p in items if p.get("updated_at")]
    return max(stamps) if stamps else None


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch() -> str:
    return "1970-01-01T00:00:00Z"


def _now() -> str:
    return _format(datetime.now(UTC))
