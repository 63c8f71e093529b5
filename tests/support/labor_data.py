"""Test data for the labor report: time-log rows, patients and queue rows written directly."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence

from desktop.store.cache import Cache
from desktop.store.transaction import transaction

UTC = dt.UTC


def at(day: dt.date, hour: int = 9, minute: int = 0) -> float:
    """Epoch seconds of a UTC wall time."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp()


def insert_session(
    cache: Cache,
    session_id: str,
    ids: Sequence[str],
    start: float,
    active_seconds: float,
    wall_seconds: float,
    outcome: str | None,
    *,
    user: str = "1 Alex Administrator",
    os_user: str = "alex",
    plan_id: str | None = None,
    steps: dict[str, tuple[float, float]] | None = None,
) -> None:
    """One time-log session (and its steps: name -> (wall, active) seconds)."""
    ids = sorted(ids)
    ended = None if outcome is None else start + wall_seconds
    with transaction(cache) as db:
        db.execute(
            "INSERT INTO time_sessions (session_id, pair_key, patient_ids, plan_id, cliniko_user,"
            " os_user, idle_threshold, started_at, last_event_at, ended_at, active_seconds, "
            "outcome) VALUES (?, ?, ?, ?, ?, ?, 120, ?, ?, ?, ?, ?)",
            [session_id, ":".join(ids), json.dumps(ids), plan_id, user, os_user, start,
             start + wall_seconds, ended, active_seconds, outcome],
        )  # fmt: skip
        for name, (wall, active) in (steps or {}).items():
            db.execute(
                "INSERT INTO time_steps (session_id, step, wall_seconds, active_seconds) "
                "VALUES (?, ?, ?, ?)",
                [session_id, name, wall, active],
            )


def insert_year(cache: Cache, year: int, per_day: int = 12, seed: int = 3) -> float:
    """Sessions on every day of ``year`` (bulk insert); returns the total active seconds."""
    rnd = random.Random(seed)
    outcomes = ("merged", "merged", "not_same", "later", "skipped", "planned")
    users = ("1 Alex Administrator", "2 Sam Reception", "3 Kim Practice Manager")
    rows, total = [], 0.0
    day = dt.date(year, 1, 1)
    n = 0
    while day.year == year:
        for k in range(per_day):
            n += 1
            start = at(day, 8 + k % 9, rnd.randint(0, 50))
            active = float(rnd.randint(20, 900))
            wall = active + rnd.randint(0, 600)
            ids = sorted([str(100_000 + n), str(200_000 + n)])
            rows.append(
                (f"y{n}", ":".join(ids), json.dumps(ids), None, users[n % 3], "desk", 120.0,
                 start, start + wall, start + wall, active, rnd.choice(outcomes))
            )  # fmt: skip
            total += active
        day += dt.timedelta(days=1)
    with transaction(cache) as db:
        db.conn.executemany(
            "INSERT INTO time_sessions (session_id, pair_key, patient_ids, plan_id, cliniko_user,"
            " os_user, idle_threshold, started_at, last_event_at, ended_at, active_seconds, "
            "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return total


def insert_patient(
    cache: Cache, pid: str, created: str, merged: str | None = None, into: str | None = None
) -> None:
    """A bare patient row with created_at (and merged_at / merged_with when merged away)."""
    with transaction(cache) as db:
        db.execute(
            "INSERT INTO patients (id, first_name, last_name, created_at, updated_at, merged_at,"
            " merged_with_patient_id, archived_at) VALUES (?, 'Test', 'Person', ?, ?, ?, ?, ?)",
            [pid, created, created, merged, into, merged],
        )


def insert_pair(cache: Cache, a: str, b: str, status: str = "new", band: str = "likely") -> None:
    """A queue pair."""
    with transaction(cache) as db:
        db.execute(
            "INSERT INTO match_pairs (id_a, id_b, probability, weight, band, status, scored_at) "
            "VALUES (?, ?, 0.9, 5, ?, ?, '2026-01-01T00:00:00Z')",
            [*sorted([a, b]), band, status],
        )


def insert_plan(cache: Cache, plan_id: str, ids: Sequence[str], step: str) -> None:
    """An active merge plan at ``step``."""
    with transaction(cache) as db:
        db.execute(
            "INSERT INTO merge_plans (plan_id, pair_key, patient_ids, step, status, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, 'active', '2026-01-01', '2026-01-01')",
            [plan_id, ":".join(sorted(ids)), json.dumps(sorted(ids)), step],
        )
