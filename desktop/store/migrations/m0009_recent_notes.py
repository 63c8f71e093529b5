"""Version 9: the clinic's recent treatment notes (issue 18's clinical triage).

* ``recent_treatment_notes``: each treatment note written in the last days that count as
  recent (one paged request for the whole clinic, daily): its patient and when it was written,
  never its content. Triage puts a pair whose two records both have a recent note first.
"""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    """
    CREATE TABLE recent_treatment_notes (
        id TEXT PRIMARY KEY,
        patient_id TEXT NOT NULL,
        written_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX idx_recent_treatment_notes_patient ON recent_treatment_notes (patient_id)",
]


def migrate(db: sqlite_utils.Database) -> None:
    """Add the recent treatment notes."""
    for statement in STATEMENTS:
        db.execute(statement)
