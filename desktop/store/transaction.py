"""The one way to write atomically: :func:`transaction` (and :func:`savepoint` inside one)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlite_utils

if TYPE_CHECKING:
    from desktop.store.cache import Cache


@contextmanager
def transaction(cache: Cache, *, durable: bool = True) -> Iterator[sqlite_utils.Database]:
    """Run a block atomically: ``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on error.

    Holds ``cache.lock`` so threads sharing the cache do not interleave transactions. A nested
    call (same thread) becomes a savepoint that rolls back on its own.

    Args:
        cache: the open cache.
        durable: True (default) syncs the commit to disk before returning. False lets a bulk
            writer (a sync page that can be fetched again) skip that fsync: still atomic and
            safe from app crashes, but a power cut may roll back the last few such commits.
            Never pass False for the administrator's decisions, plans or timings.

    Yields:
        the cache's ``sqlite_utils.Database``.
    """
    conn = cache.conn
    with cache.lock:
        if conn.in_transaction:
            with savepoint(conn):
                yield cache.db
            return
        if not durable:
            conn.execute("PRAGMA synchronous = NORMAL")
        try:
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
            seal = getattr(cache, "audit_seal", None)
            if seal is not None:  # copy the audit head to the keychain (desktop.audit)
                seal.committed(cache.db, durable=durable)
        finally:
            if not durable:
                conn.execute("PRAGMA synchronous = FULL")


@contextmanager
def savepoint(conn: Any, name: str | None = None) -> Iterator[None]:
    """Run a block as a savepoint of the open transaction (or as its own, when none is open).

    On an error the block's writes are rolled back and the rest of the transaction is kept.
    ``name`` defaults to a fresh random one, so savepoints nest.
    """
    name = name or f"mergedesk_{secrets.token_hex(8)}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")
        raise
    conn.execute(f"RELEASE SAVEPOINT {name}")
