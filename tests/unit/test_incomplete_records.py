"""The incomplete records list: what to ask for at the next visit, by the clinic's country."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desktop.account import Account, remember_account
from desktop.incomplete import incomplete_records
from desktop.simulator.fixtures import tiny_clinic
from desktop.store.cache import Cache
from desktop.store.patients import upsert_patients
from desktop.store.transaction import transaction


@pytest.mark.parametrize(
    ("country", "asked"),
    [
        ("AU", "Ask for the date of birth, email address, home address and Medicare number."),
        ("", "Ask for the date of birth, email address, home address and Medicare number."),
        ("US", "Ask for the date of birth, email address and home address."),
        ("GB", "Ask for the date of birth, email address and home address."),
        ("NZ", "Ask for the date of birth, email address and home address."),
    ],
)
def test_a_medicare_number_is_asked_for_only_in_australia(
    tmp_path: Path, country: str, asked: str
) -> None:
    """A clinic in the US was told to ask a patient for a Medicare number: the card (and
    Cliniko's field for it) is Australia's."""
    patients, _ = tiny_clinic()
    with Cache.open(tmp_path / "cache.db", secrets.token_hex(32)) as cache:
        with transaction(cache) as db:
            upsert_patients(db, patients)
        remember_account(cache, Account(name="Clinic", country_code=country))
        found = {r.patient_id: r for r in incomplete_records(cache.db, datetime.now(UTC))}
    assert found["1005"].ask_text == asked  # Mary O'Brien: a name and nothing else
