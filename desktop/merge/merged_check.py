"""Whether a pair is merged already: by what the cache shows, or by asking Cliniko."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from desktop.merge.executor import AlreadyMerged, merged_into, read_patient
from desktop.merge.plan import pair_key
from desktop.merge_states import Outcome, PairStatus
from desktop.store import plans, queue
from desktop.store.patients import get_patient, upsert_patients
from desktop.store.transaction import transaction

if TYPE_CHECKING:
    from desktop.session import Session
    from desktop.store.cache import Cache


def already_merged(cache: Cache, ids: Sequence[str]) -> bool:
    """True when the cache shows the pair merged: a record merged into another of them, a pair
    marked merged in the queue, or a finished plan of theirs that ended merged."""
    wanted = set(ids)
    for pid in ids:
        record = get_patient(cache.db, pid)
        if record and record.get("merged_at") and merged_into(record) in wanted:
            return True
    for a, b in itertools.combinations(sorted(wanted), 2):
        pair = queue.get_pair(cache.db, a, b)
        if pair is not None and pair.get("status") == PairStatus.MERGED:
            return True
    latest = plans.latest_plan_for(cache.db, pair_key(ids))
    return latest is not None and latest.get("outcome") == Outcome.MERGED


def check_merged_in_cliniko(cache: Cache, session: Session, ids: Sequence[str]) -> None:
    """Ask Cliniko whether one of the records is merged into another of them; if so, keep
    what it says in the cache and refuse.

    Raises:
        AlreadyMerged: Cliniko shows the pair merged.
    """
    wanted = set(ids)
    records = [read_patient(session.client, pid) for pid in ids]
    merged = [r for r in records if r.get("merged_at") and merged_into(r) in wanted]
    with transaction(cache) as db:
        if merged:
            upsert_patients(db, merged)
        session.audit.write_pending()
    if merged:
        raise AlreadyMerged("Cliniko shows the pair merged")
