"""Schema version 3: merge plans (the guided merge's state), their step log, and the time log."""

from __future__ import annotations

import sqlite_utils

PLAN_STATUSES = ("active", "done", "cancelled")

STATEMENTS = [
    # One row per guided merge. ``step`` is where the flow stands; every transition rewrites the
    # row inside a transaction, so a reopened app resumes exactly there.
    f"""
    CREATE TABLE merge_plans (
        plan_id TEXT PRIMARY KEY,
        pair_key TEXT NOT NULL,
        patient_ids TEXT NOT NULL,
        survivor_id TEXT,
        duplicate_ids TEXT NOT NULL DEFAULT '[]',
        decisions TEXT NOT NULL DEFAULT '{{}}',
        base_values TEXT NOT NULL DEFAULT '{{}}',
        step TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active'
            CHECK (status IN ({", ".join(repr(s) for s in PLAN_STATUSES)})),
        outcome TEXT,
        merge_url TEXT,
        written_sha256 TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    # At most one open plan per pair (or cluster).
    "CREATE UNIQUE INDEX idx_merge_plans_open ON merge_plans (pair_key) WHERE status = 'active'",
    "CREATE INDEX idx_merge_plans_step ON merge_plans (status, step)",
    """
    CREATE TABLE merge_steps (
        seq INTEGER PRIMARY KEY,
        plan_id TEXT NOT NULL REFERENCES merge_plans (plan_id),
        from_step TEXT,
        to_step TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX idx_merge_steps_plan ON merge_steps (plan_id, seq)",
    # One row per stretch of work on one pair. Times are epoch seconds (UTC).
    """
    CREATE TABLE time_sessions (
        session_id TEXT PRIMARY KEY,
        pair_key TEXT NOT NULL,
        patient_ids TEXT NOT NULL,
        plan_id TEXT,
        cliniko_user TEXT NOT NULL DEFAULT '',
        os_user TEXT NOT NULL DEFAULT '',
        idle_threshold REAL NOT NULL,
        started_at REAL NOT NULL,
        last_event_at REAL NOT NULL,
        ended_at REAL,
        active_seconds REAL NOT NULL DEFAULT 0,
        current_step TEXT,
        step_entered_at REAL,
        outcome TEXT
    )
    """,
    "CREATE INDEX idx_time_sessions_started ON time_sessions (started_at)",
    "CREATE INDEX idx_time_sessions_open ON time_sessions (ended_at, pair_key)",
    """
    CREATE TABLE time_steps (
        session_id TEXT NOT NULL REFERENCES time_sessions (session_id),
        step TEXT NOT NULL,
        wall_seconds REAL NOT NULL DEFAULT 0,
        active_seconds REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (session_id, step)
    )
    """,
]


def migrate(db: sqlite_utils.Database) -> None:
    """Create the merge-plan and time-log tables."""
    for statement in STATEMENTS:
        db.execute(statement)
