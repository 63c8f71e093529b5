"""Merge plans in the cache: one row per guided merge, plus a log of its step transitions.

Rows are plain dicts with JSON columns decoded (``patient_ids``, ``duplicate_ids`` as lists,
``decisions``, ``base_values`` and ``lookalike`` as dicts). Writers do not commit: call them
inside :func:`desktop.store.transaction.transaction`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from desktop.merge_states import PlanStatus

JSON_COLUMNS = ("patient_ids", "duplicate_ids", "decisions", "base_values", "lookalike")
COLUMNS = (
    "plan_id", "pair_key", "patient_ids", "survivor_id", "duplicate_ids", "decisions",
    "base_values", "step", "status", "outcome", "merge_url", "written_sha256", "last_error",
    "created_at", "updated_at", "lookalike",
)  # fmt: skip


def _decode(row: Sequence[Any]) -> dict[str, Any]:
    out = dict(zip(COLUMNS, row, strict=True))
    for name in JSON_COLUMNS:
        out[name] = json.loads(out[name]) if out[name] else ([] if "ids" in name else {})
    return out


def _select(where: str) -> str:
    return f"SELECT {', '.join(COLUMNS)} FROM merge_plans WHERE {where}"


def save_plan(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Insert or replace a plan row (every column of :data:`COLUMNS`)."""
    values = []
    for name in COLUMNS:
        value = row.get(name)
        if name in JSON_COLUMNS:
            value = json.dumps(value if value is not None else {}, ensure_ascii=False, default=str)
        values.append(value)
    db.execute(
        f"INSERT INTO merge_plans ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)}) ON CONFLICT(plan_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "plan_id"),
        values,
    )


def get_plan(db: sqlite_utils.Database, plan_id: str) -> dict[str, Any] | None:
    """One plan by id, or None."""
    row = db.execute(_select("plan_id = ?"), [plan_id]).fetchone()
    return None if row is None else _decode(row)


def open_plan_for(db: sqlite_utils.Database, pair_key: str) -> dict[str, Any] | None:
    """The active plan of a pair or cluster key, or None."""
    row = db.execute(
        _select("pair_key = ? AND status = ?"), [pair_key, PlanStatus.ACTIVE]
    ).fetchone()
    return None if row is None else _decode(row)


def latest_plan_for(db: sqlite_utils.Database, pair_key: str) -> dict[str, Any] | None:
    """The newest plan of a pair or cluster key, whatever its status, or None."""
    row = db.execute(
        _select("pair_key = ?") + " ORDER BY updated_at DESC, rowid DESC LIMIT 1", [pair_key]
    ).fetchone()
    return None if row is None else _decode(row)


def plans_at(
    db: sqlite_utils.Database, steps: Sequence[str], status: str = PlanStatus.ACTIVE
) -> list[dict[str, Any]]:
    """Plans with a given status standing at one of ``steps``, oldest first."""
    marks = ", ".join("?" for _ in steps)
    rows = db.execute(
        _select(f"status = ? AND step IN ({marks})") + " ORDER BY created_at, rowid",
        [status, *steps],
    ).fetchall()
    return [_decode(r) for r in rows]


def replace_last_errors(db: sqlite_utils.Database, starting: str, words: str) -> int:
    """Put ``words`` in place of the last error of the active plans whose error starts with
    ``starting``; returns how many were replaced."""
    cursor = db.execute(
        "UPDATE merge_plans SET last_error = ? WHERE status = ? AND substr(last_error, 1, ?) = ?",
        [words, PlanStatus.ACTIVE, len(starting), starting],
    )
    return cursor.rowcount


def log_step(
    db: sqlite_utils.Database,
    plan_id: str,
    from_step: str | None,
    to_step: str,
    at: str,
    note: str = "",
) -> None:
    """Append one transition to the plan's step log."""
    db.execute(
        "INSERT INTO merge_steps (plan_id, from_step, to_step, at, note) VALUES (?, ?, ?, ?, ?)",
        [plan_id, from_step, to_step, at, note],
    )


def step_log(db: sqlite_utils.Database, plan_id: str) -> list[dict[str, Any]]:
    """The plan's transitions in order: dicts with from_step, to_step, at, note."""
    rows = db.execute(
        "SELECT from_step, to_step, at, note FROM merge_steps WHERE plan_id = ? ORDER BY seq",
        [plan_id],
    ).fetchall()
    return [dict(zip(("from_step", "to_step", "at", "note"), r, strict=True)) for r in rows]


def merged_outside_plans(db: sqlite_utils.Database, ids: Iterable[str]) -> list[tuple[str, str]]:
    """(patient id, survivor id) for each of ``ids`` that Cliniko merged into the record that
    stays of a merge MergeDesk planned, at or after the plan was made, though the plan did not
    name it: a record ticked by mistake on Cliniko's merge page."""
    rows = db.execute(
        "SELECT p.id, m.survivor_id, m.patient_ids FROM patients AS p "
        "JOIN merge_plans AS m ON m.survivor_id = p.merged_with_patient_id "
        "WHERE p.id IN (SELECT value FROM json_each(?)) AND p.merged_at IS NOT NULL "
        "AND p.merged_at >= m.created_at AND m.status != ?",
        [json.dumps(sorted(set(ids))), PlanStatus.CANCELLED],
    ).fetchall()
    found = {(pid, survivor) for pid, survivor, planned in rows if pid not in json.loads(planned)}
    return sorted(found)
