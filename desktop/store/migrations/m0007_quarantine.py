"""Schema version 7: records a sync could not store, kept as received (the quarantine).

One row per bad record: its Cliniko id when it has one (otherwise where it was: the page and
position), why it was refused, and the record itself as ASCII-escaped JSON, so even text that
is not valid Unicode is kept byte for byte. A later sync that receives a good copy of the same
id removes the row.
"""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    """
    CREATE TABLE quarantine (
        key TEXT PRIMARY KEY,
        patient_id TEXT,
        position TEXT NOT NULL,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX idx_quarantine_patient ON quarantine (patient_id)",
]


def migrate(db: sqlite_utils.Database) -> None:
    """Add the quarantine table."""
    for statement in STATEMENTS:
        db.execute(statement)
