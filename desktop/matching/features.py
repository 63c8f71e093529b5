"""Columnar features: every record's normalised values as integer codes in numpy arrays.

Normalisers run once per distinct raw value; each normalised value gets an integer code in a
vocabulary, so blocking and comparison work on arrays rather than on Python objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop.fields import PATIENT_FIELDS, patient_field_names
from desktop.matching import normalise as nz
from desktop.matching import text
from desktop.matching.nicknames_table import canonical_forms

# The cache's columns the matcher reads: the record's id, then the fields the registry marks
# ``matched``.
MATCH_COLUMNS: tuple[str, ...] = (
    "id",
    *(PATIENT_FIELDS[name].cache_column for name in patient_field_names(matched=True)),
)


class Vocab:
    """Strings <-> dense integer codes; code -1 stands for a missing value."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        """The code of ``value`` (new codes are handed out on first sight); -1 for ``""``."""
        if not value:
            return -1
        found = self.index.get(value)
        if found is None:
            found = len(self.values)
            self.index[value] = found
            self.values.append(value)
        return found

    def codes(self, keys: list[str]) -> list[int]:
        """Codes of many values at once (faster than :meth:`code`; call it with big batches)."""
        index = self.index
        setdefault = index.setdefault
        out = [setdefault(k, len(index)) if k else -1 for k in keys]
        if len(index) != len(self.values):
            self.values = list(index)
        return out

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class Features:
    """Normalised, integer-coded fields of a batch of records (one array entry per record)."""

    ids: list[str]
    updated_at: list[str]
    raw: dict[str, list[Any]]
    names: Vocab
    first: np.ndarray  # given name (first word of first_name), names vocab
    first_full: np.ndarray  # every word of first_name joined by spaces, names vocab
    preferred: np.ndarray  # given word of preferred_first_name, names vocab
    last: np.ndarray  # surname words run together, names vocab
    last_words: np.ndarray  # surname words with spaces (Smith-Jones -> "smith jones")
    last_phon: np.ndarray  # phonetic code of the surname, codes vocab
    first_phon: np.ndarray  # phonetic code of the given name's first canonical form
    first_canon: np.ndarray  # the given name's canonical form (nicknames), names vocab
    first_initial: np.ndarray  # code of the given name's first letter
    last_initial: np.ndarray  # code of the surname's first letter
    initials: np.ndarray  # code of both initials in either order (swapped names share it)
    dob: np.ndarray  # int YYYYMMDD, 0 when missing
    dob_typed: np.ndarray  # int YYYYMMDD of a birth date no patient has ("1173-10-29"), else 0
    sex: np.ndarray
    email: np.ndarray
    email_dotted: np.ndarray  # the email with its dots kept (own codes: compare for equality)
    medicare: np.ndarray
    irn: np.ndarray  # int 0-9, -1 when missing
    medicare_is_card: np.ndarray  # bool: a valid Medicare card number (shared by a family)
    postcode: np.ndarray
    city: np.ndarray
    address: np.ndarray
    street: np.ndarray  # the address without its house number, with the postcode, street vocab
    phone_rec: np.ndarray  # (record index, phone code) pairs, one per distinct phone
    phone_code: np.ndarray
    has_phone: np.ndarray
    created_day: np.ndarray  # days since 1970 the record was created, -1 when unknown
    vocabs: dict[str, Vocab] = field(default_factory=dict)
    _phone_starts: list[int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def phone_starts(self) -> list[int]:
        """Offsets into ``phone_code`` where each record's phones start (``n + 1`` entries)."""
        if self._phone_starts is None:
            found = np.searchsorted(self.phone_rec, np.arange(len(self.ids) + 1))
            self._phone_starts = found.tolist()
        return self._phone_starts


def _factorise(values: list[Any]) -> tuple[list[Any], np.ndarray]:
    """Distinct values (first-seen order) and each value's index among them."""
    index: dict[Any, int] = {}
    setdefault = index.setdefault
    try:
        codes = [setdefault(v, len(index)) for v in values]
    except TypeError:  # an unhashable value (a list, say): use its text instead
        index.clear()
        safe = [v if v is None or isinstance(v, str | int | float) else repr(v) for v in values]
        codes = [setdefault(v, len(index)) for v in safe]
    return list(index), np.asarray(codes, dtype=np.int64)


def _factorise_pairs(
    first: list[Any], second: list[Any]
) -> tuple[list[tuple[Any, Any]], np.ndarray]:
    """``_factorise(list(zip(first, second)))``, without a tuple per record whose ``second``
    is None and ``first`` text or None (most records: no address line 2)."""
    index: dict[Any, int] = {}
    setdefault = index.setdefault
    try:
        codes = [
            setdefault(a if b is None and (a is None or a.__class__ is str) else (a, b), len(index))
            for a, b in zip(first, second, strict=True)
        ]
    except TypeError:  # an unhashable value: as _factorise does
        return _factorise(list(zip(first, second, strict=True)))
    uniques = [k if k.__class__ is tuple else (k, None) for k in index]
    return uniques, np.asarray(codes, dtype=np.int64)


