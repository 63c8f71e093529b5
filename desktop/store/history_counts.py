"""Each record's clinical history size, as Cliniko last reported it (``history_counts``).

Counts are a dict with the keys of :data:`HISTORY_KEYS`. Writers do not commit: call them
inside :func:`desktop.store.transaction.transaction`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlite_utils

HISTORY_KEYS = ("appointments", "treatment_notes", "invoices", "attachments")


def cached_counts(
    db: sqlite_utils.Database, patient_ids: Sequence[str]
) -> dict[str, dict[str, int] | None]:
    """History counts by id, in the order given (None where never fetched)."""
    ids = [str(i) for i in patient_ids]
    out: dict[str, dict[str, int] | None] = dict.fromkeys(ids)
    if not ids:
        return out
    marks = ", ".join("?" for _ in ids)
    rows = db.execute(
        f"SELECT patient_id, {', '.join(HISTORY_KEYS)} FROM history_counts "
        f"WHERE patient_id IN ({marks})",
        ids,
    ).fetchall()
    for pid, *counts in rows:
        out[str(pid)] = dict(zip(HISTORY_KEYS, counts, strict=True))
    return out


def save_counts(
    db: sqlite_utils.Database, counts: Mapping[str, Mapping[str, int]], fetched_at: str
) -> None:
    """Store fetched history counts by id, replacing older ones."""
    for pid, c in counts.items():
        db.execute(
            f"INSERT INTO history_counts (patient_id, {', '.join(HISTORY_KEYS)}, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(patient_id) DO UPDATE SET "
            + ", ".join(f"{k} = excluded.{k}" for k in (*HISTORY_KEYS, "fetched_at")),
            [pid, *(c.get(k) for k in HISTORY_KEYS), fetched_at],
        )


def forget_counts(db: sqlite_utils.Database, patient_ids: Sequence[str]) -> None:
    """Drop the cached counts of these records (after a merge moved their history)."""
    if not patient_ids:
        return
    marks = ", ".join("?" for _ in patient_ids)
    db.execute(
        f"DELETE FROM history_counts WHERE patient_id IN ({marks})", [str(i) for i in patient_ids]
    )
