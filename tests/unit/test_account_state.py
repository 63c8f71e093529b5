"""The account and the connected user as the cache keeps them (store/account_state.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.account import Account, remember_account, stored_account
from desktop.review import audit_trail
from desktop.store import Cache, transaction
from desktop.store.account_state import cliniko_user, save_cliniko_user
from desktop.store.sync_state import set_state

KEY = "5c" * 32


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def test_nothing_is_known_before_the_first_connect(cache: Cache) -> None:
    assert stored_account(cache.db) is None
    assert cliniko_user(cache.db) == ""
    assert audit_trail(cache).cliniko_user == ""


def test_the_account_and_the_user_survive_a_reopen(tmp_path: Path) -> None:
    account = Account(account_id="9", name="Sunnyside Physio", subdomain="sunnyside", shard="au2")
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        remember_account(cache, account)
        with transaction(cache) as db:
            save_cliniko_user(db, "42 Ada Admin")
    with Cache.open(tmp_path / "cache.db", KEY, readonly=True) as cache:
        assert stored_account(cache.db) == account
        assert audit_trail(cache).cliniko_user == "42 Ada Admin"


def test_a_cache_from_before_the_account_json_still_names_its_clinic(cache: Cache) -> None:
    """Older versions kept one key per field; the report and the matcher still read them."""
    with transaction(cache) as db:
        set_state(db, "cliniko.account_name", "Old Town Osteo")
        set_state(db, "cliniko.country_code", "NZ")
        set_state(db, "cliniko.currency_symbol", "")
    account = stored_account(cache.db)
    assert account == Account(name="Old Town Osteo", country_code="NZ")
    assert account is not None and account.currency_symbol == "$"


def test_two_clinics_of_one_name_are_told_apart_by_their_account_ids() -> None:
    """The refusal of another clinic's key named 'Logan Central Podiatry' twice: with one name
    on both sides, the account ids say which is which."""
    from desktop.session import OtherAccountsCache

    mine = Account(account_id="1", name="Logan Central Podiatry", shard="au1")
    theirs = Account(account_id="7", name="Logan Central Podiatry", shard="au1")
    said = OtherAccountsCache(mine, theirs).user_message
    assert "clinic 'Logan Central Podiatry' (account 1, au1)." in said
    assert "belongs to 'Logan Central Podiatry' (account 7, au1)." in said
    other = OtherAccountsCache(mine, Account(account_id="7", name="Epping", shard="au2"))
    assert "clinic 'Logan Central Podiatry' (au1). The key you gave belongs to 'Epping' (au2)" in (
        other.user_message
    )
