"""Patient fields and values as a person reads them in Cliniko (Qt-free).

The cache holds Cliniko's JSON: ``address_1``, ``True``, ``None``, pronouns as an object. The
window shows Cliniko's own labels and plain values instead::

    field_label("address_1")                         # "Address line 1"
    display_value("accepted_privacy_policy", True)   # "Yes"
    display_value("pronouns", {"nominative": "she", "accusative": "her", ...})  # "she/her"
    same_values("patient_phone_numbers", [a, b])     # +61465581120 and 0465581120: True

Differences are judged after the matcher's own normalisers (phones in E.164, emails, birth
dates, post codes, Medicare numbers), so formatting alone never shows as a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from desktop.matching.normalise import (
    address_key,
    birth_date,
    email_key,
    medicare_parts,
    phone_e164,
    postcode_key,
)
from desktop.matching.text import fold_words

PHONES = "patient_phone_numbers"

# Cliniko's labels on the patient form (and its column names where the form has none).
FIELD_LABELS: dict[str, str] = {
    "id": "Cliniko id",
    "title": "Title",
    "first_name": "First name",
    "preferred_first_name": "Preferred first name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "gender_identity": "Gender identity",
    "gender": "Gender",
    "pronouns": "Pronouns",
    "email": "Email",
    PHONES: "Phone numbers",
    "address_1": "Address line 1",
    "address_2": "Address line 2",
    "address_3": "Address line 3",
    "city": "City",
    "state": "State",
    "post_code": "Post code",
    "country": "Country",
    "country_code": "Country",
    "medicare": "Medicare number",
    "medicare_reference_number": "Medicare reference number",
    "dva_card_number": "DVA card number",
    "occupation": "Occupation",
    "emergency_contact": "Emergency contact",
    "notes": "Notes",
    "appointment_notes": "Appointment notes",
    "old_reference_id": "Old reference ID",
    "referral_source": "Referral source",
    "invoice_default_to": "Invoice to",
    "invoice_email": "Invoice email",
    "invoice_extra_information": "Extra invoice information",
    "reminder_type": "Reminder type",
    "receives_confirmation_emails": "Receives confirmation emails",
    "receives_cancellation_emails": "Receives cancellation emails",
    "accepted_privacy_policy": "Accepted privacy policy",
    "accepted_email_marketing": "Accepted email marketing",
    "accepted_sms_marketing": "Accepted SMS marketing",
    "time_zone": "Time zone",
    "custom_fields": "Custom fields",
    "concession_type": "Concession type",
    "referring_doctor": "Referring doctor",
    "created_at": "Created",
    "updated_at": "Last changed",
    "archived_at": "Archived",
    "merged_at": "Merged",
}
DATES = frozenset({"date_of_birth"})
TIMESTAMPS = frozenset({"created_at", "updated_at", "archived_at", "merged_at", "deleted_at"})
ADDRESS_LINES = frozenset({"address_1", "address_2", "address_3"})
PRONOUN_ORDER = ("nominative", "accusative", "predicative_possessive")


def field_label(api_name: str) -> str:
    """Cliniko's label for a patient field (``address_1`` -> ``Address line 1``)."""
    return FIELD_LABELS.get(api_name) or api_name.replace("_", " ").strip().capitalize()


def readable_date(value: str) -> str:
    """``1980-03-07`` -> ``7 Mar 1980``; a timestamp gives its day; anything else as it is."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


def _phones(value: Iterable[Any]) -> str:
    lines = []
    for phone in value:
        if isinstance(phone, Mapping):
            number = str(phone.get("number") or "").strip()
            if number:
                kind = phone.get("phone_type")
                lines.append(f"{number} ({kind})" if kind else number)
        elif phone:
            lines.append(str(phone))
    return "\n".join(lines)


def _pronouns(value: Mapping[str, Any]) -> str:
    words: list[str] = []
    for key in PRONOUN_ORDER:
        word = str(value.get(key) or "").strip()
        if word and word not in words:
            words.append(word)
    return "/".join(words)


def _custom_fields(value: Mapping[str, Any]) -> str:
    lines = []
    for section in value.get("sections") or []:
        for item in (section or {}).get("fields") or []:
            answer = item.get("value")
            if answer in (None, "", []):
                options = [o.get("name") for o in item.get("options") or [] if o.get("selected")]
                answer = ", ".join(str(o) for o in options if o)
            if answer not in (None, "", []):
                lines.append(f"{item.get('name') or 'Field'}: {display_value('', answer)}")
    return "\n".join(lines)


def display_value(api_name: str, value: Any) -> str:
    """A field's value as a person reads it: Yes/No, pronouns as words, blanks as "".

    Phones one per line with their type, dates as ``7 Mar 1980``, Cliniko's links (a
    concession type, a referring doctor) as blank: the cache holds no name for them.
    """
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if api_name == PHONES and isinstance(value, list):
        return _phones(value)
    if isinstance(value, Mapping):
        if api_name == "pronouns" or "nominative" in value:
            return _pronouns(value)
        if "sections" in value:
            return _custom_fields(value)
        if "links" in value:
            return ""
        return "\n".join(
            f"{field_label(str(k))}: {display_value(str(k), v)}" for k, v in value.items() if v
        )
    if isinstance(value, list):
        return "\n".join(filter(None, (display_value(api_name, v) for v in value)))
    text = str(value).strip()
    if api_name in DATES or api_name in TIMESTAMPS:
        return readable_date(text)
    return text


def comparable(api_name: str, value: Any, country: str = "AU") -> Any:
    """What a value means for telling two records apart, after the matcher's normalisers."""
    if api_name == PHONES:
        numbers = value if isinstance(value, list) else []
        raw = (p.get("number") if isinstance(p, Mapping) else p for p in numbers)
        return frozenset(filter(None, (phone_e164(str(n), country) for n in raw if n)))
    if isinstance(value, str):
        if api_name == "email" or api_name == "invoice_email":
            return email_key(value, fold_dots=False)
        if api_name == "date_of_birth":
            return birth_date(value) or value.strip()
        if api_name == "post_code":
            return postcode_key(value)
        if api_name in ADDRESS_LINES:
            return address_key(value)
        if api_name == "medicare":
            return medicare_parts(value)[0] or value.strip()
        return " ".join(fold_words(value))
    return display_value(api_name, value).casefold()


def same_values(api_name: str, values: Sequence[Any], country: str = "AU") -> bool:
    """True when the values differ at most in formatting (``0465 581 120`` = ``+61465581120``)."""
    return len({comparable(api_name, v, country) for v in values}) <= 1
