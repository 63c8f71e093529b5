"""What the watch tells people: the daily digest (what it found on one day, where it came
from, the intake rate) and the words of its notification."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

import sqlite_utils

from desktop.intake import INTAKE_DAYS, CreationWindow, IntakeReport, intake_report
from desktop.store.watch import found_since
from desktop.timestamps import utc_stamp

if TYPE_CHECKING:
    from desktop.watch import NewPair


_WHEN = {"business hours": "in business hours", "weekend": "at the weekend"}


def source_of(signals: str | None) -> str:
    """The main source a pair's stored signals point to, in words."""
    lines = [s for s in (signals or "").splitlines() if s]
    if any("assistant" in s.lower() for s in lines):
        return "an assistant (note on the record)"
    for line in lines:
        if line.startswith("referral source: "):
            return line.replace("referral source: ", "referral source “") + "”"
    return "no sign on the record"


@dataclass(frozen=True)
class Digest:
    """One day of the watch."""

    day: date
    pairs: int
    likely: int
    by_window: dict[str, int]
    by_source: Counter[str]
    intake: IntakeReport

    def text(self) -> str:
        """The digest in plain words (no patient data)."""
        head = f"{self.day:%A} {self.day.day} {self.day:%B}: "
        if not self.pairs:
            head += "no new duplicate pairs."
        else:
            head += (
                f"{self.pairs} new duplicate pair{'s' if self.pairs != 1 else ''} "
                f"({self.likely} likely)"
            )
            windows = [f"{n} {_WHEN.get(w, w)}" for w, n in sorted(self.by_window.items()) if n]
            head += (", created " + ", ".join(windows) if windows else "") + "."
            sources = [f"{s}: {n}" for s, n in self.by_source.most_common()]
            head += " Where they came from: " + "; ".join(sources) + "."
        # As the status bar says it: never a bare percentage of a handful of new patients.
        head += f" {self.intake.status_text(INTAKE_DAYS)}"
        head += f" (above the {self.intake.threshold:.0%} threshold)." if self.intake.alarm else "."
        if self.intake.alarm:  # what it suggests: the window's rate says it only on hover
            head += f" {self.intake.alarm_text()}"
        return head


def daily_digest(
    db: sqlite_utils.Database, day: date, tz: tzinfo, *, threshold: float = 0.03, minimum: int = 50
) -> Digest:
    """The digest of ``day`` (a date on the clinic's clock)."""
    start = datetime.combine(day, time(0), tz)
    end = start + timedelta(days=1)
    rows = [r for r in found_since(db, utc_stamp(start)) if r["found_at"] < utc_stamp(end)]
    windows = Counter(r["window"] or "unknown time" for r in rows)
    sources = Counter(source_of(r["signals"]) for r in rows)
    intake = intake_report(
        db, end - timedelta(days=INTAKE_DAYS), end, tz, threshold=threshold, minimum=minimum
    )
    likely = sum(1 for r in rows if r["band"] == "likely")
    return Digest(day, len(rows), likely, dict(windows), sources, intake)


def since_label(moment: datetime, tz: tzinfo, today: date | None = None) -> str:
    """``9:00`` today, ``Tue 9:00`` another day, on the clinic's clock."""
    local = moment.astimezone(tz)
    clock = f"{local.hour}:{local.minute:02d}"
    return clock if local.date() == (today or datetime.now(tz).date()) else f"{local:%a} {clock}"


def notification_text(pairs: Sequence[NewPair], since: str) -> str:
    """``3 new likely duplicates found since 9:00, 2 created after hours`` (no patient data;
    the time is when the watch found them, not when the records were made).

    Counts new records, not pairs: a new record that matches a patient with two records is
    one duplicate, in two pairs (said after the time), likely if either pair is."""
    newest: dict[str, NewPair] = {}
    for pair in pairs:
        if pair.new_id not in newest or pair.band == "likely":
            newest[pair.new_id] = pair
    records = list(newest.values())
    likely = sum(1 for p in records if p.band == "likely")
    possible = len(records) - likely
    parts = []
    if likely:
        parts.append(f"{likely} new likely duplicate{'s' if likely != 1 else ''}")
    if possible:
        word = "possible" if likely else "new possible duplicate" + ("s" if possible != 1 else "")
        parts.append(f"{possible} {word}")
    text = " and ".join(parts) + f" found since {since}"
    if len(pairs) > len(records):
        text += f" ({len(pairs)} pairs in the queue)"
    after = sum(1 for p in records if p.window == CreationWindow.AFTER_HOURS)
    weekend = sum(1 for p in records if p.window == CreationWindow.WEEKEND)
    if after:
        text += f", {after} created after hours"
    if weekend:
        text += f", {weekend} at the weekend"
    return text
