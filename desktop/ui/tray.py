"""The tray icon the watch keeps after the window is closed: its menu, and its notifications.

Whether the desktop has a tray (a notification area) is asked at the moment it matters
(:func:`tray_available`), since a tray can start after MergeDesk; where there is none, the
choice to keep watching from the tray is not offered and :data:`NO_TRAY` says why.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon

NO_TRAY = (
    "This desktop has no system tray (notification area), so MergeDesk cannot keep watching "
    "after its window is closed: the watch runs while the window is open."
)
MESSAGE_MS = 15_000


def tray_available() -> bool:
    """True when the desktop shows tray icons now."""
    return QSystemTrayIcon.isSystemTrayAvailable()


class WatchTray(QObject):
    """MergeDesk's tray icon: "Open MergeDesk" and "Quit" in its menu, and notifications.

    Signals:
        open_requested(): the icon was clicked, or "Open MergeDesk" chosen.
        quit_requested(): "Quit" chosen.
        message_clicked(): the person clicked the last notification.
    """

    open_requested = Signal()
    quit_requested = Signal()
    message_clicked = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        style = QApplication.style()
        self.icon = QSystemTrayIcon(
            QIcon(style.standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)), self
        )
        self.icon.setToolTip("MergeDesk is watching for new duplicates")
        self.menu = QMenu()
        self.open_action = self.menu.addAction("Open MergeDesk")
        self.open_action.triggered.connect(self.open_requested)
        self.quit_action = self.menu.addAction("Quit")
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon.setContextMenu(self.menu)
        self.icon.messageClicked.connect(self.message_clicked)
        self.icon.activated.connect(self._activated)
        self.icon.show()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_requested.emit()

    def notify(self, message: str) -> None:
        """A desktop notification from the icon; hovering over the icon says it again."""
        self.icon.setToolTip(message)
        self.icon.showMessage(
            "MergeDesk", message, QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS
        )

    def remove(self) -> None:
        """Take the icon off the tray."""
        self.icon.hide()
