"""The blocking-key index stored in chunks (a real SQLCipher file): it must answer exactly what
the index in memory answers, whatever keys are asked for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlite_utils

from desktop.matching.features import build_features
from desktop.matching.keyindex import KeyIndex, signed, stable_keys
from desktop.store import Cache, transaction
from desktop.store.key_index import NO_ROWID, key_holders, save_key_index, split_hinted

KEY = "4e" * 32


def row(n: int, **extra) -> dict:
    """A patient row; every fifth lives at one address, so that key has hundreds of owners."""
    shared = n % 5 == 0
    return {
        "id": f"{1_390_000_000_000_000_000 + n}",
        "first_name": ["Olivia", "Jack", "Mia", "Noah"][n % 4],
        "last_name": f"Surname{n % 97}",
        "date_of_birth": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "phones": f'[{{"number": "04{10_000_000 + n:08d}", "phone_type": "Mobile"}}]',
        "address_1": "1 Shared Street" if shared else f"{n} Long Road",
        "post_code": "3053",
        "updated_at": "2024-01-01T00:00:00Z",
        **extra,
    }


def key_neighbours(db, wanted: np.ndarray) -> dict[str, int]:
    """Every patient the stored index lists under one of ``wanted``: id -> rowid hint."""
    _keys, ids, hints = key_holders(db, wanted)
    return dict(zip(ids, hints, strict=True))


@pytest.fixture(scope="module")
def index() -> KeyIndex:
    return KeyIndex.build(build_features([row(n) for n in range(1500)]))


@pytest.fixture
def stored(tmp_path, index):
    rowids = {pid: 10 + 3 * n for n, pid in enumerate(index.ids)}
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        with transaction(cache) as db:
            save_key_index(db, index, list(rowids), list(rowids.values()))
        yield cache, rowids


def test_chunks_never_split_a_key_and_start_at_distinct_keys(index):
    chunks = list(index.chunks())
    firsts = [first for first, _keys, _owners in chunks]
    assert firsts == sorted(set(firsts))
    seen: set[int] = set()
    total = 0
    for first, keys, owners in chunks:
        values = np.frombuffer(keys, dtype="<u8")
        assert len(owners) == 4 * values.size
        assert int(signed(values[:1])[0]) == first
        assert not seen & set(values.tolist())
        seen |= set(values.tolist())
        total += values.size
    assert total == index.keys.size
    # The shared address is one key with 300 owners: its chunk is longer than the usual size.
    assert max(len(keys) // 8 for _f, keys, _o in chunks) >= 300


def test_the_stored_index_finds_what_the_index_in_memory_finds(stored, index):
    cache, rowids = stored
    rng = np.random.default_rng(3)
    for size in (1, 7, 60, 400):
        wanted = rng.choice(index.keys, size=size, replace=False)
        found = key_neighbours(cache.db, wanted)
        assert set(found) == index.neighbours(np.unique(wanted))
        assert all(found[pid] == rowids[pid] for pid in found)


def test_absent_and_extreme_keys(stored, index):
    cache, _rowids = stored
    missing = np.array([0, 1, 2**64 - 1], dtype=np.uint64)
    missing = missing[~np.isin(missing, index.keys)]
    assert key_neighbours(cache.db, missing) == {}
    assert key_neighbours(cache.db, np.empty(0, dtype=np.uint64)) == {}
    ends = index.keys[[0, -1]]
    assert set(key_neighbours(cache.db, ends)) == index.neighbours(ends)


def test_one_patients_keys_find_the_records_it_shares_them_with(stored):
    cache, _rowids = stored
    _rec, keys = stable_keys(build_features([row(5, phones="[]")]))
    found = key_neighbours(cache.db, keys)
    # Record 5 lives at the shared address with every fifth record.
    assert {row(n)["id"] for n in range(0, 1500, 5)} <= set(found)


def test_rowid_hints_follow_the_ids_in_any_order_and_any_alphabet(tmp_path):
    rows = [row(n) for n in range(40)] + [row(40, id="naïve-7"), row(41, id="日本-8")]
    index = KeyIndex.build(build_features(rows))
    where = {pid: 1000 - n for n, pid in enumerate(index.ids) if n != 3}  # one left out
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        with transaction(cache) as db:
            save_key_index(db, index, list(reversed(where)), list(reversed(where.values())))
        found = key_neighbours(cache.db, index.keys)
    assert set(found) == set(index.ids)
    assert found == {pid: where.get(pid, NO_ROWID) for pid in index.ids}


def test_a_new_full_scan_replaces_the_index(stored, index):
    cache, _rowids = stored
    with transaction(cache) as db:
        save_key_index(db, None)
    assert key_neighbours(cache.db, index.keys[:10]) == {}


def test_rows_are_kept_only_when_their_rowid_still_holds_the_expected_id():
    rows = [(7, "a", "x"), (8, "other", "y")]
    good, again = split_hinted(rows, {"a": 7, "b": 8, "c": 9, "d": NO_ROWID})
    assert good == {"a": ("a", "x")}
    assert sorted(again) == ["b", "c", "d"]


def _id_rows(db: sqlite_utils.Database) -> list[tuple[Any, ...]]:
    sql = "SELECT run, width, ids, rowids FROM match_key_ids ORDER BY run"
    return [tuple(r) for r in db.execute(sql).fetchall()]


@pytest.mark.parametrize(
    "numbers",
    [
        range(1700),  # new patients come last
        range(50, 1500),  # the first ones were archived: every later one moves up
        range(300),  # fewer runs than before
        [*range(1500), "a-much-longer-id-than-any-other"],  # wider ids: every run changes
    ],
)
def test_a_later_full_scan_stores_the_same_index_as_a_fresh_cache(
    stored: tuple[Cache, dict[str, int]], tmp_path: Path, numbers: Sequence[int | str]
) -> None:
    cache, _rowids = stored
    rows = [row(n) if isinstance(n, int) else row(7, id=n) for n in numbers]
    index = KeyIndex.build(build_features(rows))
    rowids = [5 + 2 * n for n in range(len(index.ids))]
    with transaction(cache) as db:
        save_key_index(db, index, index.ids, rowids)
    with Cache.open(tmp_path / "fresh.db", KEY) as fresh:
        with transaction(fresh) as db:
            save_key_index(db, index, index.ids, rowids)
        assert _id_rows(cache.db) == _id_rows(fresh.db)
    found = key_neighbours(cache.db, index.keys)
    assert found == dict(zip(index.ids, rowids, strict=True))
