"""A patient's clinical history (appointments, notes, invoices, attachments), made up lazily.

Records are generated deterministically from (seed, originating patient, kind, index), so the
same clinic always shows the same history. Ownership can move to another patient on a merge.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from desktop.simulator.query import format_time

# Endpoint (collection name) -> key in the clinic's history counts.
KINDS: dict[str, str] = {
    "individual_appointments": "appointments",
    "treatment_notes": "treatment_notes",
    "invoices": "invoices",
    "patient_attachments": "attachments",
}
# Kinds that Cliniko's merge moves to the surviving patient.
MOVED_BY_MERGE = ("individual_appointments", "treatment_notes", "invoices")

_DT = "datetime"
_INT = "int"
FILTERS: dict[str, dict[str, str]] = {
    "individual_appointments": {
        "appointment_type_id": _INT, "archived_at": _DT, "business_id": _INT,
        "cancelled_at": _DT, "created_at": _DT, "deleted_at": _DT, "did_not_arrive": "bool",
        "ends_at": _DT, "id": _INT, "patient_id": _INT, "practitioner_id": _INT,
        "repeated_from_id": _INT, "starts_at": _DT, "updated_at": _DT,
    },
    "treatment_notes": {
        "archived_at": _DT, "attendee_id": _INT, "booking_id": _INT, "created_at": _DT,
        "deleted_at": _DT, "draft": "bool", "id": _INT, "patient_id": _INT,
        "practitioner_id": _INT, "treatment_note_template_id": _INT, "updated_at": _DT,
    },
    "invoices": {
        "appointment_id": _INT, "archived_at": _DT, "attendee_id": _INT, "business_id": _INT,
        "closed_at": _DT, "created_at": _DT, "deleted_at": _DT, "id": _INT, "issue_date": "date",
        "number": _INT, "original_invoice_id": _INT, "patient_id": _INT,
        "practitioner_id": _INT, "status": _INT, "updated_at": _DT,
    },
    "patient_attachments": {
        "archived_at": _DT, "content_type": "string", "created_at": _DT,
        "description": "string", "filename": "string", "id": _INT, "patient_id": _INT,
        "processed_at": _DT, "size": _INT, "updated_at": _DT, "user_id": _INT,
    },
}  # fmt: skip
INT_FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(name for name, t in fields.items() if t == _INT) for kind, fields in FILTERS.items()
}
PRACTITIONERS = ("1001", "1002", "1003")
BUSINESS_ID = "501"
USER_ID = "1"


def _record_id(kind: str, origin: str, index: int) -> str:
    digest = hashlib.sha1(f"{kind}:{origin}:{index}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 4 | 1 << 58)


def _parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def generate(
    kind: str, origin: str, count: int, seed: int, since: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """``count`` stored records of ``kind`` first created for patient ``origin`` between
    ``since`` and ``now`` (the clinic's clock; the computer's when None)."""
    rng = random.Random(f"{seed}:{kind}:{origin}")
    start = _parse(since)
    now = now or datetime.now(UTC)
    span = max(int((now - start).total_seconds()), 3600)
    records = []
    for i in range(count):
        created = start + timedelta(seconds=rng.randrange(span))
        # Edited within two days of being made (not yet, when that is still to come).
        edited = created + timedelta(hours=rng.randrange(1, 48))
        rec: dict[str, Any] = {
            "id": _record_id(kind, origin, i),
            "origin": origin,
            "created_at": format_time(created),
            "updated_at": format_time(edited if edited <= now else created),
            "archived_at": None,
            "deleted_at": None,
            "practitioner_id": rng.choice(PRACTITIONERS),
            "business_id": BUSINESS_ID,
        }
        if kind == "individual_appointments":
            rec["starts_at"] = format_time(created + timedelta(days=rng.randrange(1, 30)))
            rec["ends_at"] = format_time(_parse(rec["starts_at"]) + timedelta(minutes=45))
            rec["did_not_arrive"] = rng.random() < 0.05
            rec["appointment_type_id"] = str(rng.choice((201, 202, 203)))
        elif kind == "treatment_notes":
            rec["draft"] = rng.random() < 0.1
            rec["title"] = rng.choice(("Initial consultation", "Follow-up", "Review"))
        elif kind == "invoices":
            rec["number"] = int(rec["id"]) % 900000 + 1000
            rec["issue_date"] = rec["created_at"][:10]
            rec["status"] = rng.choice((10, 20, 20, 20))
            rec["total_amount"] = f"{rng.choice((85, 95, 120, 150))}.0"
        else:
            rec["filename"] = f"referral-{i + 1}.pdf"
            rec["content_type"] = "application/pdf"
            rec["description"] = "Referral letter"
            rec["size"] = rng.randrange(20_000, 2_000_000)
            rec["user_id"] = USER_ID
            rec["processed_at"] = rec["created_at"]
        records.append(rec)
    return records


def booking(origin: str, index: int, starts_at: str, created_at: str) -> dict[str, Any]:
    """An individual appointment booked at ``created_at`` for ``starts_at`` (45 minutes; a
    ``starts_at`` that is no time ends when it starts)."""
    try:
        ends_at = format_time(_parse(starts_at) + timedelta(minutes=45))
    except ValueError:
        ends_at = starts_at
    return {
        "id": _record_id("individual_appointments", origin, index),
        "origin": origin,
        "created_at": created_at,
        "updated_at": created_at,
        "archived_at": None,
        "deleted_at": None,
        "practitioner_id": PRACTITIONERS[index % len(PRACTITIONERS)],
        "business_id": BUSINESS_ID,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "did_not_arrive": False,
        "appointment_type_id": "201",
    }


def treatment_note(origin: str, index: int, written_at: str) -> dict[str, Any]:
    """A finalised treatment note written at ``written_at``."""
    return {
        "id": _record_id("treatment_notes", origin, index),
        "origin": origin,
        "created_at": written_at,
        "updated_at": written_at,
        "archived_at": None,
        "deleted_at": None,
        "practitioner_id": PRACTITIONERS[index % len(PRACTITIONERS)],
        "business_id": BUSINESS_ID,
        "draft": False,
        "title": "Follow-up",
    }


def _link(base_url: str, path: str | None) -> dict[str, Any] | None:
    return {"links": {"self": f"{base_url}/{path}"}} if path else None


def render(
    kind: str, rec: Mapping[str, Any], owner: Mapping[str, Any], base_url: str
) -> dict[str, Any]:
    """One record in Cliniko's JSON shape, belonging to patient ``owner``."""
    rid = rec["id"]
    common = {
        "archived_at": rec["archived_at"],
        "created_at": rec["created_at"],
        "deleted_at": rec["deleted_at"],
        "id": rid,
        "links": {"self": f"{base_url}/{kind}/{rid}"},
        "patient": _link(base_url, f"patients/{owner['id']}"),
        "updated_at": rec["updated_at"],
    }
    practitioner = _link(base_url, f"practitioners/{rec['practitioner_id']}")
    business = _link(base_url, f"businesses/{rec['business_id']}")
    if kind == "individual_appointments":
        out = {
            "appointment_type": _link(base_url, f"appointment_types/{rec['appointment_type_id']}"),
            "attendees": _link(base_url, f"individual_appointments/{rid}/attendees"),
            "booking_ip_address": None, "business": business, "cancellation_note": None,
            "cancellation_reason": None, "cancellation_reason_description": None,
            "cancelled_at": None,
            "conflicts": _link(base_url, f"individual_appointments/{rid}/conflicts"),
            "did_not_arrive": rec["did_not_arrive"], "email_reminder_sent": True,
            "ends_at": rec["ends_at"], "has_patient_appointment_notes": False,
            "invoice_status": None, "notes": None, "online_booking_policy_accepted": None,
            "patient_arrived": not rec["did_not_arrive"], "patient_case": None,
            "patient_name": owner.get("label"), "practitioner": practitioner,
            "repeat_rule": None, "repeated_from": None, "repeats": None,
            "sms_reminder_sent": False, "starts_at": rec["starts_at"], "telehealth_url": None,
            "treatment_note_status": None,
        }  # fmt: skip
    elif kind == "treatment_notes":
        out = {
            "attendee": None, "author_name": "Dr Demo Practitioner", "booking": None,
            "content": {"sections": []}, "draft": rec["draft"],
            "finalized_at": None if rec["draft"] else rec["updated_at"], "pinned_at": None,
            "practitioner": practitioner, "title": rec["title"],
            "treatment_note_template": _link(base_url, "treatment_note_templates/301"),
        }  # fmt: skip
    elif kind == "invoices":
        status = rec["status"]
        out = {
            "appointment": None, "attendee": None, "business": business,
            "calculation_method": 3, "calculation_method_description": "Tax inclusive",
            "closed_at": rec["updated_at"] if status == 20 else None,
            "discounted_amount": "0.0",
            "invoice_items": _link(base_url, f"invoices/{rid}/invoice_items"),
            "invoice_to": owner.get("label"), "issue_date": rec["issue_date"],
            "net_amount": rec["total_amount"], "notes": None, "number": rec["number"],
            "online_payment_url": None, "original_invoice": None,
            "patient_extra_information": None, "practitioner": practitioner,
            "reversed_invoices": _link(base_url, f"invoices/{rid}/reversed_invoices"),
            "signature": None, "status": status,
            "status_description": "Paid" if status == 20 else "Open",
            "tax_amount": "0.0", "total_amount": rec["total_amount"],
        }  # fmt: skip
    else:
        out = {
            "content": _link(base_url, f"patient_attachments/{rid}/content"),
            "content_type": rec["content_type"], "description": rec["description"],
            "filename": rec["filename"], "pinned_at": None, "processed_at": rec["processed_at"],
            "processing_completed": True, "size": rec["size"],
            "user": _link(base_url, f"users/{rec['user_id']}"),
        }  # fmt: skip
    out.update(common)
    if kind == "patient_attachments":
        del out["deleted_at"]
    return dict(sorted(out.items()))


def default_counts(seed: int, patient_id: str) -> dict[str, int]:
    """History counts for a patient the clinic gave none for (small, deterministic)."""
    rng = random.Random(f"{seed}:counts:{patient_id}")
    appointments = rng.choice((0, 0, 1, 2, 3, 5, 8))
    return {
        "appointments": appointments,
        "treatment_notes": min(appointments, rng.randrange(0, 4)),
        "invoices": min(appointments, rng.randrange(0, 4)),
        "attachments": rng.choice((0, 0, 0, 1)),
    }
