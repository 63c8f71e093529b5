"""Test-wide set-up: offscreen Qt on a 1366×768 laptop screen (unless QT_QPA_PLATFORM names
another platform, e.g. xcb under Xvfb in CI), a Qt warning fails the test (``qt_strict``), a
private data dir, and an in-memory keyring."""

from __future__ import annotations

import os

# The smallest screen MergeDesk is made for (support/laptop_screen.json): every window test
# runs on it.
os.environ.setdefault(
    "QT_QPA_PLATFORM",
    "offscreen:configfile="
    + os.path.join(os.path.dirname(__file__), "support", "laptop_screen.json"),
)

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

pytest_plugins = ("qt_strict", "pytester")


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps secrets in memory, for tests only (never auto-selected)."""

    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.secrets:
            raise PasswordDeleteError("not found")
        del self.secrets[(service, username)]


@pytest.fixture(autouse=True)
def private_environment(tmp_path_factory, monkeypatch, request):
    """Give each test its own data dir and, unless it needs the real one, a memory keyring."""
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("MERGEDESK_DATA_DIR", str(data))
    monkeypatch.delenv("CLINIKO_API_KEY", raising=False)
    if request.node.get_closest_marker("secret_service"):
        yield data
        return
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        yield data
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    """The in-memory keyring installed for this test."""
    backend = keyring.get_keyring()
    assert isinstance(backend, MemoryKeyring)
    return backend
