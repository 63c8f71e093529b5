"""Opening the cache when this version must first update it: a small window says so.

Updating a large clinic's cache (a copy set aside, then the new layout) takes seconds; it runs
behind a :class:`~desktop.ui.busy.BusyDialog` instead of leaving the person with nothing on
the screen.
"""

from __future__ import annotations

from pathlib import Path

from desktop.store.cache import Cache, update_pending
from desktop.ui.busy import run_showing

UPDATING = (
    "Updating the local copy of your patients for this version of MergeDesk. "
    "A copy from before the update is kept. This takes a few seconds on a large clinic."
)


def open_cache_showing_updates(path: Path, key_hex: str) -> Cache:
    """:meth:`Cache.open`, with a window saying so while an earlier version's cache is updated.

    Raises what :meth:`Cache.open` raises.
    """
    if not update_pending(path, key_hex):
        return Cache.open(path, key_hex)
    return run_showing(UPDATING, "update-cache", lambda: Cache.open(path, key_hex))
