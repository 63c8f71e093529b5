"""Scanning a real (SQLCipher) cache: the queue, the CSV, decisions, merges, incremental runs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop import scan as scan_module
from desktop.matching import MatchEngine, MatchSettings
from desktop.matching.cluster import build_clusters
from desktop.matching.features import MATCH_COLUMNS, build_features_from_columns
from desktop.matching.keyindex import KeyIndex, stable_keys
from desktop.merge_states import MERGING_STATUSES
from desktop.scan import MODEL_SIGNATURE, export_pairs_csv, run_scan
from desktop.scan_neighbours import changed_keys, fetch, neighbours
from desktop.store import Cache, queue, transaction, upsert_patients
from desktop.store.migrations import LATEST_VERSION, MIGRATIONS

KEY = "3d" * 32
FIRSTS = ["Olivia", "Jack", "Mia", "Noah", "Ava", "Liam", "Zoe", "Oscar", "Ruby", "Leo"]


def patient(n: int, **extra: Any) -> dict[str, Any]:
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


def duplicate_of(n: int, new_id: int, **extra: Any) -> dict[str, Any]:
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
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        people = [patient(n) for n in range(200)]
        people += [duplicate_of(n, d) for n, d in PAIRS.items()]
        with transaction(opened) as db:
            upsert_patients(db, people, synced_at="2024-01-02T00:00:00Z")
        yield opened


def upsert(cache: Cache, patients: list[dict[str, Any]], stamp: str) -> None:
    with transaction(cache) as db:
        upsert_patients(db, patients, synced_at=stamp)


def stored(cache: Cache) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (p["id_a"], p["id_b"]): p
        for p in queue.queue_pairs(
            cache.db, statuses=("new", "not_same", "later", "planned", "ready", "merged")
        )
    }


def test_a_patient_written_in_the_second_of_the_last_scan_is_scanned(tmp_path: Path) -> None:
    """Rows were stamped to the second when written: a patient the watch's sync wrote within
    the second of the rows the last scan had read was never scanned (no pair, no notice)."""
    import time

    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        time.sleep(1 - time.time() % 1)  # at the start of a second, so the rest fits in it
        with transaction(opened) as db:
            upsert_patients(db, [patient(n) for n in range(40)])
        run_scan(opened)
        with transaction(opened) as db:
            upsert_patients(db, [duplicate_of(7, 907)])
        summary = run_scan(opened)
        assert summary.kind == "incremental" and summary.changed == 1
        assert pair_key(7, 907) in stored(opened)


def test_migration_is_registered(cache: Cache) -> None:
    assert LATEST_VERSION >= 2
    tables = set(cache.db.table_names())
    assert {"match_pairs", "match_decisions", "match_model", "match_scans"} <= tables


def test_full_scan_fills_the_queue(cache: Cache) -> None:
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
    last = queue.last_scan(cache.db)
    assert last is not None and last["kind"] == "full"
    assert queue.load_model(cache.db) is not None


def test_evidence_stored_by_an_older_version_still_reads_the_same(cache: Cache) -> None:
    """Queues written before evidence was stored as lists hold one JSON object per item; both
    forms read back as the same evidence, field by field."""
    run_scan(cache)
    key = pair_key(10, 900)
    now = stored(cache)[key]["evidence"]
    assert set(now[0]) == set(queue.EVIDENCE_KEYS) and now[0]["field"] == "prior"
    with transaction(cache) as db:
        db.execute(
            "UPDATE match_pairs SET evidence = ? WHERE id_a = ? AND id_b = ?",
            [json.dumps(now), *key],
        )
    assert stored(cache)[key]["evidence"] == now


def test_export_csv_columns(cache: Cache, tmp_path: Path) -> None:
    run_scan(cache)
    out = tmp_path / "pairs.csv"
    count = export_pairs_csv(cache, out)
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id_a", "id_b", "score", "band", "flags"]
    assert len(rows) - 1 == count >= len(PAIRS)
    assert all(r[3] in ("likely", "possible") for r in rows[1:])
    assert all(0.0 <= float(r[2]) <= 1.0 for r in rows[1:])


def test_not_same_decision_survives_rescans_until_a_record_changes(cache: Cache) -> None:
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


def test_merged_and_archived_patients_leave_the_queue(cache: Cache) -> None:
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


@pytest.mark.parametrize("status", MERGING_STATUSES)
def test_a_merge_under_way_becomes_merged(cache: Cache, status: str) -> None:
    """Planned, ready to apply, or updated and waiting in Cliniko: once the next sync shows
    the duplicate merged, the pair is merged (a scan does not drop it)."""
    run_scan(cache)
    a, b = pair_key(40, 903)
    with transaction(cache) as db:
        queue.set_status(db, a, b, status)
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


def test_incremental_rescore_touches_only_changed_ids(cache: Cache) -> None:
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
    assert scan is not None and scan["kind"] == "incremental" and scan["changed"] == 1


def test_clusters_are_stored(cache: Cache) -> None:
    third = duplicate_of(10, 950, email=None)
    upsert(cache, [third], "2024-01-02T00:00:00Z")
    run_scan(cache, full=True)
    clusters = cache.db.execute("SELECT ids, size FROM match_clusters").fetchall()
    assert any(set(json.loads(i)) == {ids(10), ids(900), ids(950)} for i, _ in clusters)
    cluster_ids = {p["cluster_id"] for k, p in stored(cache).items() if ids(950) in k}
    assert len(cluster_ids) == 1 and None not in cluster_ids


def test_a_second_incremental_scan_finds_records_added_by_the_first(cache: Cache) -> None:
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


def test_a_model_stored_by_an_older_version_leads_to_a_full_scan(tmp_path: Path) -> None:
    """After an upgrade the stored model may not fit the engine: rescan fully, don't crash."""
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        with transaction(cache) as db:
            upsert_patients(db, [patient(n) for n in range(60)])
        assert run_scan(cache).kind == "full"
        with transaction(cache) as db:
            db.execute("UPDATE match_model SET signature = 'fitted-by-an-older-version'")
        assert run_scan(cache).kind == "full"
        assert run_scan(cache).kind == "incremental"


