"""Schema version 2: the merge queue (scored pairs), decisions, clusters, model, scan log."""

from __future__ import annotations

import sqlite_utils

PAIR_STATUSES = ("new", "not_same", "planned", "ready", "merged", "skipped", "later")

STATEMENTS = [
    f"""
    CREATE TABLE match_pairs (
        id_a TEXT NOT NULL,
        id_b TEXT NOT NULL,
        probability REAL NOT NULL,
        weight REAL NOT NULL,
        band TEXT NOT NULL CHECK (band IN ('likely', 'possible', 'unlikely')),
        flags TEXT NOT NULL DEFAULT '',
        evidence TEXT NOT NULL DEFAULT '[]',
        warnings TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'new'
            CHECK (status IN ({", ".join(repr(s) for s in PAIR_STATUSES)})),
        updated_a TEXT,
        updated_b TEXT,
        cluster_id INTEGER,
        scored_at TEXT NOT NULL,
        PRIMARY KEY (id_a, id_b),
        CHECK (id_a < id_b)
    )
    """,
    "CREATE INDEX idx_match_pairs_queue ON match_pairs (status, band, probability DESC)",
    "CREATE INDEX idx_match_pairs_id_b ON match_pairs (id_b)",
    "CREATE INDEX idx_match_pairs_cluster ON match_pairs (cluster_id)",
    # An incremental scan asks for the patients synced since the last scan.
    "CREATE INDEX IF NOT EXISTS idx_patients_synced_at ON patients (synced_at)",
    # What the administrator decided, with both records' updated_at at that moment: a decision
    # holds until one of the two records changes.
    """
    CREATE TABLE match_decisions (
        id_a TEXT NOT NULL,
        id_b TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('not_same', 'later', 'skipped')),
        updated_a TEXT,
        updated_b TEXT,
        decided_at TEXT NOT NULL,
        PRIMARY KEY (id_a, id_b),
        CHECK (id_a < id_b)
    )
    """,
    """
    CREATE TABLE match_clusters (
        cluster_id INTEGER PRIMARY KEY,
        ids TEXT NOT NULL,
        size INTEGER NOT NULL,
        weakest_a TEXT,
        weakest_b TEXT,
        weakest_probability REAL
    )
    """,
    # One row: the fitted parameters (JSON) and the blocking-key index (binary).
    """
    CREATE TABLE match_model (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        params TEXT NOT NULL,
        key_index BLOB,
        records INTEGER NOT NULL,
        fitted_at TEXT NOT NULL
    )
    """,
    # Blocking keys of patients changed since the full scan that wrote match_model.key_index
    # (an empty blob for one that left): incremental scans add here instead of rewriting it.
    "CREATE TABLE match_key_overlay (patient_id TEXT PRIMARY KEY, keys BLOB NOT NULL)",
    """
    CREATE TABLE match_scans (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('full', 'incremental')),
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        mark_synced TEXT,
        mark_updated TEXT,
        records INTEGER NOT NULL,
        changed INTEGER NOT NULL,
        candidates INTEGER NOT NULL,
        likely INTEGER NOT NULL,
        possible INTEGER NOT NULL,
        seconds REAL NOT NULL,
        skipped TEXT NOT NULL DEFAULT '[]',
        stats TEXT NOT NULL DEFAULT '{}'
    )
    """,
]


def migrate(db: sqlite_utils.Database) -> None:
    """Create the queue tables."""
    for statement in STATEMENTS:
        db.execute(statement)
