"""Opening the cache when this version must first update it: a small window says so.

Updating a large clinic's cache (a copy set aside, then the new layout) takes seconds; it runs
in a worker thread while the window, which cannot be cancelled, tells the person what is
happening instead of leaving them with nothing on the screen.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop, Slot
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from desktop import APP_NAME
from desktop.store.cache import Cache, update_pending
from desktop.ui.workers import Job, Workers

UPDATING = (
    "Updating the local copy of your patients for this version of MergeDesk. "
    "A copy from before the update is kept. This takes a few seconds on a large clinic."
)


class CacheUpdateDialog(QProgressDialog):
    """A busy indicator with no Cancel button, holding what the update gave back."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel(UPDATING)
        label.setWordWrap(True)  # three short lines, not one as wide as the screen
        self.setLabel(label)
        self.setCancelButton(None)  # the update cannot be stopped half-way
        self.setRange(0, 0)  # busy: the update cannot tell how far it is
        self.setWindowTitle(APP_NAME)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setMinimumWidth(460)
        self.cache: Cache | None = None
        self.error: BaseException | None = None

    @Slot(object)
    def opened(self, cache: Cache) -> None:
        """The cache, updated and open."""
        self.cache = cache

    @Slot(str, object)
    def failed(self, _message: str, error: BaseException) -> None:
        """Why the update or the open failed."""
        self.error = error


def open_cache_showing_updates(path: Path, key_hex: str) -> Cache:
    """:meth:`Cache.open`, with a window saying so while an earlier version's cache is updated.

    Raises what :meth:`Cache.open` raises.
    """
    if not update_pending(path, key_hex):
        return Cache.open(path, key_hex)
    dialog = CacheUpdateDialog()
    workers = Workers(dialog)
    job = Job("update-cache", lambda _job: Cache.open(path, key_hex))
    loop = QEventLoop()
    job.succeeded.connect(dialog.opened)
    job.failed.connect(dialog.failed)
    job.done.connect(loop.quit)
    dialog.show()
    workers.start(job)
    loop.exec()
    workers.stop_all()  # the job has ended; its thread is waited for and let go
    dialog.close()
    if dialog.error is not None:
        raise dialog.error
    if dialog.cache is None:  # the job ended without either signal: cannot happen
        raise RuntimeError("the cache update ended without a result")
    return dialog.cache
