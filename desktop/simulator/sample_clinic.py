"""A deterministic, realistic Australian clinic: patients in Cliniko JSON plus the ground truth.

``generate_clinic(size, seed)`` returns a :class:`SampleClinic` whose ``patients`` look like
``GET /patients?q[]=archived_at:*`` would return them (every field of the Patient schema),
with planted duplicates (extra records of an existing person, a few already merged in Cliniko)
and planted look-alikes (different people who resemble each other). The same (size, seed)
always gives the same clinic. Links in the records are relative to the API root (``/v1``),
e.g. ``/patients/123``; the simulator prefixes its base URL (see :func:`patient_links`).
"""

from __future__ import annotations

import gc
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations
from typing import Any

from desktop.simulator import sample_names as names
from desktop.simulator import sample_places as places
from desktop.simulator.sample_people import DAY, Person, World, format_phone, normalized_phone
from desktop.simulator.sample_variants import (
    DUPLICATE_KINDS,
    LOOKALIKE_KINDS,
    PICK_DUPLICATE_KIND,
    PICK_LOOKALIKE_KIND,
    can_duplicate,
    make_duplicate,
    make_lookalike,
)

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)
"""The moment the sample clinic is a snapshot of (fixed, so output never depends on the clock)."""
HISTORY_YEARS = 8
DUPLICATE_RATE = 0.07
LOOKALIKE_RATE = 0.035
CLUSTER_SHARE = 0.1
MERGED_SHARE = 0.12
_ID_EPOCH_MS = 1_325_376_000_000  # 2012-01-01, so ids are 18-19 digits and grow with time
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_GENDER_FIELD_RETIRED = int(datetime(2018, 12, 3, tzinfo=UTC).timestamp())

LINK_FIELDS: tuple[str, ...] = (
    "appointments", "attendees", "invoices", "links", "medical_alerts", "patient_attachments",
    "relationships",
)
"""Link objects derived from the record id alone (see :func:`patient_links`)."""
PATIENT_FIELDS: tuple[str, ...] = (
    "id", "accepted_email_marketing", "accepted_privacy_policy", "accepted_sms_marketing",
    "address_1", "address_2", "address_3", "appointment_notes", "appointments", "archived_at",
    "attendees", "city", "concession_type", "country", "country_code", "created_at",
    "custom_fields", "date_of_birth", "deleted_at", "dva_card_number", "email",
    "emergency_contact", "first_name", "gender", "gender_identity", "invoice_default_to",
    "invoice_email", "invoice_extra_information", "invoices", "label", "last_name",
    "latest_booking", "links", "medical_alerts", "medicare", "medicare_reference_number",
    "merged_at", "merged_with_patient", "notes", "occupation", "old_reference_id",
    "patient_attachments", "patient_phone_numbers", "post_code", "preferred_first_name",
    "pronouns", "receives_cancellation_emails", "receives_confirmation_emails",
    "referral_source", "referring_doctor", "relationships", "reminder_type", "sex", "state",
    "time_zone", "title", "updated_at",
)
"""Every field of Cliniko's Patient schema, in the order the generator writes them."""


