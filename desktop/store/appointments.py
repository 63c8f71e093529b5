"""SQL for the clinical activity triage reads: the clinic's upcoming appointments and its recent
treatment notes (cached for triage and offline review)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import sqlite_utils

_COLUMNS = ("id", "patient_id", "starts_at", "ends_at", "practitioner_id")


def replace_upcoming(db: sqlite_utils.Database, rows: Iterable[Sequence[str | None]]) -> int:
    """Replace the cached window with ``rows`` (id, patient_id, starts_at, ends_at,
    practitioner_id); returns how many."""
    db.execute("DELETE FROM upcoming_appointments")
    values = [tuple(r) for r in rows]
    db.conn.executemany(
        f"INSERT OR REPLACE INTO upcoming_appointments ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_COLUMNS))})",
        values,
    )
    return len(values)


def update_upcoming(
    db: sqlite_utils.Database, rows: Iterable[Sequence[str | None]], gone: Iterable[str]
) -> None:
    """Add or update ``rows`` in the cached window and drop the ``gone`` ones (cancelled,
    deleted or archived since)."""
    db.conn.executemany(
        f"INSERT OR REPLACE INTO upcoming_appointments ({', '.join(_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_COLUMNS))})",
        [tuple(r) for r in rows],
    )
    db.conn.executemany("DELETE FROM upcoming_appointments WHERE id = ?", [(i,) for i in gone])


def next_appointments(db: sqlite_utils.Database, ids: Iterable[str], after: str) -> dict[str, str]:
    """Per patient among ``ids``: the start (UTC text) of its next appointment after
    ``after``; patients with none are left out."""
    rows = db.execute(
        "SELECT patient_id, min(starts_at) FROM upcoming_appointments "
        "WHERE starts_at >= ? AND patient_id IN (SELECT value FROM json_each(?)) "
        "GROUP BY patient_id",
        [after, json.dumps(list(ids))],
    ).fetchall()
    return {pid: starts for pid, starts in rows}


def booked_patients(db: sqlite_utils.Database, after: str) -> dict[str, str]:
    """Every patient with an appointment after ``after``: its next start (UTC text)."""
    rows = db.execute(
        "SELECT patient_id, min(starts_at) FROM upcoming_appointments WHERE starts_at >= ? "
        "GROUP BY patient_id",
        [after],
    ).fetchall()
    return {pid: starts for pid, starts in rows}


def replace_recent_notes(db: sqlite_utils.Database, rows: Iterable[Sequence[str]]) -> int:
    """Replace the cached recent treatment notes with ``rows`` (id, patient_id, written_at);
    returns how many."""
    db.execute("DELETE FROM recent_treatment_notes")
    return add_recent_notes(db, rows)


def add_recent_notes(
    db: sqlite_utils.Database, rows: Iterable[Sequence[str]], older_than: str = ""
) -> int:
    """Add (or update) ``rows`` (id, patient_id, written_at) and drop the notes written before
    ``older_than`` (UTC text; "" drops none); returns how many were added."""
    values = [tuple(r) for r in rows]
    db.conn.executemany(
        "INSERT OR REPLACE INTO recent_treatment_notes (id, patient_id, written_at) "
        "VALUES (?, ?, ?)",
        values,
    )
    if older_than:
        db.execute("DELETE FROM recent_treatment_notes WHERE written_at < ?", [older_than])
    return len(values)


def latest_notes(db: sqlite_utils.Database, since: str) -> dict[str, str]:
    """Every patient with a treatment note written at or after ``since``: when the latest was
    written (UTC text)."""
    rows = db.execute(
        "SELECT patient_id, max(written_at) FROM recent_treatment_notes WHERE written_at >= ? "
        "GROUP BY patient_id",
        [since],
    ).fetchall()
    return {pid: written for pid, written in rows}
