"""What the cache keeps about the Cliniko account it belongs to and who last connected.

Both live in the ``sync_state`` table: the account as JSON (``desktop.account.Account``), the
connected Cliniko user as a label (id and name) that the audit trail and the time log carry.
Writers do not commit: call them inside :func:`desktop.store.transaction.transaction`.
"""

from __future__ import annotations

import sqlite_utils

from desktop.store.sync_state import get_state, set_state

ACCOUNT_STATE_KEY = "cliniko.account"  # the Account as JSON
CLINIKO_USER_KEY = "cliniko.user"  # the connected Cliniko user's label
# What caches written before the account JSON kept, one key per Account field.
_LEGACY_KEYS = {
    "name": "cliniko.account_name",
    "currency_symbol": "cliniko.currency_symbol",
    "country_code": "cliniko.country_code",
    "subdomain": "cliniko.account_subdomain",
}


def account_json(db: sqlite_utils.Database) -> str | None:
    """The stored account as JSON, or None (before the first connect, or in an older cache)."""
    return get_state(db, ACCOUNT_STATE_KEY)


def save_account_json(db: sqlite_utils.Database, text: str) -> None:
    """Keep the account's JSON, replacing what was there."""
    set_state(db, ACCOUNT_STATE_KEY, text)


def legacy_account_fields(db: sqlite_utils.Database) -> dict[str, str]:
    """Account fields an older cache kept one key each (only those with a value)."""
    found = {name: get_state(db, key) for name, key in _LEGACY_KEYS.items()}
    return {name: value for name, value in found.items() if value}


def cliniko_user(db: sqlite_utils.Database) -> str:
    """The label of the Cliniko user who last connected ("" before the first connect)."""
    return get_state(db, CLINIKO_USER_KEY) or ""


def save_cliniko_user(db: sqlite_utils.Database, label: str) -> None:
    """Keep the connected Cliniko user's label."""
    set_state(db, CLINIKO_USER_KEY, label)
