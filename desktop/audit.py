"""An append-only, hash-chained, sealed audit trail of every Cliniko API call, kept in the cache.

Each entry's ``entry_hash`` is the SHA-256 of a canonical JSON of all its fields, including its
``seq`` and the previous entry's hash, so editing, deleting or reordering rows breaks the chain.
Each entry also carries a seal, ``mac``: an HMAC-SHA256 of its hash keyed by a secret kept in
the keychain (never in the cache), so rebuilding the chain with the cache key alone shows. The
head (count and hash) is kept in ``meta`` and, once per transaction, in the keychain, so cutting
entries off the end or deleting them all shows too. Triggers refuse UPDATE and DELETE.

Writes are audited ahead: :meth:`AuditTrail.record_intent` is committed before a POST, PATCH,
PUT or DELETE is sent, and :meth:`AuditTrail.record_outcome` names its result afterwards (or,
after a crash, what Cliniko showed on the next start).

Only request metadata is logged: method, the path with filter values redacted (the client
redacts already; :func:`desktop.cliniko.records.redact_url` is applied again, it is idempotent),
status and hashes of the bodies; never the bodies themselves.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import sqlite_utils

from desktop.cliniko.records import redact_url
from desktop.store import audit_log as store
from desktop.store.audit_log import HEAD_META_KEY, SEALED_FROM_META_KEY
from desktop.store.audit_seal import Anchor, AuditSeal
from desktop.store.transaction import savepoint

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
EVENT_METHOD = "EVENT"  # the method column of an entry that is the administrator's act
INTENT_METHOD = "INTENT"  # a write about to be sent: "PATCH /v1/patients/1 fields=a,b"
OUTCOME_METHOD = "OUTCOME"  # what became of an intent: "intent 17: 200"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
FIELDS: tuple[str, ...] = store.HASHED_COLUMNS


class RequestLike(Protocol):
    """What :meth:`AuditTrail.record_request` needs (the HTTP client's RequestRecord)."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def payload_sha256(self) -> str: ...
    @property
    def response_sha256(self) -> str: ...
    @property
    def timestamp(self) -> Any: ...


def current_os_user() -> str:
    """Return the OS user name, or a safe placeholder when it cannot be found."""
    try:
        name = getpass.getuser()
    except Exception:  # getuser raises OSError/KeyError/ImportError depending on the OS
        name = os.environ.get("USERNAME") or os.environ.get("USER") or ""
    return name or "unknown"


def cliniko_user_words(label: str) -> tuple[str, str]:
    """The trail's Cliniko user ("1234 Alex Administrator", as the session records it) as
    (name, id); a label without an id in front is all name."""
    ident, _, name = label.partition(" ")
    return (name, ident) if ident.isdigit() and name else (label, "")


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


@dataclass(frozen=True)
class AuditVerification:
    """The result of walking the chain.

    ``case`` names the kind of rewrite found (``edited``, ``recomputed``, ``cut tail`` ...),
    ``legacy`` counts the entries written before seals existed (checked by hash only), and
    ``anchor`` is the head the keychain holds (``count:hash``), or None.
    """

    ok: bool
    entries: int
    first_broken_seq: int | None
    reason: str
    case: str = ""
    legacy: int = 0
    anchor: str | None = None


class AuditTrail:
    """Appends entries to ``audit_log``, attributed to a Cliniko user and the OS user.

    With a ``seal`` every entry is sealed with the keychain's HMAC key; without one (tests,
    caches opened by hand) entries are written unsealed.
    """

    def __init__(
        self,
        db: sqlite_utils.Database,
        *,
        cliniko_user: str = "",
        os_user: str | None = None,
        seal: AuditSeal | None = None,
    ) -> None:
        self.db = db
        self.cliniko_user = cliniko_user
        self.os_user = os_user if os_user is not None else current_os_user()
        self.seal = seal
        self._lock = threading.Lock()

    def record(
        self,
        method: str,
        path: str,
        status: int | None,
        payload_sha256: str,
        response_sha256: str = "",
        at: Any = None,
    ) -> int:
        """Append one entry and return its seq. Does not commit: in a transaction it joins it."""
        conn = self.db.conn
        with self._lock, savepoint(conn, "mergedesk_audit"):
            last = store.last_entry(conn)
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
            if self.seal is not None:
                entry["mac"] = self.seal.mac(entry["entry_hash"])
                self.seal.wrote(seq, entry["entry_hash"])
                if store.get_meta(conn, SEALED_FROM_META_KEY) is None:
                    store.set_meta(conn, SEALED_FROM_META_KEY, str(seq))
            store.insert_entry(conn, entry)
        return seq

    def record_event(self, action: str, subject: str, at: Any = None) -> None:
        """Append one of the administrator's own acts: a decision, a confirmation, an undo.

        ``action`` is a short verb phrase (``decided not_same``, ``confirmed look-alike
        merge``); ``subject`` names records by id only (``patients 1001 1002``), never by
        name. Does not commit: inside a transaction it joins it.
        """
        self.record(EVENT_METHOD, f"{action}: {subject}", None, "", at=at)

    def record_intent(self, method: str, path: str, payload_sha256: str, fields: str = "") -> int:
        """Append the intent of a write about to be sent; return its seq (commit it first!).

        ``fields`` names the body's top-level fields (names only, never values).
        """
        what = f"{method.upper()} {redact_url(path)}" + (f" fields={fields}" if fields else "")
        return self.record(INTENT_METHOD, what, None, payload_sha256)

    def record_outcome(self, intent_seq: int, outcome: str, status: int | None = None) -> None:
        """Append what became of the intent ``intent_seq`` (a status, or what Cliniko shows)."""
        self.record(OUTCOME_METHOD, f"intent {intent_seq}: {outcome}", status, "")

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


def open_intents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Write intents with no outcome yet (the app stopped between sending and recording)."""
    intents, outcomes = store.intents_and_outcomes(db.conn)
    done = {text.split(":", 1)[0] for text in outcomes}
    return [i for i in intents if f"intent {i['seq']}" not in done]


def _hashes_as(entry: dict[str, Any], seq: int) -> bool:
    """True when the entry's stored hash is that of its contents numbered ``seq``."""
    return entry_hash({**entry, "seq": seq}) == str(entry["entry_hash"])


def _entries(n: int, first: int) -> str:
    """``entry 4`` or ``entries 4-6`` for ``n`` entries from ``first``."""
    return f"entry {first}" if n == 1 else f"entries {first}-{first + n - 1}"


@dataclass
class _Walk:
    """What :func:`verify` knows while it walks the chain."""

    db: sqlite_utils.Database
    seal: AuditSeal | None
    anchor: Anchor | None
    sealed_from: int | None
    good: int = 0
    legacy: int = 0

    def fail(self, seq: int, case: str, reason: str) -> AuditVerification:
        anchor = f"{self.anchor.count}:{self.anchor.head}" if self.anchor else None
        return AuditVerification(False, self.good, seq, reason, case, self.legacy, anchor)

    def misnumbered(self, entry: dict[str, Any], last_seq: int) -> AuditVerification:
        """An entry whose hash does not fit: swapped, renumbered, or edited."""
        seq = entry["seq"]
        limit = max(last_seq, self.anchor.count if self.anchor else 0) + 64
        home = next((t for t in range(1, limit + 1) if t != seq and _hashes_as(entry, t)), None)
        if home is not None:
            other = store.entry_at(self.db.conn, home)
            if other is not None and _hashes_as(other, seq):
                return self.fail(min(seq, home), "swap", f"entries {seq} and {home} were swapped")
            if home > seq:
                return self.fail(
                    seq,
                    "delete and renumber",
                    f"{_entries(home - seq, seq)} were deleted and the entries after them "
                    f"renumbered to close the gap",
                )
        return self.fail(seq, "edit", f"entry {seq} was edited: it no longer matches its hash")

    def bad_seal(self, entry: dict[str, Any], after: dict[str, Any] | None) -> AuditVerification:
        """A sealed entry whose seal does not fit: forged, rehashed, or a recomputed chain."""
        seq = entry["seq"]
        if not entry.get("mac") or (self.anchor is not None and seq > self.anchor.count):
            return self.fail(
                seq,
                "forged entry",
                f"entry {seq} was not written by MergeDesk: it has no valid seal "
                "(an entry added by hand)",
            )
        if after is None or after["prev_hash"] != entry["entry_hash"]:
            return self.fail(
                seq,
                "edit and rehash",
                f"entry {seq} was edited and its hash recomputed: its seal no longer matches",
            )
        return self.fail(
            seq,
            "recompute",
            f"the chain was recomputed from entry {seq} without the audit key: "
            "the seals no longer match",
        )


def verify(db: sqlite_utils.Database, seal: AuditSeal | None = None) -> AuditVerification:
    """Walk the chain from the first entry; name the first rewrite found.

    With ``seal`` (the keychain's key and head) each sealed entry's HMAC is checked and the
    trail must reach the head the keychain recorded. Entries before the first sealed one were
    written before seals existed: they are checked by their hash chain only (``legacy``).
    """
    anchor = seal.anchor() if seal is not None else None
    meta_from = store.get_meta(db.conn, SEALED_FROM_META_KEY)
    sealed_from = anchor.sealed_from if anchor else (int(meta_from) if meta_from else None)
    walk = _Walk(db, seal, anchor, sealed_from)
    expected_prev, expected_seq = GENESIS_HASH, 1
    last: dict[str, Any] | None = None
    entries = store.iter_entries(db.conn)
    entry = next(entries, None)
    while entry is not None:
        after = next(entries, None)
        seq = entry["seq"]
        if seq != expected_seq:
            missing = seq - expected_seq
            if last is None:
                return walk.fail(
                    expected_seq,
                    "delete first",
                    f"{_entries(missing, 1)} were deleted from the start of the trail",
                )
            return walk.fail(expected_seq, "delete", f"{_entries(missing, expected_seq)} deleted")
        if entry_hash(entry) != entry["entry_hash"]:
            return walk.misnumbered(entry, seq if after is None else seq + 1)
        if entry["prev_hash"] != expected_prev:
            return walk.fail(
                seq - 1,
                "edit and rehash",
                f"entry {seq - 1} was edited and its hash recomputed: "
                f"entry {seq} no longer follows it",
            )
        if sealed_from is not None and seq >= sealed_from:
            if seal is None:
                return walk.fail(
                    seq,
                    "no key",
                    "the key that seals the audit trail is not in this computer's keychain, "
                    "so the trail cannot be checked",
                )
            if entry.get("mac") != seal.mac(entry["entry_hash"]):
                return walk.bad_seal(entry, after)
        else:
            walk.legacy += 1
        expected_prev, expected_seq, last = entry["entry_hash"], seq + 1, entry
        walk.good += 1
        entry = after
    return _check_head(walk, last)


def _check_head(walk: _Walk, last: dict[str, Any] | None) -> AuditVerification:
    """Compare the end of the chain with the head in the cache and in the keychain."""
    count = last["seq"] if last else 0
    actual = f"{count}:{last['entry_hash']}" if last else None
    head = store.get_meta(walk.db.conn, HEAD_META_KEY)
    anchor = walk.anchor
    if anchor is not None and anchor.count > count:
        if count == 0:
            return walk.fail(
                1, "delete all", f"every entry was deleted (the keychain records {anchor.count:,})"
            )
        cut = f"{_entries(anchor.count - count, count + 1)} were cut off the end"
        if head is None:
            return walk.fail(
                count + 1,
                "cut tail and delete head",
                f"{cut} and the head kept in the cache was deleted",
            )
        if head == actual:
            return walk.fail(
                count + 1,
                "cut tail and rewrite head",
                f"{cut} and the head kept in the cache was rewritten to hide it",
            )
        return walk.fail(count + 1, "cut tail", cut)
    if anchor is not None and anchor.count > 0:
        at_anchor = store.entry_at(walk.db.conn, anchor.count)
        if at_anchor is None or at_anchor["entry_hash"] != anchor.head:
            return walk.fail(
                anchor.count,
                "recompute",
                f"entry {anchor.count} no longer matches the head kept in the keychain",
            )
    if head != actual:
        if last is None:
            return walk.fail(1, "delete all", "every entry was deleted")
        return walk.fail(count + 1, "cut tail", "entries are missing from the end of the trail")
    if walk.seal is not None and walk.sealed_from is not None and anchor is None:
        return walk.fail(
            count,
            "no anchor",
            "the keychain holds no copy of the trail's head, so entries cut off the end "
            "would not show",
        )
    reason = f"{count:,} entries, chain intact"
    if walk.legacy and walk.legacy < count:
        reason += f"; {_entries(walk.legacy, 1)} predate seals and were checked by hash only"
    elif walk.legacy and walk.seal is not None:
        reason += "; written before seals existed, checked by hash only"
    return AuditVerification(
        True, count, None, reason, "", walk.legacy,
        f"{anchor.count}:{anchor.head}" if anchor else None,
    )  # fmt: skip
