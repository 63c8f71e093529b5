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
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

from desktop.simulator import sample_places as places
from desktop.simulator.linked import FIRST_DOCTOR_ID
from desktop.simulator.sample_lookalikes import LOOKALIKE_KINDS, PICK_LOOKALIKE_KIND, make_lookalike
from desktop.simulator.sample_people import DAY, Person, Picker, World
from desktop.simulator.sample_records import (
    EPOCH_ORDINAL,
    LINK_FIELDS,
    PATIENT_FIELDS,
    Record,
    created_time,
    dup_created,
    dup_history,
    full_history,
    iso,
    new_id,
    patient_links,
    render,
)
from desktop.simulator.sample_variants import (
    DUPLICATE_KINDS,
    PICK_DUPLICATE_KIND,
    can_duplicate,
    make_duplicate,
)

__all__ = [
    "DEFAULT_NOW",
    "LINK_FIELDS",
    "PATIENT_FIELDS",
    "SampleClinic",
    "generate_clinic",
    "ground_truth_summary",
    "patient_links",
    "write_clinic_json",
]

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)
"""The moment the sample clinic is a snapshot of (fixed, so output never depends on the clock)."""
HISTORY_YEARS = 8
DUPLICATE_RATE = 0.07
LOOKALIKE_RATE = 0.035
CLUSTER_SHARE = 0.1
MERGED_SHARE = 0.12


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


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _kind_order(w: World, pick: Picker, kinds: tuple[tuple[str, float], ...]) -> list[str]:
    """Kinds to try in turn: one drawn by weight first, then every other kind once."""
    first, n = pick(w.rng), len(kinds)
    start = w.rng.randrange(n)
    return [
        first,
        *(kinds[(start + i) % n][0] for i in range(n) if kinds[(start + i) % n][0] != first),
    ]


def _duplicate_of(w: World, original: Record, kind: str) -> Record | None:
    dup = make_duplicate(w, original.person, kind)
    if dup is None:
        return None
    rec = Record(dup, original.person, dup_created(w, original.created), "duplicate")
    if dup.dob is not None:  # a mistyped birth date can't be after the record was made
        born = (dup.dob - EPOCH_ORDINAL) * DAY
        if rec.created < born + 14 * DAY:
            rec.created = born + 14 * DAY + int(w.rng.random() * 30 * DAY)
            if rec.created >= w.now - 60:
                return None
    rec.kind, rec.origin = kind, original
    return rec


def _exact_copy(w: World, original: Record) -> Record:
    """A duplicate that repeats every detail: the fallback when no other kind applies."""
    rec = Record(original.person.copy(), original.person, 0, "duplicate")
    rec.created = dup_created(w, original.created)
    rec.kind, rec.origin = "exact", original
    return rec


def _plant_duplicates(
    w: World, records: list[Record], n_anchors: int, n_clusters: int
) -> list[Record]:
    """Make extra records of ``n_anchors`` people, two extra for ``n_clusters`` of them.

    The kind is drawn first and a suitable person found for it, so kinds keep their weights
    even when few people qualify (a day/month swap needs a day of 12 or less).
    """
    rng = w.rng
    people = len(records)
    used = bytearray(people)
    out: list[Record] = []
    for pos in range(n_anchors):
        rec = None
        for kind in _kind_order(w, PICK_DUPLICATE_KIND, DUPLICATE_KINDS):
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
            rec = _exact_copy(w, records[idx])
        used[idx] = 1
        out.append(rec)
        if pos < n_clusters:
            second = None
            for kind in _kind_order(w, PICK_DUPLICATE_KIND, DUPLICATE_KINDS):
                second = _duplicate_of(w, records[idx], kind)
                if second is not None:
                    break
            out.append(second or _exact_copy(w, records[idx]))
    return out


def _lookalike_anchors(rng: random.Random, records: list[Record], n: int) -> list[int]:
    """Pick ``n`` distinct people to plant look-alikes of, preferring ones with a birth date."""
    if n == 0:
        return []
    order = rng.sample(range(len(records)), min(len(records), 2 * n))
    usable = [i for i in order if records[i].person.dob is not None]
    chosen = usable[:n]
    if len(chosen) < n:  # tiny clinics: take whoever is left
        taken = set(chosen)
        chosen += [i for i in order if i not in taken][: n - len(chosen)]
    return chosen


def generate_clinic(
    size: int,
    seed: int = 1,
    *,
    now: datetime = DEFAULT_NOW,
    duplicate_rate: float = DUPLICATE_RATE,
    lookalike_rate: float = LOOKALIKE_RATE,
    links: bool = True,
) -> SampleClinic:
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