@dataclass
class SampleClinic:
    """A generated clinic and everything known about who is who.

    Attributes:
        size: number of patient records.
        seed: the seed it was generated from.
        now: ISO timestamp of the snapshot; every timestamp is at or before it.
        home_region: the metropolitan area most patients live in.
        patients: Cliniko Patient JSON objects, in ``created_at`` order.
        persons: record id -> person id (the ground truth).
        duplicate_pairs: every pair of records that belong to the same person.
        duplicate_kinds: pair -> how the duplicate came about ("nickname", "typo", ...);
            "cluster" for the pair of two duplicates of the same original.
        lookalike_pairs: pair of records of different people -> "twins", "siblings", ...
        history: record id -> counts of appointments, treatment_notes, invoices, attachments.
        merged_into: record id of each already-merged record -> the survivor's record id.
        duplicate_of: record id of each planted duplicate -> the record it duplicates.
        name: the clinic's name, for the simulator's account settings and the demo.
    """

    size: int
    seed: int
    now: str
    home_region: str
    patients: list[dict[str, Any]]
    persons: dict[str, str]
    duplicate_pairs: set[frozenset[str]]
    duplicate_kinds: dict[frozenset[str], str]
    lookalike_pairs: dict[frozenset[str], str]
    history: dict[str, dict[str, int]]
    merged_into: dict[str, str] = field(default_factory=dict)
    duplicate_of: dict[str, str] = field(default_factory=dict)
    name: str = "Sample Physiotherapy"

    @property
    def merged_pairs(self) -> set[frozenset[str]]:
        """Duplicate pairs already merged in Cliniko (one record merged into the other)."""
        return {frozenset((a, b)) for a, b in self.merged_into.items()}

    @property
    def open_duplicate_pairs(self) -> set[frozenset[str]]:
        """Duplicate pairs where neither record has been merged yet: what is left to find."""
        merged = self.merged_into
        return {pair for pair in self.duplicate_pairs if not any(r in merged for r in pair)}

    def patient(self, record_id: str) -> dict[str, Any]:
        """Return the patient record with this id (linear scan; for tests and demos)."""
        for p in self.patients:
            if p["id"] == record_id:
                return p
        raise KeyError(record_id)


class _Record:
    """A record being built: whose details, when, and what happened to it."""

    __slots__ = ("archived", "created", "history", "id", "imported", "kind", "merged_at",
                 "merged_with", "origin", "person", "role", "truth", "updated")

    def __init__(self, person: Person, truth: Person, created: int, role: str) -> None:
        self.person, self.truth, self.created, self.role = person, truth, created, role
        self.kind: str | None = None
        self.origin: _Record | None = None
        self.imported = False
        self.archived: int | None = None
        self.merged_at: int | None = None
        self.merged_with: _Record | None = None
        self.updated = created
        self.id = ""
        self.history = (0, 0, 0, 0)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _created_time(w: World, start: int, earliest: int) -> int:
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


def _dup_created(w: World, after: int) -> int:
    """When a duplicate got created: soon after the original (online booking) or years later."""
    rng = w.rng
    if rng.random() < 0.15:
        t = after + 60 + int(rng.random() * 3 * DAY)
    else:
        t = after + DAY + int((w.now - DAY - after) * rng.random() ** 0.7)
    return min(t, w.now - 60)


def _full_history(w: World, created: int) -> tuple[int, int, int, int]:
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


def _dup_history(w: World, rec: _Record, original: _Record) -> tuple[int, int, int, int]:
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


def _new_id(w: World, created: int, used: set[str]) -> str:
    while True:
        ms = created * 1000 + int(w.rng.random() * 1000) - _ID_EPOCH_MS
        rid = str((ms << 22) | w.rng.getrandbits(22))
        if rid not in used:
            used.add(rid)
            return rid


def patient_links(record_id: str, base_url: str = "") -> dict[str, dict[str, dict[str, str]]]:
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


_CONCESSIONS = ("1100000000000000001", "1100000000000000002", "1100000000000000003")
_WITH_LINKS: dict[str, Any] = dict.fromkeys(PATIENT_FIELDS)
_DATA_ONLY: dict[str, Any] = dict.fromkeys(f for f in PATIENT_FIELDS if f not in LINK_FIELDS)


def _tri(r: float, yes: float, no: float) -> bool | None:
    return True if r < yes else False if r < yes + no else None


