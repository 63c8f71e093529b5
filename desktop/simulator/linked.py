"""The records a sample patient's link fields point at: concession types and referring doctors.

The sample clinic links patients to three concession types (ids 1100...001-003) and to
referring doctors (contacts, ids from 1200...000 up); these are what ``GET
/concession_types/{id}`` and ``GET /contacts/{id}`` answer for them.
"""

from __future__ import annotations

from typing import Any

CONCESSION_TYPES = {
    "1100000000000000001": "Pensioner",
    "1100000000000000002": "Health Care Card",
    "1100000000000000003": "Student",
}
FIRST_DOCTOR_ID = 1_200_000_000_000_000_000
_DOCTOR_NAMES = (
    ("Helen", "Nguyen"), ("Mark", "Brennan"), ("Priya", "Raman"), ("Tom", "Gallagher"),
    ("Ruth", "Okafor"), ("Ian", "McLeod"), ("Sarah", "Whitfield"), ("Deepak", "Sethi"),
)  # fmt: skip


def concession_type(type_id: str, base_url: str) -> dict[str, Any] | None:
    """A concession type as Cliniko shows it, or None when there is none with this id."""
    name = CONCESSION_TYPES.get(type_id)
    if name is None:
        return None
    link = f"{base_url}/concession_types/{type_id}"
    return {"id": type_id, "name": name, "links": {"self": link}}


def contact(contact_id: str, base_url: str) -> dict[str, Any] | None:
    """A referring doctor (a contact) as Cliniko shows one, or None for an unknown id."""
    if not contact_id.isdigit() or int(contact_id) < FIRST_DOCTOR_ID:
        return None
    first, last = _DOCTOR_NAMES[(int(contact_id) - FIRST_DOCTOR_ID) % len(_DOCTOR_NAMES)]
    return {
        "id": contact_id, "title": "Dr", "first_name": first, "last_name": last,
        "company_name": "Sunnyside Medical Centre", "occupation": "General practitioner",
        "links": {"self": f"{base_url}/contacts/{contact_id}"},
    }  # fmt: skip
