"""The OS keyring, wrapped with explicit states and plain-language messages.

MergeDesk keeps two kinds of secret, both only in the operating system's keychain (Windows
Credential Manager, macOS Keychain, Secret Service on Linux):

* the Cliniko API key of each data directory, unless ``CLINIKO_API_KEY`` is set in the
  environment, in which case that value is used and never stored: username
  ``cliniko-api-key`` for the platform's own data directory, ``cliniko-api-key:<id>`` (the
  id below) for any other (``--data-dir``, one per clinic);
* one random 256-bit key per data directory that encrypts the local cache
  (username ``cache-key:<first 16 hex of sha256(resolved data dir)>``);
* beside it, the key that seals that cache's audit trail (``audit-key:<same id>``) and the
  trail's last head, count and hash (``audit-head:<same id>``), so the trail can be checked
  against something the cache's own key cannot rewrite.

The backend is looked up again on every call (never cached here), so a keychain that is
unlocked or started after MergeDesk is picked up by the next call. There is no plain-text
fallback: a missing, failing or plain-text backend is reported as ``UNAVAILABLE``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets as stdlib_secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TypeVar

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.core
import keyring.errors
from keyring.backend import KeyringBackend

from desktop import paths

log = logging.getLogger(__name__)

SERVICE_NAME = "MergeDesk"
API_KEY_USERNAME = "cliniko-api-key"
API_KEY_ENV = "CLINIKO_API_KEY"
CACHE_KEY_PREFIX = "cache-key:"
AUDIT_KEY_PREFIX = "audit-key:"
AUDIT_HEAD_PREFIX = "audit-head:"
_PROBE_USERNAME = "keychain-probe"
_CACHE_KEY_RE = re.compile(r"^[0-9a-f]{64}$")

T = TypeVar("T")


class KeyringState(Enum):
    """What the keychain (or one secret in it) looks like right now."""

    AVAILABLE = "available"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"
    NOT_FOUND = "not_found"


MESSAGES: dict[KeyringState, str] = {
    KeyringState.AVAILABLE: "Your system keychain is available. MergeDesk keeps its keys there.",
    KeyringState.LOCKED: "Your system keychain is locked. Unlock it and try again.",
    KeyringState.UNAVAILABLE: (
        "No system keychain was found on this computer. MergeDesk never stores your key in a "
        "plain file: the key that unlocks its encrypted patient cache lives in the keychain, so "
        "MergeDesk cannot work without one, even with the Cliniko API key in CLINIKO_API_KEY. "
        "On Linux, install and start a Secret Service keychain (for example GNOME Keyring or "
        "KWallet), then try again."
    ),
    KeyringState.NOT_FOUND: (
        "No Cliniko API key is saved yet. Paste your API key from Cliniko "
        "(My info > Manage API keys) to connect."
    ),
}

_CACHE_KEY_MISSING = "The key that unlocks MergeDesk's local cache is not in your system keychain."
_CACHE_KEY_DAMAGED = (
    "The cache key saved in your system keychain is damaged, so the local cache cannot be unlocked."
)
_NOT_STUCK = (
    "Your system keychain accepted the key but did not keep it. Check that the keychain is "
    "unlocked and has space, then try again."
)


class SecretsError(Exception):
    """A secret could not be read or written; ``user_message`` is fit to show as is."""

    def __init__(self, state: KeyringState, user_message: str | None = None) -> None:
        self.state = state
        self.user_message = user_message or MESSAGES[state]
        super().__init__(self.user_message)


@dataclass(frozen=True)
class KeyringStatus:
    """A snapshot of the keychain: its state, a message for people, and the backend's name."""

    state: KeyringState
    message: str
    backend_name: str


def backend_name(backend: KeyringBackend) -> str:
    """Return a readable name for a keyring backend, e.g. ``SecretService.Keyring``."""
    cls = type(backend)
    module = cls.__module__.removeprefix("keyring.backends.")
    return f"{module}.{cls.__qualname__}"


def _usable_problem(backend: KeyringBackend) -> str | None:
    """Return why a backend must not be used, or None when it is a real keychain."""
    if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
        return "no keyring backend"
    if type(backend).__module__.startswith("keyrings.alt"):
        return "plain-file backend from keyrings.alt"
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        chained = list(backend.backends)
        if not chained:
            return "chainer without backends"
        if any(type(b).__module__.startswith("keyrings.alt") for b in chained):
            return "chainer includes a plain-file backend"
    return None