def _render(w: World, rec: _Record, doctors: tuple[str, ...], links: bool) -> dict[str, Any]:
    """Turn a record into Cliniko Patient JSON (every field; absent values are None)."""
    random = w.rng.random
    p, rid = rec.person, rec.id
    d = (_WITH_LINKS if links else _DATA_ONLY).copy()  # far cheaper than a dict literal
    first, last = p.first, p.last
    if p.script is not None:
        first, last = _script_name(p, first), _script_name(p, last)
    d["id"], d["first_name"], d["last_name"], d["label"] = rid, first, last, f"{first} {last}"
    d["created_at"] = _iso(rec.created)
    d["updated_at"] = _iso(rec.updated)
    if rec.archived is not None:
        d["archived_at"] = _iso(rec.archived)
    if rec.merged_with is not None:
        d["merged_at"] = _iso(rec.merged_at or rec.archived or rec.updated)
        d["merged_with_patient"] = {"links": {"self": f"/patients/{rec.merged_with.id}"}}
    phones = []
    for digits, kind in ((p.mobile, "Mobile"), (p.home, "Home"), (p.work, "Work")):
        if digits is not None:
            if kind == "Mobile" and random() < 0.03:
                kind = "Home"
            phones.append({"number": format_phone(w.rng, digits), "phone_type": kind,
                           "normalized_number": normalized_phone(digits)})
    d["patient_phone_numbers"] = phones
    if p.dob is not None:
        d["date_of_birth"] = date.fromordinal(p.dob).isoformat()
    d["email"], d["preferred_first_name"], d["title"] = p.email, p.pref, p.title
    d["occupation"], d["emergency_contact"], d["dva_card_number"] = (
        p.occupation, p.emergency, p.dva)
    if p.medicare is not None:
        m = p.medicare
        d["medicare"] = m if random() < 0.75 else f"{m[:4]} {m[4:9]} {m[9]}"
        d["medicare_reference_number"] = p.irn
    if p.street is not None:
        full, short, _ = places.STREET_TYPES[p.stype]
        d["address_1"] = f"{p.street_no} {p.street} {short if random() < 0.55 else full}"
        d["address_2"], d["city"], d["state"], d["post_code"] = (
            p.address_2, p.suburb, p.state, p.postcode)
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


def _render_extras(w: World, rec: _Record, d: dict[str, Any], doctors: tuple[str, ...]) -> None:
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
        d["referral_source"] = places.REFERRAL_SOURCES[int(r / 0.35 * len(
            places.REFERRAL_SOURCES))]
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


def _pick_kind(w: World, pick: Any, attempt: int, kinds: tuple[tuple[str, float], ...]) -> str:
    """The first attempt draws by weight; later ones cycle through every kind in turn."""
    if attempt == 0:
        return pick(w.rng)
    return kinds[(attempt + w.rng.randrange(len(kinds))) % len(kinds)][0]


def _duplicate_of(w: World, original: _Record, kind: str) -> _Record | None:
    dup = make_duplicate(w, original.person, kind)
    if dup is None:
        return None
    rec = _Record(dup, original.person, _dup_created(w, original.created), "duplicate")
    if dup.dob is not None:  # a mistyped birth date can't be after the record was made
        born = (dup.dob - _EPOCH_ORDINAL) * DAY
        if rec.created < born + 14 * DAY:
            rec.created = born + 14 * DAY + int(w.rng.random() * 30 * DAY)
            if rec.created >= w.now - 60:
                return None
    rec.kind, rec.origin = kind, original
    return rec


def _plant_duplicates(w: World, records: list[_Record], n_anchors: int,
                      n_clusters: int) -> list[_Record]:
    """Make extra records of ``n_anchors`` people, two extra for ``n_clusters`` of them.

    The kind is drawn first and a suitable person found for it, so kinds keep their weights
    even when few people qualify (a day/month swap needs a day of 12 or less).
    """
    rng = w.rng
    people = len(records)
    used = bytearray(people)
    out: list[_Record] = []
    for pos in range(n_anchors):
        rec = None
        for attempt in range(len(DUPLICATE_KINDS) + 1):
            kind = _pick_kind(w, PICK_DUPLICATE_KIND, attempt, DUPLICATE_KINDS)
            for _ in range(400):
                idx = rng.randrange(people)
                if not used[idx] and can_duplicate(w, records[idx].person, kind):
                    rec = _duplicate_of(w, records[idx], kind)
                    if rec is not None:
                        break
            if rec is not None:
                break
        if rec is None:  # tiny clinics: any unused person, copied as is
            idx = used.index(0)
            rec = _Record(records[idx].person.copy(), records[idx].person,
                          _dup_created(w, records[idx].created), "duplicate")
            rec.kind, rec.origin = "exact", records[idx]
        used[idx] = 1
        out.append(rec)
        if pos < n_clusters:
            second = None
            for attempt in range(len(DUPLICATE_KINDS) + 1):
                kind = _pick_kind(w, PICK_DUPLICATE_KIND, attempt, DUPLICATE_KINDS)
                second = _duplicate_of(w, records[idx], kind)
                if second is not None:
                    break
            if second is None:
                second = _duplicate_of(w, records[idx], "exact")
            assert second is not None
            out.append(second)
    return out