def columns(rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    return {c: [r[i] for r in rows] for i, c in enumerate(MATCH_COLUMNS)}


def plain_rescore(cache: Cache, changed: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """What an incremental scan must store for ``changed`` patients, found the plain way: the
    engine re-scores them with the stored model against every active patient that shares a
    blocking key with one of them, found by brute force over the whole cache (the changed
    records first, then the others, each sorted by id, as the scan reads them)."""
    rows = cache.db.execute(
        f"SELECT {', '.join(MATCH_COLUMNS)} FROM patients "
        "WHERE archived_at IS NULL AND merged_at IS NULL ORDER BY id"
    ).fetchall()
    everyone = KeyIndex.build(build_features_from_columns(columns(rows)))
    mine = [r for r in rows if r[0] in changed]
    _, keys = stable_keys(build_features_from_columns(columns(mine)))
    near = everyone.neighbours(keys) - set(changed)
    batch = mine + [r for r in rows if r[0] in near]
    model = queue.load_model(cache.db)
    assert model is not None
    result = MatchEngine(MatchSettings()).rescore_columns(columns(batch), changed, model)
    return {
        (p.id_a, p.id_b): {
            "probability": p.probability,
            "weight": p.weight,
            "band": p.band,
            "flags": list(p.flags),
            "evidence": [e.__dict__ for e in p.evidence],
            "warnings": p.warnings,
        }
        for p in result.pairs
    }


def assert_stored_as_plain(
    cache: Cache, changed: list[str], expected: dict[tuple[str, str], dict[str, Any]]
) -> None:
    """The queue holds exactly ``expected`` for pairs touching ``changed``, and its clusters
    are what every stored edge makes of them."""
    after = stored(cache)
    touching = {k: v for k, v in after.items() if set(k) & set(changed)}
    assert set(touching) == set(expected)
    for key, want in expected.items():
        assert {f: touching[key][f] for f in want} == want
    clusters = build_clusters(queue.cluster_edges(cache.db))
    saved = cache.db.execute(
        "SELECT ids, weakest_a, weakest_b, weakest_probability FROM match_clusters "
        "ORDER BY cluster_id"
    ).fetchall()
    assert [(json.loads(i), a, b, p) for i, a, b, p in saved] == [
        (list(c.ids), *c.weakest_link) for c in clusters
    ]
    number = {pid: n for n, c in enumerate(clusters, start=1) for pid in c.ids}
    for (a, b), pair in after.items():
        cluster = number.get(a) if number.get(a) == number.get(b) else None
        assert pair["cluster_id"] == cluster


def test_an_incremental_scan_stores_what_a_plain_rescore_scores(cache: Cache) -> None:
    """Twice in a row (the second time through the key overlay the first one wrote): a third
    record of person 10 joins a cluster, person 20's duplicate gets a new phone, a stranger
    arrives who shares no key with anyone, and a record leaves."""
    run_scan(cache)
    third = duplicate_of(10, 950, updated_at="2024-03-01T00:00:00Z", email=None)
    phone = [{"number": "0499 000 111", "phone_type": "Home"}]
    moved = duplicate_of(20, 901, updated_at="2024-03-01T00:00:00Z", patient_phone_numbers=phone)
    stranger = patient(
        7777,
        first_name="Quentin",
        last_name="Zyxwvut",
        email=None,
        address_1=None,
        date_of_birth=None,
        patient_phone_numbers=[],
        updated_at="2024-03-01T00:00:00Z",
    )
    upsert(cache, [third, moved, stranger], "2024-03-02T00:00:00Z")
    changed = sorted([ids(950), ids(901), ids(7777)])
    expected = plain_rescore(cache, changed)
    assert pair_key(10, 950) in expected and pair_key(20, 901) in expected
    summary = run_scan(cache)
    assert summary.kind == "incremental" and summary.changed == 3
    assert_stored_as_plain(cache, changed, expected)

    again = duplicate_of(10, 951, updated_at="2024-04-01T00:00:00Z", email=None)
    gone = duplicate_of(30, 902, archived_at="2024-04-01T00:00:00Z", updated_at="2024-04-01")
    upsert(cache, [again, gone], "2024-04-02T00:00:00Z")
    changed = sorted([ids(951), ids(902)])
    expected = plain_rescore(cache, changed)
    assert pair_key(950, 951) in expected  # found through the first scan's overlay
    assert run_scan(cache).kind == "incremental"
    assert_stored_as_plain(cache, changed, expected)
    assert pair_key(30, 902) not in stored(cache)


def test_an_undated_newcomer_whose_name_slipped_is_found_by_an_incremental_scan(
    cache: Cache,
) -> None:
    """Howard Caballero registers again by phone: no birth date, email or phone, another
    address and postcode, and "Howwrd", which no longer sounds like Howard. Only his surname
    and first initial are left in common; the incremental scan finds him through the key
    index and stores what a plain re-score scores."""
    howard = patient(7780, first_name="Howard", last_name="Caballero", date_of_birth="1981-11-08")
    upsert(cache, [howard], "2024-01-03T00:00:00Z")
    run_scan(cache)
    again = patient(
        7781,
        first_name="Howwrd",
        last_name="Caballero",
        date_of_birth=None,
        email=None,
        patient_phone_numbers=[],
        address_1="1116 Gathering Dr",
        city="Kew",
        post_code="3101",
        updated_at="2024-03-01T00:00:00Z",
    )
    upsert(cache, [again], "2024-03-02T00:00:00Z")
    expected = plain_rescore(cache, [ids(7781)])
    assert pair_key(7780, 7781) in expected
    assert run_scan(cache).kind == "incremental"
    assert_stored_as_plain(cache, [ids(7781)], expected)


def test_a_newcomer_who_shares_no_key_with_anyone(cache: Cache) -> None:
    run_scan(cache)
    newcomer = patient(
        7778,
        first_name="Quentin",
        last_name="Zyxwvut",
        email=None,
        address_1=None,
        post_code=None,
        date_of_birth=None,
        patient_phone_numbers=[],
        updated_at="2024-03-01",
    )
    upsert(cache, [newcomer], "2024-03-02T00:00:00Z")
    before = stored(cache)
    summary = run_scan(cache)
    assert summary.kind == "incremental" and summary.changed == 1 and summary.candidates == 0
    assert stored(cache) == before


def test_rows_renumbered_since_the_full_scan_are_read_by_id(cache: Cache) -> None:
    """The index keeps each patient's rowid as a hint; a rebuilt table gives rows new rowids,
    which must not change what a re-score reads."""
    run_scan(cache)
    with transaction(cache) as db:
        top = db.execute("SELECT max(rowid) FROM patients").fetchone()[0]
        db.execute("UPDATE patients SET rowid = rowid + ?", [top + 10])
        db.execute("UPDATE patients SET rowid = ? - rowid", [2 * top + 11])  # reversed
    upsert(cache, [duplicate_of(10, 950, updated_at="2024-03-01")], "2024-03-02T00:00:00Z")
    expected = plain_rescore(cache, [ids(950)])
    assert pair_key(10, 950) in expected
    assert run_scan(cache).kind == "incremental"
    assert_stored_as_plain(cache, [ids(950)], expected)


def test_too_many_changes_rescan_fully_and_leave_an_index_for_the_next_scan(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        upsert(cache, [patient(n) for n in range(1100)], "2024-01-02T00:00:00Z")
        assert run_scan(cache).kind == "full"
        renamed = [patient(n, title="Dr", updated_at="2024-02-01") for n in range(1100)]
        upsert(cache, renamed, "2024-02-02T00:00:00Z")
        assert run_scan(cache).kind == "full"
        upsert(cache, [duplicate_of(70, 960, updated_at="2024-03-01")], "2024-03-02T00:00:00Z")
        assert run_scan(cache).kind == "incremental"
        assert pair_key(70, 960) in stored(cache)


def test_a_cache_scanned_before_schema_4_scans_fully_once(tmp_path: Path) -> None:
    """Schema 4 drops the one-blob key index: the next scan is a full one, then incremental."""
    path = tmp_path / "cache.db"
    with Cache.open(path, KEY, migrations=MIGRATIONS[:3]) as old:
        upsert(old, [patient(n) for n in range(60)], "2024-01-02T00:00:00Z")
        with transaction(old) as db:
            db.execute(
                "INSERT INTO match_model (id, params, key_index, records, fitted_at) "
                "VALUES (1, ?, ?, 60, '2024-01-02T00:00:00Z')",
                [json.dumps({"signature": MODEL_SIGNATURE}), b"MDKI1\n" + bytes(16)],
            )
    with Cache.open(path, KEY) as cache:
        assert cache.schema_version == LATEST_VERSION
        row = cache.db.execute("SELECT key_index, signature FROM match_model").fetchone()
        assert row == (None, None)
        assert not queue.has_model(cache.db)
        assert run_scan(cache).kind == "full"
        assert queue.has_model(cache.db)
        assert run_scan(cache).kind == "incremental"


def test_a_damaged_key_index_leads_to_a_full_scan_not_an_error(cache: Cache) -> None:
    run_scan(cache)
    with transaction(cache) as db:
        db.execute("DELETE FROM match_key_ids")  # the chunks now name ids that are gone
    upsert(
        cache, [duplicate_of(50, 905, updated_at="2024-03-01T00:00:00Z")], "2024-03-02T00:00:00Z"
    )
    summary = run_scan(cache)
    assert summary.kind == "full"
    assert stored(cache)[pair_key(50, 905)]["band"] == "likely"
    # The full scan stored a whole index again: the next change is re-scored incrementally.
    upsert(
        cache, [duplicate_of(60, 906, updated_at="2024-03-03T00:00:00Z")], "2024-03-04T00:00:00Z"
    )
    assert run_scan(cache).kind == "incremental"


UNRELATED = ["Bartholomew", "Cedric", "Dmitri", "Fergus", "Gideon", "Horatio", "Ignatius", "Jasper"]


def zarkovic(n: int, **extra: Any) -> dict[str, Any]:
    """Someone whose only blocking key in common with the other Zarkovics is the backup key
    "surname sound + postcode" (every other field is their own)."""
    fields = {
        "first_name": UNRELATED[n % len(UNRELATED)],
        "last_name": "Zarkovic",
        "date_of_birth": f"19{n % 90 + 10}-0{1 + n % 9}-1{n % 9}",
        "address_1": f"{n} Distinct Way",
        "post_code": "7000",
    }
    return patient(n, **{**fields, **extra})


@pytest.mark.parametrize(("moved_out", "oversized"), [(1, True), (2, False)])
def test_a_re_score_counts_a_backup_block_as_a_full_scan_would(
    cache: Cache, moved_out: int, oversized: bool
) -> None:
    """Seven Zarkovics share only the backup key, a block over its cap of six. Some move away
    (seen by an earlier incremental scan), then a newcomer joins: with one gone the block is
    seven again, too big to give pairs, and its holders are not even read; with two gone it is
    six, and they are. Either way the queue holds what a plain re-score gives."""
    upsert(cache, [zarkovic(n) for n in range(500, 507)], "2024-01-03T00:00:00Z")
    run_scan(cache)
    movers = [
        zarkovic(n, post_code="7250", updated_at="2024-02-01") for n in range(500, 500 + moved_out)
    ]
    upsert(cache, movers, "2024-02-02T00:00:00Z")
    assert run_scan(cache).kind == "incremental"
    newcomer = zarkovic(611, updated_at="2024-03-01")  # the one first name not yet taken
    upsert(cache, [newcomer], "2024-03-02T00:00:00Z")

    mine = build_features_from_columns(columns(fetch(cache, [ids(611)], active_only=True)))
    found, left_out = neighbours(cache, changed_keys(mine, [ids(611)], MatchSettings()))
    stayed = {ids(n) for n in range(500 + moved_out, 507)}
    assert (left_out.size > 0) is oversized
    assert len(stayed & set(found)) == (0 if oversized else len(stayed))

    expected = plain_rescore(cache, [ids(611)])
    assert run_scan(cache).kind == "incremental"
    assert_stored_as_plain(cache, [ids(611)], expected)


def test_rows_become_columns_across_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clinic's rows are turned into columns a slice at a time; the slices join up."""
    monkeypatch.setattr(scan_module, "SLICE", 3)
    rows = [(f"id{n}", n, None if n % 4 else "x") for n in range(10)]
    sliced = scan_module._sliced
    assert scan_module._transpose(sliced(rows), 3) == [list(c) for c in zip(*rows, strict=True)]
    assert scan_module._transpose(sliced([]), 3) == [[], [], []]


def test_a_us_clinic_reads_its_patients_phones_as_american_numbers(cache: Cache) -> None:
    """One number written three American ways is one phone once the account says "US"."""
    from desktop.account import Account, remember_account

    forms = ["(206) 555-0134", "+1 206 555 0134", "1-206-555-0134"]
    with cache as opened:
        people = [
            patient(
                500 + n,
                first_name="Dana",
                last_name="Whitcombe",
                date_of_birth="1961-07-14",
                email=None,
                address_1=None,
                patient_phone_numbers=[{"number": number, "phone_type": "Mobile"}],
            )
            for n, number in enumerate(forms)
        ]
        with transaction(opened) as db:
            upsert_patients(db, people, synced_at="2024-01-02T00:00:00Z")
        run_scan(opened, full=True)
        before = _phone_levels(opened)
        remember_account(opened, Account(name="Seattle Physio", country_code="US"))
        run_scan(opened, full=True)
        after = _phone_levels(opened)
    dana = [pair_key(500, 501), pair_key(500, 502), pair_key(501, 502)]
    # Read as Australian numbers, the three are not one phone.
    assert [before.get(k) for k in dana].count("same") < 3, before
    assert [after.get(k) for k in dana] == ["same"] * 3, after


def _phone_levels(opened: Cache) -> dict[tuple[str, str], str]:
    """Per stored pair (any band), its phone evidence's level."""
    out = {}
    for stored in queue.queue_pairs(opened.db, bands=("likely", "possible", "unlikely")):
        for ev in stored["evidence"]:
            if ev["field"] == "Phone":
                out[(stored["id_a"], stored["id_b"])] = ev["level"]
    return out


def test_answers_that_show_a_rule_holds_back_one_person_rescore_the_queue(cache: Cache) -> None:
    """25 merges confirmed of pairs held only as 'names only': the next scan is a full one
    and such pairs reach 'likely'."""
    people = []
    for n in range(300, 330):
        people.append(patient(n, first_name=f"Rarename{n}q", email=None, patient_phone_numbers=[]))
        people.append(
            patient(
                1000 + n,
                first_name=f"Rarename{n}qu",  # a slip: a rare name typed alike confirms less
                last_name=f"Surname{n}x",
                date_of_birth=None,
                email=None,
                patient_phone_numbers=[],
                address_1=f"PO Box {n}",
                post_code="7000",
                city="Hobart",
            )
        )
    # This small clinic gives its rare names less weight than a real one would.
    settings = MatchSettings(likely_threshold=0.6)
    with transaction(cache) as db:
        upsert_patients(db, people, synced_at="2024-01-03T00:00:00Z")
    run_scan(cache, full=True, settings=settings)
    held = [pair_key(n, 1000 + n) for n in range(300, 330)]
    stored = {(p["id_a"], p["id_b"]): p for p in queue.queue_pairs(cache.db)}
    assert all(
        stored[k]["band"] == "possible" and stored[k]["flags"] == ["names_only"] for k in held
    )
    with transaction(cache) as db:
        for key in held[:25]:
            queue.set_status(db, *key, "planned")
    summary = run_scan(cache, settings=settings)
    assert summary.kind == "full"
    stored = {(p["id_a"], p["id_b"]): p for p in queue.queue_pairs(cache.db)}
    assert [stored[k]["band"] for k in held[25:]] == ["likely"] * 5
    assert run_scan(cache, settings=settings).kind != "full"  # learned once, not every scan


def olivia_brown(n: int, **extra: Any) -> dict[str, Any]:
    """An Olivia Brown of one household (one mobile); n picks the record."""
    record = patient(n, first_name="Olivia", last_name="Brown", email=None)
    record["patient_phone_numbers"] = [{"number": "0487 582 111", "phone_type": "Mobile"}]
    record.update(extra)
    return record


def test_a_birth_date_merged_away_in_cliniko_tells_a_child_from_her_namesake_mother(
    cache: Cache,
) -> None:
    """A phone booking made an undated "Olivia Brown" with the family mobile; the daughter's
    dated record was later merged into it in Cliniko. Beside her mother of the same name she
    is a parent and child pair, not a duplicate, once the merge is known."""
    mother = olivia_brown(300, date_of_birth="1992-12-21")
    booked = olivia_brown(
        301, date_of_birth=None, address_1=None, city=None, post_code=None, sex=None
    )
    upsert(cache, [mother, booked], "2024-01-03T00:00:00Z")
    run_scan(cache, full=True)
    before = stored(cache)[pair_key(300, 301)]
    assert before["band"] == "likely"

    daughter = olivia_brown(
        302,
        date_of_birth="2017-02-24",
        archived_at="2024-03-01T00:00:00Z",
        merged_at="2024-03-01T00:00:00Z",
        merged_with_patient={"links": {"self": f"/patients/{ids(301)}"}},
        updated_at="2024-03-01T00:00:00Z",
    )
    upsert(cache, [daughter], "2024-03-02T00:00:00Z")
    summary = run_scan(cache)  # the merged record alone changed: a re-score
    assert summary.kind != "full"
    after = stored(cache)[pair_key(300, 301)]
    assert after["band"] != "likely"
    assert "parent_child" in after["flags"]
    run_scan(cache, full=True)
    assert "parent_child" in stored(cache)[pair_key(300, 301)]["flags"]


@pytest.mark.parametrize("planned", [False, True])
def test_a_full_rescan_drops_pairs_no_longer_found_and_keeps_a_planned_merge(
    cache: Cache, planned: bool
) -> None:
    run_scan(cache)
    kept = pair_key(40, 903)
    if planned:
        with transaction(cache) as db:
            queue.set_status(db, *kept, "planned")
    # Record 901 is edited into someone else: its pair with 20 is no longer found.
    upsert(cache, [patient(901, updated_at="2024-02-01T00:00:00Z")], "2024-02-01T00:00:00Z")
    run_scan(cache, full=True)
    pairs = stored(cache)
    assert pair_key(20, 901) not in pairs
    assert pair_key(10, 900) in pairs
    assert pairs[kept]["status"] == ("planned" if planned else "new")


def _shah(n: int, **extra: Any) -> dict[str, Any]:
    """A Jacqueline Shah of one household (7 Wattle Street)."""
    fields: dict[str, Any] = {
        "first_name": "Jacqueline",
        "last_name": "Shahqq",
        "address_1": "7 Wattle Street",
        "email": None,
        "patient_phone_numbers": [],
    }
    return patient(n, **{**fields, **extra})


def test_a_re_score_holds_a_sparse_record_that_matches_mother_and_daughter(cache: Cache) -> None:
    """An undated Jacqueline Shah at the address of a mother and her same-name daughter: the
    full scan held her pair with the mother as ambiguous; a re-score of the mother (a walk:
    her values applied, then put back) saw no daughter and put the pair in "likely"."""
    mobile = [{"number": "0412 555 111", "phone_type": "Mobile"}]
    mother = _shah(950, date_of_birth="1979-09-11", sex="Female", patient_phone_numbers=mobile)
    daughter = _shah(951, date_of_birth="2014-12-03", sex="Female", patient_phone_numbers=mobile)
    upsert(cache, [mother, daughter, _shah(952, date_of_birth=None)], "2024-01-02T00:00:00Z")
    run_scan(cache, full=True)

    def band_and_flags(x: int, y: int) -> tuple[str, list[str]]:
        pair = queue.get_pair(cache.db, ids(x), ids(y))
        assert pair is not None
        return pair["band"], pair["flags"]

    assert band_and_flags(950, 951) == ("possible", ["parent_child"])
    assert band_and_flags(950, 952) == ("possible", ["ambiguous"])
    home = {"number": "0412 555 999", "phone_type": "Home"}
    changed = dict(mother, updated_at="2024-02-01T00:00:00Z")
    changed["patient_phone_numbers"] = [*mobile, home]
    upsert(cache, [changed], "2024-02-02T00:00:00Z")
    assert run_scan(cache).kind == "incremental"
    assert band_and_flags(950, 952) == ("possible", ["ambiguous"])
    assert band_and_flags(951, 952) == ("possible", ["child_record"])


def test_a_re_score_holds_a_sparse_record_that_matches_a_mother_and_her_grown_daughter(
    cache: Cache,
) -> None:
    """As above with a daughter of 26: the undated record is held as ambiguous beside both,
    and a re-score of the mother read the daughter's stored pair ("ambiguous") as no link."""
    mobile = [{"number": "0412 555 111", "phone_type": "Mobile"}]
    mother = _shah(950, date_of_birth="1974-09-11", sex="Female", patient_phone_numbers=mobile)
    daughter = _shah(951, date_of_birth="2000-12-03", sex="Female", patient_phone_numbers=mobile)
    upsert(cache, [mother, daughter, _shah(952, date_of_birth=None)], "2024-01-02T00:00:00Z")
    run_scan(cache, full=True)
    assert pairs_of(cache, 952) == {950: "possible", 951: "possible"}
    changed = dict(mother, updated_at="2024-02-01T00:00:00Z", city="Kent")
    upsert(cache, [changed], "2024-02-02T00:00:00Z")
    assert run_scan(cache).kind == "incremental"
    assert pairs_of(cache, 952) == {950: "possible", 951: "possible"}


def _garrell(n: int, **extra: Any) -> dict[str, Any]:
    """A Garrell twin (or a record with no first name) of one household, born 2010-02-15."""
    fields: dict[str, Any] = {
        "last_name": "Garrellqq",
        "date_of_birth": "2010-02-15",
        "sex": "Male",
        "address_1": "38297 Hunters Oak Drive",
        "email": None,
        "patient_phone_numbers": [],
    }
    return patient(n, **{**fields, **extra})


def test_a_re_score_holds_a_nameless_record_beside_twins_when_its_rule_is_relaxed(
    cache: Cache,
) -> None:
    """The administrator confirmed 25 nameless records as the patients with their surname and
    birth date, and the rule that held those back was relaxed. A nameless Garrell beside the
    twins Jason and Christopher stays held in the full scan; a re-score of Jason put it in
    "likely" with him, as the twin's pair with it did not count as a link."""
    people = [patient(n, first_name=None, id=ids(2000 + n)) for n in range(100, 125)]
    upsert(cache, people, "2024-01-03T00:00:00Z")
    run_scan(cache, full=True)
    told = [pair_key(n, 2000 + n) for n in range(100, 125)]
    pairs = stored(cache)
    assert {tuple(pairs[k]["flags"]) for k in told} == {("no_first_name_same_birth_date",)}
    with transaction(cache) as db:
        for key in told:
            queue.set_status(db, *key, "planned")
    twins = [_garrell(960, first_name="Jason"), _garrell(961, first_name="Christopher")]
    upsert(cache, [*twins, _garrell(962, first_name=None)], "2024-01-04T00:00:00Z")
    assert run_scan(cache).kind == "full"  # the answers relaxed the rule
    assert pairs_of(cache, 962) == {960: "possible", 961: "possible"}
    changed = dict(twins[0], updated_at="2024-02-01T00:00:00Z", city="Kent")
    upsert(cache, [changed], "2024-02-02T00:00:00Z")
    assert run_scan(cache).kind == "incremental"
    assert pairs_of(cache, 962) == {960: "possible", 961: "possible"}


def pairs_of(cache: Cache, n: int) -> dict[int, str]:
    """The stored pairs of record ``n``: the other record's number and the band."""
    out = {}
    for k, pair in stored(cache).items():
        if ids(n) in k:
            other = k[0] if k[1] == ids(n) else k[1]
            out[int(other) - int(ids(0))] = pair["band"]
    return out
