"""The status bar's note after a review decision, with its Undo button."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStatusBar, QWidget

UNDO_SHOWN_MS = 20_000  # how long the "Marked … Undo" note stays after a decision


class UndoBar(QWidget):
    """The status bar's "Marked “Not the same person” — Undo" note after a decision."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setAccessibleName("Last decision")
        self.button = QPushButton("Undo")
        self.button.setAccessibleName("Undo the last decision")
        self.button.setToolTip("Undo the last decision (Ctrl+Z)")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the queue
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        layout.addStretch(1)  # the bar takes the message's place, its button its own width
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(UNDO_SHOWN_MS)
        self.timer.timeout.connect(self.hide)
        self.hide()

    def offer(self, text: str) -> None:
        """Show ``text`` with the Undo button for a while."""
        self._show(text, with_button=True)

    def note(self, text: str) -> None:
        """Show ``text`` without the button (after an undo)."""
        self._show(text, with_button=False)

    def _show(self, text: str, *, with_button: bool) -> None:
        bar = self.parent()
        if isinstance(bar, QStatusBar):
            bar.clearMessage()  # the newest word is this one: an older message would hide it
        self.label.setText(text)
        self.button.setVisible(with_button)
        self.show()
        self.timer.start()
