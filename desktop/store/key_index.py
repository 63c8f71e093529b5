"""The stored blocking-key index of the last full scan, in chunks (schema version 4).

An incremental scan asks which stored patients share a blocking key with a changed one. The
keys are sorted and cut into chunks of a few hundred, keyed by their first key, so the answer
reads one chunk per wanted key (about one page of the cache each) instead of the whole index.

Each indexed patient's id is kept with the ``rowid`` its row had in ``patients``: reading a
row by rowid skips the id index. The rowid is only a hint: a row read through it counts only
if its id is the one expected (see :func:`split_hinted`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import sqlite_utils

from desktop.matching.keyindex import KeyIndex, signed


class KeyIndexDamaged(ValueError):
    """The stored key index lacks parts it refers to: only a full scan can rebuild it."""


IDS_PER_RUN = 128  # ids (with their rowids) per stored row: about 3 KB
NO_ROWID = -1
# The one chunk that can hold a key: the last whose first key is not above it.
_CHUNKS_FOR = (
    "SELECT keys, owners FROM match_key_chunks WHERE lo IN ("
    "SELECT (SELECT max(lo) FROM match_key_chunks WHERE lo <= value) FROM json_each(?)"
    ") ORDER BY lo"
)
_IDS_IN = (
    "SELECT width, ids, rowids FROM match_key_ids "
    "WHERE run IN (SELECT value FROM json_each(?)) ORDER BY run"
)


def _packed_ids(ids: Sequence[str]) -> np.ndarray:
    """The ids as UTF-8, NUL-padded to one width (numpy ``S``; ASCII ids, the usual Cliniko
    ones, are converted in one step)."""
    try:
        return np.array(ids, dtype="S") if ids else np.zeros(0, dtype="S1")
    except UnicodeEncodeError:
        return np.array([i.encode("utf-8") for i in ids], dtype="S")


def _id_runs(
    ids: Sequence[str], rowids: Sequence[int]
) -> Iterator[tuple[int, int, memoryview, memoryview]]:
    """(run, width, ids as UTF-8 NUL-padded to ``width`` bytes each, rowids as int64)."""
    packed = _packed_ids(ids)
    width = packed.dtype.itemsize
    text = packed.data.cast("B")
    hints = np.asarray(rowids, dtype="<i8").data.cast("B")
    for run, start in enumerate(range(0, len(ids), IDS_PER_RUN)):
        end = start + IDS_PER_RUN
        yield run, width, text[start * width : end * width], hints[start * 8 : end * 8]


def save_key_index(
    db: sqlite_utils.Database,
    index: KeyIndex | None,
    ids: Sequence[str] = (),
    rowids: Sequence[int] = (),
) -> None:
    """Replace the stored index (None leaves none).

    ``ids`` and ``rowids`` say where each scanned patient's row is in ``patients`` (aligned;
    a patient missing from them is stored without a rowid hint).
    """
    db.execute("DELETE FROM match_key_chunks")
    if index is None:
        db.execute("DELETE FROM match_key_ids")
        return
    db.conn.executemany(
        "INSERT INTO match_key_chunks (lo, keys, owners) VALUES (?, ?, ?)", index.chunks()
    )
    if list(ids) == index.ids and len(rowids) == len(ids):
        hints: Sequence[int] = rowids
    else:
        where = dict(zip(ids, rowids, strict=True))
        hints = [where.get(i, NO_ROWID) for i in index.ids]
    _replace_id_runs(db, _id_runs(index.ids, hints))


def _replace_id_runs(
    db: sqlite_utils.Database, runs: Iterator[tuple[int, int, memoryview, memoryview]]
) -> None:
    """Store the id runs, leaving alone the stored ones that are already the same: patients
    keep their place (a new one comes last), so after a full scan of a clinic that changed
    little most runs are (400k patients: 10 MB not deleted, written and synced again)."""
    stored = {
        run: (width, ids, rowids)
        for run, width, ids, rowids in db.execute(
            "SELECT run, width, ids, rowids FROM match_key_ids"
        ).fetchall()
    }
    changed = []
    count = 0
    for run, width, ids, rowids in runs:
        count += 1
        if stored.get(run) != (width, ids, rowids):  # bytes == memoryview: same content
            changed.append((run, width, ids, rowids))
    db.execute("DELETE FROM match_key_ids WHERE run >= ?", [count])
    db.conn.executemany(
        "INSERT OR REPLACE INTO match_key_ids (run, width, ids, rowids) VALUES (?, ?, ?, ?)",
        changed,
    )


def key_holders(
    db: sqlite_utils.Database, wanted: np.ndarray
) -> tuple[np.ndarray, list[str], list[int]]:
    """Every (key, patient) entry the stored index holds for one of ``wanted`` (uint64 keys),
    as three aligned sequences: keys, ids and rowid hints."""
    none: tuple[np.ndarray, list[str], list[int]] = (np.empty(0, dtype=np.uint64), [], [])
    wanted = np.unique(np.asarray(wanted, dtype=np.uint64))
    if wanted.size == 0:
        return none
    rows = db.execute(_CHUNKS_FOR, [json.dumps(signed(wanted).tolist())]).fetchall()
    if not rows:
        return none
    keys = np.frombuffer(b"".join(r[0] for r in rows), dtype="<u8")
    owners = np.frombuffer(b"".join(r[1] for r in rows), dtype="<i4")
    hit = np.flatnonzero(np.isin(keys, wanted))
    if hit.size == 0:
        return none
    runs, entries = np.divmod(owners[hit].astype(np.int64), IDS_PER_RUN)
    needed = np.unique(runs)
    stored = db.execute(_IDS_IN, [json.dumps(needed.tolist())]).fetchall()
    widths = {r[0] for r in stored}
    if len(widths) != 1 or len(stored) != needed.size:
        raise KeyIndexDamaged("the stored key index is incomplete")
    # Runs come back in order and only the last one may be short: entry e of the k-th is at
    # k * IDS_PER_RUN + e in their concatenation.
    at = np.searchsorted(needed, runs) * IDS_PER_RUN + entries
    ids = np.frombuffer(b"".join(r[1] for r in stored), dtype=f"S{widths.pop()}")[at]
    hints = np.frombuffer(b"".join(r[2] for r in stored), dtype="<i8")[at]
    return keys[hit], [i.decode("utf-8") for i in ids.tolist()], hints.tolist()


def split_hinted(
    rows: list[tuple[Any, ...]], hints: dict[str, int]
) -> tuple[dict[str, tuple[Any, ...]], list[str]]:
    """Check rows read by rowid, ``(rowid, id, ...)``, against the ids they were read for.

    Returns the rows whose id matches their hint (id -> row without the rowid) and the ids
    that must be read by id instead (no hint, or the rowid now holds another patient: the
    table was rebuilt since the index was written).
    """
    by_rowid = {r[0]: r for r in rows}
    good: dict[str, tuple[Any, ...]] = {}
    again: list[str] = []
    for pid, rowid in hints.items():
        row = by_rowid.get(rowid)
        if row is not None and row[1] == pid:
            good[pid] = row[1:]
        else:
            again.append(pid)
    return good, again
