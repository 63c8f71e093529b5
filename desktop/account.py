"""The Cliniko account a cache belongs to: which clinic, where its web app lives, its words.

Read once while online from ``GET /settings/public`` (and ``GET /user`` for the time zone),
kept in the cache, and read offline by the report, the merge step, the matcher (the country
phones and addresses are read in) and the window title::

    account = fetch_account(client)        # online
    remember_account(cache, account)       # in the cache, one transaction
    stored_account(cache.db)               # offline, later; None before the first connect

The subdomain comes from the settings and the shard from the key: a real account's patient
page is ``https://<subdomain>.<shard>.cliniko.com/patients/<id>`` (reference section 12).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from desktop.store import account_state
from desktop.store.account_state import CLINIKO_USER_KEY as CLINIKO_USER_KEY  # re-exported
from desktop.store.transaction import transaction

if TYPE_CHECKING:
    import sqlite_utils

    from desktop.cliniko.client import ClinikoClient
    from desktop.store.cache import Cache

log = logging.getLogger(__name__)

DEFAULT_CURRENCY = "$"


@dataclass(frozen=True)
class Account:
    """One Cliniko account (a clinic), as the app needs it offline.

    Attributes:
        account_id: Cliniko's account id ("" when the server did not say).
        name: the clinic's name.
        subdomain: the account's web subdomain (``sunnyside`` in ``sunnyside.au2.cliniko.com``).
        shard: the key's shard (``au2``).
        country_code: ISO 3166 alpha-2 (``AU``, ``NZ``, ``GB``, ``IE``, ``CA``, ``US``), or "".
        currency_symbol: for money on the report.
        time_zone: IANA zone of the connected user (``Australia/Melbourne``), or "".
        patient_term: what the account calls a patient (Cliniko lets it say "client").
    """

    account_id: str = ""
    name: str = ""
    subdomain: str = ""
    shard: str = ""
    country_code: str = ""
    currency_symbol: str = DEFAULT_CURRENCY
    time_zone: str = ""
    patient_term: str = "patient"

    @property
    def patients_term(self) -> str:
        """The plural of :attr:`patient_term` (``patients``, ``clients``)."""
        return self.patient_term + "s"

    @property
    def web_root(self) -> str | None:
        """``https://<subdomain>.<shard>.cliniko.com``, or None when either is unknown."""
        if not self.subdomain or not self.shard:
            return None
        return f"https://{self.subdomain}.{self.shard}.cliniko.com"

    def patient_page_url(self, patient_id: str) -> str | None:
        """The patient's page in Cliniko's web app (where Merge is), or None if unknown."""
        root = self.web_root
        return f"{root}/patients/{patient_id}" if root else None

    def to_json(self) -> str:
        """Serialise for the cache."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Account:
        """Read back what :meth:`to_json` wrote (unknown keys ignored)."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in data.items() if k in known and v is not None})


def _text(value: Any) -> str:
    return str(value).strip() if isinstance(value, str | int) and str(value).strip() else ""


def account_from_api(
    settings: Mapping[str, Any], user: Mapping[str, Any] | None, shard: str
) -> Account:
    """An :class:`Account` from ``GET /settings/public``, ``GET /user`` and the key's shard."""
    account = settings.get("account")
    account = account if isinstance(account, Mapping) else {}
    terminology = settings.get("terminology")
    terminology = terminology if isinstance(terminology, Mapping) else {}
    term = _text(terminology.get("patient")).lower() or "patient"
    return Account(
        account_id=_text(account.get("id")),
        name=_text(account.get("name")),
        subdomain=_text(account.get("subdomain")).lower(),
        shard=shard,
        country_code=_text(account.get("country_code")).upper(),
        currency_symbol=_text(account.get("currency_symbol")) or DEFAULT_CURRENCY,
        time_zone=_text((user or {}).get("time_zone_identifier")),
        patient_term=term,
    )


def fetch_account(client: ClinikoClient, user: Mapping[str, Any] | None = None) -> Account:
    """Ask Cliniko which account the client's key belongs to (``GET /settings/public``).

    ``user`` is ``GET /user``'s answer when the caller has it already (for the time zone).
    """
    return account_from_api(client.get_public_settings(), user, client.shard)


def remember_account(cache: Cache, account: Account) -> None:
    """Keep ``account`` in the cache, in a transaction of its own (or the caller's)."""
    with transaction(cache) as db:
        account_state.save_account_json(db, account.to_json())
    log.debug("stored the account settings")


def stored_account(db: sqlite_utils.Database) -> Account | None:
    """The account kept by :func:`remember_account`, or None before the first connect."""
    text = account_state.account_json(db)
    if not text:
        found = account_state.legacy_account_fields(db)
        return Account(**found) if found else None
    try:
        return Account.from_json(text)
    except (ValueError, TypeError):
        log.warning("the stored account settings are unreadable; they will be fetched again")
        return None
