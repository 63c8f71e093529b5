"""Qt's dates and Python's, converted by their parts (PySide's ``toPython`` is typed ``object``)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate


def qdate(day: dt.date) -> QDate:
    """The ``QDate`` of a Python date."""
    return QDate(day.year, day.month, day.day)


def pydate(day: QDate) -> dt.date:
    """The Python date of a ``QDate``."""
    return dt.date(day.year(), day.month(), day.day())
