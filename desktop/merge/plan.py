"""The merge plan: who survives, and which value each differing field ends with.

Pure functions, no I/O. Records are patients in Cliniko's JSON shape (as the cache keeps them).

Typical use::

    survivor_id = suggest_survivor(records, counts)
    choices = default_reconciliation(records[survivor_id], records[dup_id])
    plan.decisions = {c.field: c.chosen for c in choices}
    body = changed_fields(plan, fresh_survivor)   # what the PATCH must send
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.fields import PATIENT_FIELDS, fields_normalised_as, patient_field_names
from desktop.matching.normalise import phone_e164

PHONES = "patient_phone_numbers"
# Link fields: read as {"links": {"self": ".../<id>"}}, written as "<name>_id".
LINK_FIELDS: dict[str, str] = {
    name: PATIENT_FIELDS[name].link_of for name in patient_field_names(writable=True)
    if PATIENT_FIELDS[name].link_of
}  # fmt: skip
# Every field a PATCH /patients/{id} may set (reference §5), in the order the UI shows them.
WRITABLE_FIELDS: tuple[str, ...] = patient_field_names(writable=True)
# Marketing consents: a "No" on any record is kept (the patient may have opted out there).
CONSENT_FIELDS = frozenset(patient_field_names(consent=True))
# Text fields compared without regard to letter case.
CASELESS_FIELDS = fields_normalised_as("email")
# Card numbers compared without their spaces and dashes ("5999 78061 4" is "5999780614").
SPACELESS_FIELDS = fields_normalised_as("medicare")

# FieldChoice.reason values.
KEEP_SURVIVOR = "kept the surviving record's value"
FILL_BLANK = "the surviving record had no value; filled from the duplicate"
PHONE_UNION = "kept every distinct phone number (the surviving record's first)"
KEEP_REFUSAL = "kept No: the patient did not accept it on one of the records"


@dataclass(frozen=True)
class FieldChoice:
    """One field that differs between the survivor and a duplicate, and the value chosen.

    ``other_values`` are the other records' values, each once (in a group of three, "(blank)"
    and "Subiaco" where one other record agrees with the survivor); ``options`` are the
    distinct values the administrator can pick from (survivor's first).
    """

    field: str
    survivor_value: Any
    other_values: tuple[Any, ...]
    chosen: Any
    reason: str
    options: tuple[Any, ...] = ()


@dataclass
class MergePlan:
    """What one guided merge will do.

    Attributes:
        plan_id: a random hex id.
        patient_ids: the pair (or cluster) being merged, sorted.
        survivor_id: the record that stays (None until chosen).
        duplicate_ids: the records Cliniko will merge into the survivor.
        decisions: field -> the value the survivor should end with (only differing fields).
        base_values: field -> the survivor's value when the decision was made (to notice
            edits made in Cliniko in the meantime).
        created_at, updated_at: ISO 8601 UTC.
    """

    plan_id: str
    patient_ids: tuple[str, ...]
    survivor_id: str | None = None
    duplicate_ids: tuple[str, ...] = ()
    decisions: dict[str, Any] = field(default_factory=dict)
    base_values: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""

    @property
    def pair_key(self) -> str:
        """The sorted ids joined by ``:`` (one open plan per key)."""
        return pair_key(self.patient_ids)


def pair_key(ids: Sequence[str]) -> str:
    """The canonical key of a pair or cluster: sorted distinct ids joined by ``:``."""
    return ":".join(sorted({str(i) for i in ids}))


# ----------------------------------------------------------------------------- survivor


def clinical_history(counts: Mapping[str, int] | None) -> int:
    """Appointments + treatment notes + invoices (attachments do not count); 0 if unknown."""
    if not counts:
        return 0
    return sum(int(counts.get(k) or 0) for k in ("appointments", "treatment_notes", "invoices"))


def history_items(count: int) -> str:
    """A record's clinical history in words: "1 item of history", "30 items of history"."""
    return f"{count} item{'s' if count != 1 else ''} of history"


