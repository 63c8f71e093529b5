"""Patients and sync state in the cache: extraction, upsert, streaming, transactions."""

from __future__ import annotations

import json

import pytest

from desktop.store import (
    Cache,
    count_patients,
    get_patient,
    get_patient_row,
    get_state,
    iter_patient_rows,
    patient_ids,
    row_from_patient,
    set_state,
    transaction,
    upsert_patients,
)

KEY = "5c" * 32
BASE = "https://api.au1.cliniko.com/v1"


def _patient(n: int, **extra) -> dict:
    pid = str(1390726237298631770 + n)
    return {
        "id": pid,
        "first_name": f"First{n}",
        "last_name": f"Last{n % 7}",
        "date_of_birth": "1980-02-03",
        "patient_phone_numbers": [
            {"number": "0412 345 678", "phone_type": "Mobile", "normalized_number": "+61412345678"}
        ],
        "updated_at": f"2024-01-{1 + n % 28:02d}T00:00:00Z",
        "archived_at": None,
        "merged_at": None,
        "merged_with_patient": None,
        "links": {"self": f"{BASE}/patients/{pid}"},
        **extra,
    }


@pytest.fixture
def cache(tmp_path):
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def test_row_from_patient_extracts_columns():
    merged = _patient(
        1,
        id=987654321987654321,
        archived_at="2024-05-01T00:00:00Z",
        merged_at="2024-05-01T00:00:00Z",
        merged_with_patient={"links": {"self": f"{BASE}/patients/1390726237298631770"}},
        medicare=2123456701,
        email="ada@example.com",
    )
    row = row_from_patient(merged, synced_at="2024-06-01T00:00:00Z")
    assert row["id"] == "987654321987654321"
    assert row["merged_with_patient_id"] == "1390726237298631770"
    assert row["medicare"] == "2123456701"
    assert json.loads(row["phones"]) == [{"number": "0412 345 678", "phone_type": "Mobile"}]
    assert json.loads(row["raw"]) == merged
    assert row["synced_at"] == "2024-06-01T00:00:00Z"
    assert row["email"] == "ada@example.com"
    assert row["preferred_first_name"] is None


def test_row_from_patient_tolerates_missing_fields():
    row = row_from_patient({"id": "5"})
    assert row["phones"] == "[]"
    assert row["merged_with_patient_id"] is None
    assert row["last_name"] is None
    with pytest.raises(ValueError):
        row_from_patient({"first_name": "no id"})


def test_upsert_get_iterate_round_trip(cache):
    patients = [_patient(n) for n in range(25)]
    with transaction(cache) as db:
        assert upsert_patients(db, patients) == [p["id"] for p in patients]
    assert count_patients(cache.db) == 25
    assert patient_ids(cache.db) == {p["id"] for p in patients}
    assert get_patient(cache.db, patients[3]["id"]) == patients[3]
    assert get_patient(cache.db, "nope") is None

    rows = list(iter_patient_rows(cache.db, batch=4))
    assert len(rows) == 25
    assert all("raw" not in row for row in rows)
    assert {r["id"] for r in rows} == patient_ids(cache.db)
    some = list(iter_patient_rows(cache.db, ["id", "last_name"]))
    assert set(some[0]) == {"id", "last_name"}
    with pytest.raises(ValueError):
        list(iter_patient_rows(cache.db, ["raw"]))
    with pytest.raises(ValueError):
        list(iter_patient_rows(cache.db, ["id; DROP TABLE patients"]))


def test_upsert_updates_in_place(cache):
    original = _patient(1)
    with transaction(cache) as db:
        upsert_patients(db, [original])
    changed = {**original, "last_name": "Changed", "archived_at": "2024-07-01T00:00:00Z"}
    with transaction(cache) as db:
        assert upsert_patients(db, [changed]) == [original["id"]]
    assert count_patients(cache.db) == 1
    assert count_patients(cache.db, include_archived=False) == 0
    assert get_patient(cache.db, original["id"]) == changed
    row = get_patient_row(cache.db, original["id"])
    assert row is not None and row["last_name"] == "Changed"
    assert get_patient_row(cache.db, "nope") is None


def test_upsert_of_nothing(cache):
    assert upsert_patients(cache.db, []) == []


def test_a_patient_received_again_unchanged_is_left_as_it_is(cache):
    """Only new or changed patients are written: an unchanged one keeps its synced_at, so
    a scan does not read it again, and a sync does not count it."""
    patients = [_patient(1), _patient(2)]
    with transaction(cache) as db:
        upsert_patients(db, patients, synced_at="2026-12-01T00:00:00Z")
    edited = {**patients[1], "email": "new@example.com"}
    with transaction(cache) as db:
        written = upsert_patients(db, [patients[0], edited], synced_at="2026-12-02T00:00:00Z")
    assert written == [patients[1]["id"]]
    rows = {r["id"]: r for r in iter_patient_rows(cache.db, ["id", "synced_at"])}
    assert rows[patients[0]["id"]]["synced_at"] == "2026-12-01T00:00:00Z"
    assert rows[patients[1]["id"]]["synced_at"] == "2026-12-02T00:00:00Z"
    assert get_patient(cache.db, patients[1]["id"]) == edited


def test_sync_state(cache):
    assert get_state(cache.db, "watermark") is None
    assert get_state(cache.db, "watermark", "x") == "x"
    with transaction(cache) as db:
        set_state(db, "watermark", "2024-01-01T00:00:00Z")
    assert get_state(cache.db, "watermark") == "2024-01-01T00:00:00Z"
    with transaction(cache) as db:
        set_state(db, "watermark", "2024-02-01T00:00:00Z")
        set_state(db, "other", None)
    assert get_state(cache.db, "watermark") == "2024-02-01T00:00:00Z"
    with transaction(cache) as db:
        set_state(db, "watermark", None)
    assert get_state(cache.db, "watermark") is None


def test_transaction_rolls_back_on_error(cache):
    with pytest.raises(RuntimeError), transaction(cache) as db:
        upsert_patients(db, [_patient(1)])
        set_state(db, "watermark", "w")
        raise RuntimeError("network lost")
    assert count_patients(cache.db) == 0
    assert get_state(cache.db, "watermark") is None
    assert not cache.conn.in_transaction


def test_nested_transaction_is_a_savepoint(cache):
    with transaction(cache) as db:
        upsert_patients(db, [_patient(1)])
        with pytest.raises(RuntimeError), transaction(cache) as inner:
            upsert_patients(inner, [_patient(2)])
            raise RuntimeError("inner fails")
        with transaction(cache) as inner:
            set_state(inner, "k", "v")
    assert count_patients(cache.db) == 1
    assert get_state(cache.db, "k") == "v"


def test_non_durable_transaction_restores_full_sync(cache):
    with transaction(cache, durable=False) as db:
        assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
        upsert_patients(db, [_patient(1)])
    assert cache.conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert count_patients(cache.db) == 1


def test_close_discards_an_unfinished_transaction(tmp_path):
    path = tmp_path / "cache.db"
    cache = Cache.open(path, KEY)
    cache.conn.execute("BEGIN IMMEDIATE")
    upsert_patients(cache.db, [_patient(1)])
    cache.close()
    cache.close()  # idempotent
    with Cache.open(path, KEY) as again:
        assert count_patients(again.db) == 0
