"""Qt's dates and Python's, converted by their parts (PySide's ``toPython`` is typed ``object``)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QDateTime, QTime, QTimeZone
from PySide6.QtWidgets import QDateTimeEdit, QWidget


def qdate(day: dt.date) -> QDate:
    """The ``QDate`` of a Python date."""
    return QDate(day.year, day.month, day.day)


def pydate(day: QDate) -> dt.date:
    """The Python date of a ``QDate``."""
    return dt.date(day.year(), day.month(), day.day())


def wall_qdatetime(moment: dt.datetime) -> QDateTime:
    """``moment``'s wall-clock time to the minute, held as UTC so that no local daylight
    saving moves it (read back on its own clock by :func:`wall_datetime`)."""
    return QDateTime(qdate(moment.date()), QTime(moment.hour, moment.minute), QTimeZone.utc())


def wall_datetime(value: QDateTime, zone: dt.tzinfo | None) -> dt.datetime:
    """The wall-clock time of ``value`` (from :func:`wall_qdatetime`), aware, on ``zone``."""
    day, clock = pydate(value.date()), value.time()
    return dt.datetime(day.year, day.month, day.day, clock.hour(), clock.minute(), tzinfo=zone)


class DateField(QDateTimeEdit):
    """A date, or a date and time (by its display format), with a calendar to pick from, that
    Tab leaves (Qt's moves from day to month to year, and hour and minute, first: a keyboard
    walk found Tab held in the dates). Left and Right move between the parts."""

    def __init__(
        self, value: QDate | QDateTime, display_format: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(value, parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat(display_format)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab and Shift+Tab move to the next or previous control."""
        return QWidget.focusNextPrevChild(self, next)