def more_history(theirs: int, ours: int) -> str:
    """A record to be merged away against the one that stays, in words: "3 items of history
    (appointments, treatment notes and invoices) against 1"."""
    return f"{history_items(theirs)} (appointments, treatment notes and invoices) against {ours}"


def suggest_survivor(
    records: Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]],
    history_counts: Mapping[str, Mapping[str, int] | None] | None = None,
) -> str:
    """The id of the record that should survive: more clinical history, then the older one.

    Args:
        records: patients by id (or a list of patients with ``id``).
        history_counts: id -> counts as returned by ``ClinikoClient.history_counts``; missing
            or None counts as no history.
    """
    items = list(records.values()) if isinstance(records, Mapping) else list(records)
    if not items:
        raise ValueError("no records to choose from")
    counts = history_counts or {}

    def rank(p: Mapping[str, Any]) -> tuple[int, str, str]:
        pid = str(p["id"])
        created = str(p.get("created_at") or "9999")
        return (-clinical_history(counts.get(pid)), created, pid.zfill(20))

    return str(min(items, key=rank)["id"])


# ----------------------------------------------------------------------------- values


def is_blank(value: Any) -> bool:
    """None, an empty or whitespace-only string, or an empty list/dict."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict | tuple):
        return not value
    return False


def _link_id(value: Any) -> str | None:
    if isinstance(value, dict):
        url = (value.get("links") or {}).get("self")
        if isinstance(url, str) and url:
            return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
    return None


def link_addresses(records: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """(link field, id) -> the address of the record it points at, for every link the
    ``records`` hold: ("concession_type_id", "11...2") -> ".../concession_types/11...2"."""
    out: dict[tuple[str, str], str] = {}
    for record in records:
        for name, read_name in LINK_FIELDS.items():
            link = record.get(read_name)
            target = _link_id(link)
            if target is not None and isinstance(link, dict):
                out.setdefault((name, target), link["links"]["self"])
    return out


def field_value(record: Mapping[str, Any], name: str) -> Any:
    """A writable field's value as a PATCH would send it (links become ids, phones bare)."""
    if name in LINK_FIELDS:
        if name in record:
            return None if record[name] is None else str(record[name])
        return _link_id(record.get(LINK_FIELDS[name]))
    if name == PHONES:
        return [
            {"number": p.get("number"), "phone_type": p.get("phone_type") or "Other"}
            for p in record.get(PHONES) or []
            if isinstance(p, Mapping) and not is_blank(p.get("number"))
        ]
    return record.get(name)


def _phone_key(number: Any, country: str) -> str:
    text = str(number or "")
    return phone_e164(text, country or "AU") or "".join(ch for ch in text if ch.isdigit())


def canonical(name: str, value: Any, country: str = "AU") -> Any:
    """A comparable form of a field value: blanks are None, text trimmed, phones normalised,
    emails caseless, card numbers without spaces."""
    if is_blank(value):
        return None
    if name == PHONES:
        return sorted({_phone_key(p.get("number"), country) for p in value})
    if isinstance(value, str):
        text = value.strip()
        if name in SPACELESS_FIELDS:
            return "".join(ch for ch in text if not ch.isspace() and ch != "-")
        return text.casefold() if name in CASELESS_FIELDS else text
    return value


def _country(record: Mapping[str, Any]) -> str:
    return str(record.get("country_code") or "AU")


def same_value(name: str, a: Any, b: Any, country: str = "AU") -> bool:
    """True when two values of a field mean the same (phones compared normalised)."""
    return bool(canonical(name, a, country) == canonical(name, b, country))


def union_phones(
    survivor: Sequence[Mapping[str, Any]], *others: Sequence[Mapping[str, Any]], country: str = "AU"
) -> list[dict[str, Any]]:
    """Every distinct phone number (normalised), the survivor's first, in order."""
    seen: set[str] = set()
    result: list[dict[str, Any]] = []
    for phones in (survivor, *others):
        for phone in phones:
            key = _phone_key(phone.get("number"), country)
            if key and key not in seen:
                seen.add(key)
                result.append({"number": phone["number"], "phone_type": phone["phone_type"]})
    return result


# ----------------------------------------------------------------------------- reconcile


