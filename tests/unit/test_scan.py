"""Scanning a real (SQLCipher) cache: the queue, the CSV, decisions, merges, incremental runs."""

from __future__ import annotations

import csv
import json

import pytest

from desktop.scan import export_pairs_csv, run_scan
from desktop.store import Cache, queue, transaction, upsert_patients
from desktop.store.migrations import LATEST_VERSION

KEY = "3d" * 32
FIRSTS = ["Olivia", "Jack", "Mia", "Noah", "Ava", "Liam", "Zoe", "Oscar", "Ruby", "Leo"]


def patient(n: int, **extra) -> dict:
    """A Cliniko patient JSON; n picks a distinct person."""
    data = {
        "id": str(1_390_000_000_000_000_000 + n),
        "first_name": FIRSTS[n % 10],
        "last_name": f"Surname{n}x",
        "date_of_birth": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "email": f"person{n}@example.com",
        "patient_phone_numbers": [
            {"number": f"04{10_000_000 + n * 7919:08d}", "phone_type": "Mobile"}
        ],
        "address_1": f"{n} Long Road",
        "city": "Carlton",
        "post_code": "3053",
        "updated_at": "2024-01-01T00:00:00Z",
        "archived_at": None,
        "merged_at": None,
        "merged_with_patient": None,
    }
    data.update(extra)
    return data


def duplicate_of(n: int, new_id: int, **extra) -> dict:
    dup = patient(n, id=str(1_390_000_000_000_000_000 + new_id))
    dup["first_name"] = dup["first_name"].upper()
    dup.update(extra)
    return dup


PAIRS = {10: 900, 20: 901, 30: 902, 40: 903}


def ids(n: int) -> str:
    return str(1_390_000_000_000_000_000 + n)


def pair_key(x: int, y: int) -> tuple[str, str]:
    return queue.ordered(ids(x), ids(y))


@pytest.fixture
def cache(tmp_path):
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        people = [patient(n) for n in range(200)]
        people += [duplicate_of(n, d) for n, d in PAIRS.items()]
        with transaction(opened) as db:
            upsert_patients(db, people, synced_at="2024-01-02T00:00:00Z")
        yield opened


def upsert(cache, patients, stamp):
    with transaction(cache) as db:
        upsert_patients(db, patients, synced_at=stamp)


def stored(cache) -> dict[tuple[str, str], dict]:
    return {
        (p["id_a"], p["id_b"]): p
        for p in queue.queue_pairs(
            cache.db, statuses=("new", "not_same", "later", "planned", "ready", "merged")
        )
    }


def test_migration_is_registered(cache):
    assert LATEST_VERSION >= 2
    tables = set(cache.db.table_names())
    assert {"match_pairs", "match_decisions", "match_model", "match_scans"} <= tables


def test_full_scan_fills_the_queue(cache):
    stages = []
    summary = run_scan(cache, progress=lambda stage, done, total: stages.append(stage))
    assert summary.kind == "full"
    assert summary.records == 204
    pairs = stored(cache)
    for n, d in PAIRS.items():
        row = pairs[pair_key(n, d)]
        assert row["band"] == "likely"
        assert row["status"] == "new"
        assert row["evidence"] and row["evidence"][0]["field"] == "prior"
    assert {"read", "match", "store"} <= set(stages)
    assert queue.last_scan(cache.db)["kind"] == "full"
    assert queue.load_model(cache.db) is not None


def test_export_csv_columns(cache, tmp_path):
    run_scan(cache)
    out = tmp_path / "pairs.csv"
    count = export_pairs_csv(cache, out)
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id_a", "id_b", "score", "band", "flags"]
    assert len(rows) - 1 == count >= len(PAIRS)
    assert all(r[3] in ("likely", "possible") for r in rows[1:])
    assert all(0.0 <= float(r[2]) <= 1.0 for r in rows[1:])


def test_not_same_decision_survives_rescans_until_a_record_changes(cache):
    run_scan(cache)
    a, b = pair_key(10, 900)
    with transaction(cache) as db:
        queue.record_decision(db, a, b, "not_same")
    run_scan(cache, full=True)
    assert stored(cache)[(a, b)]["status"] == "not_same"
    assert (a, b) not in {(p["id_a"], p["id_b"]) for p in queue.queue_pairs(cache.db)}
    run_scan(cache)  # incremental, nothing changed
    assert stored(cache)[(a, b)]["status"] == "not_same"
    # One record changes in Cliniko: the pair is proposed again.
    upsert(
        cache, [duplicate_of(10, 900, updated_at="2024-03-01T00:00:00Z")], "2024-03-02T00:00:00Z"
    )
    summary = run_scan(cache)
    assert summary.kind == "incremental"
    assert stored(cache)[(a, b)]["status"] == "new"


