"""Version 12: a merge plan keeps the look-alike warnings its pair had when it was opened.

Applying a plan gives the record that stays some of the other record's details; scored again
while the merge waits in Cliniko, the pair can lose its flags ("twins" and the like). The plan
now holds them itself (JSON ``{"flags": [...], "warnings": [...]}``), so its warning and its
hold stay. Plans made by an earlier version have none stored: they read the queue's, as before.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    """Give merge plans a column for the look-alike marks they were opened with."""
    db.execute("ALTER TABLE merge_plans ADD COLUMN lookalike TEXT")
