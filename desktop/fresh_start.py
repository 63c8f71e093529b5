"""Starting again when this computer cannot open the clinic's cache (a reset keychain, a file
copied from another computer): the old file is set aside and kept, a fresh cache is made, and
the audit trail says so."""

from __future__ import annotations

from pathlib import Path

from desktop.review import audit_trail
from desktop.store import Cache, transaction


def record_fresh_start(cache: Cache, aside: Path) -> None:
    """Open the fresh cache's audit trail with the fresh start and where the old file went."""
    with transaction(cache):
        audit_trail(cache).record_event(
            "started a fresh cache", f"the one that could not be opened is kept as {aside.name}"
        )
