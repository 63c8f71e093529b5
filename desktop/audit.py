"""An append-only, hash-chained audit trail of every Cliniko API call, kept in the cache.

Each entry's ``entry_hash`` is the SHA-256 of a canonical JSON of all its fields, including its
``seq`` and the previous entry's hash, so editing, deleting or reordering rows breaks the chain
and :func:`verify` says where. The head of the chain is also kept in ``meta`` so cutting entries
off the end shows too. Triggers in the schema refuse UPDATE and DELETE on the table.

Only request metadata is logged: method, the path with filter values redacted (the client
redacts already; :func:`desktop.cliniko.records.redact_url` is applied again, it is idempotent),
status and hashes of the bodies; never the bodies themselves.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import sqlite_utils

from desktop.cliniko.records import redact_url

GENESIS_HASH = "0" * 64
HEAD_META_KEY = "audit_head"
EVENT_METHOD = "EVENT"  # the method column of an entry that is the administrator's act
FIELDS: tuple[str, ...] = (
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


class RequestLike(Protocol):
    """What :meth:`AuditTrail.record_request` needs (the HTTP client's RequestRecord)."""

    method: str
    path: str
    status: int | None
    payload_sha256: str
    response_sha256: str
    timestamp: Any


@dataclass(frozen=True)
class AuditVerification:
    """The result of walking the chain."""

    ok: bool
    entries: int
    first_broken_seq: int | None
    reason: str


def current_os_user() -> str:
    """Return the OS user name, or a safe placeholder when it cannot be found."""
    try:
        name = getpass.getuser()
    except Exception:  # getuser raises OSError/KeyError/ImportError depending on the OS
        name = os.environ.get("USERNAME") or os.environ.get("USER") or ""
    return name or "unknown"


def _iso(at: Any) -> str:
    """Normalise a timestamp (datetime, epoch seconds, ISO text or None) to ISO-8601 UTC."""
    if at is None:
        moment = dt.datetime.now(dt.UTC)
    elif isinstance(at, dt.datetime):
        moment = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    elif isinstance(at, int | float):
        moment = dt.datetime.fromtimestamp(at, dt.UTC)
    else:
        return str(at)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entry_hash(entry: dict[str, Any]) -> str:
    """Return the SHA-256 of the canonical JSON of an entry's hashed fields."""
    canonical = json.dumps(
        {name: entry.get(name) for name in FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class AuditTrail:
    """Appends entries to ``audit_log``, attributed to a Cliniko user and the OS user."""

    def __init__(
        self, db: sqlite_utils.Database, *, cliniko_user: str = "", os_user: str | None = None
    ) -> None:
        self.db = db
        self.cliniko_user = cliniko_user
        self.os_user = os_user if os_user is not None else current_os_user()
        self._lock = threading.Lock()

    def record(
        self,
        method: str,
        path: str,
        status: int | None,
        payload_sha256: str,
        response_sha256: str = "",
        at: Any = None,
    ) -> None:
        """Append one entry. Does not commit: inside a transaction it joins it."""
        conn = self.db.conn
        with self._lock:
            conn.execute("SAVEPOINT mergedesk_audit")
            try:
                last = conn.execute(
                    "SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
                entry: dict[str, Any] = {
                    "seq": seq,
                    "at": _iso(at),
                    "method": str(method).upper(),
                    "path": redact_url(str(path)),
                    "status": None if status is None else int(status),
                    "payload_sha256": payload_sha256 or "",
                    "response_sha256": response_sha256 or "",
                    "cliniko_user": self.cliniko_user,
                    "os_user": self.os_user,
                    "prev_hash": prev,
                }
                entry["entry_hash"] = entry_hash(entry)
                names = list(entry)
                conn.execute(
                    f"INSERT INTO audit_log ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})",
                    [entry[n] for n in names],
                )
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [HEAD_META_KEY, f"{seq}:{entry['entry_hash']}"],
                )
            except BaseException:
                conn.execute("ROLLBACK TO SAVEPOINT mergedesk_audit")
                conn.execute("RELEASE SAVEPOINT mergedesk_audit")
                raise
            conn.execute("RELEASE SAVEPOINT mergedesk_audit")

    def record_event(self, action: str, subject: str, at: Any = None) -> None:
        """Append one of the administrator's own acts: a decision, a confirmation, an undo.

        ``action`` is a short verb phrase (``decided not_same``, ``confirmed look-alike
        merge``); ``subject`` names records by id only (``patients 1001 1002``), never by
        name. Does not commit: inside a transaction it joins it.
        """
        self.record(EVENT_METHOD, f"{action}: {subject}", None, "", at=at)

    def record_request(self, rec: RequestLike) -> None:
        """Append an entry from the HTTP client's request record."""
        self.record(
            rec.method,
            rec.path,
            getattr(rec, "status", None),
            getattr(rec, "payload_sha256", "") or "",
            getattr(rec, "response_sha256", "") or "",
            at=getattr(rec, "timestamp", None),
        )


def verify(db: sqlite_utils.Database) -> AuditVerification:
    """Walk the chain from the first entry; report the first entry that does not fit."""
    columns = [*FIELDS, "entry_hash"]
    cursor = db.conn.execute(f"SELECT {', '.join(columns)} FROM audit_log ORDER BY seq")
    expected_prev, expected_seq, count = GENESIS_HASH, 1, 0
    last: dict[str, Any] | None = None
    for values in cursor:
        entry = dict(zip(columns, values, strict=True))
        seq = entry["seq"]
        if seq != expected_seq:
            reason = f"entry {expected_seq} is missing (found {seq} next)"
            return AuditVerification(False, count, seq, reason)
        if entry["prev_hash"] != expected_prev:
            return AuditVerification(
                False, count, seq, f"entry {seq} does not follow the entry before it"
            )
        if entry_hash(entry) != entry["entry_hash"]:
            return AuditVerification(False, count, seq, f"entry {seq} was changed")
        expected_prev, expected_seq, last = entry["entry_hash"], seq + 1, entry
        count += 1
    head_row = db.conn.execute("SELECT value FROM meta WHERE key = ?", [HEAD_META_KEY]).fetchone()
    head = head_row[0] if head_row else None
    actual = f"{last['seq']}:{last['entry_hash']}" if last else None
    if head != actual:
        broken = last["seq"] + 1 if last else 1
        return AuditVerification(
            False, count, broken, "entries are missing from the end of the audit trail"
        )
    return AuditVerification(True, count, None, f"{count} entries, chain intact")
