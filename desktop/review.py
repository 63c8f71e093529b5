"""The administrator's review decisions on a pair, written with their audit entry.

Qt-free, so the window and the CLI decide the same way::

    record_review_decision(cache, "1001", "1002", "not_same")

The decision and an audit entry naming it (ids only) are committed in one transaction before
the caller moves on.
"""

from __future__ import annotations

from desktop.account import CLINIKO_USER_KEY
from desktop.audit import AuditTrail
from desktop.store import queue as queue_store
from desktop.store.cache import Cache
from desktop.store.sync_state import get_state, transaction


def audit_trail(cache: Cache) -> AuditTrail:
    """An audit trail attributed to the Cliniko user last connected and the OS user."""
    return AuditTrail(
        cache.db,
        cliniko_user=get_state(cache.db, CLINIKO_USER_KEY) or "",
        seal=cache.audit_seal,
    )


def record_review_decision(cache: Cache, id_a: str, id_b: str, decision: str) -> None:
    """Write a review decision (``not_same``, ``later``, ``skipped``) and its audit entry."""
    a, b = queue_store.ordered(id_a, id_b)
    with transaction(cache) as db:
        queue_store.record_decision(db, a, b, decision)
        audit_trail(cache).record_event(f"decided {decision}", f"patients {a} {b}")
