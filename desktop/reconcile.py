"""Reconciliation: compare every cached patient with Cliniko by content hash, repair drift.

An incremental sync trusts ``updated_at``. When Cliniko changes a record without moving it
(a data fix on their side, a restore), or a write was lost, the cache and Cliniko drift apart
silently. A reconciliation reads the whole patient list, hashes each record and compares it
with the cached copy: differing and missing records are stored again, records Cliniko no
longer lists are reported. The count of drifted records goes into the audit trail (ids only)
and is kept for the labor report (:func:`last_reconciliation`).

It runs on demand (``mergedesk sync --reconcile``) and after a sync when the last one is older
than the reconcile interval (a setting; weekly by default). A completed full sync counts as
one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from desktop.store.content_hashes import cached_hashes, content_hash
from desktop.store.patients import upsert_patients
from desktop.store.quarantine import release_stored, set_aside_bad
from desktop.store.sync_state import get_state, set_state
from desktop.store.transaction import transaction
from desktop.timestamps import parse_timestamp, utc_stamp

if TYPE_CHECKING:
    import sqlite_utils

    from desktop.session import Session

log = logging.getLogger(__name__)

LAST_AT = "reconcile.last_at"
LAST_DRIFTED = "reconcile.last_drifted"
DEFAULT_INTERVAL = timedelta(days=7)
AUDIT_ACTION = "reconciled the cache with Cliniko"
MAX_IDS_IN_AUDIT = 100


@dataclass
class ReconcileResult:
    """What one reconciliation found: ids only."""

    checked: int = 0
    drifted: list[str] = field(default_factory=list)  # cached, but different from Cliniko
    added: list[str] = field(default_factory=list)  # on Cliniko, not in the cache
    not_on_cliniko: list[str] = field(default_factory=list)  # cached, no longer listed
    quarantined: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reconciliation:
    """The last reconciliation, for the report: when, and how many records had drifted."""

    at: datetime
    drifted: int


def last_reconciliation(db: sqlite_utils.Database) -> Reconciliation | None:
    """When the cache was last compared with Cliniko and how many records had drifted."""
    at = parse_timestamp(get_state(db, LAST_AT))
    if at is None:
        return None
    return Reconciliation(at, int(get_state(db, LAST_DRIFTED) or 0))


def reconcile_due(db: sqlite_utils.Database, interval: timedelta = DEFAULT_INTERVAL) -> bool:
    """True when no reconciliation (or full sync) happened within ``interval``."""
    last = last_reconciliation(db)
    return last is None or datetime.now(UTC) - last.at >= interval


def mark_reconciled(db: sqlite_utils.Database, drifted: int) -> None:
    """Record that the cache matched Cliniko now (does not commit)."""
    set_state(db, LAST_AT, utc_stamp())
    set_state(db, LAST_DRIFTED, str(drifted))


def reconcile(session: Session) -> ReconcileResult:
    """Compare the whole cache with Cliniko and store every record that differs.

    Raises:
        ClinikoError: Cliniko could not be read to the end; what was repaired stays, and
            nothing is recorded as reconciled.
    """
    session.check_account()
    cache, db = session.cache, session.cache.db
    result = ReconcileResult()
    hashes = cached_hashes(db)
    listed: set[str] = set()
    pages = session.client.iter_pages("/patients", [("q[]", "archived_at:*")], "patients")
    for number, page in enumerate(pages, start=1):
        with transaction(cache, durable=False):
            good, labels = set_aside_bad(db, page.items, number)
            result.quarantined += labels
            changed = []
            for item in good:
                pid = str(item["id"])
                listed.add(pid)
                known = hashes.get(pid)
                if known == content_hash(item):
                    continue
                (result.added if known is None else result.drifted).append(pid)
                changed.append(item)
            upsert_patients(db, changed)
            release_stored(db, [str(p["id"]) for p in changed])
            session.audit.write_pending()
        result.checked += len(page.items)
    result.not_on_cliniko = sorted(set(hashes) - listed)
    with transaction(cache):
        mark_reconciled(db, len(result.drifted))
        ids = " ".join(result.drifted[:MAX_IDS_IN_AUDIT])
        more = len(result.drifted) - MAX_IDS_IN_AUDIT
        subject = f"{len(result.drifted)} drifted" + (f": patients {ids}" if ids else "")
        subject += f" and {more} more" if more > 0 else ""
        session.audit.trail.record_event(AUDIT_ACTION, subject)
        session.audit.write_pending()
    if result.drifted or result.added:
        log.warning(
            "Reconciliation repaired %d drifted and %d missing patients",
            len(result.drifted),
            len(result.added),
        )
    return result
