"""SQL for ``patient_intake``: each patient as it arrived, recorded once by the first scan.

A patient is recorded the first time a scan scores it (full or incremental), with the
earlier-created record it was then in a likely pair with, if any. The row is never rewritten,
so a duplicate merged away later still counts for the period it was created in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

import sqlite_utils

_ACTIVE = "archived_at IS NULL AND merged_at IS NULL"
# True for a patient not recorded yet; a full scan reads it with each patient's row.
UNRECORDED = "patients.id NOT IN (SELECT patient_id FROM patient_intake)"


def utc_text(value: str | None) -> str:
    """A Cliniko timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC ("" when absent or unreadable),
    so stored times compare as text."""
    if not value:
        return ""
    if len(value) == 20 and value[10] == "T" and value[-1] == "Z":
        return value  # already the canonical form (the common case: no parsing)
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unrecorded(db: sqlite_utils.Database, scored: Sequence[str] | None) -> dict[str, str]:
    """Active patients among ``scored`` (every active patient when None) not yet recorded,
    with their creation time."""
    if scored is None:
        sql = f"SELECT id, created_at FROM patients WHERE {_ACTIVE} AND {UNRECORDED}"
        rows = db.execute(sql).fetchall()
    else:
        # From the scored ids to their rows (by primary key): a re-score of 100 patients
        # reads 100 rows, not the whole clinic.
        rows = db.execute(
            "SELECT patients.id, patients.created_at FROM json_each(?) AS scored CROSS "
            f"JOIN patients ON patients.id = scored.value WHERE {_ACTIVE} AND {UNRECORDED}",
            [json.dumps(list(scored))],
        ).fetchall()
    return {pid: utc_text(created) for pid, created in rows}


def _created_at(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = db.execute(
        "SELECT id, created_at FROM patients WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(wanted)],
    ).fetchall()
    return {pid: utc_text(created) for pid, created in rows}


def record_first_scores(
    db: sqlite_utils.Database,
    likely: Iterable[tuple[str, str]],
    scored: Sequence[str] | None,
    at: str,
    arrivals: dict[str, str | None] | None = None,
) -> int:
    """Record the scored patients seen for the first time; returns how many.

    Args:
        db: the cache, inside the scan's transaction.
        likely: the scan's likely pairs (id_a, id_b).
        scored: the ids the scan scored, or None for a full scan (every active patient).
        at: when the scan ran (ISO text).
        arrivals: the scored patients not yet recorded, with their ``created_at``, when the
            scan read them already (a full scan reads :data:`UNRECORDED` with each row, so the
            clinic's rows are not read a second time here).

    A new patient's ``duplicate_of`` is its earliest-created likely partner created before it
    (same second: the lower id counts as earlier), or NULL.
    """
    if arrivals is None:
        new = _unrecorded(db, scored)
    else:
        new = {pid: utc_text(created) for pid, created in arrivals.items()}
    if not new:
        return 0
    partners: dict[str, list[str]] = {}
    for a, b in likely:
        if a in new:
            partners.setdefault(a, []).append(b)
        if b in new:
            partners.setdefault(b, []).append(a)
    others = {p for found in partners.values() for p in found} - new.keys()
    created = {**_created_at(db, others), **new}
    rows = []
    for pid, when in new.items():
        earlier = [(created[p], p) for p in partners.get(pid, ()) if (created[p], p) < (when, pid)]
        rows.append((pid, when or None, at, min(earlier)[1] if earlier else None))
    db.conn.executemany(
        "INSERT OR IGNORE INTO patient_intake (patient_id, created_at, first_scored_at, "
        "duplicate_of) VALUES (?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def intake_between(
    db: sqlite_utils.Database, start: str, end: str
) -> list[tuple[str, str, str | None]]:
    """(patient_id, created_at, duplicate_of) for patients created in [start, end), UTC text."""
    return [
        tuple(row)
        for row in db.execute(
            "SELECT patient_id, created_at, duplicate_of FROM patient_intake "
            "WHERE created_at >= ? AND created_at < ? ORDER BY created_at, patient_id",
            [start, end],
        ).fetchall()
    ]


def intake_of(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """patient_id -> (created_at, duplicate_of) for the recorded ones among ``ids``."""
    rows = db.execute(
        "SELECT patient_id, created_at, duplicate_of FROM patient_intake "
        "WHERE patient_id IN (SELECT value FROM json_each(?))",
        [json.dumps(list(ids))],
    ).fetchall()
    return {pid: (created, dup) for pid, created, dup in rows}