def generate_clinic(size: int, seed: int = 1, *, now: datetime = DEFAULT_NOW,
                    duplicate_rate: float = DUPLICATE_RATE,
                    lookalike_rate: float = LOOKALIKE_RATE, links: bool = True) -> SampleClinic:
    """Generate a deterministic sample clinic with ``size`` patient records.

    Args:
        size: total number of patient records (originals, duplicates and look-alikes).
        seed: any int; the same (size, seed, now, rates) always give the same clinic.
        now: the snapshot moment; records are created over the eight years before it.
        duplicate_rate: share of records that are extra records of an existing person.
        lookalike_rate: share of records that are planted look-alikes of another person.
        links: include the seven link objects derived from the id (``links``,
            ``appointments``, ...; see :func:`patient_links`). False saves about 40% of the
            memory of a large clinic; the data fields and the random draws are unchanged.
    """
    collecting = gc.isenabled()
    gc.disable()  # millions of new containers: the cyclic collector would run quadratically
    try:
        return _generate(size, seed, now, duplicate_rate, lookalike_rate, links)
    finally:
        if collecting:
            gc.enable()


def _generate(size: int, seed: int, now: datetime, duplicate_rate: float,
              lookalike_rate: float, links: bool) -> SampleClinic:
    if size < 0:
        raise ValueError("size must be >= 0")
    rng = random.Random(f"mergedesk-sample:{seed}:{size}")
    home = random.Random(f"mergedesk-home:{seed}").choice(places.HOME_REGIONS)
    w = World(rng, _epoch(now), home)
    start = w.now - int(HISTORY_YEARS * 365.25 * DAY)
    n_dup = round(size * duplicate_rate) if size >= 10 else 0
    n_look = round(size * lookalike_rate) if size >= 20 else 0
    n_clusters = round(n_dup * CLUSTER_SHARE) if n_dup >= 5 else 0
    n_base = size - n_dup - n_look

    def created_for(p: Person) -> int:
        born = (p.dob - _EPOCH_ORDINAL) * DAY if p.dob is not None else start
        return _created_time(w, start, born + 14 * DAY)

    records: list[_Record] = []
    for _ in range(n_base):
        p = w.new_person()
        rec = _Record(p, p, 0, "original")
        if rng.random() < 0.15 and (p.dob or 0) < w.today - 20 * 365:
            rec.created = start + int(rng.random() * 3 * 3600)  # the day the clinic moved
            rec.imported = True
        else:
            rec.created = created_for(p)
        records.append(rec)

    look_pairs: list[tuple[_Record, _Record, str]] = []
    for idx in rng.sample(range(n_base), n_look) if n_look else ():
        anchor = records[idx]
        partner = None
        for attempt in range(len(LOOKALIKE_KINDS) + 1):
            kind = _pick_kind(w, PICK_LOOKALIKE_KIND, attempt, LOOKALIKE_KINDS)
            partner = make_lookalike(w, anchor.person, kind)
            if partner is not None:
                break
        if partner is None:  # the anchor had no usable details: an unrelated namesake
            partner, kind = w.new_person(), "common_name"
            partner.first, partner.last = anchor.person.first, anchor.person.last
            partner.group, partner.sex, partner.script = (
                anchor.person.group, anchor.person.sex, anchor.person.script)
            partner.pref = partner.email = None
        rec = _Record(partner, partner, 0, "lookalike")
        rec.kind = kind
        together = min(w.now - 2 * DAY, anchor.created + 60 + int(rng.random() * 900))
        born = (partner.dob - _EPOCH_ORDINAL) * DAY if partner.dob is not None else start
        if kind != "common_name" and rng.random() < 0.4 and together >= born + 14 * DAY:
            rec.created = together  # the family booked together
        else:
            rec.created = created_for(partner)
        look_pairs.append((anchor, rec, kind))
        records.append(rec)

    dup_records = _plant_duplicates(w, records, n_dup - n_clusters, n_clusters)
    records.extend(dup_records)
    return _finish(w, size, seed, records, look_pairs, links)


