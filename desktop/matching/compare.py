"""Comparison levels per field for candidate pairs, computed on arrays.

Fuzzy similarities are computed once per distinct pair of values, never per record pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from desktop.matching.features import Features
from desktop.matching.nicknames_table import is_nickname_pair

# Field -> level names, from least to most agreement. Level 0 is always "missing" (weight 0).
FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("missing", "different", "initial", "similar", "close", "alias", "exact"),
    "last_name": ("missing", "different", "similar", "close", "part", "exact"),
    "date_of_birth": ("missing", "different", "near", "exact"),
    "sex": ("missing", "different", "same"),
    "phone": ("missing", "different", "same"),
    "email": ("missing", "different", "similar", "dots", "exact"),
    "medicare": ("missing", "different", "family", "near", "card", "exact"),
    "address": ("missing", "different", "city", "post_code", "similar", "same"),
}
FIELD_NAMES = tuple(FIELDS)
# Fields whose exact level is adjusted for how common the value is.
# Jaro-Winkler similarity each crosswise name needs for first and last names to count as swapped.
SWAP_SIMILARITY = 0.85
TF_FIELDS = {"first_name": "first", "last_name": "last", "email": "email", "address": "address"}


@dataclass
class Comparison:
    """Levels (n_pairs x n_fields, uint8) plus facts the look-alike rules need."""

    levels: np.ndarray
    swapped: np.ndarray  # first and last names swapped between the records
    years_apart: np.ndarray  # whole years between birth dates (-1 when one is missing)
    child_undated: np.ndarray  # one record is a child's (under 16), the other has no birth date
    made_together: np.ndarray  # both records were created within a day of each other
    stated_alias: np.ndarray  # a record's preferred first name is the other's first name


def level(field: str, name: str) -> int:
    """The integer of a named level of a field."""
    return FIELDS[field].index(name)


def _distinct_scores(
    ca: np.ndarray, cb: np.ndarray, values: list[str], scorer: Callable, mask: np.ndarray
) -> np.ndarray:
    """``scorer(values[ca], values[cb])`` where ``mask``, computed once per distinct pair."""
    out = np.zeros(ca.size, dtype=np.float64)
    if not mask.any():
        return out
    lo = np.minimum(ca[mask], cb[mask]).astype(np.int64)
    hi = np.maximum(ca[mask], cb[mask]).astype(np.int64)
    width = np.int64(max(len(values), 1))
    uniq, inverse = np.unique(lo * width + hi, return_inverse=True)
    left = [values[int(i)] for i in uniq // width]
    right = [values[int(i)] for i in uniq % width]
    scores = process.cpdist(left, right, scorer=scorer, workers=-1)
    out[mask] = np.asarray(scores, dtype=np.float64)[inverse.ravel()]
    return out


def _distinct_flags(
    ca: np.ndarray,
    cb: np.ndarray,
    values: list[str],
    test: Callable[[str, str], bool],
    mask: np.ndarray,
) -> np.ndarray:
    """Boolean ``test(values[ca], values[cb])`` where ``mask``, once per distinct pair."""
    out = np.zeros(ca.size, dtype=bool)
    if not mask.any():
        return out
    width = np.int64(max(len(values), 1))
    key = ca[mask].astype(np.int64) * width + cb[mask].astype(np.int64)
    uniq, inverse = np.unique(key, return_inverse=True)
    flags = np.fromiter(
        (test(values[int(k // width)], values[int(k % width)]) for k in uniq),
        dtype=bool,
        count=uniq.size,
    )
    out[mask] = flags[inverse.ravel()]
    return out


def _middle_match(full: str, given: str) -> bool:
    words = full.split()
    return len(words) > 1 and given in words[1:]


def _part_match(a: str, b: str) -> bool:
    wa, wb = set(a.split()), set(b.split())
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _short_form(a: str, b: str) -> bool:
    """One name is the start of the other (``bev`` / ``beverley``), three letters or more."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 3 and len(long_) > len(short) and long_.startswith(short)


class _NameFacts:
    """Per names-vocabulary code: length, has a space, is in the nickname table."""

    def __init__(self, values: list[str]) -> None:
        from desktop.matching.nicknames_table import known_name

        self.length = np.array([len(v) for v in values] + [0], dtype=np.int32)
        self.spaced = np.array([" " in v for v in values] + [False], dtype=bool)
        self.known = np.array([known_name(v) for v in values] + [False], dtype=bool)


