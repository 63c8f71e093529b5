"""Comparison levels per field for candidate pairs, computed on arrays.

Fuzzy similarities are computed once per distinct pair of values, never per record pair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from desktop.matching.compare_names import (
    NameFacts,
    NameSide,
    first_levels,
    given_counts,
    last_levels,
    name_sides,
    swapped_names,
)
from desktop.matching.crowd import crowd_contact
from desktop.matching.distinct import distinct_flags, distinct_scores
from desktop.matching.features import Features
from desktop.matching.levels import FIELD_LEVELS, FIELD_NAMES, TF_FIELDS, level

__all__ = [
    "COMPARISONS",
    "FIELD_LEVELS",
    "FIELD_NAMES",
    "TF_FIELDS",
    "Comparison",
    "PairBatch",
    "compare_pairs",
    "level",
]


@dataclass
class Comparison:
    """Levels (n_pairs x n_fields, uint8) plus facts the look-alike rules need."""

    levels: np.ndarray
    swapped: np.ndarray  # first and last names swapped between the records
    years_apart: np.ndarray  # whole years between birth dates (-1 when one is missing)
    child_undated: np.ndarray  # one record is a child's (under 16), the other has no birth date
    made_together: np.ndarray  # both records were created within a day of each other
    stated_alias: np.ndarray  # a record's preferred first name is the other's first name
    short_form: np.ndarray  # a first name is only ever a short form of names (Josh, Tilly)
    # One record has no birth date (real or typed), no address and no Medicare number.
    sparse_record: np.ndarray
    # The only phone or address the records share is one many patients hold (a care home's).
    crowd_contact: np.ndarray


# A birth date typed as no patient's that differs from the other record's date in this many
# of its eight digits or more is another date, not a slip of that one ("2410-09-16" beside
# "2009-12-03").
GARBLED_APART_DIGITS = 5


def _dob_levels(f: Features, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    da, db = f.dob[a], f.dob[b]
    present = (da > 0) & (db > 0)
    lv = np.where(present, level("date_of_birth", "different"), 0).astype(np.uint8)
    # A birth date typed as no patient's ("1173-10-29" for 1973, "1942-03-41") is still
    # compared digit by digit: one slip from the other record's date is "near", most digits
    # apart is "different" (GARBLED_APART_DIGITS); anything between says nothing.
    xa = np.where(da > 0, da, f.dob_typed[a])
    xb = np.where(db > 0, db, f.dob_typed[b])
    garbled = ~present & (xa > 0) & (xb > 0)
    known = present | garbled
    diff_digits = np.zeros(a.size, dtype=np.int8)
    for k in range(8):
        p = 10**k
        diff_digits += ((xa // p) % 10 != (xb // p) % 10).astype(np.int8)
    ya, ma, dda = da // 10000, (da // 100) % 100, da % 100
    yb, mb, ddb = db // 10000, (db // 100) % 100, db % 100
    swap = (ya == yb) & (ma == ddb) & (dda == mb)
    # Two neighbouring digits typed the wrong way round (1982 -> 1928).
    transposed = np.zeros(a.size, dtype=bool)
    two = known & (diff_digits == 2)
    if two.any():
        xa2, xb2 = xa[two], xb[two]
        hit = np.zeros(xa2.size, dtype=bool)
        for k in range(7):
            p, q = 10**k, 10 ** (k + 1)
            d1a, d2a = (xa2 // p) % 10, (xa2 // q) % 10
            d1b, d2b = (xb2 // p) % 10, (xb2 // q) % 10
            hit |= (
                (d1a == d2b)
                & (d2a == d1b)
                & (d1a != d2a)
                & (xa2 - d1a * p - d2a * q == xb2 - d1b * p - d2b * q)
            )
        transposed[two] = hit
    slip = (diff_digits <= 1) | transposed
    near = (present & ((diff_digits == 1) | swap | transposed)) | (garbled & slip)
    lv[garbled & (diff_digits >= GARBLED_APART_DIGITS)] = level("date_of_birth", "different")
    lv[near] = level("date_of_birth", "near")
    lv[present & (da == db)] = level("date_of_birth", "exact")
    years = np.where(present, np.abs(ya - yb), -1).astype(np.int32)
    return lv, years


def _simple(ca: np.ndarray, cb: np.ndarray, same: int) -> np.ndarray:
    present = (ca >= 0) & (cb >= 0)
    lv = np.where(present, 1, 0).astype(np.uint8)
    lv[present & (ca == cb)] = same
    return lv


def _fuzzy3(
    ca: np.ndarray,
    cb: np.ndarray,
    values: list[str],
    scorer: Callable[..., float],
    cut: float,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """missing / different / similar / same for a free-text field (similar is looked for only
    ``where`` given)."""
    present = (ca >= 0) & (cb >= 0)
    lv = np.where(present, 1, 0).astype(np.uint8)
    differ = present & (ca != cb)
    if where is not None:
        differ &= where
    score = distinct_scores(ca, cb, values, scorer, differ)
    lv[differ & (score >= cut)] = 2
    lv[present & (ca == cb)] = 3
    return lv


def _address_levels(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Street address, postcode and suburb as one comparison (they are not independent)."""
    values = f.vocabs["address"].values
    ca, cb = f.address[a], f.address[b]
    post = _simple(f.postcode[a], f.postcode[b], 2)
    city = _fuzzy3(
        f.city[a], f.city[b], f.vocabs["city"].values, JaroWinkler.normalized_similarity, 0.92
    )
    # Street lines in two postcodes are two addresses however alike: their spelling is read
    # only where the postcodes do not differ (at 400k, most pairs found by a name). The same
    # street line in one suburb with postcodes a typing slip apart is one address ("950
    # Caribou Lane, Anytown 20000" beside "950 Caribou Lane, Anytown 00000").
    retyped = (post == 1) & (city != 1) & (ca == cb) & (ca >= 0)
    same_area = (post != 1) | _postcode_slip(f, a, b, retyped)
    street = _fuzzy3(ca, cb, values, fuzz.token_sort_ratio, 85.0, same_area)
    # "Pointe Dr" beside "49580 Pointe Dr", "88 Unit 37" beside "88 Weakley Ln Unit 37": one
    # address written with words left out (two words at least) is the same address.
    differ = (street == 1) & same_area
    part = distinct_scores(ca, cb, values, fuzz.token_set_ratio, differ) >= 100.0
    if part.any():
        words = np.fromiter((v.count(" ") + 1 for v in values), dtype=np.int32, count=len(values))
        fewer = np.minimum(words[np.maximum(ca, 0)], words[np.maximum(cb, 0)])
        street[part & (fewer >= 2)] = 2
    lv = np.zeros(a.size, dtype=np.uint8)
    known = (street > 0) | (post > 0) | (city > 0)
    lv[known] = level("address", "different")
    lv[city >= 2] = level("address", "city")
    lv[post == 2] = level("address", "post_code")
    lv[(street == 2) & same_area] = level("address", "similar")
    lv[(street == 3) & same_area] = level("address", "same")
    return lv


