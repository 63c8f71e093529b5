"""A keyring backend for tests that start MergeDesk in a subprocess.

The test's secrets go to a JSON file in the test's temporary folder (never the data dir), so a
child process and the test can share them. Selected with
``PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring`` and ``MERGEDESK_TEST_KEYRING_FILE``; tests
only, never shipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV = "MERGEDESK_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    """Secrets in a JSON file named by ``MERGEDESK_TEST_KEYRING_FILE`` (tests only)."""

    priority = -1  # type: ignore[assignment]

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self._path = path

    @property
    def path(self) -> Path:
        """The JSON file (read from the environment when not given; keyring probes us bare)."""
        return Path(self._path or os.environ[ENV])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\n{username}"] = password
        self.path.write_text(json.dumps(data), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\n{username}", None) is None:
            raise PasswordDeleteError("not found")
        self.path.write_text(json.dumps(data), encoding="utf-8")


def child_environment(keyring_file: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``mergedesk`` subprocess that uses this backend and ``data_dir``."""
    env = dict(os.environ)
    support = str(Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [support, env.get("PYTHONPATH")]))
    env["PYTHON_KEYRING_BACKEND"] = "file_keyring.FileKeyring"
    env[ENV] = str(keyring_file)
    env["MERGEDESK_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env
