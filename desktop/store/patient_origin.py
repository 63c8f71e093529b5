"""Where a record came from, as the cache knows it: created_at and the raw JSON (SQL only)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def origin_of(db: Any, ids: Iterable[str]) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """patient_id -> (created_at, the raw Cliniko JSON as a dict) for the cached ones."""
    wanted = json.dumps(sorted({str(i) for i in ids}))
    out: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for pid, created, raw in db.execute(
        "SELECT p.id, p.created_at, r.raw FROM patients p LEFT JOIN patient_raw r ON r.id = p.id "
        "WHERE p.id IN (SELECT value FROM json_each(?))",
        [wanted],
    ).fetchall():
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        out[str(pid)] = (created, data if isinstance(data, dict) else {})
    return out
