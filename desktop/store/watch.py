"""SQL for the watch: the pairs it has seen and what it needs to know about a new record."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

_WATCHED = "('likely', 'possible')"
_FOUND_COLUMNS = ("id_a", "id_b", "band", "new_id", "created_at", "window", "signals", "found_at")


# Not made since the watch started: before it, or at a time after now (a clock or an import
# gone wrong is no news).
_NOT_MADE_SINCE = "({r}.created_at < :before OR {r}.created_at > :now)"


def record_baseline(db: sqlite_utils.Database, before: str, now: str) -> int:
    """Record as already seen (no event) every likely or possible pair in the queue whose two
    records were both made before ``before`` (UTC text: when the watch started), counting a
    record made after ``now`` (UTC text) as made before."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO watch_pairs (id_a, id_b, band) "
        f"SELECT m.id_a, m.id_b, m.band FROM match_pairs m "
        "JOIN patients a ON a.id = m.id_a JOIN patients b ON b.id = m.id_b "
        f"WHERE m.band IN {_WATCHED} AND {_NOT_MADE_SINCE.format(r='a')} "
        f"AND {_NOT_MADE_SINCE.format(r='b')}",
        {"before": before, "now": now},
    )
    return cursor.rowcount


def unseen_pairs(db: sqlite_utils.Database, scored_since: str) -> list[dict[str, Any]]:
    """Pairs scored since ``scored_since`` that are new to the watch: never seen, or seen as
    possible and now likely. Undecided ones only (status ``new``)."""
    cursor = db.execute(
        "SELECT p.id_a, p.id_b, p.band, p.probability, p.flags, p.evidence "
        "FROM match_pairs p LEFT JOIN watch_pairs w ON w.id_a = p.id_a AND w.id_b = p.id_b "
        f"WHERE p.scored_at >= ? AND p.band IN {_WATCHED} AND p.status = 'new' "
        "AND (w.id_a IS NULL OR (w.band = 'possible' AND p.band = 'likely')) "
        "ORDER BY p.probability DESC, p.id_a, p.id_b",
        [scored_since],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def record_found(db: sqlite_utils.Database, rows: Iterable[Sequence[Any]]) -> None:
    """Keep found pairs: (id_a, id_b, band, new_id, created_at, window, signals, found_at)."""
    db.conn.executemany(
        f"INSERT OR REPLACE INTO watch_pairs ({', '.join(_FOUND_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_FOUND_COLUMNS))})",
        [tuple(r) for r in rows],
    )


def found_since(db: sqlite_utils.Database, since: str) -> list[dict[str, Any]]:
    """Pairs the watch found at or after ``since`` (UTC text), newest first, with their
    current queue status and score."""
    cursor = db.execute(
        "SELECT w.*, p.probability, p.status FROM watch_pairs w "
        "JOIN match_pairs p ON p.id_a = w.id_a AND p.id_b = w.id_b "
        "WHERE w.found_at >= ? ORDER BY w.found_at DESC, p.probability DESC",
        [since],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def found_pair_keys(db: sqlite_utils.Database, since: str) -> set[tuple[str, str]]:
    """(id_a, id_b) of the pairs found at or after ``since``."""
    rows = db.execute("SELECT id_a, id_b FROM watch_pairs WHERE found_at >= ?", [since])
    return {(a, b) for a, b in rows.fetchall()}


def record_origins(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per patient id: created_at and what the record says about how it was made (its notes,
    referral source, and the creating user when the API gave one)."""
    rows = db.execute(
        "SELECT p.id, p.created_at, json_extract(r.raw, '$.notes'), "
        "json_extract(r.raw, '$.referral_source'), json_extract(r.raw, '$.created_by') "
        "FROM patients p LEFT JOIN patient_raw r ON r.id = p.id "
        "WHERE p.id IN (SELECT value FROM json_each(?))",
        [json.dumps(list(ids))],
    ).fetchall()
    return {
        pid: {"created_at": created, "notes": notes, "referral_source": ref, "created_by": by}
        for pid, created, notes, ref, by in rows
    }
