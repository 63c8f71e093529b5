"""Where duplicates come from: the intake exception rate and the window a record was made in.

One definition, used by the labor report and the watch alike: for every patient created in a
period, whether at its creation (the first time a scan scored it) it was in a likely pair with
an earlier-created record. Kept per patient (``desktop/store/intake.py``), so a duplicate
merged away later still counts. Rate = arrived as duplicates / new patients; the alarm sounds
when there are at least ``minimum`` new patients and the rate is above ``threshold``::

    tz = account_time_zone(cache.db)
    report = intake_report(cache.db, start, end, tz)
    if report.alarm:
        print(report.alarm_text())
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from desktop.account import stored_account
from desktop.store.intake import intake_between
from desktop.timestamps import day_words, parse_timestamp, utc_stamp

DEFAULT_THRESHOLD = 0.03
DEFAULT_MINIMUM = 50
OPENS = time(8, 0)
CLOSES = time(18, 0)


class CreationWindow(enum.StrEnum):
    """When, in the clinic's week, a record was made."""

    BUSINESS_HOURS = "business hours"  # Mon-Fri, inside business hours, account time zone
    AFTER_HOURS = "after hours"  # Mon-Fri, outside business hours
    WEEKEND = "weekend"  # Sat, Sun


def creation_window(
    created_at: datetime, tz: tzinfo, opens: time = OPENS, closes: time = CLOSES
) -> CreationWindow:
    """The window ``created_at`` falls in, on the clock of ``tz`` (a naive time is UTC)."""
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=dt.UTC)
    local = created_at.astimezone(tz)
    if local.weekday() >= 5:
        return CreationWindow.WEEKEND
    if opens <= local.time() < closes:
        return CreationWindow.BUSINESS_HOURS
    return CreationWindow.AFTER_HOURS


def account_time_zone(db: sqlite_utils.Database) -> tzinfo:
    """The account's time zone, or this computer's when the account has none (or it is
    unknown to the zone database)."""
    account = stored_account(db)
    name = account.time_zone if account else ""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return datetime.now().astimezone().tzinfo or dt.UTC


# Days back the live intake rate covers (the watch's status line and its daily digest).
INTAKE_DAYS = 30


@dataclass(frozen=True)
class IntakeCounts:
    """New patients in a period, and how many of them arrived as a likely duplicate."""

    new_patients: int
    arrived_as_duplicates: int

    @property
    def rate(self) -> float:
        """Share that arrived as duplicates (0.0 when there were no new patients)."""
        return self.arrived_as_duplicates / self.new_patients if self.new_patients else 0.0

    def plus(self, duplicate: bool) -> IntakeCounts:
        """These counts with one more new patient."""
        return IntakeCounts(self.new_patients + 1, self.arrived_as_duplicates + int(duplicate))


_NONE = IntakeCounts(0, 0)


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class IntakeReport:
    """The intake exception rate over a period, by week and by creation window."""

    total: IntakeCounts
    by_week: tuple[tuple[date, IntakeCounts], ...]  # from Monday or the period's start, local
    by_window: dict[CreationWindow, IntakeCounts]
    threshold: float
    minimum: int

    @property
    def alarm(self) -> bool:
        """Enough new patients, and more of them than the threshold arrived as duplicates."""
        return self.total.new_patients >= self.minimum and self.total.rate > self.threshold

    @property
    def too_few(self) -> bool:
        """Fewer new patients than the minimum: the rate means nothing yet."""
        return self.total.new_patients < self.minimum

    def status_text(self, days: int, *, brief: bool = False) -> str:
        """One line for a status bar: the rate, or that there are too few new patients to
        judge (never a bare percentage of a handful, which would read like an alarm).
        ``brief`` leaves out how many new patients the rate counts from (the window's rate
        stands beside its messages, and its tooltip says it)."""
        total = self.total
        patients = f"{total.new_patients} new patient{'s' if total.new_patients != 1 else ''}"
        if self.too_few:
            text = f"Intake, {days} days: {patients}, too few to judge"
            return text if brief else f"{text} (the rate counts from {self.minimum})"
        text = f"Intake, {days} days: {_percent(total.rate)} of {patients} arrived as duplicates"
        return text + (" — alarm" if self.alarm else "")

    def alarm_text(self) -> str:
        """What crossing the threshold suggests, where and when, in plain words ("" if no
        alarm)."""
        if not self.alarm:
            return ""
        total = self.total
        text = (
            f"{_percent(total.rate)} of new patients ({total.arrived_as_duplicates} of "
            f"{total.new_patients}) arrived as a likely duplicate of an existing record, above "
            f"the {_percent(self.threshold)} threshold. This suggests either that the search "
            "before creating a patient is too rigid to find the existing record, or that "
            "patients are created through channels that do not follow one procedure (phone, "
            "online booking, assistants, paper forms); the figures alone do not say which."
        )
        windows = sorted(
            (
                (counts.rate, window)
                for window, counts in self.by_window.items()
                if counts.rate > self.threshold
            ),
            reverse=True,
        )
        if windows:
            parts = [
                f"{window} ({self.by_window[window].arrived_as_duplicates} of "
                f"{self.by_window[window].new_patients}, {_percent(rate)})"
                for rate, window in windows
            ]
            text += " Above the threshold in: " + ", ".join(parts) + "."
        weeks = [
            f"week of {day_words(start)} ({_percent(counts.rate)})"
            for start, counts in self.by_week
            if counts.rate > self.threshold
        ]
        if weeks:
            text += " Weeks above the threshold: " + ", ".join(weeks) + "."
        return text


def intake_report(
    db: sqlite_utils.Database,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    minimum: int = DEFAULT_MINIMUM,
    opens: time = OPENS,
    closes: time = CLOSES,
) -> IntakeReport:
    """The intake exception rate of patients created in [start, end) (naive times are UTC).

    Weeks and windows are on the clock of ``tz`` (the account's: :func:`account_time_zone`).
    Only weeks with a new patient are listed, each by its Monday, or by the period's first day
    for a week that began before it (so December's first week is 1 Dec's, not 30 Nov's).
    """
    first_day = (start if start.tzinfo else start.replace(tzinfo=dt.UTC)).astimezone(tz).date()
    total = _NONE
    weeks: dict[date, IntakeCounts] = {}
    windows = dict.fromkeys(CreationWindow, _NONE)
    for _pid, created, duplicate_of in intake_between(db, utc_stamp(start), utc_stamp(end)):
        when = parse_timestamp(created)
        if when is None:
            continue  # a creation time no calendar has ("2026-12-99..."): no week to count in
        duplicate = duplicate_of is not None
        local_day = when.astimezone(tz).date()
        week = max(local_day - dt.timedelta(days=local_day.weekday()), first_day)
        total = total.plus(duplicate)
        weeks[week] = weeks.get(week, _NONE).plus(duplicate)
        window = creation_window(when, tz, opens, closes)
        windows[window] = windows[window].plus(duplicate)
    return IntakeReport(
        total=total,
        by_week=tuple(sorted(weeks.items())),
        by_window=windows,
        threshold=threshold,
        minimum=minimum,
    )


__all__ = [
    "CreationWindow",
    "IntakeCounts",
    "IntakeReport",
    "account_time_zone",
    "creation_window",
    "intake_report",
]
