"""Work of a few seconds before the main window exists, behind a small window that says so.

Updating an earlier version's cache, or building a large sample clinic for the demo, takes
seconds: it runs in a worker thread while a window that cannot be cancelled tells the person
what is happening, instead of leaving them with nothing on the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from PySide6.QtCore import QEventLoop, Slot
from PySide6.QtWidgets import QLabel, QProgressDialog, QWidget

from desktop import APP_NAME
from desktop.ui.workers import Job, Workers

T = TypeVar("T")
_NOTHING = object()  # no result yet (the work may well give back None)


class BusyDialog(QProgressDialog):
    """A busy indicator with no Cancel button, holding what the work gave back."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel(text)
        label.setWordWrap(True)  # a few short lines, not one as wide as the screen
        self.setLabel(label)
        self.setCancelButton(None)  # the work cannot be stopped half-way
        self.setRange(0, 0)  # busy: the work cannot tell how far it is
        self.setWindowTitle(APP_NAME)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setMinimumWidth(460)
        self.outcome: object = _NOTHING
        self.error: BaseException | None = None

    @Slot(object)
    def finished_with(self, result: object) -> None:
        """What the work gave back."""
        self.outcome = result

    @Slot(str, object)
    def failed(self, _message: str, error: BaseException) -> None:
        """Why the work failed."""
        self.error = error


def run_showing(text: str, name: str, work: Callable[[], T]) -> T:
    """``work()`` in a worker thread while a :class:`BusyDialog` shows ``text``; its result.

    Raises what ``work`` raises.
    """
    dialog = BusyDialog(text)
    workers = Workers(dialog)
    job = Job(name, lambda _job: work())
    loop = QEventLoop()
    job.succeeded.connect(dialog.finished_with)
    job.failed.connect(dialog.failed)
    job.done.connect(loop.quit)
    dialog.show()
    workers.start(job)
    loop.exec()
    workers.stop_all()  # the job has ended; its thread is waited for and let go
    dialog.close()
    if dialog.error is not None:
        raise dialog.error
    if dialog.outcome is _NOTHING:  # the job ended without either signal: cannot happen
        raise RuntimeError(f"{name} ended without a result")
    return cast(T, dialog.outcome)
