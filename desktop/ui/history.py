"""Fetch each record's clinical history size from Cliniko (in a worker) and cache it."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from desktop.merge.plan import now_iso
from desktop.store.transaction import transaction
from desktop.ui.context import DeskContext

_UPSERT = (
    "INSERT INTO history_counts (patient_id, appointments, treatment_notes, invoices, "
    "attachments, fetched_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(patient_id) DO UPDATE SET "
    "appointments = excluded.appointments, treatment_notes = excluded.treatment_notes, "
    "invoices = excluded.invoices, attachments = excluded.attachments, "
    "fetched_at = excluded.fetched_at"
)


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
                stamp = now_iso()
                for pid, c in counts.items():
                    db.execute(
                        _UPSERT,
                        [pid, c.get("appointments"), c.get("treatment_notes"),
                         c.get("invoices"), c.get("attachments"), stamp],
                    )  # fmt: skip
                session.audit.write_pending()
    return counts
