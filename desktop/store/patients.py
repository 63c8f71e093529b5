"""Patients in the cache: one row per Cliniko patient, plus the JSON as received.

The row columns live in ``patients``; the whole JSON in ``patient_raw.raw`` (a separate table,
so a full scan for matching reads ~0.4 KB per patient instead of ~3 KB).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlite_utils

from desktop.fields import patient_field_names

# Plain text fields copied from the patient JSON as they are (field registry: ``cached``).
TEXT_FIELDS: tuple[str, ...] = patient_field_names(cached=True)
COLUMNS: tuple[str, ...] = (
    "id",
    *TEXT_FIELDS,
    "phones",
    "merged_with_patient_id",
    "raw",
    "synced_at",
)
ROW_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "raw")

# A patient neither archived nor merged into another in Cliniko (what a scan pairs).
ACTIVE = "archived_at IS NULL AND merged_at IS NULL"
# A row is rewritten (and its ``synced_at`` moved on, which makes a scan read it again) only
# when something in it differs: a record Cliniko sends again unchanged is left as it is.
_SAME_AS_STORED = [c for c in ROW_COLUMNS if c not in ("id", "synced_at")]
_UPSERT_ROW_SQL = (
    f"INSERT INTO patients ({', '.join(ROW_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in ROW_COLUMNS)}) "
    "ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ROW_COLUMNS if c != "id")
    + f" WHERE ({', '.join(f'patients.{c}' for c in _SAME_AS_STORED)})"
    + f" IS NOT ({', '.join(f'excluded.{c}' for c in _SAME_AS_STORED)})"
)
_UPSERT_RAW_SQL = (
    "INSERT INTO patient_raw (id, raw) VALUES (?, ?) "
    "ON CONFLICT(id) DO UPDATE SET raw = excluded.raw WHERE patient_raw.raw IS NOT excluded.raw"
)
# Ids per query when reading what is stored (well under SQLite's limit of bound values).
_IDS_PER_QUERY = 500


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _now() -> str:
    """When a row is written, to the microsecond: an incremental scan reads the rows written
    after the newest one the last scan saw, and at whole seconds a row written in that same
    second (a patient added as the watch looked) was never scanned."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def linked_id(link: Any) -> str | None:
    """Return the id at the end of ``{"links": {"self": ".../patients/<id>"}}`` (None for
    anything else)."""
    links = link.get("links") if isinstance(link, dict) else None
    url = links.get("self") if isinstance(links, dict) else None
    if not isinstance(url, str) or not url:
        return None
    segment = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def _phones(patient: dict[str, Any]) -> list[dict[str, Any]]:
    numbers = patient.get("patient_phone_numbers") or []
    return [
        {"number": p.get("number"), "phone_type": p.get("phone_type")}
        for p in numbers
        if isinstance(p, dict)
    ]


def row_from_patient(patient: dict[str, Any], *, synced_at: str | None = None) -> dict[str, Any]:
    """Extract the cache row for one patient JSON object (ids as strings).

    ``phones`` is a JSON list of ``{"number", "phone_type"}`` from ``patient_phone_numbers``;
    ``merged_with_patient_id`` is the last path segment of ``merged_with_patient.links.self``.
    """
    if patient.get("id") in (None, ""):
        raise ValueError("a patient without an id cannot be cached")
    get = patient.get
    row: dict[str, Any] = {"id": str(patient["id"])}
    for field in TEXT_FIELDS:
        row[field] = _text(get(field))
    row["phones"] = _ENCODE(_phones(patient))
    row["merged_with_patient_id"] = linked_id(patient.get("merged_with_patient"))
    row["raw"] = _ENCODE(patient)
    row["synced_at"] = synced_at or _now()
    return {c: row[c] for c in COLUMNS}


def upsert_patients(
    db: sqlite_utils.Database, patients: Iterable[dict[str, Any]], *, synced_at: str | None = None
) -> list[str]:
    """Insert or update patients by id; return the ids of those new or changed. Does not commit.

    A patient stored exactly as received is left as it is, ``synced_at`` included. Call it
    inside :func:`desktop.store.transaction.transaction` (one per page is fine).
    """
    stamp = synced_at or _now()
    rows = [row_from_patient(p, synced_at=stamp) for p in patients]
    if not rows:
        return []
    stored = _stored_raw(db, [r["id"] for r in rows])
    changed = [r["id"] for r in rows if stored.get(r["id"]) != r["raw"]]
    db.conn.executemany(_UPSERT_ROW_SQL, [[r[c] for c in ROW_COLUMNS] for r in rows])
    db.conn.executemany(_UPSERT_RAW_SQL, [(r["id"], r["raw"]) for r in rows])
    return list(dict.fromkeys(changed))


def _stored_raw(db: sqlite_utils.Database, ids: Sequence[str]) -> dict[str, str]:
    """The JSON text stored for each of ``ids`` that is in the cache."""
    out: dict[str, str] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _IDS_PER_QUERY):
        chunk = unique[start : start + _IDS_PER_QUERY]
        marks = ", ".join("?" for _ in chunk)
        cursor = db.conn.execute(f"SELECT id, raw FROM patient_raw WHERE id IN ({marks})", chunk)
        out.update(cursor.fetchall())
    return out


def get_patient(db: sqlite_utils.Database, patient_id: str | int) -> dict[str, Any] | None:
    """Return the patient JSON as received from Cliniko, or None."""
    row = db.execute("SELECT raw FROM patient_raw WHERE id = ?", [str(patient_id)]).fetchone()
    return None if row is None or row[0] is None else json.loads(row[0])


def get_patient_row(db: sqlite_utils.Database, patient_id: str | int) -> dict[str, Any] | None:
    """Return one patient's row (without ``raw``), or None."""
    cursor = db.execute(
        f"SELECT {', '.join(ROW_COLUMNS)} FROM patients WHERE id = ?", [str(patient_id)]
    )
    row = cursor.fetchone()
    return None if row is None else dict(zip(ROW_COLUMNS, row, strict=True))


def iter_patient_rows(
    db: sqlite_utils.Database, columns: Sequence[str] | None = None, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Yield patient rows as dicts (never ``raw``), fetched ``batch`` at a time.

    Args:
        columns: which columns (default: every column but ``raw``).
        batch: rows fetched per round trip.
    """
    wanted = tuple(columns) if columns is not None else ROW_COLUMNS
    unknown = [c for c in wanted if c not in ROW_COLUMNS]
    if unknown:
        raise ValueError(f"unknown patient columns: {unknown}")
    cursor = db.conn.execute(f"SELECT {', '.join(wanted)} FROM patients")
    while True:
        chunk = cursor.fetchmany(batch)
        if not chunk:
            return
        for values in chunk:
            yield dict(zip(wanted, values, strict=True))


def count_patients(db: sqlite_utils.Database, include_archived: bool = True) -> int:
    """Count cached patients (merged ones are archived too)."""
    sql = "SELECT count(*) FROM patients"
    if not include_archived:
        sql += " WHERE archived_at IS NULL"
    return int(db.execute(sql).fetchone()[0])


def patient_ids(db: sqlite_utils.Database) -> set[str]:
    """Return every cached patient id."""
    return {row[0] for row in db.execute("SELECT id FROM patients")}
