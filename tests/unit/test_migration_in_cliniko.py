"""Schema version 11: pairs whose survivor is updated get the queue status "in_cliniko"."""

from __future__ import annotations

import json

import pytest
from sqlcipher3.dbapi2 import IntegrityError

from desktop.merge_states import PairStatus, Step
from desktop.store import Cache, transaction
from desktop.store.migrations import MIGRATIONS

KEY = "5c" * 32
PAIRS = {  # (id_a, id_b): (status, the step of the plan holding both, or None)
    ("1", "2"): ("ready", Step.MERGE_IN_CLINIKO),
    ("3", "4"): ("ready", Step.WAIT_FOR_MERGE),
    ("5", "6"): ("ready", Step.READY),
    ("7", "8"): ("planned", Step.REVIEW),
    ("90", "91"): ("new", None),
}


def _version_10_cache(path):
    with Cache.open(path, KEY, migrations=MIGRATIONS[:10]) as cache, transaction(cache) as db:
        for n, ((a, b), (status, step)) in enumerate(PAIRS.items()):
            db.execute(
                "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, status, "
                "scored_at) VALUES (?, ?, 0.99, 9.0, 'likely', ?, '2026-12-01T00:00:00Z')",
                [a, b, status],
            )
            if step is not None:
                db.execute(
                    "INSERT INTO merge_plans (plan_id, pair_key, patient_ids, step, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, '2026-12-01', '2026-12-01')",
                    [f"plan-{n}", f"{a}|{b}", json.dumps([a, b]), step],
                )


def test_pairs_waiting_for_their_merge_in_cliniko_get_a_status_of_their_own(tmp_path):
    path = tmp_path / "cache.db"
    _version_10_cache(path)
    with Cache.open(path, KEY, migrations=MIGRATIONS[:11]) as cache:
        assert cache.schema_version == 11
        statuses = dict(
            ((a, b), s)
            for a, b, s in cache.db.execute("SELECT id_a, id_b, status FROM match_pairs")
        )
        indexes = {
            name
            for (name,) in cache.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'match_pairs'"
            )
        }
    assert statuses == {
        ("1", "2"): PairStatus.IN_CLINIKO,
        ("3", "4"): PairStatus.IN_CLINIKO,
        ("5", "6"): PairStatus.READY,
        ("7", "8"): PairStatus.PLANNED,
        ("90", "91"): PairStatus.NEW,
    }
    assert {"idx_match_pairs_queue", "idx_match_pairs_id_b", "idx_match_pairs_clusters"} <= indexes


def test_the_rebuilt_table_still_refuses_a_status_nobody_declared(tmp_path):
    path = tmp_path / "cache.db"
    _version_10_cache(path)
    with Cache.open(path, KEY) as cache, pytest.raises(IntegrityError):
        cache.db.execute("UPDATE match_pairs SET status = 'shipped' WHERE id_a = '90'")