def _current_backend() -> KeyringBackend:
    """Return the current backend, looked up afresh, or raise UNAVAILABLE."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # keyring's detection can fail in many ways
        log.warning("keyring backend detection failed: %s", exc)
        raise SecretsError(KeyringState.UNAVAILABLE) from exc
    problem = _usable_problem(backend)
    if problem:
        log.info("keyring backend %s not usable: %s", backend_name(backend), problem)
        raise SecretsError(KeyringState.UNAVAILABLE)
    return backend


def redetect_backend() -> None:
    """Ask keyring to detect the best backend again (for a "Try again" button).

    Only call this from the app, not from tests that installed their own backend.
    """
    keyring.core.init_backend()


def _state_for(exc: BaseException) -> KeyringState:
    """Map an exception raised by a keyring backend to a state."""
    if isinstance(exc, keyring.errors.KeyringLocked):
        return KeyringState.LOCKED
    text = f"{type(exc).__name__}: {exc}".lower()
    if "prompt dismissed" in text or "locked" in text or "dismissed" in text:
        return KeyringState.LOCKED
    return KeyringState.UNAVAILABLE


def _call(action: Callable[[KeyringBackend], T]) -> T:
    """Run ``action`` on the current backend, turning every failure into a SecretsError."""
    backend = _current_backend()
    try:
        return action(backend)
    except SecretsError:
        raise
    except Exception as exc:  # backends raise KeyringError, dbus, OS and runtime errors
        state = _state_for(exc)
        log.info("keyring %s failed (%s): %s", backend_name(backend), state.value, exc)
        raise SecretsError(state) from exc


def keyring_status() -> KeyringStatus:
    """Probe the keychain and report AVAILABLE, LOCKED or UNAVAILABLE (never raises)."""
    try:
        backend = keyring.get_keyring()
        name = backend_name(backend)
    except Exception:  # detection itself failed
        name = "none"
    try:
        _call(lambda b: b.get_password(SERVICE_NAME, _PROBE_USERNAME))
    except SecretsError as err:
        return KeyringStatus(err.state, err.user_message, name)
    return KeyringStatus(KeyringState.AVAILABLE, MESSAGES[KeyringState.AVAILABLE], name)


def _read(username: str) -> str | None:
    return _call(lambda b: b.get_password(SERVICE_NAME, username))


def _write(username: str, value: str) -> None:
    """Store a secret and read it back, so a write that did not stick is caught."""
    _call(lambda b: b.set_password(SERVICE_NAME, username, value))
    if _read(username) != value:
        raise SecretsError(KeyringState.UNAVAILABLE, _NOT_STUCK)


def _delete(username: str) -> bool:
    """Delete a secret; return False when there was nothing to delete."""
    if _read(username) is None:
        return False

    def delete(backend: KeyringBackend) -> None:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            backend.delete_password(SERVICE_NAME, username)

    _call(delete)
    return True


# --- Cliniko API key -------------------------------------------------------------------------


def _env_api_key() -> str | None:
    value = os.environ.get(API_KEY_ENV, "").strip()
    return value or None


def api_key_from_environment() -> bool:
    """Return True when ``CLINIKO_API_KEY`` is set (and so wins over the keychain)."""
    return _env_api_key() is not None


def api_key_username(data_dir: Path | None = None) -> str:
    """The keychain username of a data directory's API key (None: the platform's own)."""
    if data_dir is None or Path(data_dir).resolve() == paths.default_data_dir():
        return API_KEY_USERNAME
    return f"{API_KEY_USERNAME}:{paths.data_dir_id(data_dir)}"


def get_api_key(data_dir: Path | None = None) -> str:
    """Return the Cliniko API key: the environment's first, else the data directory's.

    Raises:
        SecretsError: NOT_FOUND when none is saved, or LOCKED / UNAVAILABLE.
    """
    env = _env_api_key()
    if env is not None:
        return env
    username = api_key_username(data_dir)
    value = _read(username)
    if (
        not value
        and data_dir is not None
        and username != API_KEY_USERNAME  # else it was the entry just read
        and paths.cache_path(data_dir).exists()
    ):
        # A folder synced when one key served every folder (before 2026-12): that key, which
        # the cache's own check of the clinic still guards; logging in again gives its own.
        value = _read(API_KEY_USERNAME)
    if not value:
        raise SecretsError(KeyringState.NOT_FOUND)
    return value


def api_key_status(data_dir: Path | None = None) -> KeyringStatus:
    """Report whether an API key can be used now: AVAILABLE, NOT_FOUND, LOCKED or UNAVAILABLE."""
    name = "environment" if api_key_from_environment() else keyring_status().backend_name
    try:
        get_api_key(data_dir)
    except SecretsError as err:
        return KeyringStatus(err.state, err.user_message, name)
    return KeyringStatus(KeyringState.AVAILABLE, "Your Cliniko API key is saved.", name)


def store_api_key(key: str, data_dir: Path | None = None) -> None:
    """Save a data directory's Cliniko API key in the keychain (only there).

    Raises:
        ValueError: the key is empty.
        SecretsError: LOCKED or UNAVAILABLE.
    """
    key = key.strip()
    if not key:
        raise ValueError("The API key is empty.")
    _write(api_key_username(data_dir), key)


def delete_api_key(data_dir: Path | None = None) -> bool:
    """Remove a data directory's saved API key; return False when none was saved."""
    return _delete(api_key_username(data_dir))


