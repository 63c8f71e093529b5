"""A working session: the Cliniko client, the open cache, and the audit trail between them.

Every HTTP exchange the client makes is queued here and written to the audit trail inside
the caller's next transaction (a sync writes them with the page they fetched), so the audit
trail and the data it explains are committed together.

Writes are audited ahead: before a POST/PATCH/PUT/DELETE is sent its intent is committed on
its own; its outcome joins the queue. If the app stops in between, the next
:meth:`Session.identify_user` reads Cliniko and records what it shows (:mod:`desktop.intents`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.account import CLINIKO_USER_KEY, Account, fetch_account, remember_account
from desktop.audit import AuditTrail
from desktop.cliniko.client import ClinikoClient, RequestRecord
from desktop.intents import resolve_open_intents
from desktop.store.cache import Cache
from desktop.store.sync_state import get_state, set_state, transaction


@dataclass
class PendingAudit:
    """Request records waiting to be written to the audit trail."""

    trail: AuditTrail
    records: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: list[tuple[int, str, int]] = field(default_factory=list)

    def add(self, record: RequestRecord) -> None:
        """Queue one request record (called by the client, possibly from a worker thread)."""
        with self.lock:
            self.records.append(record)

    def add_outcome(self, intent_seq: int, outcome: str, status: int) -> None:
        """Queue what became of a write intent (written after the requests before it)."""
        with self.lock:
            self.outcomes.append((intent_seq, outcome, status))

    def has_pending(self) -> bool:
        """Return True when records are waiting."""
        with self.lock:
            return bool(self.records or self.outcomes)

    def write_pending(self) -> None:
        """Write queued records, then queued outcomes; call inside a transaction."""
        with self.lock:
            records, self.records = self.records, []
            outcomes, self.outcomes = self.outcomes, []
        for record in records:
            self.trail.record_request(record)
        for intent_seq, outcome, status in outcomes:
            self.trail.record_outcome(intent_seq, outcome, status)


class Session:
    """The client, cache and audit trail of one connected run of the app or CLI."""

    def __init__(
        self,
        cache: Cache,
        api_key: str,
        *,
        base_url: str | None = None,
        cancel: threading.Event | None = None,
        max_requests_per_minute: int = 190,
    ) -> None:
        self.cache = cache
        self.cancel = cancel or threading.Event()
        self.audit = PendingAudit(
            AuditTrail(
                cache.db,
                cliniko_user=get_state(cache.db, CLINIKO_USER_KEY) or "",
                seal=cache.audit_seal,
            )
        )
        self.account: Account | None = None  # set by identify_user
        self.client = ClinikoClient(
            api_key,
            base_url=base_url,
            on_request=self.audit.add,
            before_write=self._before_write,
            cancel=self.cancel,
            max_requests_per_minute=max_requests_per_minute,
        )

    def identify_user(self) -> dict:
        """Fetch ``GET /user`` and ``GET /settings/public``; remember who and which clinic.

        The user's label goes into the audit trail; the account's currency, country and name
        are kept for the labor-cost report and phone normalisation, which work offline.
        """
        user = self.client.get_user()
        self.account = fetch_account(self.client, user)
        remember_account(self.cache, self.account)
        label = f"{user.get('id', '')} {user.get('first_name', '')} {user.get('last_name', '')}"
        label = " ".join(label.split())
        self.audit.trail.cliniko_user = label
        with transaction(self.cache):
            set_state(self.cache.db, CLINIKO_USER_KEY, label)
            self.audit.write_pending()
        resolve_open_intents(self)
        return user

    def _before_write(
        self, method: str, path: str, payload_sha256: str, fields: str
    ) -> Callable[[int, str | None], None]:
        """Commit the intent of a write before the client sends it; queue its outcome after."""
        with transaction(self.cache):
            self.audit.write_pending()
            seq = self.audit.trail.record_intent(method, path, payload_sha256, fields)

        def finished(status: int, error: str | None) -> None:
            if status:  # no answer (status 0) stays open: the next start reads Cliniko
                self.audit.add_outcome(seq, f"{status} {error or ''}".strip(), status)

        return finished

    def close(self) -> None:
        """Write what is left of the audit queue and close the client (not the cache)."""
        if self.audit.has_pending():
            with transaction(self.cache):
                self.audit.write_pending()
        self.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
