"""A stable index of every record's blocking keys, for incremental re-scoring.

Codes in :mod:`features` change from one run to the next; this index hashes the normalised
strings instead, so a saved index can find, for a changed patient, every stored patient that
shares one of its blocking keys without reading the whole clinic again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from desktop.matching.blocking import BACKUP_ONLY, KEY_KINDS, UNORDERED, component
from desktop.matching.features import Features

_MIX = np.uint64(0x9E3779B97F4A7C15)
_TOP = np.uint64(1 << 63)
# Keys per stored chunk (about 3 KB): looking a key up reads one small row, about one page
# of the cache, instead of the whole index.
CHUNK_KEYS = 256


_WIDTH = 24  # characters hashed per string (longer strings share a key: harmless)
_PRIMES = np.arange(1, _WIDTH + 1, dtype=np.uint64) * np.uint64(0x100000001B3) + np.uint64(
    0xCBF29CE484222325
)


def _hashes(values: list[str]) -> np.ndarray:
    """A 64-bit stable hash per vocabulary string (and 0 for the missing code -1)."""
    out = np.zeros(len(values) + 1, dtype=np.uint64)
    if values:
        chars = np.array(values, dtype=f"<U{_WIDTH}").view("<u4").reshape(len(values), _WIDTH)
        with np.errstate(over="ignore"):
            mixed = chars.astype(np.uint64) * _PRIMES
            h = np.bitwise_xor.reduce(mixed, axis=1) + mixed.sum(axis=1, dtype=np.uint64)
            out[:-1] = h * _MIX + np.uint64(len(_PRIMES))
    return out


def stable_keys_by_kind(f: Features) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(kind, record index, 64-bit key) for each blocking key kind, phones first."""
    cache: dict[int, np.ndarray] = {}
    idx = np.arange(len(f), dtype=np.int64)
    with np.errstate(over="ignore"):
        phones = _hashes(f.vocabs["phones"].values)
        yield "phone", f.phone_rec, phones[f.phone_code] + np.uint64(1)
        for salt, (kind, parts) in enumerate(KEY_KINDS.items(), start=2):
            hashed = []
            present = np.ones(len(f), dtype=bool)
            for part in parts:
                codes, values = component(f, part)
                present &= codes >= 0
                if values is None:
                    hashed.append(codes.astype(np.uint64) * _MIX)
                    continue
                table = cache.get(id(values))
                if table is None:
                    table = cache[id(values)] = _hashes(values)
                hashed.append(table[codes])
            if len(hashed) == 1:
                key = hashed[0]
            elif kind in UNORDERED:
                key = hashed[0] + hashed[1]
            else:
                key = hashed[0] * _MIX + hashed[1]
            key = key * np.uint64(31) + np.uint64(salt)
            yield kind, idx[present], key[present]


def joined_keys(
    by_kind: Iterable[tuple[str, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stable_keys_by_kind` output as one (record index, 64-bit key) pair of arrays."""
    recs, keys = [], []
    for _kind, rec, key in by_kind:
        recs.append(rec)
        keys.append(key)
    return np.concatenate(recs), np.concatenate(keys)


def stable_keys(f: Features) -> tuple[np.ndarray, np.ndarray]:
    """(record index, 64-bit key) for every blocking key of every record."""
    return joined_keys(stable_keys_by_kind(f))


def holders_of(f: Features, keys: np.ndarray) -> dict[str, np.ndarray]:
    """Per backup kind, which records hold one of ``keys`` (bool per record)."""
    out = {}
    for kind, rec, key in stable_keys_by_kind(f):
        if kind in BACKUP_ONLY:
            mask = np.zeros(len(f), dtype=bool)
            mask[rec[np.isin(key, keys)]] = True
            out[kind] = mask
    return out


@dataclass
class KeyIndex:
    """Sorted blocking keys with the patient id each belongs to."""

    keys: np.ndarray  # uint64, sorted
    owners: np.ndarray  # int32 position into ids
    ids: list[str]

    @classmethod
    def build(cls, f: Features) -> KeyIndex:
        """The index of a batch of records."""
        rec, keys = stable_keys(f)
        order = np.argsort(keys)
        return cls(keys[order], rec[order].astype(np.int32), list(f.ids))

    def neighbours(self, keys: np.ndarray) -> set[str]:
        """Ids of every indexed record holding one of ``keys``."""
        return {self.ids[i] for i in owners_of(self.keys, self.owners, keys).tolist()}

    def chunks(self, size: int = CHUNK_KEYS) -> Iterator[tuple[int, memoryview, memoryview]]:
        """The sorted keys in runs of about ``size``: (first key as :func:`signed`, keys as
        little-endian uint64, owners as little-endian int32 positions into ``ids``; the bytes
        are views into one buffer, so writing them copies nothing twice).

        A chunk never splits the owners of one key, so its first keys are distinct and the
        one chunk that can hold a key is the last whose first key is not above it.
        """
        n = self.keys.size
        if n == 0:
            return
        runs = np.flatnonzero(np.r_[True, self.keys[1:] != self.keys[:-1]])
        at = np.searchsorted(runs, np.arange(0, n, size))
        starts = np.unique(runs[at[at < runs.size]])
        firsts = signed(self.keys[starts]).tolist()
        bounds = [*starts.tolist(), n]
        keys = self.keys.astype("<u8", copy=False).data.cast("B")
        owners = self.owners.astype("<i4", copy=False).data.cast("B")
        for first, a, b in zip(firsts, bounds[:-1], bounds[1:], strict=True):
            yield first, keys[8 * a : 8 * b], owners[4 * a : 4 * b]


def signed(keys: np.ndarray) -> np.ndarray:
    """uint64 keys as int64 in the same order (SQLite integers are signed)."""
    return (keys.astype(np.uint64) ^ _TOP).view(np.int64)


def owners_of(keys: np.ndarray, owners: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Sorted distinct owners of every entry of sorted ``keys`` equal to one of ``wanted``."""
    if keys.size == 0 or wanted.size == 0:
        return np.empty(0, dtype=np.int64)
    lo = np.searchsorted(keys, wanted, side="left")
    counts = np.searchsorted(keys, wanted, side="right") - lo
    # Every entry in [lo, lo + count) of each wanted key, without a Python loop.
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    at = starts + np.arange(int(counts.sum()))
    return np.unique(owners[at]).astype(np.int64)
