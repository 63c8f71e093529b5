"""Content hashes of the patients in the cache, for comparing it with Cliniko record by record."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlite_utils


def content_hash(patient: dict[str, Any]) -> bytes:
    """A digest of a patient's JSON that ignores key order and whitespace."""
    canonical = json.dumps(patient, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


def cached_hashes(db: sqlite_utils.Database, batch: int = 2000) -> dict[str, bytes]:
    """Every cached patient id with the content hash of its JSON as received."""
    hashes: dict[str, bytes] = {}
    cursor = db.conn.execute("SELECT id, raw FROM patient_raw")
    while chunk := cursor.fetchmany(batch):
        for pid, raw in chunk:
            hashes[pid] = content_hash(json.loads(raw)) if raw else b""
    return hashes
