"""The simulated clinic's data: patients, who owns which history, cached list orderings.

Every public method takes the lock, so the HTTP threads and the test thread can share one state.
Sorted id lists are cached per (filters, sort) and dropped on any write, so paging through
100k patients costs one scan for the first page and a slice for every later one.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from desktop.simulator import history
from desktop.simulator.patients import (
    DATA_FIELDS,
    TIMESTAMPS,
    NotAPatient,
    clean_phones,
    make_label,
    normalize_patient,
)
from desktop.simulator.query import (
    Clock,
    Filter,
    bump_time,
    canonical_datetime,
    format_time,
    sort_records,
    utc_now,
)

Record = dict[str, Any]
_CACHE_LIMIT = 64
_FIXED = ("id", "created_at", "updated_at")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: building 100k nested dicts otherwise runs many full collections."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class NotFound(LookupError):
    """No such patient."""


class MergeError(ValueError):
    """A merge that Cliniko would refuse (unknown ids, merging into itself, already merged)."""


class ClinicState:
    """Thread-safe in-memory store for one simulated Cliniko account."""

    def __init__(
        self,
        patients: Iterable[Mapping[str, Any]],
        history_counts: Mapping[str, Mapping[str, int]] | None = None,
        seed: int = 1,
        clock: Clock = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.clock = clock  # every stamp the clinic writes reads this
        now = self.now()
        self._patients: dict[str, Record] = {}
        with gc_paused():
            for position, raw in enumerate(patients):
                try:
                    record = normalize_patient(raw, now)
                    int(record["id"])  # Cliniko's ids are numbers
                except (AttributeError, TypeError, ValueError) as error:
                    raise NotAPatient(
                        f"patient #{position} (id {raw.get('id')!r}) is not in Cliniko's "
                        f"shape: {error}"
                    ) from error
                self._patients[record["id"]] = record
        self._counts: dict[str, dict[str, int]] = {
            str(k): dict(v) for k, v in (history_counts or {}).items()
        }
        self._explicit_history = history_counts is not None
        self._next_id = max((int(i) for i in self._patients), default=1000) + 1
        self._list_cache: dict[tuple[Any, ...], list[str]] = {}
        self._by_id: list[str] | None = None
        self._history_cache: dict[tuple[str, str], list[Record]] = {}
        # Clinic-wide history listings (no patient filter), sorted, per (kind, filters, sort):
        # paging through them costs one pass over every patient, not one per page.
        self._wide_cache: dict[tuple[Any, ...], list[Record]] = {}
        self._owner: dict[str, dict[str, str]] = {k: {} for k in history.KINDS}
        self._adopted: dict[str, dict[str, list[str]]] = {k: {} for k in history.KINDS}
        self._moved_at: dict[tuple[str, str], str] = {}

    def now(self) -> str:
        """The clinic's current time, ``YYYY-MM-DDTHH:MM:SSZ``."""
        return format_time(utc_now(self.clock))

    # ----- patients -------------------------------------------------------------------------
    def __len__(self) -> int:
        with self.lock:
            return len(self._patients)

    def get(self, patient_id: str) -> Record:
        """A copy of one stored patient (archived included); NotFound if unknown."""
        with self.lock:
            record = self._patients.get(str(patient_id))
            if record is None:
                raise NotFound(patient_id)
            return dict(record)

    def _id_order(self) -> list[Record]:
        if self._by_id is None:
            self._by_id = sorted(self._patients, key=int)
        patients = self._patients
        return [patients[i] for i in self._by_id]

    def all(self) -> list[Record]:
        """Copies of every stored patient, oldest first."""
        with self.lock:
            records = sort_records(
                self._id_order(), [("created_at", False)], ["id"], presorted=True
            )
            return [dict(r) for r in records]

    def list_patients(
        self,
        filters: Sequence[Filter],
        sort: Sequence[tuple[str, bool]],
        page: int,
        per_page: int,
    ) -> tuple[list[Record], int]:
        """One page of patients matching ``filters`` in ``sort`` order, and the total."""
        key = (tuple(sorted(f.key for f in filters)), tuple(sort))
        with self.lock:
            ids = self._list_cache.get(key)
            if ids is None:
                matching = [p for p in self._id_order() if all(f.matches(p) for f in filters)]
                ordered = sort_records(matching, sort, ["id"], presorted=True)
                ids = [r["id"] for r in ordered]
                if len(self._list_cache) >= _CACHE_LIMIT:
                    self._list_cache.clear()
                self._list_cache[key] = ids
            start = (page - 1) * per_page
            return [dict(self._patients[i]) for i in ids[start : start + per_page]], len(ids)

    def _store(self, record: Record) -> None:
        if record["id"] not in self._patients:
            self._by_id = None
        self._patients[record["id"]] = record
        self._list_cache.clear()

    def apply_changes(self, patient_id: str, changes: Mapping[str, Any], *, commit: bool) -> Record:
        """PATCH semantics: apply validated ``changes``; bump updated_at if anything changed.

        With ``commit=False`` (silent write drop) the result is computed but not stored.
        """
        with self.lock:
            before = self.get(patient_id)
            after = dict(before)
            after.update(changes)
            if "first_name" in changes or "last_name" in changes:
                after["label"] = make_label(after)
            if after != before:
                after["updated_at"] = bump_time(before["updated_at"], self.clock)
                if commit:
                    self._store(after)
            return dict(after)

    def touch(self, patient_id: str, fields: Mapping[str, Any], *, bump: bool = True) -> Record:
        """An edit made in Cliniko itself: set any data fields and bump updated_at.

        ``bump=False`` (a test hook) leaves updated_at alone: drift only a full comparison finds.
        """
        with self.lock:
            record = self.get(patient_id)
            for name, value in fields.items():
                if name in _FIXED or name not in (*DATA_FIELDS, "merged_with_patient_id"):
                    raise ValueError(f"cannot touch field {name!r}")
                if name == "patient_phone_numbers":
                    value = clean_phones(value)
                elif name in TIMESTAMPS and value:
                    value = canonical_datetime(str(value))
                record[name] = value
            if ("first_name" in fields or "last_name" in fields) and "label" not in fields:
                record["label"] = make_label(record)
            if bump:
                record["updated_at"] = bump_time(record["updated_at"], self.clock)
            self._store(record)
            return dict(record)

    def add(self, raw: Mapping[str, Any]) -> Record:
        """Create a patient; id, created_at and updated_at are assigned unless given."""
        with self.lock:
            data = dict(raw)
            if data.get("id") is None:
                data["id"] = str(self._next_id)
            if str(data["id"]) in self._patients:
                raise ValueError(f"patient {data['id']} already exists")
            now = self.now()
            data.setdefault("created_at", now)
            data.setdefault("updated_at", data["created_at"])
            record = normalize_patient(data, now)
            self._next_id = max(self._next_id, int(record["id"]) + 1)
            self._counts.setdefault(record["id"], dict.fromkeys(history.KINDS.values(), 0))
            self._store(record)
            return dict(record)

    def set_archived(self, patient_id: str, archived: bool) -> Record:
        """Archive (sets archived_at) or unarchive (clears it); bumps updated_at on a change."""
        with self.lock:
            record = self.get(patient_id)
            if bool(record["archived_at"]) != archived:
                record["archived_at"] = self.now() if archived else None
                record["updated_at"] = bump_time(record["updated_at"], self.clock)
                self._store(record)
            return dict(record)

    def merge(self, survivor_id: str, duplicate_ids: Sequence[str]) -> list[Record]:
        """Cliniko's web-UI merge; returns the updated duplicates. Survivor fields are kept."""
        survivor_id = str(survivor_id)
        dup_ids = list(dict.fromkeys(str(d) for d in duplicate_ids))
        with self.lock:
            if survivor_id not in self._patients:
                raise MergeError(f"patient {survivor_id} not found")
            if not dup_ids:
                raise MergeError("choose at least one patient to merge")
            for dup in dup_ids:
                if dup == survivor_id:
                    raise MergeError("a patient cannot be merged into itself")
                if dup not in self._patients:
                    raise MergeError(f"patient {dup} not found")
                if self._patients[dup]["merged_at"]:
                    raise MergeError(f"patient {dup} has already been merged")
            now = self.now()
            merged = []
            for dup in dup_ids:
                record = dict(self._patients[dup])
                record["archived_at"] = record["archived_at"] or now
                record["merged_at"] = now
                record["merged_with_patient_id"] = survivor_id
                record["updated_at"] = bump_time(record["updated_at"], self.clock)
                self._store(record)
                for kind in history.MOVED_BY_MERGE:
                    self._move_history(kind, dup, survivor_id, now)
                merged.append(dict(record))
            return merged

    def merge_candidates(self, patient_id: str, limit: int = 50) -> list[Record]:
        """Active patients that look like ``patient_id``: same last name, birth date or email."""
        with self.lock:
            me = self.get(patient_id)
            last = (me["last_name"] or "").casefold()
            email = (me["email"] or "").casefold()
            found = []
            for p in self._patients.values():
                if p["id"] == me["id"] or p["archived_at"]:
                    continue
                if (
                    (last and (p["last_name"] or "").casefold() == last)
                    or (me["date_of_birth"] and p["date_of_birth"] == me["date_of_birth"])
                    or (email and (p["email"] or "").casefold() == email)
                ):
                    found.append(dict(p))
                    if len(found) >= limit:
                        break
            return found

    # ----- history --------------------------------------------------------------------------
    def add_appointment(self, patient_id: str, starts_at: str, created_at: str) -> Record:
        """Book an individual appointment (45 minutes) for ``patient_id``; returns it."""
        return self._add_history(
            "individual_appointments",
            patient_id,
            lambda index: history.booking(patient_id, index, starts_at, created_at),
        )

    def add_treatment_note(self, patient_id: str, written_at: str) -> Record:
        """A treatment note for ``patient_id`` written at ``written_at``; returns it."""
        return self._add_history(
            "treatment_notes",
            patient_id,
            lambda index: history.treatment_note(patient_id, index, written_at),
        )

    def _add_history(self, kind: str, patient_id: str, make: Callable[[int], Record]) -> Record:
        """Add the record ``make(index)`` to ``patient_id``'s ``kind`` history."""
        with self.lock:
            records = self._records(kind, patient_id)
            counts = self._counts.setdefault(patient_id, self.counts(patient_id))
            counts[history.KINDS[kind]] = counts.get(history.KINDS[kind], 0) + 1
            record = make(len(records))
            records.append(record)
            self._wide_cache.clear()
            return dict(record)

    def counts(self, patient_id: str) -> dict[str, int]:
        """History counts first recorded for ``patient_id`` (before any merge moved them)."""
        with self.lock:
            counts = self._counts.get(patient_id)
            if counts is None:
                if self._explicit_history:
                    return dict.fromkeys(history.KINDS.values(), 0)
                counts = history.default_counts(self.seed, patient_id)
                self._counts[patient_id] = counts
            return counts

    def _origins(self, kind: str, patient_id: str) -> list[str]:
        own = [patient_id] if self._owner[kind].get(patient_id, patient_id) == patient_id else []
        return own + self._adopted[kind].get(patient_id, [])

    def _move_history(self, kind: str, from_id: str, to_id: str, now: str) -> None:
        self._wide_cache.clear()
        origins = self._origins(kind, from_id)
        for origin in origins:
            self._owner[kind][origin] = to_id
            self._moved_at[(kind, origin)] = now
        self._adopted[kind].setdefault(to_id, []).extend(origins)
        self._adopted[kind][from_id] = []

    def _records(self, kind: str, origin: str) -> list[Record]:
        key = (kind, origin)
        cached = self._history_cache.get(key)
        if cached is None:
            count = int(self.counts(origin).get(history.KINDS[kind], 0))
            since = self._patients[origin]["created_at"]
            cached = history.generate(kind, origin, count, self.seed, since, utc_now(self.clock))
            self._history_cache[key] = cached
        return cached

    def _history_rows(
        self, kind: str, owners: Iterable[str], filters: Sequence[Filter]
    ) -> list[Record]:
        """The ``kind`` records of ``owners`` that pass ``filters``, with their owner."""
        rows = []
        for owner in owners:
            for origin in self._origins(kind, owner):
                moved = self._moved_at.get((kind, origin))
                for rec in self._records(kind, origin):
                    row = dict(rec, patient_id=owner)
                    if moved and moved > row["updated_at"]:
                        row["updated_at"] = moved
                    if all(f.matches(row) for f in filters):
                        rows.append(row)
        return rows

    def list_history(
        self,
        kind: str,
        filters: Sequence[Filter],
        sort: Sequence[tuple[str, bool]],
        page: int,
        per_page: int,
    ) -> tuple[list[tuple[Record, Record]], int]:
        """One page of ``kind`` records as (record, owning patient) pairs, and the total."""
        with self.lock:
            wanted: set[int] | None = None
            for f in filters:
                if f.field == "patient_id" and f.op == "=":
                    wanted = set(f.value) if wanted is None else wanted & set(f.value)
            wide = (kind, tuple(sorted(f.key for f in filters)), tuple(sort))
            rows = self._wide_cache.get(wide) if wanted is None else None
            if rows is None:
                if wanted is None:
                    owners: Iterable[str] = list(self._patients)
                else:
                    owners = [str(i) for i in sorted(wanted) if str(i) in self._patients]
                rows = sort_records(
                    self._history_rows(kind, owners, filters), sort, history.INT_FIELDS[kind]
                )
                if wanted is None:
                    if len(self._wide_cache) >= _CACHE_LIMIT:
                        self._wide_cache.clear()
                    self._wide_cache[wide] = rows
            start = (page - 1) * per_page
            chosen = rows[start : start + per_page]
            return [(r, dict(self._patients[r["patient_id"]])) for r in chosen], len(rows)
