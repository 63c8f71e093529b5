"""The time log's tables (``time_sessions``, ``time_steps``) for ``desktop.labor.timelog``:
writing a work session and its step times, closing sessions a crash left open, reading the
sessions of a period, and when Cliniko merged a set of records."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from desktop.merge_states import Outcome

SESSION_COLUMNS = (
    "session_id", "pair_key", "patient_ids", "plan_id", "cliniko_user", "os_user",
    "idle_threshold", "started_at", "last_event_at", "ended_at", "active_seconds",
    "current_step", "step_entered_at", "outcome",
)  # fmt: skip
# What a running session changes as it goes (the rest is fixed when it starts).
_PROGRESS_COLUMNS = (
    "plan_id", "last_event_at", "ended_at", "active_seconds", "current_step",
    "step_entered_at", "outcome",
)  # fmt: skip


def insert_session(db: Any, row: Mapping[str, Any]) -> None:
    """Store a new work session (``row`` has every one of :data:`SESSION_COLUMNS`)."""
    db.execute(
        f"INSERT INTO time_sessions ({', '.join(SESSION_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in SESSION_COLUMNS)})",
        [row[c] for c in SESSION_COLUMNS],
    )


def update_open_session(db: Any, session_id: str, progress: Mapping[str, Any]) -> bool:
    """Write a running session's progress; False when it is no longer open (closed elsewhere).

    ``progress`` has the columns ``plan_id``, ``last_event_at``, ``ended_at``,
    ``active_seconds``, ``current_step``, ``step_entered_at`` and ``outcome``.
    """
    cursor = db.execute(
        f"UPDATE time_sessions SET {', '.join(f'{c} = ?' for c in _PROGRESS_COLUMNS)} "
        "WHERE session_id = ? AND ended_at IS NULL",
        [*(progress[c] for c in _PROGRESS_COLUMNS), session_id],
    )
    return bool(cursor.rowcount)


def take_back_outcome(db: Any, session_id: str, outcome: str, replacement: str) -> bool:
    """A finished session that ended with ``outcome`` ends with ``replacement`` instead (the
    decision it ended with was undone); False when it did not end so."""
    cursor = db.execute(
        "UPDATE time_sessions SET outcome = ? WHERE session_id = ? AND outcome = ? "
        "AND ended_at IS NOT NULL",
        [replacement, session_id, outcome],
    )
    return bool(cursor.rowcount)


def save_step_times(
    db: Any, session_id: str, wall: Mapping[str, float], active: Mapping[str, float]
) -> None:
    """Store the wall and active seconds per step of a session (replacing what was there)."""
    for step in set(wall) | set(active):
        db.execute(
            "INSERT INTO time_steps (session_id, step, wall_seconds, active_seconds) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(session_id, step) DO UPDATE SET "
            "wall_seconds = excluded.wall_seconds, "
            "active_seconds = excluded.active_seconds",
            [session_id, step, wall.get(step, 0.0), active.get(step, 0.0)],
        )


def session_end(db: Any, session_id: str) -> tuple[Any, Any, float, float] | None:
    """A session's stored (ended_at, outcome, active_seconds, last_event_at), or None."""
    row = db.execute(
        "SELECT ended_at, outcome, active_seconds, last_event_at FROM time_sessions "
        "WHERE session_id = ?",
        [session_id],
    ).fetchone()
    return None if row is None else (row[0], row[1], float(row[2]), float(row[3]))


def sessions_started_between(
    db: Any, start: float, end: float, *, include_open: bool
) -> list[dict[str, Any]]:
    """Sessions that started in ``[start, end)`` (epoch seconds) as column dicts, oldest first;
    unfinished ones only with ``include_open``."""
    sql = (
        f"SELECT {', '.join(SESSION_COLUMNS)} FROM time_sessions "
        "WHERE started_at >= ? AND started_at < ?"
        + ("" if include_open else " AND ended_at IS NOT NULL")
        + " ORDER BY started_at, session_id"
    )
    return [
        dict(zip(SESSION_COLUMNS, values, strict=True))
        for values in db.execute(sql, [start, end]).fetchall()
    ]


def step_times_started_between(
    db: Any, start: float, end: float
) -> dict[str, tuple[dict[str, float], dict[str, float]]]:
    """session_id -> (wall, active) seconds per step, for sessions started in ``[start, end)``."""
    steps: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for sid, step, wall, active in db.execute(
        "SELECT session_id, step, wall_seconds, active_seconds FROM time_steps WHERE session_id "
        "IN (SELECT session_id FROM time_sessions WHERE started_at >= ? AND started_at < ?)",
        [start, end],
    ).fetchall():
        walls, actives = steps.setdefault(sid, ({}, {}))
        walls[step], actives[step] = float(wall), float(active)
    return steps


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
