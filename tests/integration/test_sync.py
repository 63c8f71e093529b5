"""Sync against the simulator over real HTTP: faults, incremental, and a killed process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import keyring
import pytest
from file_keyring import FileKeyring, child_environment
from manual_clock import ManualClock

from desktop.secrets import get_or_create_cache_key
from desktop.session import Session
from desktop.simulator import FaultConfig, Simulator
from desktop.store.cache import Cache
from desktop.store.patients import count_patients, get_patient, patient_ids
from desktop.store.scan_rows import changed_since, sync_marks
from desktop.sync import run_sync, sync_summary

ROOT = Path(__file__).resolve().parents[2]
# The simulated clinic's clock starts after every sample record (the sample is made at
# 2026-11-01) and moves only when a test says so.
START = 1_796_000_000.0  # 2026-11-30


def _open(data_dir: Path) -> Cache:
    return Cache.open(data_dir / "cache.db", get_or_create_cache_key(data_dir))


def _list_requests(sim: Simulator) -> int:
    return int(sim.stats["requests_by_route"].get("GET /patients", 0))


def _assert_cache_matches(cache: Cache, sim: Simulator) -> None:
    expected = {p["id"]: p for p in sim.patients_snapshot()}
    assert patient_ids(cache.db) == set(expected)
    assert count_patients(cache.db) == len(expected)
    for patient_id, patient in expected.items():
        assert get_patient(cache.db, patient_id) == patient


def test_full_sync_with_faults_then_nothing_changed(tmp_path: Path) -> None:
    faults = FaultConfig(latency_ms=2, error_rate=0.05, drop_rate=0.03, storm_rate=0.01, seed=7)
    with Simulator(size=5000, seed=3, rate_limit_per_minute=3000, faults=faults) as sim:
        archived = [p for p in sim.patients_snapshot() if p["archived_at"]]
        merged = [p for p in archived if p["merged_at"]]
        assert archived and merged, "the sample clinic should include archived and merged"
        with (
            _open(tmp_path) as cache,
            Session(
                cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=2800
            ) as session,
        ):
            session.identify_user()
            result = run_sync(session)
            assert not result.cancelled
            assert result.mode == "full"
            assert sim.stats["responses_5xx"] + sim.stats["dropped"] > 0, "faults happened"
            _assert_cache_matches(cache, sim)

            sim.faults = FaultConfig()
            before = _list_requests(sim)
            marks = sync_marks(cache.db)
            again = run_sync(session)
            assert again.mode == "incremental"
            assert _list_requests(sim) - before == 1
            # Cliniko sends the newest record again (the sync reads a little overlap): it is
            # not counted as changed, and a scan has nothing new to read.
            assert again.patients_written == 0
            assert sync_summary(again).startswith("no patient changed (1 request, ")
            assert changed_since(cache.db, *marks) == []


def test_incremental_sync_picks_up_edits_new_patients_and_merges(tmp_path: Path) -> None:
    with (
        Simulator(size=600, seed=5, rate_limit_per_minute=3000, clock=ManualClock(START)) as sim,
        _open(tmp_path) as cache,
        Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=2800) as session,
    ):
        run_sync(session)
        snapshot = {p["id"]: p for p in sim.patients_snapshot()}
        active = [p for p in snapshot.values() if not p["archived_at"]]
        survivor, duplicate, edited = active[0], active[1], active[2]
        sim.clock.tick(60)
        sim.touch_patient(edited["id"], email="new.address@example.com")
        added = sim.add_patient({"first_name": "Newly", "last_name": "Added"})
        sim.merge(survivor["id"], [duplicate["id"]])

        result = run_sync(session)
        assert result.mode == "incremental"
        changed = [p for p in sim.patients_snapshot() if snapshot.get(p["id"]) != p]
        assert result.patients_written == len(changed) >= 3
        assert get_patient(cache.db, edited["id"])["email"] == "new.address@example.com"
        assert get_patient(cache.db, added["id"])["last_name"] == "Added"
        merged = get_patient(cache.db, duplicate["id"])
        assert merged["merged_at"] and merged["archived_at"]
        assert merged["merged_with_patient"]["links"]["self"].endswith(survivor["id"])
        _assert_cache_matches(cache, sim)


def test_cancel_keeps_what_was_written_and_the_next_sync_finishes(tmp_path: Path) -> None:
    with (
        Simulator(size=1500, seed=9, rate_limit_per_minute=3000) as sim,
        _open(tmp_path) as cache,
        Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=2800) as session,
    ):
        pages: list[int] = []

        def stop_after_three(progress) -> None:
            pages.append(progress.done)
            if len(pages) == 3:
                session.cancel.set()

        result = run_sync(session, progress=stop_after_three)
        assert result.cancelled
        assert count_patients(cache.db) == 300
        session.cancel.clear()
        finished = run_sync(session)
        assert not finished.cancelled
        _assert_cache_matches(cache, sim)


def test_a_full_sync_stopped_against_one_server_starts_again_against_another(
    tmp_path: Path,
) -> None:
    """The half-way link pointed at the first server's port: every later sync, --full too,
    was refused ("Cliniko's answer pointed to a page on another server")."""
    with _open(tmp_path) as cache:
        with (
            Simulator(size=600, seed=9, rate_limit_per_minute=3000) as first,
            Session(cache, first.api_key, base_url=first.base_url) as session,
        ):

            def stop_after_two(progress) -> None:
                if progress.done >= 200:
                    session.cancel.set()

            assert run_sync(session, progress=stop_after_two).cancelled
        with (
            Simulator(size=600, seed=9, rate_limit_per_minute=3000) as second,
            Session(cache, second.api_key, base_url=second.base_url) as session,
        ):
            result = run_sync(session)
            assert result.mode == "full" and not result.cancelled
            _assert_cache_matches(cache, second)


def test_killed_sync_process_resumes_without_loss_or_doubles(tmp_path: Path) -> None:
    keyring_file = tmp_path / "keyring.json"
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    faults = FaultConfig(latency_ms=40)
    with Simulator(size=4000, seed=11, rate_limit_per_minute=6000, faults=faults) as sim:
        twelve_pages_asked = threading.Event()

        def count_pages() -> None:  # the simulator calls it before answering each request
            if _list_requests(sim) >= 12:
                twelve_pages_asked.set()

        sim.set_before_request(count_pages)
        env = child_environment(keyring_file, data_dir, CLINIKO_API_KEY=sim.api_key)
        command = [
            sys.executable,
            "-m",
            "desktop",
            "sync",
            "--base-url",
            sim.base_url,
            "--rate-limit",
            "5000",
        ]
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert twelve_pages_asked.wait(60), "the sync did not get going"
        assert child.poll() is None, "the sync finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL

        keyring.set_keyring(FileKeyring(keyring_file))
        with _open(data_dir) as cache:
            partial = count_patients(cache.db)
        assert 0 < partial < len(sim.patients_snapshot())

        finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        assert finished.returncode == 0, finished.stderr
        with _open(data_dir) as cache:
            _assert_cache_matches(cache, sim)
            rows = cache.db.execute("select count(*), count(distinct id) from patients").fetchone()
            assert rows[0] == rows[1] == len(sim.patients_snapshot())

        secrets = [sim.api_key, json.loads(keyring_file.read_text()).popitem()[1]]
        for path in data_dir.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in content, f"a secret is in {path.name}"


@pytest.mark.parametrize("size", [0])
def test_sync_of_an_empty_clinic(tmp_path: Path, size: int) -> None:
    with (
        Simulator(patients=[], rate_limit_per_minute=3000) as sim,
        _open(tmp_path) as cache,
        Session(cache, sim.api_key, base_url=sim.base_url) as session,
    ):
        result = run_sync(session)
        assert result.mode == "full" and count_patients(cache.db) == size
        assert run_sync(session).mode == "incremental"


def test_a_record_edited_while_an_incremental_sync_pages_is_neither_lost_nor_stale(
    tmp_path: Path,
) -> None:
    with (
        Simulator(size=800, seed=13, rate_limit_per_minute=3000, clock=ManualClock(START)) as sim,
        _open(tmp_path) as cache,
        Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=2800) as session,
    ):
        run_sync(session)
        sim.clock.tick(60)
        active = [p["id"] for p in sim.patients_snapshot() if not p["archived_at"]]
        for n, patient_id in enumerate(active[:250]):
            sim.touch_patient(patient_id, occupation=f"changed {n}")
        pages: list[int] = []

        def edit_a_fetched_record(progress) -> None:
            pages.append(progress.done)
            if len(pages) == 1:  # page one is written: edit a record on it, which moves it last
                sim.touch_patient(active[0], email="edited.while.paging@example.com")

        result = run_sync(session, progress=edit_a_fetched_record)
        assert result.mode == "incremental"
        assert get_patient(cache.db, active[0])["email"] == "edited.while.paging@example.com"
        _assert_cache_matches(cache, sim)


def test_an_edit_that_keeps_its_place_among_pages_already_read_is_fetched(tmp_path: Path) -> None:
    """An edit made while paging whose new updated_at ties with records on a page already read
    (ties are ordered by id) leaves the record where it was: the same sync still fetches it."""
    clock = ManualClock(START)
    with (
        Simulator(size=800, seed=13, rate_limit_per_minute=3000, clock=clock) as sim,
        _open(tmp_path) as cache,
        Session(cache, sim.api_key, base_url=sim.base_url, max_requests_per_minute=2800) as session,
    ):
        run_sync(session)
        active = [p["id"] for p in sim.patients_snapshot() if not p["archived_at"]][:250]
        first = min(active, key=int)  # sorts first among records with one updated_at
        clock.tick(1)
        sim.touch_patient(first, occupation="changed first")
        clock.tick(1)  # the second every edit below, and the one made while paging, share
        for n, patient_id in enumerate(p for p in active if p != first):
            sim.touch_patient(patient_id, occupation=f"changed {n}")
        pages: list[int] = []

        def edit_a_fetched_record(progress) -> None:
            pages.append(progress.done)
            if len(pages) == 1:  # in the second of the edits above: it ties with them
                edited = sim.touch_patient(first, email="edited.while.paging@example.com")
                assert edited["updated_at"] == sim.patient(active[-1])["updated_at"]

        run_sync(session, progress=edit_a_fetched_record)
        assert get_patient(cache.db, first)["email"] == "edited.while.paging@example.com"
        _assert_cache_matches(cache, sim)
