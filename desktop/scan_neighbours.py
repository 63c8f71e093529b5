"""What an incremental scan reads: changed patients and the stored patients near them.

A changed patient is re-scored against every active patient that shares a blocking key with
it. The full scan's stored key index, corrected by the overlay of patients changed since,
says who those are, so only their rows are read, not the whole clinic.

A backup key whose block is over its cap gives no pairs in a full scan. Its holders are
counted here (from the index, the overlay and the changed patients) and, when there are too
many, not read at all: the key is handed to the engine as oversized instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop.matching.blocking import BACKUP_ONLY, block_limit
from desktop.matching.features import MATCH_COLUMNS, Features
from desktop.matching.keyindex import joined_keys, stable_keys_by_kind
from desktop.matching.types import MatchSettings
from desktop.store import queue, scan_rows
from desktop.store.key_index import NO_ROWID, key_holders, split_hinted

if TYPE_CHECKING:
    from desktop.store.cache import Cache

_GONE_AT = (MATCH_COLUMNS.index("archived_at"), MATCH_COLUMNS.index("merged_at"))


def fetch(cache: Cache, ids: list[str], active_only: bool) -> list[tuple[Any, ...]]:
    """The rows of ``ids`` (``MATCH_COLUMNS``), optionally only the active ones."""
    return scan_rows.rows_of(cache.db, MATCH_COLUMNS, ids, active_only=active_only)


@dataclass
class ChangedKeys:
    """The changed patients' blocking keys by id (none for one no longer active), and their
    backup keys, each with the cap of its kind."""

    by_id: dict[str, np.ndarray]
    backup_caps: dict[int, int]


def changed_keys(features: Features, ids: list[str], settings: MatchSettings) -> ChangedKeys:
    """The blocking keys of the changed patients ``ids`` (``features``: the active ones)."""
    by_kind = list(stable_keys_by_kind(features))
    caps: dict[int, int] = {}
    for kind, _rec, key in by_kind:
        if kind in BACKUP_ONLY:
            caps.update(dict.fromkeys(key.tolist(), block_limit(kind, settings)[0]))
    rec, key = joined_keys(by_kind)
    order = np.argsort(rec, kind="stable")
    rec, key = rec[order], key[order]
    bounds = np.searchsorted(rec, np.arange(len(features) + 1))
    out = {pid: np.empty(0, dtype=np.uint64) for pid in ids}
    for n, pid in enumerate(features.ids):
        out[pid] = np.unique(key[bounds[n] : bounds[n + 1]])
    return ChangedKeys(out, caps)


def neighbours(cache: Cache, changed: ChangedKeys) -> tuple[dict[str, int], np.ndarray]:
    """Stored patients sharing a blocking key with a changed one (id -> rowid hint), and the
    backup keys whose blocks are over their cap in the whole clinic (holders left unread)."""
    new_keys = changed.by_id
    changed_ids = set(new_keys)
    wanted = np.unique(np.concatenate([np.empty(0, np.uint64), *new_keys.values()]))
    overlay = queue.load_key_overlay(cache.db)
    stale = changed_ids | set(overlay)
    keys, ids, hints = key_holders(cache.db, wanted)
    fresh = [n for n, pid in enumerate(ids) if pid not in stale]
    # Who holds each wanted key now: the index (for patients unchanged since it was made),
    # the overlay (for those changed since), the changed patients themselves.
    holder_keys = [keys[fresh]]
    holder_ids = [ids[n] for n in fresh]
    holder_hints = [hints[n] for n in fresh]
    others = [pid for pid in overlay if pid not in changed_ids]
    if others:
        arrays = [np.frombuffer(overlay[pid], dtype="<u8") for pid in others]
        owner = np.repeat(np.arange(len(others)), [a.size for a in arrays])
        held = np.concatenate(arrays)
        hit = np.isin(held, wanted)
        holder_keys.append(held[hit])
        holder_ids += [others[i] for i in owner[hit].tolist()]
        holder_hints += [NO_ROWID] * int(hit.sum())
    all_keys = np.concatenate(holder_keys)
    oversized = _oversized(changed.backup_caps, all_keys, new_keys)
    found: dict[str, int] = {}
    skip = np.isin(all_keys, oversized)
    for pid, hint, left in zip(holder_ids, holder_hints, skip.tolist(), strict=True):
        if not left:
            found[pid] = hint
    return found, oversized


def _oversized(
    limits: dict[int, int], stored_keys: np.ndarray, new_keys: dict[str, np.ndarray]
) -> np.ndarray:
    """The backup keys in ``limits`` held by more patients than their cap (``stored_keys``:
    one entry per holder that this scan did not see change; ``new_keys``: the keys of those
    it did)."""
    if not limits:
        return np.empty(0, dtype=np.uint64)
    backup = np.fromiter(limits, dtype=np.uint64, count=len(limits))
    every = np.concatenate([stored_keys, *new_keys.values()])
    found, counts = np.unique(every[np.isin(every, backup)], return_counts=True)
    caps = np.array([limits[k] for k in found.tolist()], dtype=np.int64)
    return found[counts > caps]


def fetch_neighbours(cache: Cache, found: dict[str, int]) -> list[tuple[Any, ...]]:
    """The active rows of ``found``, sorted by id (as :func:`fetch` returns them).

    Rows are read by their rowid hint where the check of their id allows, else by id.
    """
    hinted = {p: r for p, r in found.items() if r != NO_ROWID}
    by_rowid = scan_rows.rows_with_rowid_at(cache.db, MATCH_COLUMNS, hinted.values())
    good, again = split_hinted(by_rowid, hinted)
    archived, merged = _GONE_AT
    rows = [r for r in good.values() if r[archived] is None and r[merged] is None]
    again += [p for p, r in found.items() if r == NO_ROWID]
    if again:
        rows += fetch(cache, again, active_only=True)
    rows.sort(key=itemgetter(0))
    return rows
