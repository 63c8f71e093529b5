"""Both keys through the real Secret Service backend (run by .ci/run under dbus-run-session).

Skipped unless ``MERGEDESK_SECRET_SERVICE_TEST`` is set: without a running, unlocked Secret
Service (gnome-keyring) there is nothing to test against. Run it by hand with::

    h=$(mktemp -d); mkdir -m 700 $h/run; HOME=$h XDG_RUNTIME_DIR=$h/run dbus-run-session -- \
      sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
      MERGEDESK_SECRET_SERVICE_TEST=1 uv run pytest -m secret_service \
      tests/integration/test_secret_service.py'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

pytestmark = [
    pytest.mark.secret_service,
    pytest.mark.skipif(
        not os.environ.get("MERGEDESK_SECRET_SERVICE_TEST"),
        reason="set MERGEDESK_SECRET_SERVICE_TEST=1 with a running Secret Service to run this",
    ),
]

API_KEY = "MS0xMjM0NTY3ODkwLXNlY3JldC1zZXJ2aWNlLXRlc3Q-au1"


@pytest.fixture
def secret_service() -> Iterator[keyring.backend.KeyringBackend]:
    """Select the real SecretService backend for this test, then put the previous one back."""
    from keyring.backends import SecretService

    previous = keyring.get_keyring()
    backend = SecretService.Keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_both_keys_round_trip_through_secret_service(secret_service, private_environment):
    from desktop import secrets
    from desktop.secrets import KeyringState, SecretsError
    from desktop.store import get_patient, open_cache, transaction, upsert_patients

    status = secrets.keyring_status()
    assert status.state is KeyringState.AVAILABLE, status.message
    assert status.backend_name == "SecretService.Keyring"

    data_dir = Path(private_environment)
    try:
        secrets.store_api_key(API_KEY)
        assert secrets.get_api_key() == API_KEY
        assert secret_service.get_password("MergeDesk", "cliniko-api-key") == API_KEY

        cache_key = secrets.get_or_create_cache_key(data_dir)
        assert re.fullmatch(r"[0-9a-f]{64}", cache_key)
        assert secrets.get_cache_key(data_dir) == cache_key
        assert secrets.get_or_create_cache_key(data_dir) == cache_key

        patient = {"id": "1", "first_name": "Zofia", "last_name": "Przybylski"}
        with open_cache(data_dir) as cache, transaction(cache) as db:
            upsert_patients(db, [patient])
        with open_cache(data_dir, readonly=True) as cache:
            assert get_patient(cache.db, "1") == patient
        for path in data_dir.rglob("*"):
            if path.is_file():
                assert API_KEY.encode() not in path.read_bytes()
                assert cache_key.encode() not in path.read_bytes()
    finally:
        secrets.delete_api_key()
        secrets.delete_cache_key(data_dir)
    with pytest.raises(SecretsError) as err:
        secrets.get_api_key()
    assert err.value.state is KeyringState.NOT_FOUND


def test_self_test_fails_when_the_secret_service_collection_is_locked(secret_service):
    """A real gnome-keyring collection, locked; with no prompter the unlock is dismissed."""
    import io

    import secretstorage

    from desktop.selftest import run_self_test

    connection = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(connection)
    collection.lock()
    assert collection.is_locked()
    out = io.StringIO()
    assert run_self_test(None, out=out) == 1
    assert "FAIL keyring: backend SecretService.Keyring, locked" in out.getvalue()
