"""Schema version 5: ``match_model`` loses its ``key_index`` column.

Schema 4 moved the blocking-key index into ``match_key_chunks`` and emptied this column; no
version since writes or reads it.
"""

from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    """Drop the empty one-blob key index column of the stored model."""
    db.execute("ALTER TABLE match_model DROP COLUMN key_index")
