"""Schema version 8: each audit entry carries a seal (an HMAC keyed from the keychain).

Entries written before this version have no seal; :func:`desktop.audit.verify` checks them as
a legacy segment by their hash chain alone. A partial index finds write intents and their
outcomes without reading the whole trail.
"""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    "ALTER TABLE audit_log ADD COLUMN mac TEXT",
    "CREATE INDEX idx_audit_log_intents ON audit_log (method) "
    "WHERE method IN ('INTENT', 'OUTCOME')",
]


def migrate(db: sqlite_utils.Database) -> None:
    """Add the seal column and the intent index."""
    for statement in STATEMENTS:
        db.execute(statement)
