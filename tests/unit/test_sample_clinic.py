"""The sample clinic: Cliniko-shaped patients, realistic data, and trustworthy ground truth."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from desktop.simulator.sample_clinic import (
    LINK_FIELDS,
    PATIENT_FIELDS,
    SampleClinic,
    generate_clinic,
    ground_truth_summary,
    patient_links,
    write_clinic_json,
)
from desktop.simulator.sample_lookalikes import LOOKALIKE_KINDS
from desktop.simulator.sample_people import medicare_check_digit
from desktop.simulator.sample_variants import DUPLICATE_KINDS, normalized_email, strip_accents

SIZE = 4000
OPENAPI = Path("/work/shared/reference/cliniko-openapi.yaml")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
EMAIL = re.compile(r"^[A-Z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Z0-9.-]+\.[A-Z]{2,63}$", re.IGNORECASE)
DVA = re.compile(r"^[NVQSWT]([A-Z ][0-9]{1,6}|[A-Z]{2}[0-9]{1,5}|[A-Z]{3}[0-9]{1,4})[A-Z]?$")
STATE_POSTCODES = {
    "NSW": ((2000, 2599), (2619, 2899), (2921, 2999)),
    "ACT": ((2600, 2618), (2900, 2920)),
    "VIC": ((3000, 3999),),
    "QLD": ((4000, 4999),),
    "SA": ((5000, 5799),),
    "WA": ((6000, 6797),),
    "TAS": ((7000, 7799),),
    "NT": ((800, 899),),
}
AREA_CODES = {
    "NSW": "2",
    "ACT": "2",
    "VIC": "3",
    "TAS": "3",
    "QLD": "7",
    "SA": "8",
    "WA": "8",
    "NT": "8",
}
STRING_FIELDS = (
    "address_1", "address_2", "address_3", "appointment_notes", "city", "country",
    "country_code", "dva_card_number", "email", "emergency_contact", "gender", "gender_identity",
    "invoice_default_to", "invoice_email", "invoice_extra_information", "label", "medicare",
    "medicare_reference_number", "notes", "occupation", "old_reference_id", "post_code",
    "preferred_first_name", "referral_source", "sex", "state", "time_zone", "title",
)  # fmt: skip
BOOL_FIELDS = (
    "accepted_email_marketing", "accepted_privacy_policy", "accepted_sms_marketing",
    "receives_cancellation_emails", "receives_confirmation_emails",
)  # fmt: skip
ALWAYS_NULL = ("address_3", "custom_fields", "deleted_at")


@pytest.fixture(scope="module")
def clinic() -> SampleClinic:
    return generate_clinic(SIZE, seed=7)


@pytest.fixture(scope="module")
def by_id(clinic: SampleClinic) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in clinic.patients}


def _fingerprint(clinic: SampleClinic) -> str:
    data = {
        "patients": clinic.patients,
        "persons": clinic.persons,
        "history": clinic.history,
        "dups": sorted((sorted(p), k) for p, k in clinic.duplicate_kinds.items()),
        "looks": sorted((sorted(p), k) for p, k in clinic.lookalike_pairs.items()),
        "merged": clinic.merged_into,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _phones(p: dict[str, Any]) -> set[str]:
    return {n["normalized_number"] for n in p["patient_phone_numbers"]}


def _shared_evidence(a: dict[str, Any], b: dict[str, Any]) -> int:
    shared = 0
    if a["date_of_birth"] and a["date_of_birth"] == b["date_of_birth"]:
        shared += 1
    if _phones(a) & _phones(b):
        shared += 1
    if a["email"] and normalized_email(a["email"]) == normalized_email(b["email"]):
        shared += 1
    if (
        a["medicare"]
        and b["medicare"]
        and (a["medicare"].replace(" ", "")[:9] == b["medicare"].replace(" ", "")[:9])
    ):
        shared += 1
    return shared


# ----- size, ids, determinism ------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2, 9, 10, 19, 20, 57, 333, 1000])
def test_size_is_exact_and_ids_unique(size: int) -> None:
    clinic = generate_clinic(size, seed=3)
    ids = [p["id"] for p in clinic.patients]
    assert len(ids) == size == len(set(ids)) == len(clinic.persons) == len(clinic.history)
    assert set(clinic.persons) == set(ids)


def test_negative_size_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate_clinic(-1)


def test_ids_are_18_or_19_digit_strings_growing_with_creation(clinic: SampleClinic) -> None:
    ids = [p["id"] for p in clinic.patients]
    assert all(isinstance(i, str) and i.isdigit() and 18 <= len(i) <= 19 for i in ids)
    created = [p["created_at"] for p in clinic.patients]
    assert created == sorted(created)  # Cliniko's default order
    ordered = sum(int(a) < int(b) for a, b in pairwise(ids))
    assert ordered / (len(ids) - 1) > 0.99


def test_same_size_and_seed_give_the_same_clinic(clinic: SampleClinic) -> None:
    assert _fingerprint(generate_clinic(SIZE, seed=7)) == _fingerprint(clinic)
    other = generate_clinic(SIZE, seed=8)
    assert _fingerprint(other) != _fingerprint(clinic)
    assert other.patients[0] != clinic.patients[0]


def test_deterministic_across_processes_and_hash_seeds() -> None:
    code = (
        "import hashlib, json\n"
        "from desktop.simulator.sample_clinic import generate_clinic\n"
        "c = generate_clinic(600, seed=11)\n"
        "print(hashlib.sha256(json.dumps([c.patients, c.history, c.persons,"
        " sorted(sorted(p) for p in c.duplicate_pairs)], sort_keys=True).encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "4242"):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
            cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_global_random_state_is_untouched() -> None:
    import random

    random.seed(99)
    expected = random.random()
    random.seed(99)
    generate_clinic(300, seed=5)
    assert random.random() == expected


# ----- shape and types -------------------------------------------------------------------


def test_every_patient_has_exactly_the_schema_fields(clinic: SampleClinic) -> None:
    for patient in clinic.patients:
        assert tuple(patient) == PATIENT_FIELDS


@pytest.mark.skipif(not OPENAPI.exists(), reason="Cliniko OpenAPI reference not available")
def test_fields_match_the_openapi_patient_schema() -> None:
    text = OPENAPI.read_text(encoding="utf-8")
    start = text.index("\n    Patient:\n      type: object\n      properties:\n")
    end = text.index("\n      x-tags:", start)
    fields = re.findall(r"^        (\w+):$", text[start:end], re.MULTILINE)
    assert len(fields) > 50 and set(fields) == set(PATIENT_FIELDS)


def test_without_links_only_the_id_derived_links_are_left_out() -> None:
    full, lean = generate_clinic(300, seed=2), generate_clinic(300, seed=2, links=False)
    for a, b in zip(full.patients, lean.patients, strict=True):
        assert set(a) - set(b) == set(LINK_FIELDS)
        assert {k: v for k, v in a.items() if k not in LINK_FIELDS} == b


def test_field_types(clinic: SampleClinic, by_id: dict[str, dict[str, Any]]) -> None:
    for p in clinic.patients:
        for name in STRING_FIELDS:
            assert p[name] is None or (isinstance(p[name], str) and p[name]), (name, p[name])
        for name in BOOL_FIELDS:
            assert p[name] in (True, False, None)
        for name in ALWAYS_NULL:
            assert p[name] is None
        assert isinstance(p["first_name"], str) and p["first_name"].strip() == p["first_name"]
        assert isinstance(p["last_name"], str) and p["last_name"]
        assert p["label"] == f"{p['first_name']} {p['last_name']}"
        for name in ("created_at", "updated_at"):
            assert TIMESTAMP.match(p[name])
        for name in ("archived_at", "merged_at"):
            assert p[name] is None or TIMESTAMP.match(p[name])
        assert p["updated_at"] >= p["created_at"]
        if p["archived_at"]:
            assert p["created_at"] < p["archived_at"] <= p["updated_at"] <= clinic.now
        if p["date_of_birth"] is not None:
            born = date.fromisoformat(p["date_of_birth"])
            assert born.isoformat() <= p["created_at"][:10]
        assert p["reminder_type"] in (None, "None", "SMS", "Email", "SMS & Email")
        if p["email"] is not None:
            assert EMAIL.match(p["email"]), p["email"]
        if p["dva_card_number"] is not None:
            assert DVA.match(p["dva_card_number"]), p["dva_card_number"]
        if p["pronouns"] is not None:
            assert set(p["pronouns"]) == {
                "accusative",
                "nominative",
                "predicative_possessive",
                "pronominal_possessive",
                "reflexive",
            }
        assert p["sex"] in (None, "Male", "Female")
        if p["country_code"] is not None:
            assert p["country_code"] == "AU"


def test_links_are_relative_and_point_at_real_records(
    clinic: SampleClinic, by_id: dict[str, dict[str, Any]]
) -> None:
    for p in clinic.patients:
        assert p["links"] == {"self": f"/patients/{p['id']}"}
        for name in LINK_FIELDS:
            assert p[name] == patient_links(p["id"])[name]
        for name, prefix in (
            ("concession_type", "/concession_types/"),
            ("referring_doctor", "/contacts/"),
            ("latest_booking", "/bookings/"),
        ):
            if p[name] is not None:
                target = p[name]["links"]["self"]
                assert target.startswith(prefix) and target[len(prefix) :].isdigit()
        if p["merged_with_patient"] is not None:
            target = p["merged_with_patient"]["links"]["self"]
            assert target.startswith("/patients/") and target[10:] in by_id
    absolute = patient_links("42", "http://127.0.0.1:9/v1")
    assert absolute["links"]["self"] == "http://127.0.0.1:9/v1/patients/42"
    assert absolute["attendees"]["links"]["self"].endswith("patient_id%3A%3D42")


def test_phone_numbers(clinic: SampleClinic) -> None:
    formats: Counter[str] = Counter()
    for p in clinic.patients:
        for phone in p["patient_phone_numbers"]:
            assert set(phone) == {"number", "phone_type", "normalized_number"}
            assert phone["phone_type"] in ("Fax", "Home", "Mobile", "Other", "Work")
            digits = re.sub(r"\D", "", phone["number"])
            national = "0" + digits[2:] if digits.startswith("61") else digits
            assert len(national) == 10 and national[:2] in ("02", "03", "04", "07", "08")
            assert phone["normalized_number"] == "61" + national[1:]
            formats[re.sub(r"\d", "9", phone["number"])] += 1
            if national[1] != "4" and p["state"] and phone["phone_type"] == "Home":
                pass  # a landline may predate a move interstate
    for shape in (
        "9999 999 999",
        "9999999999",
        "+99 999 999 999",
        "(99) 9999 9999",
        "(99) 9999 9999",
        "99 9999 9999",
    ):
        assert formats[shape] > 0, shape
    with_phone = sum(1 for p in clinic.patients if p["patient_phone_numbers"])
    assert with_phone / len(clinic.patients) > 0.85


def test_landline_area_codes_match_the_state_for_most_people(clinic: SampleClinic) -> None:
    checked = matching = 0
    for p in clinic.patients:
        for phone in p["patient_phone_numbers"]:
            n = phone["normalized_number"]
            if p["state"] and n[2] != "4":
                checked += 1
                matching += n[2] == AREA_CODES[p["state"]]
    assert checked > 100 and matching / checked > 0.9


def test_medicare_numbers_pass_the_check_digit(clinic: SampleClinic) -> None:
    numbers = [p for p in clinic.patients if p["medicare"]]
    assert 0.35 < len(numbers) / len(clinic.patients) < 0.7
    for p in numbers:
        digits = p["medicare"].replace(" ", "")
        assert len(digits) == 10 and digits.isdigit()
        assert digits[0] in "23456"
        assert int(digits[8]) == medicare_check_digit(digits)
        assert p["medicare_reference_number"] in tuple("123456789")
    assert all(
        p["medicare_reference_number"] is None for p in clinic.patients if p["medicare"] is None
    )


def test_known_medicare_check_digit() -> None:
    assert medicare_check_digit("29503910") == (2 + 27 + 35 + 0 + 3 + 27 + 7 + 0) % 10


def test_addresses_are_consistent(clinic: SampleClinic) -> None:
    with_address = [p for p in clinic.patients if p["address_1"]]
    assert 0.6 < len(with_address) / len(clinic.patients) < 0.9
    for p in with_address:
        assert p["city"] and p["state"] in STATE_POSTCODES and p["country_code"] == "AU"
        code = int(p["post_code"])
        assert len(p["post_code"]) == 4
        assert any(lo <= code <= hi for lo, hi in STATE_POSTCODES[p["state"]]), p
        assert re.match(r"^\d+[A-Z]?(/\d+)? \S", p["address_1"]) or "/" in p["address_1"]
    home = Counter(p["state"] for p in with_address).most_common(1)[0][1]
    assert home / len(with_address) > 0.8  # a clinic draws from its own city


def test_names_look_australian(clinic: SampleClinic) -> None:
    big = generate_clinic(12000, seed=1, links=False)
    last = Counter(p["last_name"] for p in big.patients)
    first = Counter(p["first_name"] for p in big.patients)
    top = [name for name, _ in last.most_common(12)]
    assert top[0] == "Smith" and {"Jones", "Williams", "Brown"} <= set(top)
    assert 0.005 < last["Smith"] / len(big.patients) < 0.02
    assert len(last) > 2000 and len(first) > 500  # a long tail of rare names
    assert sum(c for n, c in last.items() if "-" in n) > 50  # hyphenated / double-barrelled
    assert any("'" in n for n in last)  # O'Brien
    assert any(n in last for n in ("Nguyen", "Li", "Wang", "Singh", "Patel"))
    names = list(first) + list(last)
    assert any(c in "éëïüöñçłśńóą" for n in names for c in n)  # accents: Zoë, José
    assert any(ord(c) > 0x3000 for n in names for c in n)  # Chinese characters
    assert any("\u0370" <= c <= "\u03ff" for n in names for c in n)  # Greek
    assert any(n in first for n in ("Zoë", "Chloé", "José", "Renée"))


def test_dates_of_birth_ages_and_sex(clinic: SampleClinic) -> None:
    now = date.fromisoformat(clinic.now[:10])
    ages = [
        (now - date.fromisoformat(p["date_of_birth"])).days / 365.25
        for p in clinic.patients
        if p["date_of_birth"]
    ]
    assert len(ages) / len(clinic.patients) > 0.85
    assert min(ages) >= 0 and max(ages) < 97
    assert sum(a < 18 for a in ages) / len(ages) > 0.08
    assert sum(a > 75 for a in ages) / len(ages) > 0.03
    sexes = Counter(p["sex"] for p in clinic.patients)
    assert sexes["Female"] > sexes["Male"] > 0 and sexes[None] > 0


def test_created_over_eight_years_and_about_8_percent_archived(clinic: SampleClinic) -> None:
    created = sorted(p["created_at"] for p in clinic.patients)
    first, last = date.fromisoformat(created[0][:10]), date.fromisoformat(created[-1][:10])
    assert 7.5 < (last - first).days / 365.25 <= 8.01
    assert created[-1] <= clinic.now
    archived = sum(1 for p in clinic.patients if p["archived_at"])
    assert 0.06 < archived / len(clinic.patients) < 0.10
    imported = [p for p in clinic.patients if p["old_reference_id"]]
    assert imported and all(p["created_at"][:10] == created[0][:10] for p in imported)


# ----- ground truth ----------------------------------------------------------------------


def test_duplicates_proportion_kinds_and_clusters(clinic: SampleClinic) -> None:
    people = Counter(clinic.persons.values())
    extra = len(clinic.patients) - len(people)
    assert 0.06 <= extra / len(clinic.patients) <= 0.08
    sizes = Counter(people.values())
    assert sizes[3] > 0 and max(sizes) == 3
    expected_pairs = sum(n * (n - 1) // 2 for n in people.values())
    assert len(clinic.duplicate_pairs) == expected_pairs
    assert set(clinic.duplicate_kinds) == clinic.duplicate_pairs
    kinds = Counter(clinic.duplicate_kinds.values())
    assert set(kinds) == {k for k, _ in DUPLICATE_KINDS} | {"cluster"}
    for kind, weight in DUPLICATE_KINDS:  # each kind near its planned share
        assert kinds[kind] >= (0.2 * weight * extra if weight >= 0.04 else 1), kind
    for pair in clinic.duplicate_pairs:
        a, b = pair
        assert clinic.persons[a] == clinic.persons[b]


def test_duplicates_are_created_after_their_originals(
    clinic: SampleClinic, by_id: dict[str, dict[str, Any]]
) -> None:
    assert len(clinic.duplicate_of) == len(clinic.patients) - len(set(clinic.persons.values()))
    for dup, original in clinic.duplicate_of.items():
        assert by_id[dup]["created_at"] > by_id[original]["created_at"]
        assert clinic.persons[dup] == clinic.persons[original]
        assert original not in clinic.duplicate_of


def test_every_duplicate_keeps_evidence(
    clinic: SampleClinic, by_id: dict[str, dict[str, Any]]
) -> None:
    for dup, original in clinic.duplicate_of.items():
        a, b = by_id[original], by_id[dup]
        kind = clinic.duplicate_kinds[frozenset((dup, original))]
        assert _shared_evidence(a, b) >= 1, (kind, a["label"], b["label"])
        if kind == "sparse_phone_assistant":
            assert b["date_of_birth"] is None and b["email"] is None and b["address_1"] is None
            assert len(b["patient_phone_numbers"]) == 1 and _phones(a) & _phones(b)
        if kind in ("nickname", "middle_name_in_first", "preferred_name_as_first"):
            assert a["last_name"] == b["last_name"] and a["first_name"] != b["first_name"]
        if kind == "typo":
            assert (a["first_name"] == b["first_name"]) != (a["last_name"] == b["last_name"])
        if kind == "accent_dropped":
            assert (
                (strip_accents(a["first_name"]), strip_accents(a["last_name"]))
                == (b["first_name"], b["last_name"])
                != (a["first_name"], a["last_name"])
            )
        if kind == "swapped_names":
            assert (a["first_name"], a["last_name"]) == (b["last_name"], b["first_name"])
        if kind == "dob_day_month_swap":
            y1, m1, d1 = a["date_of_birth"].split("-")
            assert b["date_of_birth"] == f"{y1}-{d1}-{m1}"
        if kind == "email_variant":
            assert a["email"] != b["email"]
            assert normalized_email(a["email"]) == normalized_email(b["email"])
        if kind in ("hyphenated_surname", "changed_surname"):
            assert a["first_name"] == b["first_name"] and a["last_name"] != b["last_name"]
        if kind == "new_phone":
            assert a["date_of_birth"] == b["date_of_birth"]


def test_merged_duplicates_are_archived_and_point_at_their_survivor(
    clinic: SampleClinic, by_id: dict[str, dict[str, Any]]
) -> None:
    assert clinic.merged_into
    for gone, survivor in clinic.merged_into.items():
        p = by_id[gone]
        assert p["merged_at"] and p["archived_at"] == p["merged_at"]
        assert p["merged_with_patient"] == {"links": {"self": f"/patients/{survivor}"}}
        assert p["merged_at"] > by_id[survivor]["created_at"]
        assert clinic.persons[gone] == clinic.persons[survivor]
        assert survivor not in clinic.merged_into
        assert clinic.history[gone] == dict.fromkeys(
            ("appointments", "treatment_notes", "invoices", "attachments"), 0
        )
    merged_flags = {p["id"] for p in clinic.patients if p["merged_at"]}
    assert merged_flags == set(clinic.merged_into)
    assert clinic.merged_pairs <= clinic.duplicate_pairs
    assert clinic.open_duplicate_pairs == clinic.duplicate_pairs - {
        pair for pair in clinic.duplicate_pairs if pair & set(clinic.merged_into)
    }


def test_lookalikes_are_different_people_of_the_planned_kinds(
    clinic: SampleClinic, by_id: dict[str, dict[str, Any]]
) -> None:
    kinds = Counter(clinic.lookalike_pairs.values())
    assert set(kinds) == {k for k, _ in LOOKALIKE_KINDS}
    partners = {clinic.persons[i] for pair in clinic.lookalike_pairs for i in pair}
    assert 0.025 < len(partners) / 2 / len(clinic.patients) < 0.05
    for pair, kind in clinic.lookalike_pairs.items():
        a, b = (by_id[i] for i in sorted(pair))
        assert clinic.persons[a["id"]] != clinic.persons[b["id"]]
        assert pair not in clinic.duplicate_pairs
        if a["id"] in clinic.duplicate_of or b["id"] in clinic.duplicate_of:
            continue  # a duplicate of one of them: the damage may hide the likeness
        if kind == "twins":
            assert a["date_of_birth"] == b["date_of_birth"] and a["last_name"] == b["last_name"]
            assert a["first_name"] != b["first_name"]
        elif kind in ("parent_child_same_name", "common_name"):
            assert (a["first_name"], a["last_name"]) == (b["first_name"], b["last_name"])
            assert a["date_of_birth"] != b["date_of_birth"]
        if kind == "parent_child_same_name":
            gap = abs(int(a["date_of_birth"][:4]) - int(b["date_of_birth"][:4]))
            assert 18 <= gap <= 41
        if kind == "household":
            assert _phones(a) & _phones(b) and a["email"] == b["email"]
            assert a["first_name"] != b["first_name"]


def test_history_counts(clinic: SampleClinic) -> None:
    keys = {"appointments", "treatment_notes", "invoices", "attachments"}
    for counts in clinic.history.values():
        assert set(counts) == keys and all(isinstance(v, int) and v >= 0 for v in counts.values())
    dups = set(clinic.duplicate_of)
    originals = [clinic.history[i]["appointments"] for i in clinic.persons if i not in dups]
    extras = [clinic.history[i]["appointments"] for i in dups if i not in clinic.merged_into]
    assert sum(originals) / len(originals) > 1.3 * sum(extras) / len(extras)
    assert sorted(extras)[len(extras) // 2] < sorted(originals)[len(originals) // 2]
    survivors = set(clinic.merged_into.values())
    for dup in dups - survivors:
        if clinic.duplicate_kinds[frozenset((dup, clinic.duplicate_of[dup]))] == (
            "sparse_phone_assistant"
        ):
            assert clinic.history[dup]["appointments"] <= 1
    assert any(
        clinic.history[d]["appointments"] > clinic.history[o]["appointments"]
        for d, o in clinic.duplicate_of.items()
    )  # some patients kept the new record


def test_summary_and_json_file(clinic: SampleClinic, tmp_path: Path) -> None:
    summary = ground_truth_summary(clinic)
    assert summary["records"] == SIZE and summary["name"] == clinic.name
    assert summary["duplicate_pairs"] == len(clinic.duplicate_pairs)
    assert sum(summary["duplicate_kinds"].values()) == len(clinic.duplicate_pairs)
    assert sum(summary["lookalike_kinds"].values()) == len(clinic.lookalike_pairs)
    path = tmp_path / "clinic.json"
    write_clinic_json(clinic, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["patients"] == clinic.patients
    assert {frozenset(d["ids"]) for d in data["duplicate_pairs"]} == clinic.duplicate_pairs
    assert data["summary"] == summary


def test_generation_is_fast() -> None:
    started = time.process_time()
    generate_clinic(10000, seed=4)
    assert time.process_time() - started < 3.0  # about 0.25 s on a quiet machine


def test_iso_timestamps_match_strftime() -> None:
    from desktop.simulator.sample_records import iso

    for seconds in (0, 59, 86_399, 86_400, 951_782_400, 1_700_000_123, 1_798_761_599):
        assert iso(seconds) == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
