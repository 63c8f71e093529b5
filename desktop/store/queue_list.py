"""The merge queue as lists: the rows the queue view shows, and the pairs the CSV export writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

# Each pair with both records' names and birth dates and its cluster's size, best first.
_QUEUE_ROWS = """
SELECT m.id_a, m.id_b, m.probability, m.band, m.status, m.flags, m.warnings, m.cluster_id,
       coalesce(a.first_name, '') || ' ' || coalesce(a.last_name, ''),
       coalesce(b.first_name, '') || ' ' || coalesce(b.last_name, ''),
       coalesce(a.date_of_birth, ''), coalesce(b.date_of_birth, ''), coalesce(c.size, 0)
FROM match_pairs m
LEFT JOIN match_clusters c ON c.cluster_id = m.cluster_id
LEFT JOIN patients a ON a.id = m.id_a
LEFT JOIN patients b ON b.id = m.id_b
WHERE m.band != 'unlikely' {among}
ORDER BY m.band = 'likely' DESC, m.probability DESC, m.id_a, m.id_b
"""
_AMONG = (
    "AND m.id_a IN (SELECT value FROM json_each(:ids)) "
    "AND m.id_b IN (SELECT value FROM json_each(:ids))"
)


def queue_rows(
    db: sqlite_utils.Database, among: Sequence[str] | None = None
) -> list[tuple[Any, ...]]:
    """Every likely or possible pair (or those between two of ``among``), likely first then
    by probability, as tuples of: id_a, id_b, probability, band, status, flags, warnings,
    cluster_id, name A, name B, birth date A, birth date B (names and dates "" when unknown),
    cluster size (0 when none)."""
    if among is None:
        return db.execute(_QUEUE_ROWS.format(among="")).fetchall()
    ids = json.dumps([str(i) for i in among])
    return db.execute(_QUEUE_ROWS.format(among=_AMONG), {"ids": ids}).fetchall()


def pairs_to_export(db: sqlite_utils.Database) -> list[tuple[Any, ...]]:
    """(id_a, id_b, probability, band, flags) of every likely or possible pair, best first."""
    return db.execute(
        "SELECT id_a, id_b, probability, band, flags FROM match_pairs "
        "WHERE band IN ('likely', 'possible') ORDER BY probability DESC, id_a, id_b"
    ).fetchall()