def default_reconciliation(
    survivor: Mapping[str, Any], *duplicates: Mapping[str, Any]
) -> list[FieldChoice]:
    """One :class:`FieldChoice` for every writable field that differs, with the default value.

    Defaults: keep the survivor's value; fill its blanks from the first duplicate that has one;
    keep every distinct phone number (the survivor's first); keep a marketing consent's "No"
    from any record. Read-only fields are never listed.
    """
    if not duplicates:
        raise ValueError("give at least one duplicate")
    country = _country(survivor)
    choices: list[FieldChoice] = []
    for name in WRITABLE_FIELDS:
        mine = field_value(survivor, name)
        theirs = [field_value(d, name) for d in duplicates]
        differing = [v for v in theirs if not same_value(name, mine, v, country)]
        if name == PHONES:
            union = union_phones(mine, *theirs, country=country)
            if same_value(name, mine, union, country):
                continue
            options = _options(name, mine, union, *theirs)
            others = _options(name, *theirs)
            choices.append(FieldChoice(name, mine, others, union, PHONE_UNION, options))
            continue
        if not differing:
            continue
        if name in CONSENT_FIELDS and mine is not False and False in differing:
            chosen, reason = False, KEEP_REFUSAL
        elif is_blank(mine):
            chosen, reason = next(v for v in differing if not is_blank(v)), FILL_BLANK
        else:
            chosen, reason = mine, KEEP_SURVIVOR
        others = _options(name, *theirs)
        choices.append(
            FieldChoice(name, mine, others, chosen, reason, _options(name, mine, *theirs))
        )
    return choices


def _name_part(record: Mapping[str, Any], name: str) -> str:
    value = field_value(record, name)
    return " ".join(value.casefold().split()) if isinstance(value, str) else ""


def swapped_names(
    survivor: Mapping[str, Any], *duplicates: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The first of ``duplicates`` whose first and last names are the survivor's the other way
    round ("Martin Sophie" for "Sophie Martin"), or None. The default keeps the survivor's
    order, which may be the wrong one."""
    first, last = _name_part(survivor, "first_name"), _name_part(survivor, "last_name")
    if not first or not last or first == last:
        return None
    return next(
        (
            d
            for d in duplicates
            if _name_part(d, "first_name") == last and _name_part(d, "last_name") == first
        ),
        None,
    )


def _options(name: str, *values: Any) -> tuple[Any, ...]:
    found: list[Any] = []
    for value in values:
        if not any(same_value(name, value, seen) for seen in found):
            found.append(value)
    return tuple(found)


def decisions_from(choices: Sequence[FieldChoice]) -> dict[str, Any]:
    """field -> chosen value, from a reconciliation."""
    return {c.field: c.chosen for c in choices}


def changed_fields(plan: MergePlan, survivor: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body: only decided fields whose value differs from the survivor's now."""
    country = _country(survivor)
    body: dict[str, Any] = {}
    for name in WRITABLE_FIELDS:
        if name not in plan.decisions:
            continue
        wanted = plan.decisions[name]
        if not same_value(name, field_value(survivor, name), wanted, country):
            body[name] = wanted
    return body


def fields_sha256(record: Mapping[str, Any], names: Sequence[str]) -> str:
    """SHA-256 of the canonical JSON of some fields of a record (as a PATCH would send them)."""
    return values_sha256({n: field_value(record, n) for n in names}, _country(record))


def values_sha256(values: Mapping[str, Any], country: str = "AU") -> str:
    """SHA-256 of ``{field: canonical(value)}`` in canonical JSON."""
    data = {name: canonical(name, value, country) for name, value in values.items()}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def stale_fields(plan: MergePlan, survivor: Mapping[str, Any]) -> list[str]:
    """Decided fields the survivor changed (in Cliniko) since the plan was made, to another
    value than the one chosen."""
    country = _country(survivor)
    stale = []
    for name, base in plan.base_values.items():
        now = field_value(survivor, name)
        if not same_value(name, now, base, country) and not same_value(
            name, now, plan.decisions.get(name), country
        ):
            stale.append(name)
    return stale
