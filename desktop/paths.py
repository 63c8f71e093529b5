"""Where MergeDesk keeps its files, and how it finds its bundled resources.

The data directory comes from platformdirs, can be overridden with ``--data-dir`` or the
``MERGEDESK_DATA_DIR`` environment variable, and is created on first use.

It holds patient data, so on Linux and macOS it is private: the folder and every folder in it
0700, every file 0600 (:func:`make_private`). :func:`data_dir` tightens what is there and sets
the process umask to 077, so every file written afterwards (the cache and its -wal/-shm,
backups, settings, logs, the lock file, exports) is created private too. Windows keeps the
profile folder private already.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import platformdirs

from desktop import APP_NAME

DATA_DIR_ENV = "MERGEDESK_DATA_DIR"
CACHE_FILE_NAME = "cache.db"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_POSIX = os.name == "posix"


def default_data_dir() -> Path:
    """The platform's user data folder for MergeDesk (not created here)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)).expanduser().resolve()


class DataDirUnusable(Exception):
    """The data folder asked for cannot be used (a file is in its place, no permission...)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"data folder unusable: {reason}")
        self.user_message = f"MergeDesk cannot use {path} as its data folder: {reason}."


def chosen_data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory asked for (not created): ``override`` (``--data-dir``), else
    ``MERGEDESK_DATA_DIR``, else the platform's own."""
    chosen = override or os.environ.get(DATA_DIR_ENV)
    return Path(chosen).expanduser().resolve() if chosen else default_data_dir()


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory (created if missing).

    Args:
        override: an explicit directory (from ``--data-dir``); wins over the environment.

    Raises:
        DataDirUnusable: it cannot be made or used (a file is in its place, say).
    """
    path = chosen_data_dir(override)
    restrict_new_files()
    if path.exists() and not path.is_dir():
        raise DataDirUnusable(path, "it is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        make_private_tree(path)
    except NotADirectoryError as error:
        raise DataDirUnusable(path, "a file stands where one of its folders should be") from error
    except PermissionError as error:
        raise DataDirUnusable(path, "this user may not create or change it") from error
    return path


def restrict_new_files() -> None:
    """Make every file and folder this process creates from now on private (umask 077)."""
    if _POSIX:
        os.umask(0o077)


def make_private(path: str | os.PathLike[str]) -> Path:
    """Make one file 0600 (a folder 0700) on Linux and macOS; return its path."""
    target = Path(path)
    if _POSIX and target.exists() and not target.is_symlink():
        target.chmod(PRIVATE_DIR_MODE if target.is_dir() else PRIVATE_FILE_MODE)
    return target


def make_private_tree(folder: Path) -> None:
    """Make a folder and everything in it private (what older versions left 0755/0644)."""
    if not _POSIX:
        return
    make_private(folder)
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            try:
                make_private(Path(root, name))
            except OSError:  # a file that vanished meanwhile, or one we do not own
                continue


def data_dir_id(data_dir: Path) -> str:
    """A data directory's id (16 hex of sha256 of its resolved path): its keychain entries'
    usernames and the name the MergeDesk that has its cache open listens on carry it."""
    return hashlib.sha256(str(Path(data_dir).resolve()).encode("utf-8")).hexdigest()[:16]


def cache_path(directory: Path) -> Path:
    """Return the path of the encrypted cache inside a data directory."""
    return directory / CACHE_FILE_NAME


def log_dir(directory: Path) -> Path:
    """Return the log directory inside a data directory (created if missing)."""
    path = directory / "logs"
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    return make_private(path)


def resource_root() -> Path:
    """Return the folder holding ``resources/``, from source or from a frozen bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of a bundled resource, e.g. ``resource_path("icons", "app.png")``."""
    return resource_root().joinpath(*parts)
