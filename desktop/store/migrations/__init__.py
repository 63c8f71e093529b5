"""The numbered schema migrations of the cache, in order.

Each migration is a module ``mNNNN_<what>.py`` with ``def migrate(db) -> None``. Its number is
the schema version it produces (kept in ``PRAGMA user_version``). The registry below imports
every module explicitly, so a PyInstaller bundle (which cannot list a package's files) finds
them too. **To add a migration: create ``mNNNN_<what>.py`` and add its name to the import and
to the tuple below.** A test fails if a file here is not registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType

import sqlite_utils

from desktop.store.migrations import (
    m0001_initial,
    m0002_match_queue,
    m0003_merge_and_time,
    m0004_key_chunks,
    m0005_intake,
    m0006_watch,
    m0007_quarantine,
    m0008_audit_hmac,
    m0009_recent_notes,
    m0010_merged_into,
    m0011_in_cliniko_status,
    m0012_plan_lookalike,
)

_NAME_RE = re.compile(r"^m(\d{4})_([a-z0-9_]+)$")


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``migrate`` brings version ``version - 1`` to ``version``."""

    version: int
    name: str
    migrate: Callable[[sqlite_utils.Database], None]


def build_registry(modules: Iterable[ModuleType]) -> tuple[Migration, ...]:
    """Turn migration modules into a checked, ordered tuple (versions 1..N, no gaps)."""
    found: list[Migration] = []
    for module in modules:
        short = module.__name__.rsplit(".", 1)[-1]
        match = _NAME_RE.match(short)
        if not match:
            raise ValueError(f"migration module {short!r} is not named mNNNN_<what>")
        found.append(Migration(int(match.group(1)), match.group(2), module.migrate))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise ValueError(f"migration numbers must run 1..N without gaps: {versions}")
    return tuple(found)


def latest_version(migrations: Sequence[Migration]) -> int:
    """Return the schema version the given migrations lead to."""
    return migrations[-1].version if migrations else 0


MIGRATIONS: tuple[Migration, ...] = build_registry(
    [
        m0001_initial,
        m0002_match_queue,
        m0003_merge_and_time,
        m0004_key_chunks,
        m0005_intake,
        m0006_watch,
        m0007_quarantine,
        m0008_audit_hmac,
        m0009_recent_notes,
        m0010_merged_into,
        m0011_in_cliniko_status,
        m0012_plan_lookalike,
    ]
)
LATEST_VERSION = latest_version(MIGRATIONS)
