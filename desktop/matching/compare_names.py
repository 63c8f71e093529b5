"""Name comparisons: first names, surnames, and names swapped between two records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from desktop.matching.distinct import distinct_flags, distinct_scores
from desktop.matching.features import Features
from desktop.matching.levels import level
from desktop.matching.nicknames_table import is_nickname_pair

# Jaro-Winkler similarity each crosswise name needs for first and last names to count as swapped.
SWAP_SIMILARITY = 0.85


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


# Patients who must carry a first name before this clinic shows it is a name in its own right
# (Erin beside Eric), not a slip that happened once (Nartin for Martin).
GIVEN_BY_PATIENTS = 3
# ... and at least this share of the patients the other name is given to: a slip of a name
# given to hundreds can recur a few times (Jhon for John), a name of its own is not that rare.
GIVEN_SHARE = 0.05
# A first name only one record has, alike in spelling to a name given to at least this many
# patients, is that name mistyped.
MISTYPED_BESIDE = 20


class NameFacts:
    """Per names-vocabulary code: length, has a space, is in the nickname table, is known
    there only as a short form of other names, how many patients of this clinic have it as
    their given name."""

    def __init__(self, values: list[str], given: np.ndarray | None = None) -> None:
        from desktop.matching.nicknames_table import known_name, nickname_only

        self.length = np.array([len(v) for v in values] + [0], dtype=np.int32)
        self.spaced = np.array([" " in v for v in values] + [False], dtype=bool)
        self.known = np.array([known_name(v) for v in values] + [False], dtype=bool)
        self.nickname_only = np.array([nickname_only(v) for v in values] + [False], dtype=bool)
        self.given = np.zeros(len(values) + 1, dtype=np.int64)
        if given is not None:
            self.given[: min(given.size, len(values))] = given[: len(values)]


def given_counts(f: Features) -> np.ndarray:
    """Per names-vocabulary code: how many of these records have it as their given name."""
    first = f.first[f.first >= 0]
    return np.bincount(first, minlength=len(f.names.values)).astype(np.int64)


def saved_given_counts(f: Features, saved: dict[str, int]) -> np.ndarray:
    """:func:`given_counts` from a saved model's first-name frequencies (a re-score sees only
    part of the clinic, so its own counts would be too small)."""
    return np.array([saved.get(v, 1) for v in f.names.values], dtype=np.int64)


def _slips(
    ca: np.ndarray,
    cb: np.ndarray,
    values: list[str],
    facts: NameFacts,
    initial_a: np.ndarray,
    initial_b: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """One keyboard slip (edit or swap), first letter kept, both names 3+ letters."""
    mask = mask & (initial_a == initial_b) & (np.minimum(facts.length[ca], facts.length[cb]) >= 3)
    dist = distinct_scores(ca, cb, values, DamerauLevenshtein.distance, mask, 1)
    return mask & (dist <= 1)


@dataclass
class NameSide:
    """One side's name codes for a batch of pairs (names vocabulary, -1 when missing)."""

    first: np.ndarray
    first_full: np.ndarray
    preferred: np.ndarray
    first_initial: np.ndarray
    last: np.ndarray
    last_words: np.ndarray
    last_initial: np.ndarray


