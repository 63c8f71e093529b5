"""A working session: the Cliniko client, the open cache, and the audit trail between them.

Every HTTP exchange the client makes is queued here and written to the audit trail inside
the caller's next transaction (a sync writes them with the page they fetched), so the audit
trail and the data it explains are committed together.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from desktop.account import CLINIKO_USER_KEY, Account, fetch_account, remember_account
from desktop.audit import AuditTrail
from desktop.cliniko.client import ClinikoClient, RequestRecord
from desktop.store.cache import Cache
from desktop.store.sync_state import get_state, set_state, transaction


@dataclass
class PendingAudit:
    """Request records waiting to be written to the audit trail."""

    trail: AuditTrail
    records: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: RequestRecord) -> None:
        """Queue one request record (called by the client, possibly from a worker thread)."""
        with self.lock:
            self.records.append(record)

    def has_pending(self) -> bool:
        """Return True when records are waiting."""
        with self.lock:
            return bool(self.records)

    def write_pending(self) -> None:
        """Write queued records; call inside a transaction."""
        with self.lock:
            records, self.records = self.records, []
        for record in records:
            self.trail.record_request(record)


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
            AuditTrail(cache.db, cliniko_user=get_state(cache.db, CLINIKO_USER_KEY) or "")
        )
        self.account: Account | None = None  # set by identify_user
        self.client = ClinikoClient(
            api_key,
            base_url=base_url,
            on_request=self.audit.add,
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
        return user

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
