"""What every part of the desk shares: the open cache, the Cliniko connection, background jobs.

The writing :class:`~desktop.store.cache.Cache` is shared by the GUI thread and the workers
(writes go through ``transaction``, which serialises them); the GUI thread reads through its
own read-only connection (:attr:`DeskContext.reader`) so a long write never blocks a repaint.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from desktop.cliniko.errors import ClinikoError, ClinikoUnavailable, KeyRejected, Offline
from desktop.config import Settings
from desktop.session import Session
from desktop.store.cache import Cache
from desktop.store.patients import get_patient
from desktop.ui.workers import Job, Workers

NETWORK_ERRORS = (Offline, ClinikoUnavailable)


class Connectivity(QObject):
    """Whether Cliniko answered last time we asked (None: not asked yet); when it did not,
    whether the connection reached it (:attr:`reached`: server errors, an answer cut off or
    too slow, which is trouble on Cliniko's side rather than this computer's connection);
    when it did, whether it refused the API key (:attr:`key_refused`).

    Signals:
        changed(bool): Cliniko became reachable (True) or unreachable (False).
        reason_changed(): still unreachable, now for the other reason (see :attr:`reached`).
        key_refused_changed(): still reachable, and now refusing the key or accepting it.
    """

    changed = Signal(bool)
    reason_changed = Signal()
    key_refused_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.online: bool | None = None
        self.reached = False
        self.key_refused = False

    def set_online(self, online: bool, *, key_refused: bool = False) -> None:
        """Record the outcome of a call to Cliniko (``key_refused``: it answered that it does
        not accept the key; any other answer shows that it does)."""
        told = online and self.online is True and key_refused != self.key_refused
        if online:
            self.key_refused = key_refused
        if online != self.online:
            self.online = online
            self.changed.emit(online)
        elif told:
            self.key_refused_changed.emit()

    def note_error(self, error: object) -> None:
        """Mark offline when ``error`` is a network failure."""
        if isinstance(error, NETWORK_ERRORS):
            reached = type(error) is not Offline  # its kinds made a connection
            told = self.online is False and reached != self.reached
            self.reached = reached
            self.set_online(False)
            if told:
                self.reason_changed.emit()
        elif isinstance(error, ClinikoError):  # Cliniko answered, just not with success
            self.set_online(True, key_refused=isinstance(error, KeyRejected))


@dataclass
class DeskContext:
    """The open cache, the key and server, settings, workers and connectivity of one window."""

    data_dir: Path
    cache: Cache
    cache_key: str
    api_key: str
    base_url: str | None
    settings: Settings
    title: str = "Your clinic"
    sample: bool = False  # the demo's sample clinic (its key is the simulator's own)
    workers: Workers = field(default_factory=Workers)
    connectivity: Connectivity = field(default_factory=Connectivity)
    reader: Cache | None = None
    requests_per_minute: int = 190  # Cliniko allows 200 per user; a benchmark may raise it

    def open_reader(self) -> Cache:
        """The GUI thread's read-only connection (opened on first use)."""
        if self.reader is None or self.reader.closed:
            self.reader = Cache.open(self.cache.path, self.cache_key, readonly=True)
        return self.reader

    def close(self) -> None:
        """Stop the workers and close the reader (the writer belongs to whoever opened it)."""
        self.workers.stop_all()
        if self.reader is not None:
            self.reader.close()

    def session(self, cancel: threading.Event, retries: int = 1) -> Session:
        """An audited session on the shared cache (every request lands in the audit trail).

        Few retries by default, so being offline shows up in seconds rather than a minute.
        """
        session = Session(
            self.cache,
            self.api_key,
            base_url=self.base_url,
            cancel=cancel,
            max_requests_per_minute=self.requests_per_minute,
        )
        session.client.max_retries = retries
        return session

    # ----------------------------------------------------------------- reads (GUI thread)

    def patient(self, patient_id: str) -> dict[str, Any]:
        """A cached patient's JSON ({} when missing)."""
        return get_patient(self.open_reader().db, patient_id) or {"id": patient_id}

    def pair_details(self, id_a: str, id_b: str) -> dict[str, Any] | None:
        """The queue row of a pair with evidence and warnings decoded."""
        from desktop.store.queue import get_pair

        return get_pair(self.open_reader().db, id_a, id_b)

    def cached_history(self, patient_id: str) -> dict[str, int] | None:
        """A record's cached history counts, or None when never fetched."""
        from desktop.store.history_counts import cached_counts

        return cached_counts(self.open_reader().db, [str(patient_id)])[str(patient_id)]

    def group_ids(self, id_a: str, id_b: str) -> list[str]:
        """The records of the group a pair is in now (empty when it is in none)."""
        from desktop.store.queue import pair_group

        return pair_group(self.open_reader().db, id_a, id_b)


class ConnectivityWatcher(QObject):
    """Probes Cliniko (``GET /user``, no retries) in the background and reports connectivity."""

    def __init__(self, ctx: DeskContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx

    @Slot()
    def probe(self) -> None:
        """Ask Cliniko once, in a worker."""
        if self._ctx.workers.is_running("probe"):
            return
        ctx = self._ctx

        def work(job: Job) -> bool:
            with ctx.session(job.cancel_event, retries=0) as session:
                session.client.get_user()
            return True

        job = Job("probe", work)
        job.succeeded.connect(self._on_ok)
        job.failed.connect(self._on_failed)
        ctx.workers.start(job)

    @Slot(object)
    def _on_ok(self, _result: object) -> None:
        self._ctx.connectivity.set_online(True)

    @Slot(str, object)
    def _on_failed(self, _message: str, error: object) -> None:
        self._ctx.connectivity.note_error(error)