def name_sides(
    f: Features, a: np.ndarray, b: np.ndarray, swapped: np.ndarray
) -> tuple[NameSide, NameSide]:
    """Both sides' names, the second aligned to the first where its names are swapped."""
    side_a = NameSide(
        f.first[a], f.first_full[a], f.preferred[a], f.first_initial[a],
        f.last[a], f.last_words[a], f.last_initial[a],
    )  # fmt: skip

    def pick(straight: np.ndarray, crossed: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.where(swapped, crossed[b], straight[b])
        return out

    side_b = NameSide(
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


def _spelling_levels(
    field: str,
    ca: np.ndarray,
    cb: np.ndarray,
    ia: np.ndarray,
    ib: np.ndarray,
    names: list[str],
    facts: NameFacts,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels from spelling alone (different / similar / close), with both-present and
    differing masks: Jaro-Winkler 0.80 is similar, 0.92 or one keyboard slip is close."""
    lv = np.full(ca.size, level(field, "different"), dtype=np.uint8)
    present = (ca >= 0) & (cb >= 0)
    differ = present & (ca != cb)
    jw = distinct_scores(ca, cb, names, JaroWinkler.normalized_similarity, differ)
    lv[differ & (jw >= 0.80)] = level(field, "similar")
    lv[differ & (jw >= 0.92)] = level(field, "close")
    lv[_slips(ca, cb, names, facts, ia, ib, differ & (jw < 0.92))] = level(field, "close")
    return lv, present, differ


def first_levels(
    names: list[str], facts: NameFacts, sa: NameSide, sb: NameSide
) -> tuple[np.ndarray, np.ndarray]:
    """First-name levels, and where the agreement is stated by a preferred first name."""
    fa, fb = sa.first, sb.first
    ia, ib = sa.first_initial, sb.first_initial
    lv, present, differ = _spelling_levels("first_name", fa, fb, ia, ib, names, facts)
    init = differ & (ia == ib) & ((facts.length[fa] == 1) | (facts.length[fb] == 1))
    lv[init] = level("first_name", "initial")
    pa, pb = sa.preferred, sb.preferred
    alias = ((pa >= 0) & ((pa == fb) | (pa == pb))) | ((pb >= 0) & (pb == fa))
    stated = alias.copy()
    undecided = differ & ~alias
    both_known = undecided & facts.known[fa] & facts.known[fb]
    alias |= distinct_flags(fa, fb, names, is_nickname_pair, both_known)
    # Two names each given in its own right and not forms of one name (Daniel / Danielle,
    # Joe / Joel, Heath / Heather) are two people's names, however alike their spelling.
    own_names = both_known & ~alias & ~facts.nickname_only[fa] & ~facts.nickname_only[fb]
    # Names this clinic gives to several patients each are two names too, whether or not the
    # table knows them (Eric / Erin, Carlos / Charlotte), unless the table says they are one.
    ga, gb = facts.given[fa], facts.given[fb]
    # (Nicknames of each other are both in the table, and ``alias`` holds them already.)
    given_here = undecided & ~alias & (np.minimum(ga, gb) >= GIVEN_BY_PATIENTS)
    given_here &= np.minimum(ga, gb) >= GIVEN_SHARE * np.maximum(ga, gb)
    own_names |= given_here
    prefix = undecided & ~alias & ~own_names & (ia == ib) & (facts.length[fa] != facts.length[fb])
    alias |= distinct_flags(fa, fb, names, _short_form, prefix)
    ffa, ffb = sa.first_full, sb.first_full
    multi = differ & ~alias
    alias |= distinct_flags(ffa, fb, names, _middle_match, multi & facts.spaced[ffa])
    alias |= distinct_flags(ffb, fa, names, _middle_match, multi & facts.spaced[ffb])
    lv[own_names & ~alias] = level("first_name", "different")
    # Nartin beside Martin: a spelling no other patient has, near a name given to many, is
    # that name mistyped, not a twin's or a sibling's own name.
    typo = (lv == level("first_name", "similar")) & ~alias & ~own_names
    typo &= (np.minimum(ga, gb) <= 1) & (np.maximum(ga, gb) >= MISTYPED_BESIDE)
    lv[typo] = level("first_name", "close")
    lv[alias] = level("first_name", "alias")
    # A stray space inside a name is a typing slip, not a second name.
    spaced = differ & (ffa != ffb) & (facts.spaced[ffa] | facts.spaced[ffb])
    lv[distinct_flags(ffa, ffb, names, _joined_slip, spaced)] = level("first_name", "close")
    lv[present & (fa == fb)] = level("first_name", "exact")
    missing = (fa < 0) | (fb < 0)
    lv[missing & ~alias] = 0
    return lv, stated & (lv == level("first_name", "alias"))


def last_levels(names: list[str], facts: NameFacts, sa: NameSide, sb: NameSide) -> np.ndarray:
    """Surname levels (a double-barrelled name sharing a part with the other is "part")."""
    la, lb = sa.last, sb.last
    ia, ib = sa.last_initial, sb.last_initial
    lv, present, differ = _spelling_levels("last_name", la, lb, ia, ib, names, facts)
    wa, wb = sa.last_words, sb.last_words
    spaced = differ & (facts.spaced[wa] | facts.spaced[wb])
    part = distinct_flags(wa, wb, names, _part_match, spaced)
    lv[part] = level("last_name", "part")
    # The same words are the same surname, also when one record's came from its first-name
    # field (names swapped), whose given word alone is only the surname's first word.
    lv[present & ((la == lb) | (wa == wb))] = level("last_name", "exact")
    lv[~present] = 0
    return lv


def _crosswise(
    x: np.ndarray, y: np.ndarray, names: list[str], facts: NameFacts, mask: np.ndarray
) -> np.ndarray:
    """Jaro-Winkler similarity of two name columns; a one-slip pair counts as 0.9 at least."""
    jw = distinct_scores(x, y, names, JaroWinkler.normalized_similarity, mask)
    short = mask & (jw < SWAP_SIMILARITY) & (np.minimum(facts.length[x], facts.length[y]) >= 3)
    slip = distinct_scores(x, y, names, DamerauLevenshtein.distance, short, 1)
    jw[short & (slip <= 1)] = 0.9
    return jw


def swapped_names(f: Features, a: np.ndarray, b: np.ndarray, facts: NameFacts) -> np.ndarray:
    """First and last names swapped between the records (each allowing a typing slip).

    Whole fields are compared (every word of the first-name field, every word of the
    surname), so "De La Cruz" moved into the first-name field is still found. Swapped names
    are then compared crosswise, so a slip still costs what it costs.
    """
    fa, la, fb, lb = f.first_full[a], f.last_words[a], f.first_full[b], f.last_words[b]
    ok = (fa >= 0) & (la >= 0) & (fb >= 0) & (lb >= 0) & (fa != la) & (fa != fb) & (la != lb)
    names = f.names.values
    cross1 = _crosswise(fa, lb, names, facts, ok)
    cross2 = _crosswise(la, fb, names, facts, ok & (cross1 >= SWAP_SIMILARITY))
    both = ok & (cross1 >= SWAP_SIMILARITY) & (cross2 >= SWAP_SIMILARITY)
    both &= np.maximum(cross1, cross2) >= 0.9
    jw = JaroWinkler.normalized_similarity
    straight1 = distinct_scores(fa, fb, names, jw, both)
    straight2 = distinct_scores(la, lb, names, jw, both)
    out: np.ndarray = both & (cross1 + cross2 > straight1 + straight2)
    return out
