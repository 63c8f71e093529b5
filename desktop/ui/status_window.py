"""A plain main window: the clinic it is connected to, the cache, and a sync with progress.

The review desk (queue, compare view, merge wizard) replaces this window's body later.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.store.cache import Cache
from desktop.store.patients import count_patients
from desktop.store.sync_state import get_state
from desktop.sync import LAST_SYNC_AT, SyncResult
from desktop.ui.workers import SyncJob, start_in_thread


class StatusWindow(QMainWindow):
    """Shows which clinic is connected and lets the administrator sync."""

    def __init__(
        self,
        *,
        title: str,
        cache_path: Path,
        cache_key: str,
        api_key: str,
        base_url: str | None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(f"{APP_NAME} — {title}")
        self._cache_path = cache_path
        self._cache_key = cache_key
        self._api_key = api_key
        self._base_url = base_url
        self._job: SyncJob | None = None
        self._thread: QThread | None = None

        self.heading = QLabel(f"<h2>{title}</h2>")
        self.cache_label = QLabel()
        self.cache_label.setAccessibleName("Cache status")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Sync progress")
        self.progress.setVisible(False)
        self.rate_label = QLabel()
        self.sync_button = QPushButton("&Sync now")
        self.sync_button.setShortcut(QKeySequence("Ctrl+R"))
        self.sync_button.setToolTip("Download new and changed patients (Ctrl+R)")
        self.cancel_button = QPushButton("&Cancel sync")
        self.cancel_button.setEnabled(False)
        self.sync_button.clicked.connect(self.start_sync)
        self.cancel_button.clicked.connect(self.cancel_sync)

        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        body = QVBoxLayout()
        for widget in (self.heading, self.cache_label, self.progress, self.rate_label):
            body.addWidget(widget)
        body.addLayout(buttons)
        body.addStretch(1)
        central = QWidget()
        central.setLayout(body)
        self.setCentralWidget(central)
        self.resize(640, 320)
        self.refresh_status()

    @Slot()
    def refresh_status(self) -> None:
        """Show how many patients the cache holds and when it was last synced."""
        with Cache.open(self._cache_path, self._cache_key, readonly=True) as cache:
            patients = count_patients(cache.db)
            last = get_state(cache.db, LAST_SYNC_AT)
        when = f"last synced {last}" if last else "not synced yet"
        self.cache_label.setText(f"{patients:,} patients in the encrypted cache, {when}.")

    @Slot()
    def start_sync(self) -> None:
        """Start a sync in a worker thread."""
        if self._thread is not None:
            return
        self._job = SyncJob(self._cache_path, self._cache_key, self._api_key, self._base_url)
        self._job.progressed.connect(self.on_progress)
        self._job.finished.connect(self.on_finished)
        self._job.failed.connect(self.on_failed)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.statusBar().showMessage("Syncing…")
        self._thread = start_in_thread(self._job, self)
        self._thread.finished.connect(self._on_thread_done)

    @Slot()
    def cancel_sync(self) -> None:
        """Ask the running sync to stop after the current page."""
        if self._job is not None:
            self._job.cancel_event.set()
            self.statusBar().showMessage("Cancelling…")

    @Slot(int, int, float)
    def on_progress(self, done: int, total: int, rate: float) -> None:
        """Update the bar and the rate line."""
        self.progress.setRange(0, max(total, done, 1))
        self.progress.setValue(done)
        self.rate_label.setText(f"{done:,} of {total:,} patients — {rate:,.0f} per second")

    @Slot(object)
    def on_finished(self, result: SyncResult) -> None:
        """Report how the sync ended."""
        if result.cancelled:
            self.statusBar().showMessage("Sync cancelled; what was downloaded is kept.")
        else:
            self.statusBar().showMessage(
                f"Sync done: {result.patients_written:,} patients in {result.seconds:.0f} s."
            )

    @Slot(str)
    def on_failed(self, message: str) -> None:
        """Show why the sync stopped."""
        self.statusBar().showMessage(message)
        self.rate_label.setText(message)

    @Slot()
    def _on_thread_done(self) -> None:
        self._thread = None
        self._job = None
        self.sync_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)
        self.refresh_status()

    def is_syncing(self) -> bool:
        """Return True while a sync worker runs."""
        return self._thread is not None

    def closeEvent(self, event) -> None:
        """Stop a running sync cleanly before closing."""
        if self._job is not None:
            self._job.cancel_event.set()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(10_000)
        super().closeEvent(event)
