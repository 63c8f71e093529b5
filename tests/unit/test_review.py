"""Review decisions are written with an audit entry that names the pair by id only."""

from __future__ import annotations

import pytest

from desktop.audit import verify
from desktop.review import record_review_decision
from desktop.simulator.fixtures import tiny_clinic
from desktop.store import Cache, transaction
from desktop.store.patients import upsert_patients
from desktop.store.queue import get_pair

KEY = "7e" * 32


@pytest.fixture
def cache(tmp_path):
    patients, _ = tiny_clinic()
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        with transaction(opened) as db:
            upsert_patients(db, patients)
            db.execute(
                "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, scored_at) "
                "VALUES ('1001', '1002', 0.97, 8.5, 'likely', '2026-03-01T00:00:00Z')"
            )
        yield opened


def test_a_not_same_decision_is_in_the_audit_chain_by_id(cache: Cache) -> None:
    record_review_decision(cache, "1002", "1001", "not_same")
    assert get_pair(cache.db, "1001", "1002")["status"] == "not_same"
    [(method, path)] = cache.db.execute("SELECT method, path FROM audit_log").fetchall()
    assert (method, path) == ("EVENT", "decided not_same: patients 1001 1002")
    assert verify(cache.db).ok
