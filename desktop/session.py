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
from typing import Any

from desktop.account import (
    Account,
    fetch_account,
    remember_account,
    stored_account,
)
from desktop.audit import AuditTrail
from desktop.cliniko.client import ClinikoClient
from desktop.cliniko.records import RequestRecord
from desktop.intents import resolve_open_intents
from desktop.store import account_state
from desktop.store.cache import Cache
from desktop.store.transaction import transaction


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


class OtherAccountsCache(Exception):
    """The key (or base URL) leads to another Cliniko account than the one the cache holds."""

    def __init__(self, cache_account: Account, key_account: Account) -> None:
        self.cache_account = cache_account
        self.key_account = key_account
        super().__init__(
            f"cache account {cache_account.account_id} ({cache_account.shard}), "
            f"key account {key_account.account_id} ({key_account.shard})"
        )

    @property
    def clinics(self) -> str:
        """Which clinic the cache holds and which one the key is for, in words."""
        mine, theirs = self.cache_account, self.key_account
        return (
            f"This cache belongs to the clinic {_clinic_words(mine, theirs)}. "
            f"The key you gave belongs to {_clinic_words(theirs, mine)}."
        )

    @property
    def user_message(self) -> str:
        """Name both clinics and say what to do in the app; nothing was downloaded."""
        return (
            f"{self.clinics} Nothing was downloaded, so the two clinics' patients are not "
            "mixed. Paste a key of the first clinic in File > Change Cliniko API key…"
        )

    @property
    def command_line_message(self) -> str:
        """The same, saying what to do on the command line."""
        return (
            f"{self.clinics} Nothing was downloaded, so the two clinics' patients are not "
            "mixed. To work with the other clinic, use a separate data folder (--data-dir), "
            "or log in again with a key of the first clinic."
        )


def _clinic_words(account: Account, other: Account) -> str:
    """'Name' (au1), with the account id too when the other account has the same name."""
    name = account.name or account.account_id
    where = account.shard or ""
    if account.name and account.name == other.name and account.account_id:
        where = f"account {account.account_id}" + (f", {account.shard}" if account.shard else "")
    return f"'{name}'" + (f" ({where})" if where else "")


def same_account(cached: Account, found: Account) -> bool:
    """True unless both name an account id or shard and they differ."""
    ids_differ = bool(cached.account_id and found.account_id) and (
        cached.account_id != found.account_id
    )
    shards_differ = bool(cached.shard and found.shard) and cached.shard != found.shard
    return not (ids_differ or shards_differ)


def refuse_another_clinic(cached: Account | None, found: Account) -> None:
    """Raise OtherAccountsCache when a cache filled from ``cached`` would get ``found``'s
    patients (a key of another clinic); a cache never filled takes any clinic."""
    if cached is not None and not same_account(cached, found):
        raise OtherAccountsCache(cached, found)


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
        on_attempt: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        """``on_attempt`` is told of every HTTP exchange as it ends (a worker thread may call
        it), after the audit trail has queued it: a window can say at once that Cliniko
        stopped answering, while the client still retries."""
        self.cache = cache
        self._on_attempt = on_attempt
        self.cancel = cancel or threading.Event()
        self.audit = PendingAudit(
            AuditTrail(
                cache.db,
                cliniko_user=account_state.cliniko_user(cache.db),
                seal=cache.audit_seal,
            )
        )
        self.account: Account | None = None  # set by identify_user
        self.client = ClinikoClient(
            api_key,
            base_url=base_url,
            on_request=self._on_request,
            before_write=self._before_write,
            cancel=self.cancel,
            max_requests_per_minute=max_requests_per_minute,
        )

    def _on_request(self, record: RequestRecord) -> None:
        self.audit.add(record)
        if self._on_attempt is not None:
            self._on_attempt(record)

    def identify_user(self) -> dict[str, Any]:
        """Fetch ``GET /user`` and ``GET /settings/public``; remember who and which clinic.

        The user's label goes into the audit trail; the account's currency, country and name
        are kept for the labor-cost report and phone normalisation, which work offline.

        Raises:
            OtherAccountsCache: the cache already belongs to another account (or shard);
                nothing is stored and ``account`` stays unset.
        """
        user = self.client.get_user()
        account = fetch_account(self.client, user)
        try:
            refuse_another_clinic(stored_account(self.cache.db), account)
        except OtherAccountsCache:
            self.close_audit()
            raise
        self.account = account
        remember_account(self.cache, self.account)
        label = f"{user.get('id', '')} {user.get('first_name', '')} {user.get('last_name', '')}"
        label = " ".join(label.split())
        self.audit.trail.cliniko_user = label
        with transaction(self.cache):
            account_state.save_cliniko_user(self.cache.db, label)
            self.audit.write_pending()
        resolve_open_intents(self)
        return user

    def check_account(self) -> Account:
        """The key's account, identified (and checked against the cache's) if not yet done.

        Raises:
            OtherAccountsCache: the key belongs to another clinic than the cache.
        """
        if self.account is None:
            self.identify_user()
        assert self.account is not None
        return self.account

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

    def close_audit(self) -> None:
        """Write what is left of the audit queue in a transaction of its own."""
        if self.audit.has_pending():
            with transaction(self.cache):
                self.audit.write_pending()

    def close(self) -> None:
        """Write what is left of the audit queue and close the client (not the cache)."""
        self.close_audit()
        self.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
