"""Moments as Cliniko and the cache write them (UTC text), and dates as the window says them.

Imports nothing from ``desktop``, so every layer may read it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_stamp(moment: dt.datetime | None = None) -> str:
    """``2026-12-04T05:00:00Z``: ``moment`` in UTC (now when None; a naive one is UTC).

    Stamps in this form sort and compare as text, so the cache stores times this way.
    """
    if moment is None:
        moment = dt.datetime.now(dt.UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime(STAMP_FORMAT)


def parse_timestamp(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime, or None if it is not one.

    Only full date-and-time stamps count (``2024-05-01T10:00:00Z``): ``"99"`` and a bare date
    are not moments. A stamp without a zone is UTC, as Cliniko's are.
    """
    if not isinstance(value, str) or len(value) < 19 or value[4:5] != "-":
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def canonical_stamp(value: Any) -> str | None:
    """A time as received (``2026-12-08T10:30:00+11:00``) in :func:`utc_stamp`'s form, so it
    compares as text with the rest; None for a value that is not a time."""
    moment = parse_timestamp(value)
    return utc_stamp(moment) if moment is not None else None


def day_words(day: dt.date) -> str:
    """``5 Dec 2026``: a date as the window and the printed summary say it."""
    return f"{day.day} {day:%b %Y}"


def weekday_words(moment: dt.datetime) -> str:
    """``Tue 8 Dec 10:30``: a moment of this week or next, on the clock it is given in."""
    return f"{moment:%a} {moment.day} {moment:%b %H:%M}"


def moment_words(moment: dt.datetime) -> str:
    """``5 Dec 2026 20:59``: a moment on the clock it is given in."""
    return f"{day_words(moment)} {moment:%H:%M}"
