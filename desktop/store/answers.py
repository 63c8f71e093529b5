"""The administrator's answers about queued pairs, for learning (see matching.learning)."""

from __future__ import annotations

import json

import sqlite_utils

from desktop.matching.lookalike import split_flags
from desktop.merge_states import KEPT_STATUSES, PairStatus

# A merge planned, ready or done says "one person"; "not the same person" says two.
SAME_STATUSES = KEPT_STATUSES
DIFFERENT_STATUSES = (PairStatus.NOT_SAME,)


def answered_pairs(db: sqlite_utils.Database) -> list[tuple[tuple[str, ...], bool]]:
    """Per answered pair in the queue: the look-alike flags it was scored with, and whether
    the administrator said it was one person."""
    statuses = SAME_STATUSES + DIFFERENT_STATUSES
    marks = ", ".join("?" for _ in statuses)
    rows = db.execute(
        f"SELECT flags, status FROM match_pairs WHERE status IN ({marks})", list(statuses)
    ).fetchall()
    return [(split_flags(flags), status in SAME_STATUSES) for flags, status in rows]


def scored_relaxations(db: sqlite_utils.Database) -> list[str]:
    """The learned relaxations the stored model was scored with (read without parsing the
    whole model)."""
    row = db.execute(
        "SELECT json_extract(params, '$.relaxed_flags') FROM match_model WHERE id = 1"
    ).fetchone()
    return json.loads(row[0]) if row and row[0] else []


def confirmed_pairs(db: sqlite_utils.Database) -> tuple[tuple[str, str], ...]:
    """Id pairs whose merge the administrator planned or made (one person)."""
    marks = ", ".join("?" for _ in SAME_STATUSES)
    rows = db.execute(
        f"SELECT id_a, id_b FROM match_pairs WHERE status IN ({marks})", list(SAME_STATUSES)
    ).fetchall()
    return tuple((str(a), str(b)) for a, b in rows)
