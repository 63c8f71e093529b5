"""Where MergeDesk keeps its files, and how it finds its bundled resources.

The data directory comes from platformdirs, can be overridden with ``--data-dir`` or the
``MERGEDESK_DATA_DIR`` environment variable, and is created on first use.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from desktop import APP_NAME

DATA_DIR_ENV = "MERGEDESK_DATA_DIR"
CACHE_FILE_NAME = "cache.db"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory (created if missing).

    Args:
        override: an explicit directory (from ``--data-dir``); wins over the environment.
    """
    chosen = override or os.environ.get(DATA_DIR_ENV)
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_path(directory: Path) -> Path:
    """Return the path of the encrypted cache inside a data directory."""
    return directory / CACHE_FILE_NAME


def log_dir(directory: Path) -> Path:
    """Return the log directory inside a data directory (created if missing)."""
    path = directory / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def resource_root() -> Path:
    """Return the folder holding ``resources/``, from source or from a frozen bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of a bundled resource, e.g. ``resource_path("icons", "app.png")``."""
    return resource_root().joinpath(*parts)
