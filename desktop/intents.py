"""Resolve write intents left open by a crash: read Cliniko and record what it shows.

An intent is committed to the audit trail before its write is sent (see
:mod:`desktop.session`). If the app stopped before the outcome was recorded, the next start
reads the record the write was aimed at and records an OUTCOME linked to the intent's seq:
whether Cliniko now holds the intended values (compared by hash, ids and hashes only).
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from desktop.audit import open_intents
from desktop.cliniko.errors import ClinikoError
from desktop.cliniko.records import sha256_hex
from desktop.store.transaction import transaction

if TYPE_CHECKING:
    from desktop.session import Session

log = logging.getLogger(__name__)

_PATIENT_RE = re.compile(r"/patients/(\d+)")
_FIELDS_RE = re.compile(r" fields=(\S+)$")


def resolve_open_intents(session: Session) -> int:
    """Record an outcome for every intent left open; return how many were resolved.

    An intent whose record cannot be read now (Cliniko unreachable) stays open for next time.
    """
    resolved = 0
    for intent in open_intents(session.cache.db):
        try:
            outcome = read_back(session, intent)
        except ClinikoError as exc:
            log.warning("could not check write intent %s: %s", intent["seq"], type(exc).__name__)
            continue
        with transaction(session.cache):
            session.audit.write_pending()
            session.audit.trail.record_outcome(intent["seq"], outcome)
        resolved += 1
    return resolved


def read_back(session: Session, intent: dict[str, Any]) -> str:
    """Read what Cliniko shows for an intent's record and say how it compares."""
    path = intent["path"]
    method = path.split(" ", 1)[0]
    match = _PATIENT_RE.search(path)
    if match is None:
        return "unknown (stopped before the answer); this kind of write is not read back"
    patient_id = match.group(1)
    patient = session.client.get_patient(patient_id)
    prefix = f"unknown (stopped before the answer); Cliniko now shows patient {patient_id}"
    fields = _FIELDS_RE.search(path)
    if method == "PATCH" and fields is not None:
        names = fields.group(1).split(",")
        shown = {name: patient.get(name) for name in names}
        body = json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()
        if sha256_hex(body) == intent["payload_sha256"]:
            return f"{prefix} with the intended values: applied"
        return f"{prefix} with other values: not applied, or changed since"
    archived = "archived" if patient.get("archived_at") else "not archived"
    return f"{prefix} {archived}"
