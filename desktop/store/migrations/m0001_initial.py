"""Schema version 1: patients (+ their raw JSON), sync state, audit log, history counts, meta."""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    """
    CREATE TABLE patients (
        id TEXT PRIMARY KEY,
        first_name TEXT,
        last_name TEXT,
        preferred_first_name TEXT,
        title TEXT,
        date_of_birth TEXT,
        email TEXT,
        phones TEXT,
        medicare TEXT,
        medicare_reference_number TEXT,
        address_1 TEXT,
        address_2 TEXT,
        address_3 TEXT,
        city TEXT,
        state TEXT,
        post_code TEXT,
        country_code TEXT,
        sex TEXT,
        created_at TEXT,
        updated_at TEXT,
        archived_at TEXT,
        merged_at TEXT,
        merged_with_patient_id TEXT,
        synced_at TEXT
    )
    """,
    # The JSON as received lives apart, so scanning patients for matching stays small and fast.
    "CREATE TABLE patient_raw (id TEXT PRIMARY KEY, raw TEXT NOT NULL)",
    "CREATE INDEX idx_patients_updated_at ON patients (updated_at)",
    "CREATE INDEX idx_patients_last_name ON patients (last_name)",
    "CREATE INDEX idx_patients_merged_archived ON patients (merged_at, archived_at)",
    "CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT)",
    """
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER,
        payload_sha256 TEXT,
        response_sha256 TEXT,
        cliniko_user TEXT,
        os_user TEXT,
        prev_hash TEXT NOT NULL,
        entry_hash TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE history_counts (
        patient_id TEXT PRIMARY KEY,
        appointments INTEGER,
        treatment_notes INTEGER,
        invoices INTEGER,
        attachments INTEGER,
        fetched_at TEXT
    )
    """,
    # Append-only: tampering needs dropping these first, and the hash chain still shows it.
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
]


def migrate(db: sqlite_utils.Database) -> None:
    """Create the first schema."""
    for sql in STATEMENTS:
        db.execute(sql)
