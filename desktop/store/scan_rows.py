"""The patients' rows a scan reads: every active one, or some by id or rowid, and what changed.

The caller names the columns (``desktop.matching.features.ROW_COLUMNS``); rows come back as
tuples in that order, with the rowid first where the name says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlite_utils

from desktop.store.intake import UNRECORDED
from desktop.store.patients import ACTIVE

# A patient's birth date, else the one birth date of the records merged into it in Cliniko:
# the clinic has said they are one person, and Cliniko keeps the survivor's own (empty) field.
# An undated "Olivia Brown" whose dated record (a child's) was merged into it is then no
# longer the same person as her dated mother of that name.
_BIRTH_DATE = """coalesce(nullif(date_of_birth, ''), (
    SELECT CASE WHEN count(DISTINCT merged.date_of_birth) = 1 THEN min(merged.date_of_birth) END
    FROM patients AS merged
    WHERE merged.merged_with_patient_id = patients.id AND merged.date_of_birth <> ''
)) AS date_of_birth"""


def _select(columns: Sequence[str], *, rowid: bool = False) -> str:
    names = [_BIRTH_DATE if c == "date_of_birth" else c for c in columns]
    return f"SELECT {'rowid, ' if rowid else ''}{', '.join(names)} FROM patients"


def active_rows_with_rowid(
    db: sqlite_utils.Database, columns: Sequence[str], size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """(rowid, *columns, unrecorded) of every patient neither archived nor merged, ``size``
    rows at a time; ``unrecorded`` is 1 for a patient the intake has not recorded yet.

    One statement, so one consistent read; the caller can turn each batch into columns and
    let it go, instead of holding every row as a tuple as well as in columns.
    """
    select = _select([*columns, UNRECORDED], rowid=True)
    cursor = db.execute(select + " WHERE " + ACTIVE)
    try:
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()  # a read given up half-way does not keep its snapshot open


def rows_of(
    db: sqlite_utils.Database, columns: Sequence[str], ids: Iterable[str], *, active_only: bool
) -> list[tuple[Any, ...]]:
    """The rows of ``ids``, optionally only the active ones (sorted by id)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS _want (id TEXT PRIMARY KEY)")
    db.execute("DELETE FROM _want")
    db.conn.executemany("INSERT OR IGNORE INTO _want (id) VALUES (?)", [(i,) for i in ids])
    sql = _select(columns) + " WHERE id IN (SELECT id FROM _want)"
    if active_only:
        # The unary plus keeps SQLite on the primary key: through the archived/merged index it
        # would walk every active patient to find a few hundred.
        sql += " AND +archived_at IS NULL AND +merged_at IS NULL"
    return db.execute(sql).fetchall()


def rows_with_rowid_at(
    db: sqlite_utils.Database, columns: Sequence[str], rowids: Iterable[int]
) -> list[tuple[Any, ...]]:
    """(rowid, *columns) of the patients at these rowids (whatever their state)."""
    return db.execute(
        _select(columns, rowid=True) + " WHERE rowid IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(rowids))],
    ).fetchall()


def sync_marks(db: sqlite_utils.Database) -> tuple[str, str]:
    """The newest ``synced_at`` and ``updated_at`` among the patients ("" when none)."""
    synced, updated = db.execute(
        "SELECT (SELECT max(synced_at) FROM patients), (SELECT max(updated_at) FROM patients)"
    ).fetchone()
    return synced or "", updated or ""


def changed_since(db: sqlite_utils.Database, synced: str, updated: str) -> list[str]:
    """Ids of the patients synced after ``synced`` or updated after ``updated``, and of the
    survivors of records merged since (what a survivor is read with has changed)."""
    rows = db.execute(
        "SELECT id, merged_with_patient_id FROM patients WHERE synced_at > ? OR updated_at > ?",
        [synced, updated],
    ).fetchall()
    return list(dict.fromkeys([r[0] for r in rows] + [r[1] for r in rows if r[1]]))


def without_date_or_name(db: sqlite_utils.Database, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` whose patient has no birth date or no first name: what tells a twin or
    a parent apart is missing from such a record."""
    return {
        pid
        for (pid,) in db.execute(
            "SELECT id FROM patients WHERE id IN (SELECT value FROM json_each(?)) AND "
            "(trim(coalesce(date_of_birth, '')) = '' OR trim(coalesce(first_name, '')) = '')",
            [json.dumps(sorted(set(ids)))],
        ).fetchall()
    }
