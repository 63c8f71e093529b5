"""Small key/value sync state, and the one way to write atomically: :func:`transaction`."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlite_utils

if TYPE_CHECKING:
    from desktop.store.cache import Cache


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


@contextmanager
def transaction(cache: Cache) -> Iterator[sqlite_utils.Database]:
    """Run a block atomically: ``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on error.

    Holds ``cache.lock`` so threads sharing the cache do not interleave transactions. A nested
    call (same thread) becomes a savepoint that rolls back on its own.

    Yields:
        the cache's ``sqlite_utils.Database``.
    """
    conn = cache.conn
    with cache.lock:
        if conn.in_transaction:
            name = f"mergedesk_{secrets.token_hex(8)}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield cache.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield cache.db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
