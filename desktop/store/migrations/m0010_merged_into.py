"""Version 10: the records merged into each patient can be found from the patient.

A record merged in Cliniko names its survivor (``merged_with_patient_id``). A scan reads a
survivor's missing birth date from the records merged into it (the clinic has said they are
one person), so it needs them by survivor. Partial: only merged records are indexed.
"""

from __future__ import annotations

import sqlite_utils

STATEMENTS = [
    "CREATE INDEX idx_patients_merged_into ON patients (merged_with_patient_id)"
    " WHERE merged_with_patient_id IS NOT NULL",
]


def migrate(db: sqlite_utils.Database) -> None:
    """Index the merged records by their survivor."""
    for statement in STATEMENTS:
        db.execute(statement)
