"""The SQL of the audit trail: the ``audit_log`` table and its head in ``meta``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

HASHED_COLUMNS: tuple[str, ...] = (
    "seq",
    "at",
    "method",
    "path",
    "status",
    "payload_sha256",
    "response_sha256",
    "cliniko_user",
    "os_user",
    "prev_hash",
)
COLUMNS: tuple[str, ...] = (*HASHED_COLUMNS, "entry_hash", "mac")
HEAD_META_KEY = "audit_head"
SEALED_FROM_META_KEY = "audit_sealed_from"


def last_entry(conn: Any) -> tuple[int, str] | None:
    """Return (seq, entry_hash) of the newest entry, or None when the trail is empty."""
    row = conn.execute("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None


def insert_entry(conn: Any, entry: dict[str, Any]) -> None:
    """Insert one entry (its keys are column names) and move the head in ``meta``."""
    names = list(entry)
    conn.execute(
        f"INSERT INTO audit_log ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [entry[n] for n in names],
    )
    set_meta(conn, HEAD_META_KEY, f"{entry['seq']}:{entry['entry_hash']}")


def get_meta(conn: Any, key: str) -> str | None:
    """Return a ``meta`` value, or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: Any, key: str, value: str) -> None:
    """Store a ``meta`` value (does not commit)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def has_mac_column(conn: Any) -> bool:
    """True once migration 5 added the seal column."""
    return any(row[1] == "mac" for row in conn.execute("PRAGMA table_info(audit_log)"))


def iter_entries(conn: Any) -> Iterator[dict[str, Any]]:
    """Every entry in ``seq`` order, as a dict of :data:`COLUMNS`."""
    columns = COLUMNS if has_mac_column(conn) else COLUMNS[:-1]
    cursor = conn.execute(f"SELECT {', '.join(columns)} FROM audit_log ORDER BY seq")
    for values in cursor:
        entry = dict(zip(columns, values, strict=True))
        entry.setdefault("mac", None)
        yield entry


def entry_at(conn: Any, seq: int) -> dict[str, Any] | None:
    """The entry numbered ``seq``, or None."""
    columns = COLUMNS if has_mac_column(conn) else COLUMNS[:-1]
    row = conn.execute(
        f"SELECT {', '.join(columns)} FROM audit_log WHERE seq = ?", [seq]
    ).fetchone()
    return None if row is None else dict(zip(columns, row, strict=True))


def entries_between(conn: Any, start: str, end: str) -> list[dict[str, Any]]:
    """Entries whose ``at`` (ISO UTC text) is in ``[start, end)``, in ``seq`` order."""
    columns = COLUMNS if has_mac_column(conn) else COLUMNS[:-1]
    cursor = conn.execute(
        f"SELECT {', '.join(columns)} FROM audit_log WHERE at >= ? AND at < ? ORDER BY seq",
        [start, end],
    )
    return [dict(zip(columns, values, strict=True)) for values in cursor]


def intents_and_outcomes(conn: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Every write intent (seq, path, payload_sha256) and the path of every outcome."""
    rows = conn.execute(
        "SELECT seq, method, path, payload_sha256 FROM audit_log "
        "WHERE method IN ('INTENT', 'OUTCOME') ORDER BY seq"
    ).fetchall()
    intents = [
        {"seq": int(seq), "path": str(path), "payload_sha256": sha}
        for seq, method, path, sha in rows
        if method == "INTENT"
    ]
    outcomes = [str(path) for _, method, path, _ in rows if method == "OUTCOME"]
    return intents, outcomes
