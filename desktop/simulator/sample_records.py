"""Records of the sample clinic: timing, history, ids, and rendering to Cliniko Patient JSON.

A :class:`Record` is one patient record being built: whose details it shows (a
:class:`~desktop.simulator.sample_people.Person`, possibly a damaged copy), when it was made,
and what happened to it (archived, merged). :func:`render` turns it into the JSON that
``GET /patients`` returns. Links are relative to the API root (``/v1``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from desktop.simulator import sample_names as names
from desktop.simulator import sample_places as places
from desktop.simulator.linked import CONCESSION_TYPES
from desktop.simulator.sample_people import DAY, Person, World, format_phone, normalized_phone

_ID_EPOCH_MS = 1_325_376_000_000  # 2012-01-01, so ids are 18-19 digits and grow with time
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_GENDER_FIELD_RETIRED = int(datetime(2018, 12, 3, tzinfo=UTC).timestamp())

LINK_FIELDS: tuple[str, ...] = (
    "appointments",
    "attendees",
    "invoices",
    "links",
    "medical_alerts",
    "patient_attachments",
    "relationships",
)
"""Link objects derived from the record id alone (see :func:`patient_links`)."""
PATIENT_FIELDS: tuple[str, ...] = (
    "id",
    "accepted_email_marketing",
    "accepted_privacy_policy",
    "accepted_sms_marketing",
    "address_1",
    "address_2",
    "address_3",
    "appointment_notes",
    "appointments",
    "archived_at",
    "attendees",
    "city",
    "concession_type",
    "country",
    "country_code",
    "created_at",
    "custom_fields",
    "date_of_birth",
    "deleted_at",
    "dva_card_number",
    "email",
    "emergency_contact",
    "first_name",
    "gender",
    "gender_identity",
    "invoice_default_to",
    "invoice_email",
    "invoice_extra_information",
    "invoices",
    "label",
    "last_name",
    "latest_booking",
    "links",
    "medical_alerts",
    "medicare",
    "medicare_reference_number",
    "merged_at",
    "merged_with_patient",
    "notes",
    "occupation",
    "old_reference_id",
    "patient_attachments",
    "patient_phone_numbers",
    "post_code",
    "preferred_first_name",
    "pronouns",
    "receives_cancellation_emails",
    "receives_confirmation_emails",
    "referral_source",
    "referring_doctor",
    "relationships",
    "reminder_type",
    "sex",
    "state",
    "time_zone",
    "title",
    "updated_at",
)
"""Every field of Cliniko's Patient schema, in the order the generator writes them."""


class Record:
    """A record being built: whose details, when, and what happened to it."""

    __slots__ = (
        "archived",
        "created",
        "history",
        "id",
        "imported",
        "kind",
        "merged_at",
        "merged_with",
        "origin",
        "person",
        "role",
        "truth",
        "updated",
    )

    def __init__(self, person: Person, truth: Person, created: int, role: str) -> None:
        self.person, self.truth, self.created, self.role = person, truth, created, role
        self.kind: str | None = None
        self.origin: Record | None = None
        self.imported = False
        self.archived: int | None = None
        self.merged_at: int | None = None
        self.merged_with: Record | None = None
        self.updated = created
        self.id = ""
        self.history = (0, 0, 0, 0)


_DAYS: dict[int, str] = {}
_CLOCK: list[str] = []


def iso(seconds: int) -> str:
    """Format epoch seconds as Cliniko does: ``2024-05-06T01:23:45Z`` (UTC).

    Four times faster than ``time.strftime``: dates and times of day come from small tables.
    """
    day, second = divmod(seconds, DAY)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = f"{date.fromordinal(EPOCH_ORDINAL + day).isoformat()}T"
    if not _CLOCK:
        _CLOCK.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(DAY))
    return prefix + _CLOCK[second]


def created_time(w: World, start: int, earliest: int) -> int:
    """A plausible creation time: growth over the years, mostly in Australian office hours."""
    rng = w.rng
    lo = max(start, earliest)
    span = w.now - 2 * DAY - lo
    if span <= DAY:
        return w.now - 2 * DAY
    day = lo + int(span * rng.random() ** 0.8)
    midnight = day - day % DAY
    if rng.random() < 0.8:  # 08:00-18:00 AEST is 22:00-08:00 UTC
        second = (22 * 3600 + int(rng.random() * 10 * 3600)) % DAY
    else:
        second = int(rng.random() * DAY)
    return max(lo, min(w.now - 2 * DAY, midnight + second))


