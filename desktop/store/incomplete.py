"""SQL for records with too little to identify a person (no birth date, little else)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from desktop.merge_states import PlanStatus
from desktop.store.patients import ACTIVE

# Active records without a birth date and with at most one other identifying detail, except
# those an open merge plan merges into another record (their details go to the one that stays).
_SQL = f"""
SELECT id, first_name, last_name, created_at,
       (phones IS NOT NULL AND phones NOT IN ('', '[]')) AS has_phone,
       (coalesce(email, '') != '') AS has_email,
       (coalesce(address_1, '') != '' OR coalesce(post_code, '') != '') AS has_address,
       (coalesce(medicare, '') != '') AS has_medicare
FROM patients
WHERE {ACTIVE} AND coalesce(date_of_birth, '') = ''
  AND id NOT IN (
      SELECT dup.value FROM merge_plans, json_each(merge_plans.duplicate_ids) AS dup
      WHERE merge_plans.status = '{PlanStatus.ACTIVE}')
  AND (phones IS NOT NULL AND phones NOT IN ('', '[]')) + (coalesce(email, '') != '')
      + (coalesce(address_1, '') != '' OR coalesce(post_code, '') != '')
      + (coalesce(medicare, '') != '') <= 1
ORDER BY created_at DESC, id DESC
LIMIT ?
"""


def thin_records(db: sqlite_utils.Database, limit: int = 500) -> list[dict[str, Any]]:
    """The newest active records without a birth date and with at most one other detail, but
    not a record an open merge plan merges away."""
    cursor = db.execute(_SQL, [limit])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