def _texts(values: list[Any]) -> list[str]:
    """Each value as text (``""`` for None), in a new list."""
    if set(map(type, values)) <= {str}:
        return list(values)
    return [_str(v) for v in values]


def _apply(
    uniques: list[Any], positions: np.ndarray, fn: Callable[[Any], str], vocab: Vocab
) -> np.ndarray:
    """Code ``fn`` of every distinct value, then spread the codes back to the records."""
    try:
        keys = [fn(value) for value in uniques]
    except Exception:  # a normaliser must never stop a scan: a value it rejects is missing
        keys = [_safe(fn, value) for value in uniques]
    table = np.asarray([*vocab.codes(keys), -1], dtype=np.int32)
    return table[positions] if positions.size else np.empty(0, dtype=np.int32)


def _safe(fn: Callable[[Any], str], value: object) -> str:
    try:
        out = fn(value)
    except Exception:  # see _apply
        return ""
    return out if isinstance(out, str) else ""


def _map_column(values: list[Any], fn: Callable[[Any], str], vocab: Vocab) -> np.ndarray:
    """Normalise each distinct value once, then code every record's value."""
    uniques, positions = _factorise(values)
    return _apply(uniques, positions, fn, vocab)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _sex(value: object) -> str:
    folded = text.fold(_str(value))
    if folded in ("m", "male", "man"):
        return "m"
    if folded in ("f", "female", "woman"):
        return "f"
    return ""


def _canonical(name: str) -> str:
    if not name:
        return ""
    forms = canonical_forms(name)
    return min(forms) if forms else name


def is_active(row: dict[str, Any]) -> bool:
    """True unless a record is archived or merged into another (those never enter the queue)."""
    return not row.get("archived_at") and not row.get("merged_at")


def build_features(rows: Iterable[dict[str, Any]], country: str = "AU") -> Features:
    """Normalise and code a batch of store rows (archived and merged rows are left out).

    When an id appears more than once, its last row wins.
    """
    active = [r for r in rows if isinstance(r, dict) and is_active(r)]
    ids = [_str(r.get("id")) for r in active]
    if len(set(ids)) != len(ids):
        last = {pid: n for n, pid in enumerate(ids)}
        active = [r for n, r in enumerate(active) if last[ids[n]] == n]
    return build_features_from_columns(
        {c: [r.get(c) for r in active] for c in MATCH_COLUMNS}, country
    )


