"""The Help menu's windows: keyboard shortcuts, where the data lives, about MergeDesk."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME, __version__

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("J or ↓", "Next pair"),
    ("K or ↑", "Previous pair"),
    ("S or Ctrl+M", "Same person: open the guided merge"),
    ("N", "Not the same person"),
    ("L", "Decide later"),
    ("Ctrl+Z", "Undo the last “Not the same” or “Later”"),
    ("Ctrl+F", "Search by name or id (or just type it)"),
    ("Esc", "Clear the search and go back to the queue"),
    ("Ctrl+R", "Sync with Cliniko now"),
    ("Ctrl+P", "Labor-cost summary"),
    ("Ctrl+,", "Settings"),
    ("F1", "This list"),
)


class HelpDialog(QDialog):
    """A small window of rich text with a Close button (and optional extra buttons)."""

    def __init__(self, title: str, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.text = QLabel(html)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAccessibleName(title)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.buttons)

    def add_button(self, text: str) -> QPushButton:
        """A button beside Close (its action is the caller's)."""
        return self.buttons.addButton(text, QDialogButtonBox.ButtonRole.ActionRole)


def shortcuts_dialog(parent: QWidget | None = None) -> HelpDialog:
    """Every key of the review desk, in a table."""
    rows = "".join(
        f"<tr><td style='padding-right:18px'><b>{escape(keys)}</b></td><td>{escape(what)}</td></tr>"
        for keys, what in SHORTCUTS
    )
    html = (
        "<p>The single-letter keys act on the queue, never on a text field. Typing a name in "
        "the queue searches for it: a key that began the name (the N of Nelson) is undone. "
        "Esc or Enter takes you back to the queue.</p>"
        f"<table>{rows}</table>"
    )
    return HelpDialog("Keyboard shortcuts", html, parent)


class DataFolderDialog(HelpDialog):
    """Where the encrypted cache, settings, logs and audit trail are, with open and copy."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        self.data_dir = data_dir
        html = (
            f"<p>{APP_NAME} keeps its data on this computer, in:</p>"
            f"<p><b>{escape(str(data_dir))}</b></p>"
            "<p>The copy of your Cliniko records there is encrypted; its key and your Cliniko "
            "API key are kept in the system keychain. The folder also holds your settings and the "
            "log files (which name no patient). Nothing is sent anywhere but to Cliniko.</p>"
        )
        super().__init__("Where your data is", html, parent)
        self.open_button = self.add_button("Open the folder")
        self.open_button.clicked.connect(self.open_folder)
        self.copy_button = self.add_button("Copy the path")
        self.copy_button.clicked.connect(self.copy_path)

    @Slot()
    def open_folder(self) -> None:
        """Show the folder in the file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_dir)))

    @Slot()
    def copy_path(self) -> None:
        """Put the folder's path on the clipboard."""
        QGuiApplication.clipboard().setText(str(self.data_dir))
        self.copy_button.setText("Copied")


def about_dialog(parent: QWidget | None = None) -> HelpDialog:
    """The version and what the app is for."""
    html = (
        f"<h3>{APP_NAME} {escape(__version__)}</h3>"
        "<p>Finds duplicate patient records in your Cliniko account and walks you through "
        "merging them, one careful decision at a time. It reads your patients from Cliniko, "
        "changes a record only when you apply a merge you planned, and never deletes one: the "
        "final merge is done by you on Cliniko's own merge page.</p>"
    )
    return HelpDialog(f"About {APP_NAME}", html, parent)
