"""The main window's size and place, its split, the queue's column widths, filters and
selected pair, kept between starts in the data folder (``window.ini``; Cliniko ids, no
patient data)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QComboBox, QHeaderView, QMainWindow, QSplitter

from desktop.paths import make_private

FILE_NAME = "window.ini"
_PARTS = ("geometry", "split", "queue_columns")


class WindowState:
    """Reads and writes the window's layout; a missing or unreadable file leaves defaults."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self.settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def restore(self, window: QMainWindow, split: QSplitter, columns: QHeaderView) -> None:
        """Put back what :meth:`save` kept (each part only if it reads back)."""
        saved = {name: self.settings.value(f"main/{name}") for name in _PARTS}
        if isinstance(saved["geometry"], QByteArray):
            window.restoreGeometry(saved["geometry"])
        if isinstance(saved["split"], QByteArray):
            split.restoreState(saved["split"])
        if isinstance(saved["queue_columns"], QByteArray):
            columns.restoreState(saved["queue_columns"])

    def save(self, window: QMainWindow, split: QSplitter, columns: QHeaderView) -> None:
        """Keep the window's size and place, its split and the queue's column widths."""
        self.settings.setValue("main/geometry", window.saveGeometry())
        self.settings.setValue("main/split", split.saveState())
        self.settings.setValue("main/queue_columns", columns.saveState())
        self.settings.sync()
        make_private(self.path)

    def restore_queue(self, band: QComboBox, status: QComboBox) -> tuple[str, str] | None:
        """Put back the queue's filters; return the pair that was selected (its two ids)."""
        for box, name in ((band, "band"), (status, "status")):
            index = box.findText(str(self.settings.value(f"queue/{name}", "")))
            if index >= 0:
                box.setCurrentIndex(index)
        pair = str(self.settings.value("queue/pair", ""))
        ids = tuple(pair.split(":"))
        return (ids[0], ids[1]) if len(ids) == 2 and all(i.isdigit() for i in ids) else None

    def save_queue(self, band: QComboBox, status: QComboBox, pair: tuple[str, str] | None) -> None:
        """Note the queue's filters and the selected pair for the next start (written to the
        file by :meth:`save`, with the layout)."""
        self.settings.setValue("queue/band", band.currentText())
        self.settings.setValue("queue/status", status.currentText())
        self.settings.setValue("queue/pair", ":".join(pair) if pair else "")
