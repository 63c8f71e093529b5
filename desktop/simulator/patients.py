"""The Patient resource: stored form, JSON rendering in Cliniko's shape, PATCH validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from desktop.simulator.query import canonical_datetime

# Every data field of Cliniko's Patient schema (links are added when rendering).
DATA_FIELDS: tuple[str, ...] = (
    "accepted_email_marketing", "accepted_privacy_policy", "accepted_sms_marketing",
    "address_1", "address_2", "address_3", "appointment_notes", "archived_at", "city",
    "country", "country_code", "created_at", "custom_fields", "date_of_birth", "deleted_at",
    "dva_card_number", "email", "emergency_contact", "first_name", "gender", "gender_identity",
    "id", "invoice_default_to", "invoice_email", "invoice_extra_information", "label",
    "last_name", "medicare", "medicare_reference_number", "merged_at", "notes", "occupation",
    "old_reference_id", "patient_phone_numbers", "post_code", "preferred_first_name", "pronouns",
    "receives_cancellation_emails", "receives_confirmation_emails", "referral_source",
    "reminder_type", "sex", "state", "time_zone", "title", "updated_at",
)  # fmt: skip
# Link fields backed by a stored id: rendered as {"links": {"self": ...}} or null.
ID_LINKS: dict[str, str] = {
    "concession_type": "concession_types",
    "latest_booking": "bookings",
    "merged_with_patient": "patients",
    "referring_doctor": "contacts",
}
FILTERS: dict[str, str] = {
    "accepted_privacy_policy": "bool",
    "archived_at": "datetime",
    "created_at": "datetime",
    "date_of_birth": "date",
    "email": "string",
    "first_name": "string",
    "id": "int",
    "last_name": "string",
    "old_reference_id": "string",
    "preferred_first_name": "string",
    "updated_at": "datetime",
}
SORTABLE: tuple[str, ...] = tuple(
    f for f in DATA_FIELDS if f not in ("custom_fields", "patient_phone_numbers", "pronouns")
)
TIMESTAMPS = ("archived_at", "created_at", "deleted_at", "merged_at", "updated_at")

STRINGS_255 = (
    "title", "first_name", "last_name", "preferred_first_name", "address_1", "address_2",
    "address_3", "city", "medicare", "medicare_reference_number", "occupation",
    "emergency_contact", "old_reference_id", "referral_source", "email",
)  # fmt: skip
STRINGS = (
    "state", "post_code", "country", "country_code", "sex", "gender_identity", "notes",
    "appointment_notes", "invoice_default_to", "invoice_email", "invoice_extra_information",
    "time_zone", "dva_card_number", "date_of_birth", "reminder_type",
)  # fmt: skip
BOOLEANS = (
    "receives_confirmation_emails", "receives_cancellation_emails", "accepted_privacy_policy",
    "accepted_email_marketing",
)  # fmt: skip
WRITABLE = frozenset(
    (*STRINGS_255, *STRINGS, *BOOLEANS, "patient_phone_numbers", "pronouns", "custom_fields",
     "concession_type_id", "referring_doctor_id", "unsubscribe_sms_marketing")
)  # fmt: skip
PHONE_TYPES = ("Fax", "Home", "Mobile", "Other", "Work")
REMINDER_TYPES = ("None", "SMS", "Email", "SMS & Email")
PRONOUN_KEYS = (
    "accusative", "nominative", "predicative_possessive", "pronominal_possessive", "reflexive",
)  # fmt: skip
EMAIL_RE = re.compile(r"^[A-Z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Z0-9.-]+\.[A-Z]{2,63}$", re.IGNORECASE)
DVA_RE = re.compile(r"^[NVQSWT]([A-Z ][0-9]{1,6}|[A-Z]{2}[0-9]{1,5}|[A-Z]{3}[0-9]{1,4})[A-Z]?$")


class NotAPatient(ValueError):
    """A patient given to the simulator (a seed file's) that is not in Cliniko's shape."""

    @property
    def user_message(self) -> str:
        """The problem in one line, for the command line."""
        return str(self)


def normalized_number(number: str) -> str:
    """International digits, Australia assumed: ``0412 345 678`` -> ``61412345678``."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+") or not digits.startswith("0"):
        return digits
    return "61" + digits[1:]


def clean_phones(value: Any) -> list[dict[str, str]]:
    """Phone numbers in the stored form, with ``normalized_number`` filled in."""
    result = []
    for item in value or []:
        number = str(item.get("number") or "")
        result.append(
            {
                "number": number,
                "phone_type": item.get("phone_type") or "Other",
                "normalized_number": item.get("normalized_number") or normalized_number(number),
            }
        )
    return result


def _link_id(value: Any) -> str | None:
    if isinstance(value, dict):  # not Mapping: the ABC check is slow for 100k records
        link = (value.get("links") or {}).get("self")
        if link:
            return str(link).rstrip("/").rsplit("/", 1)[-1]
    return None


def make_label(record: Mapping[str, Any]) -> str:
    """Cliniko's ``label``: the full name."""
    return " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)


