"""The keyring wrapper: every state, every message, and no secret ever in a file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import InitError, KeyringLocked

from desktop import secrets
from desktop.secrets import KeyringState, SecretsError

API_KEY = "MS0xMjM0NTY3ODkwLWFiY2RlZmdoaWprbG1ub3Bx-au1"


class RaisingKeyring(KeyringBackend):
    """A test backend whose every call raises the exception it was given."""

    priority = -1  # type: ignore[assignment]

    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    def get_password(self, service: str, username: str) -> str | None:
        raise self.exc

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.exc

    def delete_password(self, service: str, username: str) -> None:
        raise self.exc


class ForgetfulKeyring(KeyringBackend):
    """Accepts writes and keeps nothing."""

    priority = -1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        return None

    def delete_password(self, service: str, username: str) -> None:
        return None


class FakePlainFileKeyring(ForgetfulKeyring):
    """Pretends to be a keyrings.alt plain-file store."""


FakePlainFileKeyring.__module__ = "keyrings.alt.file"


def test_available_with_a_working_backend(memory_keyring):
    status = secrets.keyring_status()
    assert status.state is KeyringState.AVAILABLE
    assert "MemoryKeyring" in status.backend_name
    assert status.message


@pytest.mark.parametrize(
    "backend",
    [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring(), FakePlainFileKeyring()],
    ids=["fail", "null", "plain-file"],
)
def test_unavailable_backends_are_refused(backend):
    keyring.set_keyring(backend)
    status = secrets.keyring_status()
    assert status.state is KeyringState.UNAVAILABLE
    assert "never stores your key in a plain file" in status.message
    with pytest.raises(SecretsError) as err:
        secrets.store_api_key(API_KEY)
    assert err.value.state is KeyringState.UNAVAILABLE
    with pytest.raises(SecretsError) as err:
        secrets.get_api_key()
    assert err.value.state is KeyringState.UNAVAILABLE
    with pytest.raises(SecretsError):
        secrets.get_or_create_cache_key(Path("/nowhere"))


def test_chainer_without_backends_is_unavailable(monkeypatch):
    monkeypatch.setattr(keyring.backends.chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(keyring.backends.chainer.ChainerBackend())
    assert secrets.keyring_status().state is KeyringState.UNAVAILABLE


@pytest.mark.parametrize(
    ("exc", "state"),
    [
        (KeyringLocked("Failed to unlock the collection!"), KeyringState.LOCKED),
        (RuntimeError("Prompt dismissed."), KeyringState.LOCKED),
        (InitError("Failed to create the collection"), KeyringState.UNAVAILABLE),
        (keyring.errors.NoKeyringError("none"), KeyringState.UNAVAILABLE),
        (OSError("dbus connection refused"), KeyringState.UNAVAILABLE),
    ],
)
def test_backend_errors_map_to_states(exc, state):
    keyring.set_keyring(RaisingKeyring(exc))
    status = secrets.keyring_status()
    assert status.state is state
    assert status.message == secrets.MESSAGES[state]
    for call in (secrets.get_api_key, lambda: secrets.store_api_key(API_KEY)):
        with pytest.raises(SecretsError) as err:
            call()
        assert err.value.state is state
        assert err.value.user_message == secrets.MESSAGES[state]


def test_locked_message_is_plain():
    keyring.set_keyring(RaisingKeyring(KeyringLocked("locked")))
    with pytest.raises(SecretsError) as err:
        secrets.get_api_key()
    assert err.value.user_message == "Your system keychain is locked. Unlock it and try again."
    assert str(err.value) == err.value.user_message


def test_backend_is_rechecked_on_every_call(memory_keyring):
    assert secrets.keyring_status().state is KeyringState.AVAILABLE
    keyring.set_keyring(keyring.backends.fail.Keyring())
    assert secrets.keyring_status().state is KeyringState.UNAVAILABLE
    keyring.set_keyring(memory_keyring)
    assert secrets.keyring_status().state is KeyringState.AVAILABLE


def test_api_key_not_found_then_stored_then_deleted(memory_keyring):
    with pytest.raises(SecretsError) as err:
        secrets.get_api_key()
    assert err.value.state is KeyringState.NOT_FOUND
    assert err.value.user_message.startswith("No Cliniko API key is saved yet")
    assert secrets.api_key_status().state is KeyringState.NOT_FOUND

    secrets.store_api_key(f"  {API_KEY}\n")
    assert secrets.get_api_key() == API_KEY
    assert memory_keyring.secrets == {("MergeDesk", "cliniko-api-key"): API_KEY}
    assert secrets.api_key_status().state is KeyringState.AVAILABLE

    assert secrets.delete_api_key() is True
    assert secrets.delete_api_key() is False
    with pytest.raises(SecretsError):
        secrets.get_api_key()


def test_empty_api_key_is_rejected(memory_keyring):
    with pytest.raises(ValueError):
        secrets.store_api_key("   ")
    assert memory_keyring.secrets == {}


def test_environment_key_wins_and_is_never_stored(monkeypatch, memory_keyring):
    secrets.store_api_key("stored-key")
    monkeypatch.setenv("CLINIKO_API_KEY", "env-key")
    assert secrets.api_key_from_environment() is True
    assert secrets.get_api_key() == "env-key"
    assert "env-key" not in memory_keyring.secrets.values()
    assert secrets.api_key_status().backend_name == "environment"


def test_environment_key_works_without_a_keychain(monkeypatch):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    monkeypatch.setenv("CLINIKO_API_KEY", "env-key")
    assert secrets.get_api_key() == "env-key"
    monkeypatch.setenv("CLINIKO_API_KEY", "  ")
    assert secrets.api_key_from_environment() is False


def test_write_that_does_not_stick_is_reported():
    keyring.set_keyring(ForgetfulKeyring())
    with pytest.raises(SecretsError) as err:
        secrets.store_api_key(API_KEY)
    assert err.value.state is KeyringState.UNAVAILABLE
    assert "did not keep it" in err.value.user_message


def test_cache_key_per_data_dir(tmp_path, memory_keyring):
    one, two = tmp_path / "one", tmp_path / "two"
    with pytest.raises(SecretsError) as err:
        secrets.get_cache_key(one)
    assert err.value.state is KeyringState.NOT_FOUND

    key = secrets.get_or_create_cache_key(one)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert secrets.get_or_create_cache_key(one) == key
    assert secrets.get_cache_key(one) == key
    assert secrets.get_or_create_cache_key(two) != key

    digest = hashlib.sha256(str(one.resolve()).encode()).hexdigest()[:16]
    assert memory_keyring.secrets[("MergeDesk", f"cache-key:{digest}")] == key
    assert secrets.cache_key_username(one / ".." / "one") == f"cache-key:{digest}"

    assert secrets.delete_cache_key(one) is True
    assert secrets.delete_cache_key(one) is False
    with pytest.raises(SecretsError):
        secrets.get_cache_key(one)


def test_damaged_cache_key_is_reported(tmp_path, memory_keyring):
    memory_keyring.set_password("MergeDesk", secrets.cache_key_username(tmp_path), "oops")
    with pytest.raises(SecretsError) as err:
        secrets.get_or_create_cache_key(tmp_path)
    assert "damaged" in err.value.user_message


def test_no_secret_lands_in_a_file(private_environment, memory_keyring):
    """After storing the API key and using the cache, no file under the data dir holds it."""
    from desktop.store import open_cache, transaction, upsert_patients

    data_dir = Path(private_environment)
    secrets.store_api_key(API_KEY)
    with open_cache(data_dir) as cache, transaction(cache) as db:
        upsert_patients(db, [{"id": "1", "first_name": "Ada", "last_name": "Przybylski"}])
    cache_key = secrets.get_cache_key(data_dir)
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        blob = path.read_bytes()
        assert API_KEY.encode() not in blob, path
        assert cache_key.encode() not in blob, path
        assert bytes.fromhex(cache_key) not in blob, path


def test_each_data_folder_has_its_own_api_key_entry(memory_keyring, tmp_path, monkeypatch):
    """The platform's own folder keeps the entry older versions used; any other folder (one
    per clinic) has its own, so saving one clinic's key leaves the other's."""
    from desktop import paths

    monkeypatch.setattr(paths, "default_data_dir", lambda: (tmp_path / "own").resolve())
    own, other = tmp_path / "own", tmp_path / "other"
    assert secrets.api_key_username(None) == secrets.api_key_username(own) == "cliniko-api-key"
    assert secrets.api_key_username(other).startswith("cliniko-api-key:")
    secrets.store_api_key("key-of-clinic-a", own)
    secrets.store_api_key("key-of-clinic-b", other)
    assert secrets.get_api_key(own) == "key-of-clinic-a"
    assert secrets.get_api_key(other) == "key-of-clinic-b"
    assert secrets.delete_api_key(other) is True
    assert secrets.api_key_status(other).state is KeyringState.NOT_FOUND
    assert secrets.get_api_key() == "key-of-clinic-a"


def test_a_folder_synced_with_the_one_key_of_older_versions_still_finds_it(
    memory_keyring, tmp_path, monkeypatch
):
    """Upgrading kept a --data-dir folder's data but asked for the key again: a folder with a
    cache falls back to the entry older versions saved; a new folder does not (it would
    otherwise take another clinic's key)."""
    from desktop import paths

    monkeypatch.setattr(paths, "default_data_dir", lambda: (tmp_path / "own").resolve())
    synced, new = tmp_path / "synced", tmp_path / "new"
    synced.mkdir()
    paths.cache_path(synced).write_bytes(b"encrypted")
    secrets.store_api_key("key-saved-by-an-older-version")
    assert secrets.get_api_key(synced) == "key-saved-by-an-older-version"
    assert secrets.api_key_status(new).state is KeyringState.NOT_FOUND
    secrets.store_api_key("its-own-key", synced)
    assert secrets.get_api_key(synced) == "its-own-key"
