"""Time-log SQL that moved out of ``desktop.labor.timelog`` (no Qt): closing sessions a crash
left open, and when Cliniko merged a set of records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from desktop.merge_states import Outcome


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


def close_unfinished(db: Any, wait_steps: Collection[str], wait_cap: float) -> int:
    """Close every unfinished work session as ``abandoned`` at its last recorded event; returns
    how many. The open step's time is added to it; on a wait step (``wait_steps``) that time
    also counts as active, up to ``wait_cap`` seconds of waiting per session."""
    rows = db.execute(
        "SELECT session_id, last_event_at, current_step, step_entered_at "
        "FROM time_sessions WHERE ended_at IS NULL"
    ).fetchall()
    waits = sorted(wait_steps)
    marks = ", ".join("?" for _ in waits)
    for session_id, last, step, entered in rows:
        counted = 0.0
        if step is not None and entered is not None:
            spent = max(0.0, last - entered)
            if step in wait_steps:
                (already,) = db.execute(
                    "SELECT coalesce(sum(active_seconds), 0) FROM time_steps "
                    f"WHERE session_id = ? AND step IN ({marks})",
                    [session_id, *waits],
                ).fetchone()
                counted = min(spent, max(0.0, wait_cap - float(already)))
            db.execute(
                "INSERT INTO time_steps (session_id, step, wall_seconds, active_seconds) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(session_id, step) DO UPDATE SET "
                "wall_seconds = wall_seconds + excluded.wall_seconds, "
                "active_seconds = active_seconds + excluded.active_seconds",
                [session_id, step, spent, counted],
            )
        db.execute(
            "UPDATE time_sessions SET ended_at = last_event_at, outcome = ?, "
            "step_entered_at = last_event_at, active_seconds = active_seconds + ? "
            "WHERE session_id = ?",
            [Outcome.ABANDONED, counted, session_id],
        )
    return len(rows)
