"""Schema version 5: each patient as it arrived, for the intake exception rate.

``patient_intake`` keeps one row per patient, written the first time a scan scores it and
never changed after: when the record was created (UTC), when it was first scored, and the
earlier-created record it was then a likely duplicate of (NULL when none). Kept per patient,
so a duplicate merged away later still counts in the period it was created.
"""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    """
    CREATE TABLE patient_intake (
        patient_id TEXT PRIMARY KEY,
        created_at TEXT,
        first_scored_at TEXT,
        duplicate_of TEXT NULL
    )
    """,
    "CREATE INDEX idx_patient_intake_created_at ON patient_intake (created_at)",
]


def migrate(db: sqlite_utils.Database) -> None:
    """Add the intake table and its index on creation time."""
    for statement in STATEMENTS:
        db.execute(statement)
