"""Fetch each record's clinical history size from Cliniko (in a worker) and cache it."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from desktop.store.history_counts import save_counts
from desktop.store.transaction import transaction
from desktop.timestamps import utc_stamp
from desktop.ui.context import DeskContext


def fetch_history(
    ctx: DeskContext, ids: Sequence[str], cancel: threading.Event
) -> dict[str, dict[str, int]]:
    """Ask Cliniko for each record's history counts and store them in ``history_counts``."""
    counts: dict[str, dict[str, int]] = {}
    with ctx.session(cancel) as session:
        try:
            for pid in ids:
                counts[pid] = session.client.history_counts(pid)
        finally:
            with transaction(ctx.cache) as db:
                save_counts(db, counts, utc_stamp())
                session.audit.write_pending()
    return counts
