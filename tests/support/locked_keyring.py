"""A keyring backend whose keychain is locked: every call raises keyring's KeyringLocked.

Selected in a subprocess with ``PYTHON_KEYRING_BACKEND=locked_keyring.LockedKeyring`` (and
``tests/support`` on PYTHONPATH); stands in for a Secret Service whose collection is locked and
whose unlock prompt was dismissed. Tests only.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class LockedKeyring(KeyringBackend):
    """Every read, write and delete fails as a locked keychain does."""

    priority = -1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")
