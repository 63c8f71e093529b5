"""Reconciliation finds and repairs drift; a cache refuses another clinic's key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from desktop.reconcile import last_reconciliation
from desktop.secrets import get_or_create_cache_key
from desktop.session import OtherAccountsCache, Session
from desktop.simulator import Simulator
from desktop.store.cache import Cache
from desktop.store.patients import count_patients, get_patient
from desktop.store.sync_state import get_state
from desktop.sync import run_sync


def _open(data_dir: Path) -> Cache:
    return Cache.open(data_dir / "cache.db", get_or_create_cache_key(data_dir))


def _session(cache: Cache, sim: Simulator) -> Session:
    return Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=2800)


def test_reconciliation_finds_and_repairs_an_edit_cliniko_made_without_changing_updated_at(
    tmp_path: Path,
) -> None:
    with Simulator(size=300, seed=6, rate_limit_per_minute=3000) as sim, _open(tmp_path) as cache:
        with _session(cache, sim) as session:
            run_sync(session)
        first = last_reconciliation(cache.db)
        assert first is not None and first.drifted == 0  # a full sync leaves nothing drifted
        target = sim.patients_snapshot()[7]
        drifted = sim.drift_patient(target["id"], email="changed.quietly@example.com")
        assert drifted["updated_at"] == target["updated_at"]

        with _session(cache, sim) as session:
            plain = run_sync(session)
        assert plain.reconciliation is None, "not due yet: a week has not passed"
        assert get_patient(cache.db, target["id"])["email"] != "changed.quietly@example.com"

        with _session(cache, sim) as session:
            result = run_sync(session, reconcile_now=True)

        done = result.reconciliation
        assert done is not None
        assert done.drifted == [target["id"]]
        assert done.checked == count_patients(cache.db) == 300
        assert get_patient(cache.db, target["id"]) == sim.patient(target["id"])
        last = last_reconciliation(cache.db)
        assert last is not None and last.drifted == 1
        events = cache.db.execute(
            "SELECT path FROM audit_log WHERE method = 'EVENT' ORDER BY seq"
        ).fetchall()
        expected = f"reconciled the cache with Cliniko: 1 drifted: patients {target['id']}"
        assert events[-1][0] == expected


def test_reconciliation_runs_by_itself_when_the_last_one_is_older_than_the_setting(
    tmp_path: Path,
) -> None:
    with Simulator(size=120, seed=8, rate_limit_per_minute=3000) as sim, _open(tmp_path) as cache:
        with _session(cache, sim) as session:
            run_sync(session)
            target = sim.patients_snapshot()[3]
            sim.drift_patient(target["id"], first_name="Quietly")
            # An interval of zero: the last comparison is always "older than" it.
            result = run_sync(session, reconcile_every=timedelta(0))
        assert result.reconciliation is not None
        assert result.reconciliation.drifted == [target["id"]]
        assert get_patient(cache.db, target["id"])["first_name"] == "Quietly"


def test_a_cache_refuses_the_key_of_another_clinic_before_writing_any_patient(
    tmp_path: Path,
) -> None:
    with (
        Simulator(size=50, seed=2, clinic_name="First Clinic", account_id="101") as first,
        Simulator(
            size=70, seed=3, clinic_name="Second Clinic", account_id="202", api_key=first.api_key
        ) as second,
        _open(tmp_path) as cache,
    ):
        with _session(cache, first) as session:
            run_sync(session)
        assert count_patients(cache.db) == 50
        watermark = get_state(cache.db, "sync.watermark")

        with _session(cache, second) as session, pytest.raises(OtherAccountsCache) as info:
            run_sync(session)

        message = info.value.user_message
        assert "This cache belongs to the clinic 'First Clinic' (au1)" in message
        assert "The key you gave belongs to 'Second Clinic'" in message
        assert count_patients(cache.db) == 50, "not one patient of the other clinic written"
        assert get_state(cache.db, "sync.watermark") == watermark
        assert second.stats["requests_by_route"].get("GET /patients", 0) == 0

        with _session(cache, first) as session:
            assert run_sync(session).mode == "incremental"
