"""The local, encrypted cache (SQLCipher + sqlite-utils) and its numbered migrations.

Typical use::

    from desktop import paths
    from desktop.store import open_cache, transaction, upsert_patients

    with open_cache(paths.data_dir()) as cache:
        with transaction(cache) as db:
            upsert_patients(db, page["patients"])
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from desktop import paths
from desktop import secrets as keychain
from desktop.store.cache import Cache
from desktop.store.errors import (
    CacheInUse,
    CacheKeyMissing,
    CacheUnreadable,
    MigrationFailed,
    NewerSchema,
    StoreError,
    WrongCacheKey,
)
from desktop.store.lock import WriterLock, lock_path
from desktop.store.migrations import LATEST_VERSION
from desktop.store.patients import (
    count_patients,
    get_patient,
    get_patient_row,
    iter_patient_rows,
    patient_ids,
    row_from_patient,
    upsert_patients,
)
from desktop.store.sync_state import get_state, set_state, transaction

__all__ = [
    "LATEST_VERSION",
    "Cache",
    "CacheInUse",
    "CacheKeyMissing",
    "CacheUnreadable",
    "MigrationFailed",
    "NewerSchema",
    "StoreError",
    "WrongCacheKey",
    "count_patients",
    "get_patient",
    "get_patient_row",
    "get_state",
    "iter_patient_rows",
    "open_cache",
    "patient_ids",
    "row_from_patient",
    "set_aside_cache",
    "set_state",
    "transaction",
    "upsert_patients",
]


def open_cache(data_dir: Path, *, readonly: bool = False) -> Cache:
    """Open the data directory's cache with its key from the keychain.

    A new cache gets a new random key. An existing cache whose key is missing raises
    :class:`CacheKeyMissing` (a new key would never open it).

    Raises:
        desktop.secrets.SecretsError: the keychain is locked or unavailable.
        StoreError: any of the cache errors of :meth:`Cache.open`.
    """
    path = paths.cache_path(data_dir)
    if path.exists() and path.stat().st_size > 0:
        try:
            key = keychain.get_cache_key(data_dir)
        except keychain.SecretsError as err:
            if err.state is keychain.KeyringState.NOT_FOUND:
                raise CacheKeyMissing() from err
            raise
    else:
        if readonly:
            raise CacheUnreadable("There is no local cache yet. Download your patients first.")
        key = keychain.get_or_create_cache_key(data_dir)
    return Cache.open(path, key, readonly=readonly)


def set_aside_cache(data_dir: Path) -> Path | None:
    """Rename an unreadable cache (and its -wal/-shm) out of the way so a fresh one can start.

    Takes the writer lock while renaming, so it fails with :class:`CacheInUse` if MergeDesk is
    using the cache. Returns the new name of the main file, or None when there was none.
    """
    path = paths.cache_path(data_dir)
    if not path.exists():
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    writer = WriterLock.acquire(lock_path(path))
    try:
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
        path.rename(target)
    finally:
        writer.release()
    return target
