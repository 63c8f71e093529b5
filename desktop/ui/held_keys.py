"""A key held down never presses button after button."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QPlainTextEdit, QTextEdit

# The keys that press a focused or default button.
PRESSING_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space)
# Where a held key types, as it should.
TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)


class HeldKeyGuard(QObject):
    """An application event filter that drops the repeats of a held Enter, Return or Space.

    Held down, a key repeats about thirty times a second, and each repeat presses whatever
    button is then the default: held for two and a half seconds, Enter ran the guided merge
    from "Compare" through the "Apply the changes in Cliniko?" question to the update of the
    record in Cliniko. Only the first press counts; text fields still take the repeats.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """True (dropped) for a repeat of a pressing key outside a text field."""
        return (
            event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            and isinstance(event, QKeyEvent)
            and event.isAutoRepeat()
            and event.key() in PRESSING_KEYS
            and not isinstance(watched, TEXT_INPUTS)
        )


def guard_held_keys(app: QObject | None) -> None:
    """Install one :class:`HeldKeyGuard` on the application (again: nothing to do)."""
    if app is None or app.findChild(HeldKeyGuard) is not None:
        return
    app.installEventFilter(HeldKeyGuard(app))
