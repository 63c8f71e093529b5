"""Background workers: plain-Python jobs run in a QThread, reporting through signals."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from desktop.session import Session
from desktop.store.cache import Cache
from desktop.sync import SyncProgress, SyncResult, run_sync

log = logging.getLogger(__name__)


class SyncJob(QObject):
    """Runs :func:`desktop.sync.run_sync` in its own thread, with its own cache connection."""

    progressed = Signal(int, int, float)  # done, total, patients per second
    finished = Signal(object)  # SyncResult
    failed = Signal(str)  # plain-words message

    def __init__(
        self, cache_path: Path, cache_key: str, api_key: str, base_url: str | None
    ) -> None:
        super().__init__()
        self._cache_path = cache_path
        self._cache_key = cache_key
        self._api_key = api_key
        self._base_url = base_url
        self.cancel_event = threading.Event()

    @Slot()
    def run(self) -> None:
        """Open the cache in this thread, sync, and report."""
        try:
            with Cache.open(self._cache_path, self._cache_key) as cache:
                session = Session(
                    cache, self._api_key, base_url=self._base_url, cancel=self.cancel_event
                )
                with session:
                    session.identify_user()
                    result: SyncResult = run_sync(session, progress=self._report)
            self.finished.emit(result)
        except Exception as error:  # shown to the user, logged in full
            log.exception("Sync failed")
            message = getattr(error, "user_message", None) or "The sync stopped unexpectedly."
            self.failed.emit(message)

    def _report(self, progress: SyncProgress) -> None:
        self.progressed.emit(progress.done, progress.total, progress.rate)


def start_in_thread(job: QObject, parent: QObject) -> QThread:
    """Move ``job`` to a new thread, start its ``run`` there, and clean up when it ends."""
    thread = QThread(parent)
    job.moveToThread(thread)
    thread.started.connect(job.run)  # type: ignore[attr-defined]
    job.finished.connect(thread.quit)  # type: ignore[attr-defined]
    job.failed.connect(thread.quit)  # type: ignore[attr-defined]
    thread.start()
    return thread