def test_merged_and_archived_patients_leave_the_queue(cache):
    run_scan(cache)
    merged = duplicate_of(
        20,
        901,
        merged_at="2024-03-01T00:00:00Z",
        archived_at="2024-03-01T00:00:00Z",
        updated_at="2024-03-01T00:00:00Z",
    )
    archived = duplicate_of(
        30, 902, archived_at="2024-03-01T00:00:00Z", updated_at="2024-03-01T00:00:00Z"
    )
    upsert(cache, [merged, archived], "2024-03-02T00:00:00Z")
    run_scan(cache)
    pairs = stored(cache)
    assert pair_key(20, 901) not in pairs
    assert pair_key(30, 902) not in pairs
    assert pair_key(40, 903) in pairs


def test_planned_merge_becomes_merged(cache):
    run_scan(cache)
    a, b = pair_key(40, 903)
    with transaction(cache) as db:
        queue.set_status(db, a, b, "planned")
    upsert(
        cache,
        [
            duplicate_of(
                40,
                903,
                merged_at="2024-03-01T00:00:00Z",
                archived_at="2024-03-01T00:00:00Z",
                updated_at="2024-03-01T00:00:00Z",
            )
        ],
        "2024-03-02T00:00:00Z",
    )
    run_scan(cache)
    assert stored(cache)[(a, b)]["status"] == "merged"


def test_incremental_rescore_touches_only_changed_ids(cache):
    run_scan(cache)
    before = {k: (v["probability"], v["scored_at"]) for k, v in stored(cache).items()}
    new_dup = duplicate_of(50, 904, updated_at="2024-03-01T00:00:00Z")
    upsert(cache, [new_dup], "2024-03-02T00:00:00Z")
    summary = run_scan(cache)
    assert summary.kind == "incremental"
    assert summary.changed == 1
    after = stored(cache)
    assert pair_key(50, 904) in after
    assert after[pair_key(50, 904)]["band"] == "likely"
    for key, (probability, scored_at) in before.items():
        assert after[key]["probability"] == pytest.approx(probability)
        assert after[key]["scored_at"] == scored_at  # untouched rows were not rewritten
    scan = queue.last_scan(cache.db)
    assert scan["kind"] == "incremental" and scan["changed"] == 1


def test_clusters_are_stored(cache):
    third = duplicate_of(10, 950, email=None)
    upsert(cache, [third], "2024-01-02T00:00:00Z")
    run_scan(cache, full=True)
    clusters = cache.db.execute("SELECT ids, size FROM match_clusters").fetchall()
    assert any(set(json.loads(i)) == {ids(10), ids(900), ids(950)} for i, _ in clusters)
    cluster_ids = {p["cluster_id"] for k, p in stored(cache).items() if ids(950) in k}
    assert len(cluster_ids) == 1 and None not in cluster_ids


def test_a_second_incremental_scan_finds_records_added_by_the_first(cache):
    run_scan(cache)
    upsert(cache, [duplicate_of(60, 905, updated_at="2024-03-01T00:00:00Z")], "2024-03-02T00:00")
    assert run_scan(cache).kind == "incremental"
    # A third record of person 60, known only through the first incremental scan's keys.
    third = duplicate_of(60, 906, updated_at="2024-04-01T00:00:00Z")
    upsert(cache, [third], "2024-04-02T00:00")
    summary = run_scan(cache)
    assert summary.kind == "incremental" and summary.changed == 1
    pairs = stored(cache)
    assert pair_key(905, 906) in pairs
    assert pair_key(60, 906) in pairs
    overlay = queue.load_key_overlay(cache.db)
    assert set(overlay) == {ids(905), ids(906)}
    run_scan(cache, full=True)
    assert queue.load_key_overlay(cache.db) == {}


def test_a_model_stored_by_an_older_version_leads_to_a_full_scan(tmp_path):
    """After an upgrade the stored model may not fit the engine: rescan fully, don't crash."""
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        with transaction(cache) as db:
            upsert_patients(db, [patient(n) for n in range(60)])
        assert run_scan(cache).kind == "full"
        with transaction(cache) as db:
            db.execute("UPDATE match_model SET signature = 'fitted-by-an-older-version'")
        assert run_scan(cache).kind == "full"
        assert run_scan(cache).kind == "incremental"
