"""Patient records a sync could not store, kept as received so nothing is silently lost.

A record Cliniko sent that the cache cannot hold as a patient (no id, a link or phone list
of the wrong shape, text that is not valid Unicode, an unreadable ``updated_at``, a value
nested too deeply to read) goes here
instead of stopping the sync; the rest of its page is stored as usual. The app and
``mergedesk sync`` list what is here by id (patient data is never shown or logged).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from desktop.cliniko.deep_json import NOT_AN_OBJECT, TOO_DEEP
from desktop.timestamps import parse_timestamp

log = logging.getLogger(__name__)

_TOO_DEEP_JSON = json.dumps(TOO_DEEP, ensure_ascii=False)
_CLINIKO_ID = re.compile(r"[0-9]{1,30}")  # Cliniko's ids are integers (sent as text)
_ESCAPED = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode


@dataclass(frozen=True)
class QuarantinedRecord:
    """One record kept aside: its id (or None) and where it was, why, and when."""

    patient_id: str | None
    position: str
    reason: str
    first_seen_at: str
    last_seen_at: str

    @property
    def label(self) -> str:
        """``patient 1234`` or, without an id, ``record #3 of a page``."""
        return f"patient {self.patient_id}" if self.patient_id else f"record {self.position}"


def patient_problem(patient: dict[str, Any]) -> str | None:
    """Why a patient record can't be cached (plain words, no patient data), or None."""
    if NOT_AN_OBJECT in patient:
        return "it is not a record (Cliniko sent no JSON object in its place)"
    if record_id(patient) is None:
        return "it has no usable id"
    merged = patient.get("merged_with_patient")
    if merged is not None:
        links = merged.get("links") if isinstance(merged, dict) else None
        if not isinstance(links, dict) or not isinstance(links.get("self"), str | None):
            return "its merged_with_patient link is not in Cliniko's shape"
    phones = patient.get("patient_phone_numbers")
    if phones is not None and (
        not isinstance(phones, list) or not all(isinstance(p, dict) for p in phones)
    ):
        return "its patient_phone_numbers is not a list of phone numbers"
    if parse_timestamp(patient.get("updated_at")) is None:
        return "its updated_at is not a date and time"
    try:
        text = json.dumps(patient, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "it holds text that is not valid Unicode"
    except (TypeError, ValueError, RecursionError):
        return "it holds values JSON cannot represent"
    if _TOO_DEEP_JSON in text:
        return "it holds a value nested too deeply to read"
    return None


def record_id(patient: dict[str, Any]) -> str | None:
    """The record's id as text when it has a usable one: digits, as Cliniko's ids are (text
    from a server is never printed or logged as an id, nor made part of a request's path)."""
    pid = patient.get("id")
    if isinstance(pid, bool) or not isinstance(pid, str | int):
        return None
    text = str(pid)
    return text if _CLINIKO_ID.fullmatch(text) else None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def quarantine_record(
    db: sqlite_utils.Database, patient: dict[str, Any], reason: str, position: str
) -> None:
    """Keep one bad record as received (does not commit; call inside a transaction).

    Args:
        patient: the record as decoded from Cliniko's JSON.
        reason: :func:`patient_problem`'s answer.
        position: where it was, for a record without an id (``page 3, #17``).
    """
    pid = record_id(patient)
    try:
        raw = _ESCAPED(patient)
    except (TypeError, ValueError, RecursionError):
        raw = json.dumps({"unreadable": True})
    stamp = _now()
    db.execute(
        "INSERT INTO quarantine (key, patient_id, position, reason, raw, first_seen_at, "
        "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
        "position = excluded.position, reason = excluded.reason, raw = excluded.raw, "
        "last_seen_at = excluded.last_seen_at",
        [pid or f"at {position}", pid, position, reason, raw, stamp, stamp],
    )


def set_aside_bad(
    db: sqlite_utils.Database, items: list[dict[str, Any]], page_number: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """Quarantine the records of one page the cache can't hold (does not commit).

    Returns the good records, to store as usual, and a label per quarantined one
    (``patient 12``, or ``record page 3 #17`` for a record without an id).
    """
    good: list[dict[str, Any]] = []
    labels: list[str] = []
    for position, item in enumerate(items, start=1):
        problem = patient_problem(item)
        if problem is None:
            good.append(item)
            continue
        where = f"page {page_number} #{position}"
        quarantine_record(db, item, problem, where)
        pid = record_id(item)
        labels.append(f"patient {pid}" if pid else f"record {where}")
        log.warning("Quarantined %s: %s", labels[-1], problem)
    return good, labels


def release_stored(db: sqlite_utils.Database, patient_ids: Iterable[str]) -> None:
    """Forget quarantined copies of patients a good copy of has now been stored (no commit)."""
    ids = [(pid,) for pid in patient_ids]
    if ids:
        db.conn.executemany("DELETE FROM quarantine WHERE patient_id = ?", ids)


def forget_unseen_without_id(db: sqlite_utils.Database, before: str) -> None:
    """Drop records without an id not seen since ``before`` (a full sync read every page
    after that, so Cliniko no longer sends them). Does not commit."""
    db.execute("DELETE FROM quarantine WHERE patient_id IS NULL AND last_seen_at < ?", [before])


def quarantined_records(db: sqlite_utils.Database) -> list[QuarantinedRecord]:
    """Every record kept aside, oldest first (ids and reasons only, never the data)."""
    rows = db.execute(
        "SELECT patient_id, position, reason, first_seen_at, last_seen_at FROM quarantine "
        "ORDER BY first_seen_at, rowid"
    ).fetchall()
    return [QuarantinedRecord(*row) for row in rows]


def quarantined_raw(db: sqlite_utils.Database, patient_id: str) -> dict[str, Any] | None:
    """The record as received for a quarantined id (for support), or None."""
    row = db.execute("SELECT raw FROM quarantine WHERE patient_id = ?", [patient_id]).fetchone()
    return None if row is None else json.loads(row[0])


def set_aside_summary(records: list[QuarantinedRecord], shown: int = 20) -> str:
    """One plain-words paragraph about the records kept aside, ids only ("" when none)."""
    if not records:
        return ""
    one = len(records) == 1
    labels = ", ".join(r.label for r in records[:shown])
    more = f" and {len(records) - shown} more" if len(records) > shown else ""
    return (
        f"{len(records):,} record{'' if one else 's'} from Cliniko could not be stored and "
        f"{'is' if one else 'are'} kept aside: {labels}{more}. The rest is stored. Check "
        f"{'it' if one else 'these'} in Cliniko; a corrected record is picked up by the next sync."
    )