def normalize_patient(raw: Mapping[str, Any], now: str) -> dict[str, Any]:
    """Turn a patient in Cliniko's JSON shape into the stored form (all fields present)."""
    record: dict[str, Any] = {name: raw.get(name) for name in DATA_FIELDS}
    record["id"] = str(raw["id"])
    for name in TIMESTAMPS:
        if record[name]:
            record[name] = canonical_datetime(str(record[name]))
        elif record[name] == "":
            record[name] = None
    record["created_at"] = record["created_at"] or now
    record["updated_at"] = record["updated_at"] or record["created_at"]
    record["first_name"] = record["first_name"] or ""
    record["last_name"] = record["last_name"] or ""
    record["patient_phone_numbers"] = clean_phones(raw.get("patient_phone_numbers"))
    if record["date_of_birth"] == "":
        record["date_of_birth"] = None
    if not record["label"]:
        record["label"] = make_label(record)
    for name in ID_LINKS:
        record[f"{name}_id"] = raw.get(f"{name}_id") or _link_id(raw.get(name))
    if record["merged_with_patient_id"] is not None:
        record["merged_with_patient_id"] = str(record["merged_with_patient_id"])
    return record


def render_patient(record: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """The JSON Cliniko would return for this stored patient (``base_url`` ends in ``/v1``)."""
    pid = record["id"]
    me = f"{base_url}/patients/{pid}"
    out: dict[str, Any] = {name: record.get(name) for name in DATA_FIELDS}
    out["patient_phone_numbers"] = [dict(p) for p in record.get("patient_phone_numbers") or []]
    out["appointments"] = {"links": {"self": f"{me}/appointments"}}
    out["attendees"] = {"links": {"self": f"{base_url}/attendees?q[]=patient_id:={pid}"}}
    out["invoices"] = {"links": {"self": f"{me}/invoices"}}
    out["medical_alerts"] = {"links": {"self": f"{me}/medical_alerts"}}
    out["patient_attachments"] = {"links": {"self": f"{me}/attachments"}}
    out["relationships"] = {"links": {"self": f"{base_url}/relationships?q[]=patient_id:={pid}"}}
    for name, path in ID_LINKS.items():
        target = record.get(f"{name}_id")
        out[name] = {"links": {"self": f"{base_url}/{path}/{target}"}} if target else None
    out["links"] = {"self": me}
    return dict(sorted(out.items()))


def _check_string(name: str, value: Any, errors: dict[str, str], limit: int | None) -> None:
    if value is not None and not isinstance(value, str):
        errors[name] = "is invalid"
    elif value is not None and limit is not None and len(value) > limit:
        errors[name] = f"is too long (maximum is {limit} characters)"


def _check_special(name: str, value: Any, errors: dict[str, str]) -> None:
    if name in ("first_name", "last_name") and (value is None or not str(value).strip()):
        errors[name] = "can't be blank"
    elif name in ("email", "invoice_email") and value and not EMAIL_RE.match(value):
        errors[name] = "is invalid"
    elif name == "date_of_birth" and value:
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            errors[name] = "is invalid"
    elif name == "reminder_type" and value is not None and value not in REMINDER_TYPES:
        errors[name] = "is not included in the list"
    elif value and (
        (name == "dva_card_number" and not DVA_RE.match(value))
        or (name == "country_code" and not re.fullmatch(r"[A-Za-z]{2}", value))
    ):
        errors[name] = "is invalid"


def _check_phones(value: Any, errors: dict[str, str]) -> list[dict[str, str]] | None:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, Mapping) for p in value):
        errors["patient_phone_numbers"] = "is invalid"
        return None
    for phone in value:
        number = phone.get("number")
        if not isinstance(number, str) or not number.strip():
            errors["patient_phone_numbers"] = "number can't be blank"
            return None
        if phone.get("phone_type") not in PHONE_TYPES:
            errors["patient_phone_numbers"] = "phone_type is not included in the list"
            return None
    return clean_phones(value)


def _check_pronouns(value: Any, errors: dict[str, str]) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping) or any(
        not isinstance(value.get(k), str) or not value.get(k) or len(value[k]) > 50
        for k in PRONOUN_KEYS
    ):
        errors["pronouns"] = "is invalid"


def validate_patient_body(
    body: Mapping[str, Any], *, creating: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a POST/PATCH body; return (changes to the stored record, errors by field).

    Fields that are not writable are ignored, as Rails ignores unpermitted parameters.
    """
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    if creating:
        for name in ("first_name", "last_name"):
            if not body.get(name):
                errors[name] = "can't be blank"
    for name, value in body.items():
        if name not in WRITABLE:
            continue
        if name in STRINGS_255 or name in STRINGS:
            _check_string(name, value, errors, 255 if name in STRINGS_255 else None)
            if name not in errors:
                _check_special(name, value, errors)
            changes[name] = value
        elif name in BOOLEANS or name == "unsubscribe_sms_marketing":
            if value is not None and not isinstance(value, bool):
                errors[name] = "is invalid"
            elif name == "unsubscribe_sms_marketing":
                if value:
                    changes["accepted_sms_marketing"] = False
            else:
                changes[name] = value
        elif name == "patient_phone_numbers":
            phones = _check_phones(value, errors)
            if phones is not None:
                changes[name] = phones
        elif name == "pronouns":
            _check_pronouns(value, errors)
            changes[name] = dict(value) if isinstance(value, Mapping) else None
        elif name == "custom_fields":
            if value is not None and not isinstance(value, Mapping):
                errors[name] = "is invalid"
            changes[name] = value
        else:  # concession_type_id, referring_doctor_id
            if value is not None and not str(value).isdigit():
                errors[name] = "is invalid"
            changes[name] = str(value) if value is not None else None
    return changes, errors