def build_features_from_columns(columns: dict[str, list[Any]], country: str = "AU") -> Features:
    """Like :func:`build_features`, from column lists of active records (missing keys: None).

    The lists are used as they are, not copied (a copy of a large clinic's columns costs tens
    of MB, and freeing it stalls other threads): leave them unchanged while the features live.
    """
    n = len(columns.get("id", ()))
    col = {c: columns[c] if c in columns else [None] * n for c in MATCH_COLUMNS}
    names, codes = Vocab(), Vocab()
    vocabs = {
        k: Vocab() for k in ("sex", "email", "medicare", "postcode", "city", "address", "street")
    }
    first_u, first_pos = _factorise(col["first_name"])
    first = _apply(first_u, first_pos, lambda v: text.given_name(_str(v)), names)
    first_full = _apply(
        first_u, first_pos, lambda v: " ".join(text.first_name_tokens(_str(v))), names
    )
    preferred = _map_column(col["preferred_first_name"], lambda v: text.given_name(_str(v)), names)
    last_u, last_pos = _factorise(col["last_name"])
    last = _apply(last_u, last_pos, lambda v: text.surname_key(_str(v)), names)
    last_words = _apply(last_u, last_pos, lambda v: " ".join(text.name_tokens(_str(v))), names)
    nvals = names.values
    last_phon = np.array(
        [codes.code(text.phonetic(nvals[c])) if c >= 0 else -1 for c in range(len(nvals))] + [-1],
        dtype=np.int32,
    )[last]
    canon_of = [names.code(_canonical(v)) for v in list(nvals)] + [-1]
    canon_arr = np.array(canon_of, dtype=np.int32)
    first_canon = canon_arr[first]
    nvals = names.values
    phon_of = np.array([codes.code(text.phonetic(v)) for v in nvals] + [-1], dtype=np.int32)
    first_phon = phon_of[first_canon]
    initial_of = np.array([codes.code("^" + v[:1]) for v in nvals] + [-1], dtype=np.int32)
    initials = _initials(initial_of[first], initial_of[last], codes)
    dob_vocab = Vocab()
    dob_values, dob_positions = _factorise(col["date_of_birth"])
    # Codes per distinct value first: only the values that are no real date are read again,
    # as typed dates.
    dob_of_value = _apply(
        dob_values, np.arange(len(dob_values)), lambda v: nz.birth_date(_str(v)), dob_vocab
    )
    dob_int = np.array([int(v) for v in dob_vocab.values] + [0], dtype=np.int64)[
        dob_of_value[dob_positions]
    ]
    rejected = [
        v if code < 0 else None for v, code in zip(dob_values, dob_of_value.tolist(), strict=True)
    ]
    typed_vocab = Vocab()
    typed_codes = _apply(
        rejected, dob_positions, lambda v: nz.typed_birth_date(_str(v)), typed_vocab
    )
    dob_typed = np.array([int(v) for v in typed_vocab.values] + [0], dtype=np.int64)[typed_codes]
    sex = _map_column(col["sex"], _sex, vocabs["sex"])
    email_u, email_pos = _factorise(col["email"])
    email = _apply(email_u, email_pos, lambda v: nz.email_key(_str(v)), vocabs["email"])
    # Dots matter only where the provider ignores them: elsewhere the folded key says it all.
    email_dotted = _apply(
        email_u,
        email_pos,
        lambda v: nz.email_key(v, fold_dots=False) if "gmail" in _str(v).lower() else "",
        Vocab(),
    )
    med_u, med_pos = _factorise_pairs(col["medicare"], col["medicare_reference_number"])
    med_parts = nz.medicare_parts_many(
        [m if isinstance(m, str) else None for m, _ in med_u], [_str(r) for _, r in med_u]
    )
    medicare = _apply(med_parts, med_pos, lambda p: p[0], vocabs["medicare"])
    irn_table = np.array([int(p[1]) if p[1] else -1 for p in med_parts] + [-1], dtype=np.int8)
    irn = irn_table[med_pos] if med_pos.size else np.empty(0, dtype=np.int8)
    med_values = vocabs["medicare"].values
    is_card = np.append(nz.medicare_valid_many(med_values), False)
    postcode = _map_column(col["post_code"], lambda v: nz.postcode_key(_str(v)), vocabs["postcode"])
    city = _map_column(col["city"], lambda v: text.fold(_str(v)), vocabs["city"])
    addr_u, addr_pos = _factorise_pairs(col["address_1"], col["address_2"])
    address = _apply(
        addr_u, addr_pos, lambda v: nz.address_key(_str(v[0]), _str(v[1])), vocabs["address"]
    )
    street = _street_codes(vocabs, address, postcode)
    phones = Vocab()
    _phone_u, phone_pos, per_value = _phone_values(col["phones"], col["country_code"], country)
    counts, flat = _spread_lists(per_value, phone_pos, phones)
    phone_rec = np.repeat(np.arange(n, dtype=np.int64), counts)
    vocabs.update(names=names, codes=codes, phones=phones, dob=dob_vocab)
    has_phone = counts > 0 if n else np.zeros(0, dtype=bool)
    rec = phone_rec
    return Features(
        ids=_texts(col["id"]),
        updated_at=_texts(col["updated_at"]),
        raw=col,
        names=names,
        first=first,
        first_full=first_full,
        preferred=preferred,
        last=last,
        last_words=last_words,
        last_phon=last_phon,
        first_phon=first_phon,
        first_canon=first_canon,
        first_initial=initial_of[first],
        last_initial=initial_of[last],
        initials=initials,
        dob=dob_int,
        dob_typed=dob_typed,
        sex=sex,
        email=email,
        email_dotted=email_dotted,
        medicare=medicare,
        irn=irn,
        medicare_is_card=is_card[medicare],
        postcode=postcode,
        city=city,
        address=address,
        street=street,
        phone_rec=rec,
        phone_code=flat,
        has_phone=has_phone,
        created_day=_created_days(col["created_at"]),
        vocabs=vocabs,
    )


def _street_codes(
    vocabs: dict[str, Vocab], address: np.ndarray, postcode: np.ndarray
) -> np.ndarray:
    """Per record, the code in ``vocabs["street"]`` of its street (the address without its
    house number) in its postcode ("ellicott rd 98001"); -1 without either."""
    streets = Vocab()
    street_of = streets.codes([nz.street_key(v) for v in vocabs["address"].values])
    street = np.array([*street_of, -1], dtype=np.int64)[address]
    known = (street >= 0) & (postcode >= 0)
    width = len(vocabs["postcode"].values)
    pairs, inverse = np.unique(street[known] * width + postcode[known], return_inverse=True)
    posts = vocabs["postcode"].values
    labels = [f"{streets.values[k // width]} {posts[k % width]}" for k in pairs.tolist()]
    out = np.full(address.size, -1, dtype=np.int64)
    out[known] = np.array(vocabs["street"].codes(labels), dtype=np.int64)[inverse.ravel()]
    return out