# --- cache keys ------------------------------------------------------------------------------


def cache_key_username(data_dir: Path) -> str:
    """Return the keychain username of the cache key for one data directory."""
    return f"{CACHE_KEY_PREFIX}{paths.data_dir_id(data_dir)}"


def _checked_cache_key(value: str) -> str:
    if not _CACHE_KEY_RE.match(value):
        raise SecretsError(KeyringState.UNAVAILABLE, _CACHE_KEY_DAMAGED)
    return value


def get_cache_key(data_dir: Path) -> str:
    """Return the cache key (64 lowercase hex) for a data directory.

    Raises:
        SecretsError: NOT_FOUND when there is none, or LOCKED / UNAVAILABLE.
    """
    value = _read(cache_key_username(data_dir))
    if not value:
        raise SecretsError(KeyringState.NOT_FOUND, _CACHE_KEY_MISSING)
    return _checked_cache_key(value)


def get_or_create_cache_key(data_dir: Path) -> str:
    """Return the data directory's cache key, creating 256 random bits on first use."""
    username = cache_key_username(data_dir)
    value = _read(username)
    if value:
        return _checked_cache_key(value)
    value = stdlib_secrets.token_hex(32)
    _write(username, value)
    return value


def delete_cache_key(data_dir: Path) -> bool:
    """Remove a data directory's cache key; return False when there was none."""
    return _delete(cache_key_username(data_dir))


# --- audit seal key and head anchor ----------------------------------------------------------


def _audit_username(prefix: str, data_dir: Path) -> str:
    return prefix + paths.data_dir_id(data_dir)


def get_audit_key(data_dir: Path, *, create: bool = False) -> str | None:
    """Return the key (64 hex) that seals the data directory's audit trail.

    It lives next to the cache key (``audit-key:<same id>``) and never in the cache, so a
    person holding the cache key alone cannot rewrite the trail unnoticed. With ``create``,
    256 random bits are made on first use; otherwise None when there is none.
    """
    username = _audit_username(AUDIT_KEY_PREFIX, data_dir)
    value = _read(username)
    if value:
        return _checked_cache_key(value)
    if not create:
        return None
    value = stdlib_secrets.token_hex(32)
    _write(username, value)
    return value


def get_audit_anchor(data_dir: Path) -> str | None:
    """Return the audit trail's head as last recorded in the keychain, or None."""
    return _read(_audit_username(AUDIT_HEAD_PREFIX, data_dir))


def delete_audit_anchor(data_dir: Path) -> bool:
    """Forget the audit trail's head (a fresh cache starts a new trail); False when none."""
    return _delete(_audit_username(AUDIT_HEAD_PREFIX, data_dir))


def set_audit_anchor(data_dir: Path, value: str) -> None:
    """Record the audit trail's head (count and hash) in the keychain."""
    username = _audit_username(AUDIT_HEAD_PREFIX, data_dir)
    _call(lambda b: b.set_password(SERVICE_NAME, username, value))
