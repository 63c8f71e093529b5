"""The keychain half of the audit trail: the HMAC key and the outside copy of the chain's head.

Kept in the store package because opening a cache attaches its seal (``open_cache``);
:mod:`desktop.audit` uses it to seal and verify entries.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from desktop.store import audit_log as store
from desktop.store.audit_log import HEAD_META_KEY, SEALED_FROM_META_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    """The head of the trail as kept outside the cache: where seals start, count, last hash."""

    sealed_from: int
    count: int
    head: str

    def text(self) -> str:
        """The keychain form: ``v1 <sealed_from> <count> <head>``."""
        return f"v1 {self.sealed_from} {self.count} {self.head}"

    @classmethod
    def parse(cls, text: str | None) -> Anchor | None:
        """Read the keychain form; None when missing or not understood."""
        parts = (text or "").split()
        if len(parts) != 4 or parts[0] != "v1":
            return None
        try:
            return cls(int(parts[1]), int(parts[2]), parts[3])
        except ValueError:
            return None


@dataclass
class AuditSeal:
    """The keychain half of the audit trail: the HMAC key and the outside copy of the head.

    ``load_anchor`` / ``save_anchor`` read and write the head's keychain entry. The head is
    saved after a commit: after every durable one (decisions, merge steps, write intents), and
    at most every ``min_interval`` seconds for bulk ones (sync pages), plus on :meth:`flush`.
    """

    key: bytes
    load_anchor: Callable[[], str | None]
    save_anchor: Callable[[str], None]
    min_interval: float = 2.0
    _saved: str | None = field(default=None, init=False)
    _written: str | None = field(default=None, init=False)
    _saved_at: float = field(default=0.0, init=False)

    @classmethod
    def for_data_dir(cls, data_dir: Any, *, create: bool) -> AuditSeal | None:
        """The seal of a data directory's cache from the keychain (None when it has no key)."""
        from desktop import secrets

        key = secrets.get_audit_key(data_dir, create=create)
        if key is None:
            return None
        return cls(
            bytes.fromhex(key),
            lambda: secrets.get_audit_anchor(data_dir),
            lambda value: secrets.set_audit_anchor(data_dir, value),
        )

    def mac(self, hash_hex: str) -> str:
        """The seal of one entry: HMAC-SHA256 of its hash."""
        return hmac.new(self.key, hash_hex.encode("ascii"), hashlib.sha256).hexdigest()

    def anchor(self) -> Anchor | None:
        """The head as the keychain holds it."""
        return Anchor.parse(self.load_anchor())

    def wrote(self, seq: int, hash_hex: str) -> None:
        """Note the newest entry this process sealed: the only head :meth:`flush` will copy."""
        self._written = f"{seq}:{hash_hex}"

    def committed(self, db: sqlite_utils.Database, *, durable: bool = True) -> None:
        """Called after a commit: copy the head to the keychain when due. Never raises."""
        if not durable and time.monotonic() - self._saved_at < self.min_interval:
            return
        self.flush(db)

    def flush(self, db: sqlite_utils.Database) -> None:
        """Copy the head to the keychain now if it moved. Never raises (a failure is logged).

        Only a head this process wrote (and committed) is copied, so opening a cache whose
        end was cut off does not bless the cut.
        """
        head = store.get_meta(db.conn, HEAD_META_KEY)
        sealed_from = store.get_meta(db.conn, SEALED_FROM_META_KEY)
        if head is None or sealed_from is None or head == self._saved or head != self._written:
            return
        seq, _, entry = head.partition(":")
        try:
            self.save_anchor(Anchor(int(sealed_from), int(seq), entry).text())
        except Exception as exc:  # a locked keychain must not undo a committed write
            log.warning("could not copy the audit head to the keychain: %s", type(exc).__name__)
            return
        self._saved, self._saved_at = head, time.monotonic()
