"""What the time log reads from the rest of the cache (SQL only; no Qt, no labor logic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def latest_merged_at(db: Any, patient_ids: Sequence[str]) -> str | None:
    """The newest ``merged_at`` Cliniko gave any of these records (None when none is merged)."""
    ids = [str(i) for i in patient_ids]
    if not ids:
        return None
    marks = ", ".join("?" for _ in ids)
    row = db.execute(
        f"SELECT max(merged_at) FROM patients WHERE id IN ({marks}) AND merged_at IS NOT NULL",
        ids,
    ).fetchone()
    return row[0] if row and row[0] else None
