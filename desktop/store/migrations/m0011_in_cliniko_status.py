"""Version 11: a pair whose survivor is updated has a queue status of its own, ``in_cliniko``.

Until now such a pair kept "ready" until its merge was done in Cliniko, and the queue called
it "Ready to apply" though nothing was left to apply. SQLite cannot change a CHECK constraint
in place, so ``match_pairs`` is built again with the wider list, its rows copied and its
indexes made again; then the pairs of plans that wait for Cliniko's merge get the new status.
"""

from __future__ import annotations

import sqlite_utils

from desktop.store.migrations.m0002_match_queue import PAIR_STATUSES

NEW_STATUS = "in_cliniko"
# The plan steps at which the survivor is updated and the merge waits to be done in Cliniko.
WAITING_STEPS = ("merge_in_cliniko", "wait_for_merge")


def _status_check(statuses: tuple[str, ...]) -> str:
    return f"CHECK (status IN ({', '.join(repr(s) for s in statuses)}))"


def migrate(db: sqlite_utils.Database) -> None:
    """Rebuild ``match_pairs`` with the ``in_cliniko`` status; set it where it applies."""
    (table_sql,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'match_pairs'"
    ).fetchone()
    old_check = _status_check(PAIR_STATUSES)
    if old_check not in table_sql:
        raise ValueError("the queue table's status check is not the one version 2 made")
    indexes = [
        sql
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'match_pairs' "
            "AND sql IS NOT NULL"
        ).fetchall()
    ]
    rebuilt = table_sql.replace(old_check, _status_check((*PAIR_STATUSES, NEW_STATUS)), 1)
    rebuilt = rebuilt.replace("CREATE TABLE match_pairs", "CREATE TABLE match_pairs_v11", 1)
    db.execute(rebuilt)
    db.execute("INSERT INTO match_pairs_v11 SELECT * FROM match_pairs")
    db.execute("DROP TABLE match_pairs")
    db.execute("ALTER TABLE match_pairs_v11 RENAME TO match_pairs")
    for sql in indexes:
        db.execute(sql)
    steps = ", ".join("?" for _ in WAITING_STEPS)
    db.execute(
        "UPDATE match_pairs SET status = ? WHERE status = 'ready' AND EXISTS ("
        "SELECT 1 FROM merge_plans p WHERE p.status = 'active' "
        f"AND p.step IN ({steps}) "
        "AND EXISTS (SELECT 1 FROM json_each(p.patient_ids) WHERE value = match_pairs.id_a) "
        "AND EXISTS (SELECT 1 FROM json_each(p.patient_ids) WHERE value = match_pairs.id_b))",
        [NEW_STATUS, *WAITING_STEPS],
    )