def _generate(
    size: int, seed: int, now: datetime, duplicate_rate: float, lookalike_rate: float, links: bool
) -> SampleClinic:
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
        """When ``p`` first registered: any time in the clinic's history after birth."""
        born = (p.dob - EPOCH_ORDINAL) * DAY if p.dob is not None else start
        return created_time(w, start, born + 14 * DAY)

    records: list[Record] = []
    for _ in range(n_base):
        p = w.new_person()
        rec = Record(p, p, 0, "original")
        if rng.random() < 0.15 and (p.dob or 0) < w.today - 20 * 365:
            rec.created = start + int(rng.random() * 3 * 3600)  # the day the clinic moved
            rec.imported = True
        else:
            rec.created = created_for(p)
        records.append(rec)

    look_pairs: list[tuple[Record, Record, str]] = []
    for idx in _lookalike_anchors(rng, records, n_look):
        anchor = records[idx]
        partner = None
        for kind in _kind_order(w, PICK_LOOKALIKE_KIND, LOOKALIKE_KINDS):
            partner = make_lookalike(w, anchor.person, kind)
            if partner is not None:
                break
        if partner is None:  # the anchor had no usable details: an unrelated namesake
            partner, kind = w.new_person(), "common_name"
            partner.first, partner.last = anchor.person.first, anchor.person.last
            partner.group, partner.sex, partner.script = (
                anchor.person.group,
                anchor.person.sex,
                anchor.person.script,
            )
            partner.pref = partner.email = None
            if partner.dob is None or partner.dob == anchor.person.dob:
                partner.dob = w.today - int(w.rng.uniform(18, 90) * 365.25)
        rec = Record(partner, partner, 0, "lookalike")
        rec.kind = kind
        together = min(w.now - 2 * DAY, anchor.created + 60 + int(rng.random() * 900))
        born = (partner.dob - EPOCH_ORDINAL) * DAY if partner.dob is not None else start
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


def _merge_and_archive(w: World, records: list[Record]) -> None:
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
        chance = (
            0.1
            if rec.role == "duplicate"
            else 0.03 + 0.07 * (w.now - rec.created) / (HISTORY_YEARS * 365.25 * DAY)
        )
        if rng.random() < chance and rec.created < w.now - 2 * DAY:
            rec.archived = rec.created + DAY + int(rng.random() * (w.now - rec.created - 2 * DAY))


def _finish(
    w: World,
    size: int,
    seed: int,
    records: list[Record],
    look_pairs: list[tuple[Record, Record, str]],
    links: bool,
) -> SampleClinic:
    rng = w.rng
    records.sort(key=lambda r: r.created)
    used: set[str] = set()
    for rec in records:
        rec.id = new_id(w, rec.created, used)
        if rec.role != "duplicate":
            rec.history = full_history(w, rec.created)
    for rec in records:
        if rec.role == "duplicate":
            assert rec.origin is not None
            rec.history = dup_history(w, rec, rec.origin)
    _merge_and_archive(w, records)
    doctors = tuple(str(FIRST_DOCTOR_ID + i) for i in range(max(3, size // 60)))
    patients: list[dict[str, Any]] = []
    history: dict[str, dict[str, int]] = {}
    persons: dict[str, str] = {}
    by_person: dict[str, list[Record]] = {}  # people with more than one record
    merged_into: dict[str, str] = {}
    duplicate_of: dict[str, str] = {}
    for rec in records:
        if rng.random() < 0.4:
            rec.updated = rec.created + int(rng.random() * 300)
        else:
            rec.updated = rec.created + int(rng.random() * (w.now - rec.created))
        if rec.merged_at is not None:  # nobody edits a record once it is merged away
            rec.updated = rec.merged_at
        elif rec.archived is not None:
            rec.updated = max(rec.updated, rec.archived)
        patient = render(w, rec, doctors, links)
        if links:
            patient.update(patient_links(rec.id))
        patients.append(patient)
        a, n, i, t = rec.history
        history[rec.id] = {"appointments": a, "treatment_notes": n, "invoices": i, "attachments": t}
        persons[rec.id] = rec.truth.pid
        if rec.origin is not None:
            duplicate_of[rec.id] = rec.origin.id
            by_person.setdefault(rec.truth.pid, [rec.origin]).append(rec)
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
        for x in by_person.get(anchor.truth.pid, (anchor,)):
            for y in by_person.get(partner.truth.pid, (partner,)):
                lookalike_pairs[frozenset((x.id, y.id))] = kind
    return SampleClinic(
        size=size,
        seed=seed,
        now=iso(w.now),
        home_region=w.home_region,
        patients=patients,
        persons=persons,
        duplicate_pairs=duplicate_pairs,
        duplicate_kinds=duplicate_kinds,
        lookalike_pairs=lookalike_pairs,
        history=history,
        merged_into=merged_into,
        duplicate_of=duplicate_of,
        name=_clinic_name(seed, w.home_region),
    )


def _clinic_name(seed: int, region: str) -> str:
    """A plausible clinic name in the home region, fixed by the seed."""
    rng = random.Random(f"mergedesk-name:{seed}")
    suburb = rng.choice(places.REGIONS[region][3])[0]
    kind = rng.choice(
        (
            "Physiotherapy",
            "Physio & Sports Injury Clinic",
            "Allied Health",
            "Osteopathy",
            "Chiropractic & Wellness",
            "Podiatry",
        )
    )
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
