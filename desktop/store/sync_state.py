"""Small key/value state (sync cursors, the account, settings the app keeps in the cache)."""

from __future__ import annotations

import sqlite_utils


def get_state(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    """Return the value stored under ``key``, or ``default``."""
    row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
    return default if row is None else row[0]


def set_state(db: sqlite_utils.Database, key: str, value: str | None) -> None:
    """Store ``value`` under ``key`` (does not commit; ``None`` removes the key)."""
    if value is None:
        db.execute("DELETE FROM sync_state WHERE key = ?", [key])
        return
    db.execute(
        "INSERT INTO sync_state (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, str(value)],
    )
