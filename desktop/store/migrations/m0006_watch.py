"""Schema version 6: what the watch has seen, and the clinic's upcoming appointments.

* ``watch_pairs``: one row per likely or possible pair the watch has seen, with which record
  was new, when and in which window it was created, its source signals, and when the watch
  found it (NULL for the pairs already in the queue when the watch first ran). The app's
  "New since..." filter, the notification and the daily digest read it.
* ``upcoming_appointments``: the clinic's appointments in a window ahead (one paged request
  for the whole clinic), kept for triage and offline review.
"""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    """
    CREATE TABLE watch_pairs (
        id_a TEXT NOT NULL,
        id_b TEXT NOT NULL,
        band TEXT NOT NULL,
        new_id TEXT,
        created_at TEXT,
        window TEXT,
        signals TEXT,
        found_at TEXT,
        PRIMARY KEY (id_a, id_b)
    )
    """,
    "CREATE INDEX idx_watch_pairs_found_at ON watch_pairs (found_at)",
    """
    CREATE TABLE upcoming_appointments (
        id TEXT PRIMARY KEY,
        patient_id TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT,
        practitioner_id TEXT
    )
    """,
    "CREATE INDEX idx_upcoming_appointments_patient ON upcoming_appointments (patient_id)",
]


def migrate(db: sqlite_utils.Database) -> None:
    """Add the watch's pairs and the upcoming appointments."""
    for statement in STATEMENTS:
        db.execute(statement)