def _add(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


def _merge_and_archive(w: World, records: list[_Record]) -> None:
    """Merge some duplicates in Cliniko already, and archive about 8% of all records."""
    rng = w.rng
    taken: set[int] = set()  # ids (python) of records merged away or surviving a merge
    for rec in records:
        if rec.role != "duplicate" or rng.random() >= MERGED_SHARE:
            continue
        original = rec.origin
        assert original is not None
        if id(rec) in taken or id(original) in taken:
            continue
        gone, survivor = (rec, original) if rng.random() < 0.8 else (original, rec)
        later = max(rec.created, original.created)
        if later > w.now - 7 * DAY:
            continue
        gone.merged_at = later + DAY + int(rng.random() * (w.now - later - 2 * DAY))
        gone.archived, gone.merged_with = gone.merged_at, survivor
        survivor.history = _add(survivor.history, gone.history)
        gone.history = (0, 0, 0, 0)
        taken.update((id(gone), id(survivor)))
    for rec in records:
        if rec.merged_at is not None or id(rec) in taken:
            continue
        chance = 0.1 if rec.role == "duplicate" else 0.03 + 0.07 * (w.now - rec.created) / (
            HISTORY_YEARS * 365.25 * DAY)
        if rng.random() < chance and rec.created < w.now - 2 * DAY:
            rec.archived = rec.created + DAY + int(rng.random() * (w.now - rec.created - 2 * DAY))


def _finish(w: World, size: int, seed: int, records: list[_Record],
            look_pairs: list[tuple[_Record, _Record, str]], links: bool) -> SampleClinic:
    rng = w.rng
    records.sort(key=lambda r: r.created)
    used: set[str] = set()
    for rec in records:
        rec.id = _new_id(w, rec.created, used)
        if rec.role != "duplicate":
            rec.history = _full_history(w, rec.created)
    for rec in records:
        if rec.role == "duplicate":
            assert rec.origin is not None
            rec.history = _dup_history(w, rec, rec.origin)
    _merge_and_archive(w, records)
    doctors = tuple(str(1_200_000_000_000_000_000 + i) for i in range(max(3, size // 60)))
    patients: list[dict[str, Any]] = []
    history: dict[str, dict[str, int]] = {}
    persons: dict[str, str] = {}
    by_person: dict[str, list[_Record]] = {}
    merged_into: dict[str, str] = {}
    duplicate_of: dict[str, str] = {}
    for rec in records:
        if rng.random() < 0.4:
            rec.updated = rec.created + int(rng.random() * 300)
        else:
            rec.updated = rec.created + int(rng.random() * (w.now - rec.created))
        if rec.archived is not None:
            rec.updated = max(rec.updated, rec.archived)
        patient = _render(w, rec, doctors, links)
        if links:
            patient.update(patient_links(rec.id))
        patients.append(patient)
        a, n, i, t = rec.history
        history[rec.id] = {"appointments": a, "treatment_notes": n, "invoices": i,
                           "attachments": t}
        persons[rec.id] = rec.truth.pid
        if rec.origin is not None:
            duplicate_of[rec.id] = rec.origin.id
        by_person.setdefault(rec.truth.pid, []).append(rec)
        if rec.merged_with is not None:
            merged_into[rec.id] = rec.merged_with.id
    duplicate_pairs: set[frozenset[str]] = set()
    duplicate_kinds: dict[frozenset[str], str] = {}
    for group in by_person.values():
        for x, y in combinations(group, 2):
            pair = frozenset((x.id, y.id))
            duplicate_pairs.add(pair)
            if x.origin is y:
                duplicate_kinds[pair] = x.kind or "exact"
            elif y.origin is x:
                duplicate_kinds[pair] = y.kind or "exact"
            else:
                duplicate_kinds[pair] = "cluster"
    lookalike_pairs: dict[frozenset[str], str] = {}
    for anchor, partner, kind in look_pairs:
        for x in by_person[anchor.truth.pid]:
            for y in by_person[partner.truth.pid]:
                lookalike_pairs[frozenset((x.id, y.id))] = kind
    return SampleClinic(
        size=size, seed=seed, now=_iso(w.now), home_region=w.home_region, patients=patients,
        persons=persons, duplicate_pairs=duplicate_pairs, duplicate_kinds=duplicate_kinds,
        lookalike_pairs=lookalike_pairs, history=history, merged_into=merged_into,
        duplicate_of=duplicate_of, name=_clinic_name(seed, w.home_region),
    )


def _clinic_name(seed: int, region: str) -> str:
    """A plausible clinic name in the home region, fixed by the seed."""
    rng = random.Random(f"mergedesk-name:{seed}")
    suburb = rng.choice(places.REGIONS[region][3])[0]
    kind = rng.choice(("Physiotherapy", "Physio & Sports Injury Clinic", "Allied Health",
                       "Osteopathy", "Chiropractic & Wellness", "Podiatry"))
    return f"{suburb} {kind}"


def ground_truth_summary(clinic: SampleClinic) -> dict[str, Any]:
    """Count records, people, duplicates and look-alikes by kind (for reports and tests)."""
    archived = sum(1 for p in clinic.patients if p["archived_at"] is not None)
    return {
        "size": clinic.size,
        "seed": clinic.seed,
        "now": clinic.now,
        "home_region": clinic.home_region,
        "name": clinic.name,
        "records": len(clinic.patients),
        "people": len(set(clinic.persons.values())),
        "archived": archived,
        "merged": len(clinic.merged_into),
        "duplicate_records": len(clinic.patients) - len(set(clinic.persons.values())),
        "duplicate_pairs": len(clinic.duplicate_pairs),
        "open_duplicate_pairs": len(clinic.open_duplicate_pairs),
        "duplicate_kinds": dict(sorted(Counter(clinic.duplicate_kinds.values()).items())),
        "lookalike_pairs": len(clinic.lookalike_pairs),
        "lookalike_kinds": dict(sorted(Counter(clinic.lookalike_pairs.values()).items())),
    }


def _pair_key(pair: frozenset[str]) -> list[str]:
    return sorted(pair)


def write_clinic_json(clinic: SampleClinic, path: str | os.PathLike[str]) -> None:
    """Write the clinic (patients and ground truth) to one JSON file, pairs as sorted lists."""
    data = {
        "summary": ground_truth_summary(clinic),
        "patients": clinic.patients,
        "persons": clinic.persons,
        "history": clinic.history,
        "merged_into": clinic.merged_into,
        "duplicate_of": clinic.duplicate_of,
        "duplicate_pairs": [
            {"ids": _pair_key(p), "kind": clinic.duplicate_kinds.get(p, "exact")}
            for p in sorted(clinic.duplicate_pairs, key=_pair_key)
        ],
        "lookalike_pairs": [
            {"ids": _pair_key(p), "kind": k}
            for p, k in sorted(clinic.lookalike_pairs.items(), key=lambda i: _pair_key(i[0]))
        ],
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
