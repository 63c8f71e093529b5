"""Qt's dates and Python's, converted by their parts (PySide's ``toPython`` is typed ``object``)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit, QWidget


def qdate(day: dt.date) -> QDate:
    """The ``QDate`` of a Python date."""
    return QDate(day.year, day.month, day.day)


def pydate(day: QDate) -> dt.date:
    """The Python date of a ``QDate``."""
    return dt.date(day.year(), day.month(), day.day())


class DateField(QDateEdit):
    """A date with a calendar to pick from, that Tab leaves (Qt's moves from day to month to
    year first, so a keyboard walk found Tab held in the dates). Left and Right move between
    the day, month and year."""

    def __init__(self, day: QDate, display_format: str, parent: QWidget | None = None) -> None:
        super().__init__(day, parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat(display_format)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab and Shift+Tab move to the next or previous control."""
        return QWidget.focusNextPrevChild(self, next)