def _slips(
    ca: np.ndarray,
    cb: np.ndarray,
    values: list[str],
    facts: _NameFacts,
    initial_a: np.ndarray,
    initial_b: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """One keyboard slip (edit or swap), first letter kept, both names 3+ letters."""
    mask = mask & (initial_a == initial_b) & (np.minimum(facts.length[ca], facts.length[cb]) >= 3)
    dist = _distinct_scores(ca, cb, values, DamerauLevenshtein.distance, mask)
    return mask & (dist <= 1)


@dataclass
class _NameSide:
    """One side's name codes for a batch of pairs (names vocabulary, -1 when missing)."""

    first: np.ndarray
    first_full: np.ndarray
    preferred: np.ndarray
    first_initial: np.ndarray
    last: np.ndarray
    last_words: np.ndarray
    last_initial: np.ndarray


def _name_sides(
    f: Features, a: np.ndarray, b: np.ndarray, swapped: np.ndarray
) -> tuple[_NameSide, _NameSide]:
    """Both sides' names, the second aligned to the first where its names are swapped."""
    side_a = _NameSide(
        f.first[a], f.first_full[a], f.preferred[a], f.first_initial[a],
        f.last[a], f.last_words[a], f.last_initial[a],
    )  # fmt: skip

    def pick(straight: np.ndarray, crossed: np.ndarray) -> np.ndarray:
        return np.where(swapped, crossed[b], straight[b])

    side_b = _NameSide(
        pick(f.first, f.last),
        pick(f.first_full, f.last_words),
        np.where(swapped, -1, f.preferred[b]),
        pick(f.first_initial, f.last_initial),
        pick(f.last, f.first),
        pick(f.last_words, f.first_full),
        pick(f.last_initial, f.first_initial),
    )
    return side_a, side_b


def _joined_slip(a: str, b: str) -> bool:
    """Names equal but for one slip once their spaces go (``soph ie`` / ``sophie``)."""
    return DamerauLevenshtein.distance(a.replace(" ", ""), b.replace(" ", "")) <= 1


def _first_levels(
    names: list[str], facts: _NameFacts, sa: _NameSide, sb: _NameSide
) -> tuple[np.ndarray, np.ndarray]:
    """First-name levels, and where the agreement is stated by a preferred first name."""
    fa, fb = sa.first, sb.first
    ia, ib = sa.first_initial, sb.first_initial
    lv = np.full(fa.size, level("first_name", "different"), dtype=np.uint8)
    present = (fa >= 0) & (fb >= 0)
    differ = present & (fa != fb)
    jw = _distinct_scores(fa, fb, names, JaroWinkler.normalized_similarity, differ)
    lv[present & (jw >= 0.80)] = level("first_name", "similar")
    lv[present & (jw >= 0.92)] = level("first_name", "close")
    lv[_slips(fa, fb, names, facts, ia, ib, differ & (jw < 0.92))] = level("first_name", "close")
    init = differ & (ia == ib) & ((facts.length[fa] == 1) | (facts.length[fb] == 1))
    lv[init] = level("first_name", "initial")
    pa, pb = sa.preferred, sb.preferred
    alias = ((pa >= 0) & ((pa == fb) | (pa == pb))) | ((pb >= 0) & (pb == fa))
    stated = alias.copy()
    undecided = differ & ~alias
    both_known = undecided & facts.known[fa] & facts.known[fb]
    alias |= _distinct_flags(fa, fb, names, is_nickname_pair, both_known)
    prefix = undecided & ~alias & (ia == ib) & (facts.length[fa] != facts.length[fb])
    alias |= _distinct_flags(fa, fb, names, _short_form, prefix)
    ffa, ffb = sa.first_full, sb.first_full
    multi = differ & ~alias
    alias |= _distinct_flags(ffa, fb, names, _middle_match, multi & facts.spaced[ffa])
    alias |= _distinct_flags(ffb, fa, names, _middle_match, multi & facts.spaced[ffb])
    lv[alias] = level("first_name", "alias")
    # A stray space inside a name is a typing slip, not a second name.
    spaced = differ & (ffa != ffb) & (facts.spaced[ffa] | facts.spaced[ffb])
    lv[_distinct_flags(ffa, ffb, names, _joined_slip, spaced)] = level("first_name", "close")
    lv[present & (fa == fb)] = level("first_name", "exact")
    missing = (fa < 0) | (fb < 0)
    lv[missing & ~alias] = 0
    return lv, stated & (lv == level("first_name", "alias"))


def _last_levels(names: list[str], facts: _NameFacts, sa: _NameSide, sb: _NameSide) -> np.ndarray:
    la, lb = sa.last, sb.last
    lv = np.full(la.size, level("last_name", "different"), dtype=np.uint8)
    present = (la >= 0) & (lb >= 0)
    differ = present & (la != lb)
    jw = _distinct_scores(la, lb, names, JaroWinkler.normalized_similarity, differ)
    lv[differ & (jw >= 0.80)] = level("last_name", "similar")
    lv[differ & (jw >= 0.92)] = level("last_name", "close")
    slip = _slips(la, lb, names, facts, sa.last_initial, sb.last_initial, differ & (jw < 0.92))
    lv[slip] = level("last_name", "close")
    wa, wb = sa.last_words, sb.last_words
    spaced = differ & (facts.spaced[wa] | facts.spaced[wb])
    part = _distinct_flags(wa, wb, names, _part_match, spaced)
    lv[part] = level("last_name", "part")
    lv[present & (la == lb)] = level("last_name", "exact")
    lv[~present] = 0
    return lv


def _dob_levels(f: Features, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    da, db = f.dob[a], f.dob[b]
    present = (da > 0) & (db > 0)
    lv = np.where(present, level("date_of_birth", "different"), 0).astype(np.uint8)
    diff_digits = np.zeros(a.size, dtype=np.int8)
    for k in range(8):
        p = 10**k
        diff_digits += ((da // p) % 10 != (db // p) % 10).astype(np.int8)
    ya, ma, dda = da // 10000, (da // 100) % 100, da % 100
    yb, mb, ddb = db // 10000, (db // 100) % 100, db % 100
    swap = (ya == yb) & (ma == ddb) & (dda == mb)
    # Two neighbouring digits typed the wrong way round (1982 -> 1928).
    transposed = np.zeros(a.size, dtype=bool)
    two = present & (diff_digits == 2)
    if two.any():
        xa, xb = da[two], db[two]
        hit = np.zeros(xa.size, dtype=bool)
        for k in range(7):
            p, q = 10**k, 10 ** (k + 1)
            d1a, d2a = (xa // p) % 10, (xa // q) % 10
            d1b, d2b = (xb // p) % 10, (xb // q) % 10
            hit |= (
                (d1a == d2b)
                & (d2a == d1b)
                & (d1a != d2a)
                & (xa - d1a * p - d2a * q == xb - d1b * p - d2b * q)
            )
        transposed[two] = hit
    near = present & ((diff_digits == 1) | swap | transposed)
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
    ca: np.ndarray, cb: np.ndarray, values: list[str], scorer: Callable, cut: float
) -> np.ndarray:
    """missing / different / similar / same for a free-text field."""
    present = (ca >= 0) & (cb >= 0)
    lv = np.where(present, 1, 0).astype(np.uint8)
    differ = present & (ca != cb)
    score = _distinct_scores(ca, cb, values, scorer, differ)
    lv[differ & (score >= cut)] = 2
    lv[present & (ca == cb)] = 3
    return lv


def _address_levels(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Street address, postcode and suburb as one comparison (they are not independent)."""
    street = _fuzzy3(
        f.address[a], f.address[b], f.vocabs["address"].values, fuzz.token_sort_ratio, 85.0
    )
    post = _simple(f.postcode[a], f.postcode[b], 2)
    city = _fuzzy3(
        f.city[a], f.city[b], f.vocabs["city"].values, JaroWinkler.normalized_similarity, 0.92
    )
    lv = np.zeros(a.size, dtype=np.uint8)
    known = (street > 0) | (post > 0) | (city > 0)
    lv[known] = level("address", "different")
    lv[city >= 2] = level("address", "city")
    lv[post == 2] = level("address", "post_code")
    lv[(street == 2) & (post != 1)] = level("address", "similar")
    lv[(street == 3) & (post != 1)] = level("address", "same")
    return lv


def _separator_only(a: str, b: str) -> bool:
    strip = str.maketrans("", "", "._-")
    return a.translate(strip) == b.translate(strip)


def _email_levels(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Emails: one typing slip counts as similar; a different number or word does not."""
    ca, cb = f.email[a], f.email[b]
    present = (ca >= 0) & (cb >= 0)
    lv = np.where(present, level("email", "different"), 0).astype(np.uint8)
    differ = present & (ca != cb)
    dist = _distinct_scores(ca, cb, f.vocabs["email"].values, DamerauLevenshtein.distance, differ)
    slip = differ & (dist <= 1)
    # "david.harris@" / "davidharris@" are two mailboxes, not a slip, where dots count.
    slip &= ~_distinct_flags(ca, cb, f.vocabs["email"].values, _separator_only, slip)
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
    dist = _distinct_scores(
        ca, cb, f.vocabs["medicare"].values, DamerauLevenshtein.distance, differ
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


def _crosswise(
    x: np.ndarray, y: np.ndarray, names: list[str], facts: _NameFacts, mask: np.ndarray
) -> np.ndarray:
    """Jaro-Winkler similarity of two name columns; a one-slip pair counts as 0.9 at least."""
    jw = _distinct_scores(x, y, names, JaroWinkler.normalized_similarity, mask)
    short = mask & (jw < SWAP_SIMILARITY) & (np.minimum(facts.length[x], facts.length[y]) >= 3)
    slip = _distinct_scores(x, y, names, DamerauLevenshtein.distance, short)
    jw[short & (slip <= 1)] = 0.9
    return jw


def _swapped(f: Features, a: np.ndarray, b: np.ndarray, facts: _NameFacts) -> np.ndarray:
    """First and last names swapped between the records (each allowing a typing slip).

    Swapped names are then compared crosswise, so a slip still costs what it costs.
    """
    fa, la, fb, lb = f.first[a], f.last[a], f.first[b], f.last[b]
    ok = (fa >= 0) & (la >= 0) & (fb >= 0) & (lb >= 0) & (fa != la) & (fa != fb) & (la != lb)
    names = f.names.values
    cross1 = _crosswise(fa, lb, names, facts, ok)
    cross2 = _crosswise(la, fb, names, facts, ok & (cross1 >= SWAP_SIMILARITY))
    both = ok & (cross1 >= SWAP_SIMILARITY) & (cross2 >= SWAP_SIMILARITY)
    both &= np.maximum(cross1, cross2) >= 0.9
    jw = JaroWinkler.normalized_similarity
    straight1 = _distinct_scores(fa, fb, names, jw, both)
    straight2 = _distinct_scores(la, lb, names, jw, both)
    return both & (cross1 + cross2 > straight1 + straight2)


def compare_pairs(
    f: Features, a: np.ndarray, b: np.ndarray, shared_phone: np.ndarray, today: int = 0
) -> Comparison:
    """Comparison levels of every candidate pair ``(a[i], b[i])``.

    ``today`` (``YYYYMMDD``) lets the rules tell children's records apart; 0 turns that off.
    """
    names, facts = f.names.values, _NameFacts(f.names.values)
    swapped = _swapped(f, a, b, facts)
    side_a, side_b = _name_sides(f, a, b, swapped)
    dob, years = _dob_levels(f, a, b)
    phone = np.where(f.has_phone[a] & f.has_phone[b], 1, 0).astype(np.uint8)
    phone[shared_phone] = 2
    first, stated = _first_levels(names, facts, side_a, side_b)
    cols = {
        "first_name": first,
        "last_name": _last_levels(names, facts, side_a, side_b),
        "date_of_birth": dob,
        "sex": _simple(f.sex[a], f.sex[b], 2),
        "phone": phone,
        "email": _email_levels(f, a, b),
        "medicare": _medicare_levels(f, a, b),
        "address": _address_levels(f, a, b),
    }
    levels = (
        np.stack([cols[name] for name in FIELD_NAMES], axis=1)
        if a.size
        else np.zeros((0, len(FIELD_NAMES)), dtype=np.uint8)
    )
    child = np.zeros(len(f), dtype=bool) if not today else f.dob > today - 160_000
    undated = f.dob <= 0
    child_undated = (child[a] & undated[b]) | (child[b] & undated[a])
    ca, cb = f.created_day[a], f.created_day[b]
    made_together = (ca >= 0) & (cb >= 0) & (np.abs(ca - cb) <= 1)
    return Comparison(
        levels=levels.astype(np.uint8),
        swapped=swapped,
        years_apart=years,
        child_undated=child_undated,
        made_together=made_together,
        stated_alias=stated,
    )
