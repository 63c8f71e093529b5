"""One MergeDesk per data folder: a second start brings the open window forward instead.

From its first moment (the welcome dialog comes before the window) MergeDesk listens on a
local socket named after its data folder (:class:`ShowRequests`); a second start on that folder
asks it to show its window (:func:`ask_open_window_to_show`) and ends without a word, as a
double-clicked icon of an open app does. The window may be hidden in the tray, minimised, or
behind other windows; a dialog open in front of it (the welcome dialog, Settings) comes
forward too. Where nothing answers but the cache is in use (a sync from the command line has
it), the second start says why it cannot open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from desktop.paths import data_dir_id

log = logging.getLogger(__name__)

SHOW = b"show\n"
SHOWN = b"shown\n"
ANSWER_WITHIN_MS = 3000


def instance_name(data_dir: Path) -> str:
    """The local socket's name for the MergeDesk open on ``data_dir`` (the real clinic's and the
    sample clinic's folders, and each user's, get their own)."""
    return f"mergedesk-{data_dir_id(data_dir)}"


class ShowRequests(QObject):
    """Listens for a second MergeDesk's request to show this one's window.

    Signals:
        show_requested(): another start of MergeDesk on this folder wants the window shown
            (a dialog in front of everything, such as the welcome dialog, is raised after).
    """

    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)
        # A socket file left by a MergeDesk that crashed blocks the name: this process asked the
        # name first and nothing answered, so no other MergeDesk is listening on it.
        if not self.server.listen(name):
            QLocalServer.removeServer(name)
            if not self.server.listen(name):
                log.warning("a second start cannot show this window: %s", self.server.errorString())

    def stop(self) -> None:
        """Stop listening (the name is free for another listener in this process)."""
        self.server.close()

    @Slot()
    def _accept(self) -> None:
        while (connection := self.server.nextPendingConnection()) is not None:
            connection.readyRead.connect(lambda c=connection: self._read(c))
            connection.disconnected.connect(connection.deleteLater)
            self._read(connection)  # what arrived with the connection

    def _read(self, connection: QLocalSocket) -> None:
        while connection.canReadLine():
            if bytes(connection.readLine().data()) == SHOW:
                self.show_requested.emit()
                _raise_dialog_in_front()
                connection.write(SHOWN)
                connection.flush()


def _raise_dialog_in_front() -> None:
    """Raise the dialog that waits for an answer (the welcome dialog before any window, or one
    open over the window), so the person sees what MergeDesk asks."""
    dialog = QApplication.activeModalWidget()
    if dialog is not None:
        dialog.setWindowState(dialog.windowState() & ~Qt.WindowState.WindowMinimized)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()


def ask_open_window_to_show(name: str, within_ms: int = ANSWER_WITHIN_MS) -> bool:
    """Ask the MergeDesk listening on ``name`` to show its window; True once it says it has.

    On Windows the window comes forward only if Windows lets a background app do so; else its
    taskbar button flashes.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(within_ms):
        return False
    socket.write(SHOW)
    socket.flush()
    answer = b""
    while not answer.endswith(b"\n") and socket.waitForReadyRead(within_ms):
        answer += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    return answer == SHOWN


@contextmanager
def answering_later_starts(data_dir: Path) -> Iterator[ShowRequests | None]:
    """Answer later starts on ``data_dir`` from now until the block ends, the welcome dialog
    included; None when a MergeDesk already open on the folder answered instead (it has brought
    its window forward, and this start has nothing to do)."""
    name = instance_name(data_dir)
    if ask_open_window_to_show(name):
        log.info("MergeDesk is already open: its window was brought forward")
        yield None
        return
    requests = ShowRequests(name)
    try:
        yield requests
    finally:
        if shiboken6.isValid(requests):  # deleted with the window it was handed to: closed
            requests.stop()