def dup_created(w: World, after: int) -> int:
    """When a duplicate got created: soon after the original (online booking) or years later."""
    rng = w.rng
    if rng.random() < 0.15:
        t = after + 60 + int(rng.random() * 3 * DAY)
    else:
        t = after + DAY + int((w.now - DAY - after) * rng.random() ** 0.7)
    return min(t, w.now - 60)


def full_history(w: World, created: int) -> tuple[int, int, int, int]:
    """History of a well-used record: more appointments the longer it has existed."""
    rng = w.rng
    if rng.random() < 0.12:
        return (0, 0, 0, int(rng.random() < 0.05))
    months = (w.now - created) / (30 * DAY)
    appts = 1 + min(300, int(rng.expovariate(1.0 / (3 + min(months, 48) * 0.25))))
    notes = int(appts * (0.8 + 0.2 * rng.random()))
    invoices = int(appts * (0.85 + 0.15 * rng.random()))
    attachments = 0 if rng.random() < 0.6 else 1 + int(rng.random() ** 2 * 4)
    return (appts, notes, invoices, attachments)


def dup_history(w: World, rec: Record, original: Record) -> tuple[int, int, int, int]:
    """History of a later duplicate: usually small; sometimes the patient kept using it."""
    rng = w.rng
    if rec.kind == "sparse_phone_assistant":
        a = int(rng.random() < 0.5)
        return (a, a if rng.random() < 0.7 else 0, a if rng.random() < 0.8 else 0, 0)
    r = rng.random()
    if r < 0.6:
        a = int(rng.random() * 4)
        return (a, int(a * 0.8), a, int(rng.random() < 0.1))
    if r < 0.85:
        a = max(1, original.history[0] // 2)
        return (a, int(a * 0.9), a, int(rng.random() < 0.3))
    a = original.history[0] + 1 + int(rng.random() * 10)
    return (a, int(a * 0.9), a, int(rng.random() < 0.4))


def new_id(w: World, created: int, used: set[str]) -> str:
    """Return an unused 18-19 digit id that grows with ``created`` (like Cliniko's int64 ids)."""
    while True:
        ms = created * 1000 + int(w.rng.random() * 1000) - _ID_EPOCH_MS
        rid = str((ms << 22) | w.rng.getrandbits(22))
        if rid not in used:
            used.add(rid)
            return rid


def patient_links(record_id: str, base_url: str = "") -> dict[str, dict[str, Any]]:
    """Return the id-derived link fields of a patient, under ``base_url`` (e.g. ``.../v1``).

    The generator stores them with an empty base (relative paths); the simulator can call this
    with its own base URL and ``dict.update`` a copy of the record.
    """
    q = f"q%5B%5D=patient_id%3A%3D{record_id}"
    own = f"{base_url}/patients/{record_id}"
    return {
        "appointments": {"links": {"self": f"{own}/appointments"}},
        "attendees": {"links": {"self": f"{base_url}/attendees?{q}"}},
        "invoices": {"links": {"self": f"{own}/invoices"}},
        "links": {"self": own},
        "medical_alerts": {"links": {"self": f"{own}/medical_alerts"}},
        "patient_attachments": {"links": {"self": f"{own}/patient_attachments"}},
        "relationships": {"links": {"self": f"{base_url}/relationships?{q}"}},
    }


def _script_name(p: Person, name: str) -> str:
    if p.script == "zh":
        return names.CHINESE_SCRIPT.get(name, name)
    if p.script == "el":
        return names.GREEK_SCRIPT.get(name, name)
    return name


_CONCESSIONS = tuple(CONCESSION_TYPES)
_WITH_LINKS: dict[str, Any] = dict.fromkeys(PATIENT_FIELDS)
_DATA_ONLY: dict[str, Any] = dict.fromkeys(f for f in PATIENT_FIELDS if f not in LINK_FIELDS)


def _tri(r: float, yes: float, no: float) -> bool | None:
    return True if r < yes else False if r < yes + no else None


def render(w: World, rec: Record, doctors: tuple[str, ...], links: bool) -> dict[str, Any]:
    """Turn a record into Cliniko Patient JSON (every field; absent values are None)."""
    random = w.rng.random
    p, rid = rec.person, rec.id
    d = (_WITH_LINKS if links else _DATA_ONLY).copy()  # far cheaper than a dict literal
    first, last = p.first, p.last
    if p.script is not None:
        first, last = _script_name(p, first), _script_name(p, last)
    d["id"], d["first_name"], d["last_name"], d["label"] = rid, first, last, f"{first} {last}"
    d["created_at"] = iso(rec.created)
    d["updated_at"] = iso(rec.updated)
    if rec.archived is not None:
        d["archived_at"] = iso(rec.archived)
    if rec.merged_with is not None:
        d["merged_at"] = iso(rec.merged_at or rec.archived or rec.updated)
        d["merged_with_patient"] = {"links": {"self": f"/patients/{rec.merged_with.id}"}}
    phones = []
    for digits, kind in ((p.mobile, "Mobile"), (p.home, "Home"), (p.work, "Work")):
        if digits is not None:
            if kind == "Mobile" and random() < 0.03:
                kind = "Home"
            phones.append(
                {
                    "number": format_phone(w.rng, digits),
                    "phone_type": kind,
                    "normalized_number": normalized_phone(digits),
                }
            )
    d["patient_phone_numbers"] = phones
    if p.dob is not None:
        d["date_of_birth"] = date.fromordinal(p.dob).isoformat()
    d["email"], d["preferred_first_name"], d["title"] = p.email, p.pref, p.title
    d["occupation"], d["emergency_contact"], d["dva_card_number"] = (
        p.occupation,
        p.emergency,
        p.dva,
    )
    if p.medicare is not None:
        m = p.medicare
        d["medicare"] = m if random() < 0.75 else f"{m[:4]} {m[4:9]} {m[9]}"
        d["medicare_reference_number"] = p.irn
    if p.street is not None:
        full, short, _ = places.STREET_TYPES[p.stype]
        d["address_1"] = f"{p.street_no} {p.street} {short if random() < 0.55 else full}"
        d["address_2"], d["city"], d["state"], d["post_code"] = (
            p.address_2,
            p.suburb,
            p.state,
            p.postcode,
        )
        d["country_code"] = "AU"
        if random() < 0.6:
            d["country"] = "Australia"
        if random() < 0.25:
            d["time_zone"] = p.tz
    if p.sex is not None and random() >= 0.1:
        d["sex"] = p.sex
        if rec.created < _GENDER_FIELD_RETIRED:
            d["gender"] = p.sex
    if rec.history[0]:
        d["latest_booking"] = {"links": {"self": f"/bookings/{int(rid) + 7}"}}
    if rec.imported:
        d["old_reference_id"] = f"PM{int(rid) % 100000:05d}"
    if rec.kind == "sparse_phone_assistant":
        d["reminder_type"] = "SMS" if random() < 0.5 else None
        return d
    _render_extras(w, rec, d, doctors)
    return d


def _render_extras(w: World, rec: Record, d: dict[str, Any], doctors: tuple[str, ...]) -> None:
    """Preferences, consents, notes and links that a full registration collects."""
    rng = w.rng
    random = rng.random
    p = rec.person
    d["accepted_email_marketing"] = _tri(random(), 0.25, 0.3)
    d["accepted_privacy_policy"] = _tri(random(), 0.6, 0.05)
    d["accepted_sms_marketing"] = _tri(random(), 0.2, 0.25)
    d["receives_cancellation_emails"] = _tri(random(), 0.75, 0.1)
    d["receives_confirmation_emails"] = _tri(random(), 0.75, 0.1)
    d["reminder_type"] = _reminder(random())
    r = random()
    if r < 0.03:
        d["appointment_notes"] = rng.choice(places.APPOINTMENT_NOTES)
    elif r < 0.11:
        d["notes"] = rng.choice(places.PATIENT_NOTES)
    r = random()
    if r < 0.35:
        d["referral_source"] = places.REFERRAL_SOURCES[int(r / 0.35 * len(places.REFERRAL_SOURCES))]
    if random() < 0.03:
        key = "they" if random() < 0.15 else ("she" if p.sex == "Female" else "he")
        d["pronouns"] = dict(places.PRONOUNS[key])
    if random() < 0.02:
        d["gender_identity"] = rng.choice(("Woman", "Man", "Non-binary", "Female", "Male"))
    old = p.dob is not None and p.dob < w.today - 65 * 365
    if random() < (0.35 if old else 0.03):
        d["concession_type"] = {"links": {"self": f"/concession_types/{rng.choice(_CONCESSIONS)}"}}
    if random() < 0.1:
        d["referring_doctor"] = {"links": {"self": f"/contacts/{rng.choice(doctors)}"}}
    if random() < 0.03:
        d["invoice_default_to"] = rng.choice(places.INVOICE_PAYERS)
        d["invoice_email"] = f"claims{rng.randint(1, 99)}@insurer.com.au"
        d["invoice_extra_information"] = f"Claim no. {rng.randint(100000, 999999)}"


def _reminder(r: float) -> str | None:
    if r < 0.55:
        return "SMS"
    if r < 0.7:
        return "SMS & Email"
    if r < 0.8:
        return "Email"
    return "None" if r < 0.88 else None
