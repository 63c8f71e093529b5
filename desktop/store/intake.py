"""SQL for ``patient_intake``: each patient as it arrived, recorded once by the first scan.

A patient is recorded the first time a scan scores it (full or incremental), with the
earlier-created record it was then in a likely pair with, if any. The row is never rewritten,
so a duplicate merged away later still counts for the period it was created in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlite_utils

from desktop.store.patients import ACTIVE
from desktop.timestamps import canonical_stamp

# True for a patient not recorded yet; a full scan reads it with each patient's row.
UNRECORDED = "patients.id NOT IN (SELECT patient_id FROM patient_intake)"


@dataclass
class Arrivals:
    """The patients a full scan read that the intake had not recorded: each one's
    ``created_at`` as read, and their rowids."""

    created: dict[str, str | None] = field(default_factory=dict)
    rowids: list[int] = field(default_factory=list)


def _canonical(value: str | None) -> bool:
    """True for a timestamp already in :func:`stored_stamp`'s form (the common case)."""
    return value is not None and len(value) == 20 and value[10] == "T" and value[-1] == "Z"


def stored_stamp(value: str | None) -> str:
    """A Cliniko timestamp as :func:`~desktop.timestamps.utc_stamp` writes it ("" when absent
    or unreadable), so stored times compare as text."""
    if value is not None and _canonical(value):
        return value  # no parsing (the common case)
    return canonical_stamp(value) or ""


def _unrecorded(db: sqlite_utils.Database, scored: Sequence[str] | None) -> dict[str, str]:
    """Active patients among ``scored`` (every active patient when None) not yet recorded,
    with their creation time."""
    if scored is None:
        sql = f"SELECT id, created_at FROM patients WHERE {ACTIVE} AND {UNRECORDED}"
        rows = db.execute(sql).fetchall()
    else:
        # From the scored ids to their rows (by primary key): a re-score of 100 patients
        # reads 100 rows, not the whole clinic.
        rows = db.execute(
            "SELECT patients.id, patients.created_at FROM json_each(?) AS scored CROSS "
            f"JOIN patients ON patients.id = scored.value WHERE {ACTIVE} AND {UNRECORDED}",
            [json.dumps(list(scored))],
        ).fetchall()
    return {pid: stored_stamp(created) for pid, created in rows}


def _created_at(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = db.execute(
        "SELECT id, created_at FROM patients WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(wanted)],
    ).fetchall()
    return {pid: stored_stamp(created) for pid, created in rows}


def record_first_scores(
    db: sqlite_utils.Database,
    likely: Iterable[tuple[str, str]],
    scored: Sequence[str] | None,
    at: str,
    arrivals: Arrivals | None = None,
) -> int:
    """Record the scored patients seen for the first time; returns how many.

    Args:
        db: the cache, inside the scan's transaction.
        likely: the scan's likely pairs (id_a, id_b).
        scored: the ids the scan scored, or None for a full scan (every active patient).
        at: when the scan ran (ISO text).
        arrivals: the scored patients not yet recorded, when the scan read them already (a
            full scan reads :data:`UNRECORDED` with each row, so the clinic's rows are not
            read a second time here).

    A new patient's ``duplicate_of`` is its earliest-created likely partner created before it
    (same second: the lower id counts as earlier), or NULL.
    """
    if arrivals is None:
        return _record(db, likely, _unrecorded(db, scored), at, every_row=True)
    # A clinic's first scan records every patient: most of them (no likely partner, a
    # creation time already in canonical form) are copied row to row by rowid in SQL, 3x
    # faster at 400k than binding each one. Only the rowids the scan read are copied: a
    # patient synced since is recorded by the scan that scores it.
    recorded = _record(db, likely, arrivals.created, at, every_row=False)
    if recorded:
        db.execute(
            "INSERT OR IGNORE INTO patient_intake (patient_id, created_at, first_scored_at, "
            "duplicate_of) SELECT id, created_at, ?, NULL FROM patients "
            "WHERE rowid IN (SELECT value FROM json_each(?))",
            [at, json.dumps(arrivals.rowids)],
        )
    return recorded


def _record(
    db: sqlite_utils.Database,
    likely: Iterable[tuple[str, str]],
    arrived: Mapping[str, str | None],
    at: str,
    *,
    every_row: bool,
) -> int:
    """Write the intake rows of the new patients ``arrived`` (with their ``created_at`` as
    read): every one, or (``every_row`` False) only those SQL cannot copy, in a likely pair or
    with a creation time to put in canonical form. Returns how many patients arrived."""
    if not arrived:
        return 0
    partners: dict[str, list[str]] = {}
    for a, b in likely:
        if a in arrived:
            partners.setdefault(a, []).append(b)
        if b in arrived:
            partners.setdefault(b, []).append(a)
    others = {p for found in partners.values() for p in found if p not in arrived}
    created = _created_at(db, others)

    def when(pid: str) -> str:
        return stored_stamp(arrived[pid]) if pid in arrived else created[pid]

    write: Iterable[str] = arrived
    if not every_row:
        write = partners.keys() | {pid for pid, raw in arrived.items() if not _canonical(raw)}
    rows = []
    for pid in write:
        mine = (when(pid), pid)
        earlier = [found for found in ((when(p), p) for p in partners.get(pid, ())) if found < mine]
        rows.append((pid, mine[0] or None, at, min(earlier)[1] if earlier else None))
    db.conn.executemany(
        "INSERT OR IGNORE INTO patient_intake (patient_id, created_at, first_scored_at, "
        "duplicate_of) VALUES (?, ?, ?, ?)",
        rows,
    )
    return len(arrived)


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