def _postcode_slip(f: Features, a: np.ndarray, b: np.ndarray, differ: np.ndarray) -> np.ndarray:
    """Postcodes one typing slip apart (one character wrong, left out or swapped)."""
    values = f.vocabs["postcode"].values
    dist = distinct_scores(
        f.postcode[a], f.postcode[b], values, DamerauLevenshtein.distance, differ, 1
    )
    return differ & (dist <= 1)


def _separator_only(a: str, b: str) -> bool:
    strip = str.maketrans("", "", "._-")
    return a.translate(strip) == b.translate(strip)


def _email_levels(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Emails: one typing slip counts as similar; a different number or word does not."""
    ca, cb = f.email[a], f.email[b]
    present = (ca >= 0) & (cb >= 0)
    lv = np.where(present, level("email", "different"), 0).astype(np.uint8)
    differ = present & (ca != cb)
    dist = distinct_scores(ca, cb, f.vocabs["email"].values, DamerauLevenshtein.distance, differ, 1)
    slip = differ & (dist <= 1)
    # "david.harris@" / "davidharris@" are two mailboxes, not a slip, where dots count.
    slip &= ~distinct_flags(ca, cb, f.vocabs["email"].values, _separator_only, slip)
    lv[slip] = level("email", "similar")
    lv[present & (ca == cb)] = level("email", "exact")
    # One mailbox (Gmail ignores dots) but written two ways: weaker than the same address.
    dotted_a, dotted_b = f.email_dotted[a], f.email_dotted[b]
    dots = present & (ca == cb) & (dotted_a >= 0) & (dotted_b >= 0) & (dotted_a != dotted_b)
    lv[dots] = level("email", "dots")
    return lv


def _medicare_levels(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ca, cb = f.medicare[a], f.medicare[b]
    present = (ca >= 0) & (cb >= 0)
    lv = np.where(present, level("medicare", "different"), 0).astype(np.uint8)
    differ = present & (ca != cb)
    dist = distinct_scores(
        ca, cb, f.vocabs["medicare"].values, DamerauLevenshtein.distance, differ, 1
    )
    lv[differ & (dist <= 1)] = level("medicare", "near")
    same = present & (ca == cb)
    ia, ib = f.irn[a], f.irn[b]
    both_irn = (ia >= 0) & (ib >= 0)
    family = same & both_irn & (ia != ib)
    # A card number alone may be a whole family's; with equal IRNs, or for an identifier that
    # is not a Medicare card (one number per person), it names one person.
    personal = same & ((both_irn & (ia == ib)) | ~f.medicare_is_card[a])
    lv[same] = level("medicare", "card")
    lv[personal] = level("medicare", "exact")
    lv[family] = level("medicare", "family")
    return lv


@dataclass
class PairBatch:
    """Candidate pairs ``(a[i], b[i])`` being compared, and what several comparisons share."""

    f: Features
    a: np.ndarray
    b: np.ndarray
    shared_phone: np.ndarray  # the records share a phone number
    facts: NameFacts
    swapped: np.ndarray  # first and last names swapped between the records
    side_a: NameSide  # each record's names, swapped back where ``swapped``
    side_b: NameSide
    # Set by the first-name comparison: a preferred first name states the agreement.
    stated_alias: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # Set by the birth-date comparison: whole years apart (-1 when one is missing).
    years_apart: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))


def _first_name(p: PairBatch) -> np.ndarray:
    lv, p.stated_alias = first_levels(p.f.names.values, p.facts, p.side_a, p.side_b)
    return lv


def _last_name(p: PairBatch) -> np.ndarray:
    return last_levels(p.f.names.values, p.facts, p.side_a, p.side_b)


def _date_of_birth(p: PairBatch) -> np.ndarray:
    lv, p.years_apart = _dob_levels(p.f, p.a, p.b)
    return lv


def _sex(p: PairBatch) -> np.ndarray:
    return _simple(p.f.sex[p.a], p.f.sex[p.b], level("sex", "same"))


def _phone(p: PairBatch) -> np.ndarray:
    lv = np.where(p.f.has_phone[p.a] & p.f.has_phone[p.b], level("phone", "different"), 0)
    lv = lv.astype(np.uint8)
    lv[p.shared_phone] = level("phone", "same")
    return lv


def _birth_date_recorded(p: PairBatch) -> np.ndarray:
    has_a = (p.f.dob[p.a] > 0) | (p.f.dob_typed[p.a] > 0)
    has_b = (p.f.dob[p.b] > 0) | (p.f.dob_typed[p.b] > 0)
    lv = np.where(has_a | has_b, level("birth_date_recorded", "one"), 0).astype(np.uint8)
    lv[has_a & has_b] = level("birth_date_recorded", "both")
    return lv


# Comparison name (a field registry entry) -> the function giving each pair's level.
COMPARISONS: dict[str, Callable[[PairBatch], np.ndarray]] = {
    "first_name": _first_name,
    "last_name": _last_name,
    "date_of_birth": _date_of_birth,
    "sex": _sex,
    "phone": _phone,
    "email": lambda p: _email_levels(p.f, p.a, p.b),
    "medicare": lambda p: _medicare_levels(p.f, p.a, p.b),
    "address": lambda p: _address_levels(p.f, p.a, p.b),
    "birth_date_recorded": _birth_date_recorded,
}


def compare_pairs(
    f: Features,
    a: np.ndarray,
    b: np.ndarray,
    shared_phone: np.ndarray,
    today: int = 0,
    given: np.ndarray | None = None,
    crowded: Mapping[str, Sequence[str]] | None = None,
) -> Comparison:
    """Comparison levels of every candidate pair ``(a[i], b[i])``.

    ``today`` (``YYYYMMDD``) lets the rules tell children's records apart; 0 turns that off.
    ``given``: per names code, patients of the clinic with that given name (default: these
    records' own counts). ``crowded``: addresses and phones the whole clinic holds many times
    (a saved model's; these records' own counts count too).
    """
    if today and bool((future := f.dob > today).any()):
        # A birth date after today is typed wrong ("2076-08-20" for 2016): compared digit by
        # digit as a typed date, never a real one that makes a parent and child.
        f = replace(
            f, dob=np.where(future, 0, f.dob), dob_typed=np.where(future, f.dob, f.dob_typed)
        )
    counts = given_counts(f) if given is None else given
    facts = NameFacts(f.names.values, counts)
    swapped = swapped_names(f, a, b, facts)
    side_a, side_b = name_sides(f, a, b, swapped)
    pairs = PairBatch(f, a, b, shared_phone, facts, swapped, side_a, side_b)
    cols = [COMPARISONS[name](pairs) for name in FIELD_NAMES]
    levels = np.stack(cols, axis=1) if a.size else np.zeros((0, len(FIELD_NAMES)), dtype=np.uint8)
    child = np.zeros(len(f), dtype=bool) if not today else f.dob > today - 160_000
    undated = (f.dob <= 0) & (f.dob_typed <= 0)  # a typed date is a date, if not a real one
    child_undated = (child[a] & undated[b]) | (child[b] & undated[a])
    sparse = undated & (f.address < 0) & (f.postcode < 0) & (f.medicare < 0)
    ca, cb = f.created_day[a], f.created_day[b]
    address_agrees = levels[:, FIELD_NAMES.index("address")] >= level("address", "similar")
    made_together = (ca >= 0) & (cb >= 0) & (np.abs(ca - cb) <= 1)
    return Comparison(
        levels=levels.astype(np.uint8),
        swapped=swapped,
        years_apart=pairs.years_apart,
        child_undated=child_undated,
        made_together=made_together,
        stated_alias=pairs.stated_alias,
        short_form=facts.nickname_only[side_a.first] | facts.nickname_only[side_b.first],
        sparse_record=sparse[a] | sparse[b],
        crowd_contact=crowd_contact(f, a, b, shared_phone, address_agrees, crowded),
    )
