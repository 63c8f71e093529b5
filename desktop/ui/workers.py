"""Background work: a plain-Python function run in a QThread, reporting through signals.

A :class:`Job` wraps a function ``work(job) -> result``. The function may call
``job.report(value)`` to send progress and should check ``job.cancel_event``. Signals are
emitted from the worker thread and delivered (queued) to slots of GUI-thread objects; never
connect them to bare lambdas. :class:`Workers` starts jobs and stops them all on close.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from desktop.logging_setup import log_failure

log = logging.getLogger(__name__)

BACKGROUND_NICE = 10  # Linux: 0 is normal, 19 the lowest
GENERIC_FAILURE = "Something went wrong. Your work is saved. The details are in the log file."


def plain_message(error: BaseException) -> str:
    """Return the error's ``user_message`` or a generic sentence (never a traceback)."""
    return getattr(error, "user_message", None) or GENERIC_FAILURE


def yield_to_the_window() -> None:
    """Run this (worker) thread at a lower priority, so that on a busy processor the GUI
    thread goes first and the window never waits on background work for a turn. Qt's thread
    priority where the system honours it; on Linux, where it does not, the thread's nice value
    (threads the work starts inherit it)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    else:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)


class Job(QObject):
    """One piece of background work.

    Signals:
        progressed(object): whatever ``work`` passed to :meth:`report`.
        succeeded(object): the return value of ``work``.
        failed(str, object): a plain-words message and the exception.
        done(): always emitted last, success or not.
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, object)
    done = Signal()

    def __init__(self, name: str, work: Callable[[Job], Any]) -> None:
        super().__init__()
        self.name = name
        self._work = work
        self.cancel_event = threading.Event()
        # Set in the worker thread before the result is sent: by the time the GUI thread
        # handles it, the job no longer counts as running (its thread may not have ended yet).
        self.work_done = False

    def report(self, value: object) -> None:
        """Send progress to the GUI (call from ``work``)."""
        self.progressed.emit(value)

    def cancel(self) -> None:
        """Ask ``work`` to stop at its next check."""
        self.cancel_event.set()

    @Slot()
    def run(self) -> None:
        """Run ``work`` in the current (worker) thread."""
        yield_to_the_window()
        try:
            result = self._work(self)
        except Exception as error:  # reported to the GUI, logged in full
            if getattr(error, "user_message", None) is None:
                log_failure(log, f"Background job {self.name} failed", error)
            else:
                log.info("Background job %s failed: %s", self.name, error)
            self.work_done = True
            self.failed.emit(plain_message(error), error)
        else:
            self.work_done = True
            self.succeeded.emit(result)
        finally:
            self.work_done = True
            self.done.emit()


class Workers(QObject):
    """Starts jobs in their own threads and stops them cleanly.

    Every running thread is also held in a process-wide registry until it has finished, so
    a QThread is never destroyed while it runs, even if its owner goes away first.
    """

    _live: dict[QThread, Job] = {}  # noqa: RUF012 (deliberately shared)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, Job] = {}
        self._closed = False

    def start(self, job: Job) -> Job:
        """Run ``job`` in a new thread; the thread and job are deleted when it ends.

        After :meth:`stop_all` nothing starts any more (the job is returned unstarted).
        """
        if self._closed:
            log.info("Not starting %s: shutting down", job.name)
            return job
        thread = QThread()
        thread.setObjectName(f"job-{job.name}")
        job.moveToThread(thread)
        thread.started.connect(job.run)
        # quit() is thread-safe; a direct connection works even while the GUI thread waits.
        job.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._reap)
        self._running[thread] = job
        Workers._live[thread] = job
        thread.start()
        return job

    def running(self, name: str | None = None) -> list[Job]:
        """The jobs whose work is still running (optionally only those called ``name``).

        A job whose result is on its way to the GUI thread is not one: its handler may start
        the next job at once (the Sync button, enabled when a scan's result arrives, must not
        do nothing because the scan's thread has yet to end)."""
        return [
            j
            for j in self._running.values()
            if not j.work_done and (name is None or j.name == name)
        ]

    def is_running(self, name: str) -> bool:
        """True while a job called ``name`` runs."""
        return bool(self.running(name))

    @Slot()
    def _reap(self) -> None:
        thread = self.sender()
        if not isinstance(thread, QThread):
            return
        thread.wait()  # finished was emitted; this returns at once
        self._running.pop(thread, None)  # Python owns both objects; dropping them frees them
        Workers._live.pop(thread, None)

    def stop_all(self, timeout_ms: int = 15_000) -> None:
        """Cancel every job, wait for its thread to end, and start nothing new."""
        self._closed = True
        for job in list(self._running.values()):
            job.cancel()
        for thread in list(self._running):
            thread.quit()
            if not thread.wait(timeout_ms):
                log.warning("Background job %s did not stop in time", thread.objectName())
        for thread in list(self._running):
            if thread.isFinished():
                self._running.pop(thread, None)
                Workers._live.pop(thread, None)


def stop_every_job(timeout_ms: int = 15_000) -> None:
    """Cancel and wait for every job of the process (for tests and application exit)."""
    for job in list(Workers._live.values()):
        job.cancel()
    for thread in list(Workers._live):
        thread.quit()
        if thread.wait(timeout_ms):
            Workers._live.pop(thread, None)
