"""The local, encrypted cache (SQLCipher + sqlite-utils) and its numbered migrations.

Typical use::

    from desktop import paths
    from desktop.store import open_cache, transaction, upsert_patients

    with open_cache(paths.data_dir()) as cache:
        with transaction(cache) as db:
            upsert_patients(db, page["patients"])
"""

from __future__ import annotations

from desktop.store.cache import Cache, open_cache, set_aside_cache
from desktop.store.errors import (
    CacheInUse,
    CacheKeyMissing,
    CacheUnreadable,
    MigrationFailed,
    NewerSchema,
    StoreError,
    WrongCacheKey,
)
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
from desktop.store.sync_state import get_state, set_state
from desktop.store.transaction import transaction

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
