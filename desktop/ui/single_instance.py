"""One MergeDesk per cache: a second start brings the open window forward instead.

The MergeDesk that has a cache open listens on a local socket named after that cache
(:class:`ShowRequests`); a second start that finds the cache in use asks it to show its window
(:func:`ask_open_window_to_show`) and ends without a word, as a double-clicked icon of an open
app does. The window may be hidden in the tray, minimised, or behind other windows. Where
nothing answers (a sync from the command line has the cache), the second start says why it
cannot open.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop.paths import data_dir_id

log = logging.getLogger(__name__)

SHOW = b"show\n"
SHOWN = b"shown\n"
ANSWER_WITHIN_MS = 3000


def instance_name(data_dir: Path) -> str:
    """The local socket's name for the MergeDesk that has the cache of ``data_dir`` open (the
    real clinic's and the sample clinic's folders, and each user's, get their own)."""
    return f"mergedesk-{data_dir_id(data_dir)}"


class ShowRequests(QObject):
    """Listens for a second MergeDesk's request to show this one's window.

    Signals:
        show_requested(): another start of MergeDesk on this cache wants the window shown.
    """

    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)
        # A socket file left by a MergeDesk that crashed blocks the name: this process has the
        # cache open, so no other MergeDesk can be listening on it.
        if not self.server.listen(name):
            QLocalServer.removeServer(name)
            if not self.server.listen(name):
                log.warning("a second start cannot show this window: %s", self.server.errorString())

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
                connection.write(SHOWN)
                connection.flush()


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
