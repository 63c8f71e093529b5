"""The ``mergedesk`` command end to end: simulator -> login -> sync -> scan -> export -> audit."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import keyring
from file_keyring import FileKeyring, child_environment

from desktop.cliniko.errors import KeyRejected
from desktop.merge import MergeFlow, Step
from desktop.merge.batch import NEW_KEY_IN_USE
from desktop.secrets import get_cache_key
from desktop.simulator import Simulator
from desktop.simulator.sample_clinic import generate_clinic
from desktop.store.cache import Cache, open_cache
from desktop.store.plans import get_plan, save_plan
from desktop.store.queue import queue_counts, queue_pairs
from desktop.store.transaction import transaction

ROOT = Path(__file__).resolve().parents[2]


def _mergedesk(env: dict[str, str], *args: str, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_login_sync_scan_export_and_audit(tmp_path: Path) -> None:
    clinic = generate_clinic(2000, seed=4)
    data_dir = tmp_path / "data"
    keyring_file = tmp_path / "keyring.json"
    env = child_environment(keyring_file, data_dir)
    with Simulator(clinic.patients, history=clinic.history, rate_limit_per_minute=3000) as sim:
        bad = _mergedesk(
            env, "login", "--key-stdin", "--base-url", sim.base_url, stdin="wrong-au1\n"
        )
        assert bad.returncode == 2
        assert "Cliniko did not accept this API key" in bad.stderr
        assert "mergedesk login" in bad.stderr  # where a new key goes, from here
        assert not keyring_file.exists() or sim.api_key not in keyring_file.read_text()

        login = _mergedesk(
            env, "login", "--key-stdin", "--base-url", sim.base_url, stdin=sim.api_key + "\n"
        )
        assert login.returncode == 0, login.stderr
        assert "Connected to" in login.stdout

        sync = _mergedesk(env, "sync", "--rate-limit", "2800")
        assert sync.returncode == 0, sync.stderr
        assert "Full sync done: 2,000 patients" in sync.stdout

    export = tmp_path / "pairs.csv"
    scan = _mergedesk(env, "scan", "--export", str(export))
    assert scan.returncode == 0, scan.stderr
    assert "Full scan of" in scan.stdout
    with export.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id_a", "id_b", "score", "band", "flags"]
    assert {row["band"] for row in rows} <= {"likely", "possible"}
    found = {frozenset((row["id_a"], row["id_b"])) for row in rows}
    archived = {p["id"] for p in clinic.patients if p["archived_at"]}
    open_pairs = {pair for pair in clinic.open_duplicate_pairs if not pair & archived}
    assert len(found & open_pairs) >= 0.95 * len(open_pairs)

    keyring.set_keyring(FileKeyring(keyring_file))
    with Cache.open(data_dir / "cache.db", get_cache_key(data_dir), readonly=True) as cache:
        counts = queue_counts(cache.db)
    assert sum(counts.values()) == len(rows)

    verify = _mergedesk(env, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "Audit trail intact" in verify.stdout


def test_login_with_a_new_key_lets_the_plans_refused_for_the_old_one_go_on(tmp_path: Path) -> None:
    """File > Change Cliniko API key… told the plans Cliniko had stopped for the old key that a
    new one is in; a new key from ``mergedesk login`` left them saying to paste one."""
    data_dir, keyring_file = tmp_path / "data", tmp_path / "keyring.json"
    env = child_environment(keyring_file, data_dir)
    with Simulator(size=60, rate_limit_per_minute=3000) as sim:
        login = ("login", "--key-stdin", "--base-url", sim.base_url)
        assert _mergedesk(env, *login, stdin=sim.api_key + "\n").returncode == 0
        assert _mergedesk(env, "sync", "--rate-limit", "2800").returncode == 0
        assert _mergedesk(env, "scan").returncode == 0
        keyring.set_keyring(FileKeyring(keyring_file))
        with open_cache(data_dir) as cache:
            pair = next(p for p in queue_pairs(cache.db, bands=("likely",)) if not p["flags"])
            flow = MergeFlow.start(cache, [pair["id_a"], pair["id_b"]])
            flow.advance()
            flow.advance(survivor_id=flow.suggested_survivor())
            flow.advance()
            flow.advance()
            assert flow.step is Step.READY
            with transaction(cache) as db:  # Cliniko refused the key at the last try
                row = get_plan(db, flow.plan_id)
                assert row is not None
                save_plan(db, {**row, "last_error": KeyRejected().user_message})
            # While MergeDesk has the cache open, the key is saved all the same.
            busy = _mergedesk(env, *login, stdin=sim.api_key + "\n")
            assert busy.returncode == 0, busy.stderr
            assert "can go on" not in busy.stdout
        again = _mergedesk(env, *login, stdin=sim.api_key + "\n")  # the key, made anew
    assert again.returncode == 0, again.stderr
    assert "1 planned merge that stopped when Cliniko refused the old key can go on" in again.stdout
    with open_cache(data_dir, readonly=True) as cache:
        assert MergeFlow.load(cache, flow.plan_id).problem == NEW_KEY_IN_USE