def _phone_values(
    values: list[Any], countries: list[Any], default: str
) -> tuple[list[Any], np.ndarray, list[tuple[str, ...]]]:
    """Distinct (phones, country) values, each record's index among them, and each value's
    E.164 numbers: a number is read as the patient's country's (``country_code``), else as
    the clinic's (``default``)."""
    wanted = [nz.country_key(c, default) for c in _factorise(countries)[0]]
    if all(c == default for c in wanted):  # one country: the usual clinic
        uniques, positions = _factorise(values)
        return uniques, positions, nz.phone_lists(uniques, default)
    keyed = [(v if isinstance(v, str) or v is None else repr(v), nz.country_key(c, default))
             for v, c in zip(values, countries, strict=True)]  # fmt: skip
    uniques, positions = _factorise(keyed)
    per_value: list[tuple[str, ...]] = [()] * len(uniques)
    by_country: dict[str, list[int]] = {}
    for i, (_, c) in enumerate(uniques):
        by_country.setdefault(c, []).append(i)
    for c, members in by_country.items():
        found = nz.phone_lists([uniques[i][0] for i in members], c)
        for i, numbers in zip(members, found, strict=True):
            per_value[i] = numbers
    return uniques, positions, per_value


def _spread_lists(
    per_value: list[tuple[str, ...]], positions: np.ndarray, vocab: Vocab
) -> tuple[np.ndarray, np.ndarray]:
    """Per record, how many strings its value lists, and all records' strings' codes one
    record after another (coded once per distinct value: codes come out in the same order as
    coding the records one by one, since a string first appears with a value's first record).
    """
    value_counts = np.array([len(v) for v in per_value], dtype=np.int64)
    value_codes = np.array(vocab.codes([x for v in per_value for x in v]), dtype=np.int64)
    value_starts = np.cumsum(value_counts) - value_counts
    counts = value_counts[positions]
    record_starts = np.cumsum(counts) - counts
    index = np.repeat(value_starts[positions] - record_starts, counts)
    index += np.arange(index.size, dtype=np.int64)
    return counts, value_codes[index]


def _initials(first: np.ndarray, last: np.ndarray, codes: Vocab) -> np.ndarray:
    """Per record, a code for its two initials in either order (-1 when a name is missing)."""
    out = np.full(first.size, -1, dtype=np.int32)
    both = (first >= 0) & (last >= 0)
    if not both.any():
        return out
    lo = np.minimum(first[both], last[both]).astype(np.int64)
    hi = np.maximum(first[both], last[both]).astype(np.int64)
    uniq, inverse = np.unique(lo * (1 << 31) + hi, return_inverse=True)
    values = codes.values
    table = np.array(
        [codes.code(values[int(k >> 31)] + values[int(k & 0x7FFFFFFF)]) for k in uniq],
        dtype=np.int32,
    )
    out[both] = table[inverse.ravel()]
    return out


# A day is a bulk import when it made more than this many records and far more than a usual
# day (the median of the other days) of this clinic.
IMPORT_DAY_MIN_RECORDS = 100
IMPORT_DAY_FACTOR = 20


def import_days(created_day: np.ndarray) -> list[int]:
    """Days on which records were imported in bulk (too many to be registered by hand)."""
    known = created_day[created_day >= 0]
    if known.size == 0:
        return []
    days, counts = np.unique(known, return_counts=True)
    usual = float(np.median(np.sort(counts)[:-1])) if counts.size > 1 else 0.0
    bulk = (counts > IMPORT_DAY_MIN_RECORDS) & (counts > IMPORT_DAY_FACTOR * usual)
    return [int(day) for day in days[bulk].tolist()]


def forget_days(f: Features, days: list[int]) -> None:
    """Treat records made on ``days`` (bulk imports) as having no known creation day.

    A data import makes thousands of records on one day: being made together then says
    nothing about a parent registering twins.
    """
    if days:
        f.created_day[np.isin(f.created_day, np.asarray(days, dtype=np.int64))] = -1


def _created_days(values: list[Any]) -> np.ndarray:
    """Days since 1970 from ``created_at`` timestamps (-1 for missing or unreadable ones)."""
    stamps, positions = _factorise([_str(v)[:10] for v in values])
    table = np.full(len(stamps) + 1, -1, dtype=np.int64)
    for i, stamp in enumerate(stamps):
        if len(stamp) == 10:
            try:
                table[i] = np.datetime64(stamp, "D").astype(np.int64)
            except ValueError:
                continue
    return table[positions] if positions.size else np.empty(0, dtype=np.int64)
