"""Explanations: each pair's evidence for and against, in words an administrator understands."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop.fields import COMPARED_FIELDS, MISSING
from desktop.matching import normalise as nz
from desktop.matching.compare import FIELD_LEVELS, FIELD_NAMES, Comparison
from desktop.matching.features import Features
from desktop.matching.lookalike import flag_names, warning_texts
from desktop.matching.nicknames_table import is_nickname_pair
from desktop.matching.normalise import NUMBER_FIELD
from desktop.matching.types import Band, Evidence, ScoredPair

if TYPE_CHECKING:
    from desktop.matching.blocking import Candidates

_BANDS: tuple[Band, ...] = ("unlikely", "possible", "likely")
PRIOR_TEXT = "how rare duplicates are in this clinic (starting point)"
# A surname found in the other record's first-name field (names swapped between the records).
SWAPPED_SURNAME = "surname written as the other record's first name"
# Per comparison, in the order of the level columns: its name, its evidence label, its level
# names and each level's evidence text (looked up once, not per pair).
_FIELD_WORDS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = tuple(
    (
        name,
        COMPARED_FIELDS[name].label,
        FIELD_LEVELS[name],
        tuple(COMPARED_FIELDS[name].text(level) for level in FIELD_LEVELS[name]),
    )
    for name in FIELD_NAMES
)


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _phones(raw: object) -> str:
    if isinstance(raw, str) and raw.startswith("[") and "\\" not in raw:
        return ", ".join(NUMBER_FIELD.findall(raw))
    try:
        items: Any = json.loads(raw) if isinstance(raw, str) else (raw or [])
        return ", ".join(_s(i.get("number")) for i in items if isinstance(i, dict))
    except (ValueError, TypeError, AttributeError):
        return ""


ValuesReader = Callable[[list[int]], list[str]]


def value_readers(raw: dict[str, list[Any]]) -> dict[str, ValuesReader]:
    """Per comparison, a function giving the values records show for it (by record index),
    for many records at once."""
    first, preferred = raw["first_name"], raw["preferred_first_name"]
    phones = raw["phones"]
    medicare, irn = raw["medicare"], raw["medicare_reference_number"]
    address = [raw[column] for column in COMPARED_FIELDS["address"].sources]

    def first_names(rows: list[int]) -> list[str]:
        out = []
        for pref, name in zip(
            _column_texts(preferred, rows), _column_texts(first, rows), strict=True
        ):
            out.append(f"{name} ({pref})" if pref and pref != name else name)
        return out

    def medicare_numbers(rows: list[int]) -> list[str]:
        return [
            number + (f" / {ref}" if ref else "")
            for number, ref in zip(
                _column_texts(medicare, rows), _column_texts(irn, rows), strict=True
            )
        ]

    def address_lines(rows: list[int]) -> list[str]:
        return [", ".join([_s(p) for p in [column[i] for column in address] if p]) for i in rows]

    def phone_numbers(rows: list[int]) -> list[str]:
        return [_phones(phones[i]) for i in rows]

    def plain(column: list[Any]) -> ValuesReader:
        return lambda rows: _column_texts(column, rows)

    def reader(name: str) -> ValuesReader:
        if name == "first_name":
            return first_names
        if name == "phone":
            return phone_numbers
        if name == "medicare":
            return medicare_numbers
        if name == "address":
            return address_lines
        return plain(raw[COMPARED_FIELDS[name].sources[0]])

    return {name: reader(name) for name in FIELD_NAMES}


def _column_texts(column: list[Any], rows: list[int]) -> list[str]:
    """``_s`` of the column's values at ``rows``."""
    return [v if v.__class__ is str else _s(v) for v in [column[i] for i in rows]]


class _Explainer:
    """Words for the evidence of one scan's pairs, with what they read prepared once."""

    def __init__(self, f: Features) -> None:
        self.f = f
        readers = value_readers(f.raw)
        # Per comparison, in level-column order: its words and its values reader.
        self.fields = tuple((*words, readers[words[0]]) for words in _FIELD_WORDS)

    def first_text(self, a: int, b: int, lv: str, swapped: bool) -> str:
        if swapped:
            return "first and last names swapped between the records"
        if lv == "alias":
            names, first = self.f.names.values, self.f.first
            fa = names[first[a]] if first[a] >= 0 else ""
            fb = names[first[b]] if first[b] >= 0 else ""
            raw = self.f.raw["first_name"]
            ra, rb = _s(raw[a]).split(), _s(raw[b]).split()
            da, db = (ra[0] if ra else fa), (rb[0] if rb else fb)
            if is_nickname_pair(fa, fb):
                return f"{da} / {db}: a known nickname"
            return f"{da} / {db}: a preferred or middle name of the other record"
        return COMPARED_FIELDS["first_name"].text(lv)

    def dob_text(self, a: int, b: int, lv: str) -> str:
        if lv == "exact":
            return COMPARED_FIELDS["date_of_birth"].text(lv)
        if 0 in (self.f.dob[a], self.f.dob[b]):  # read from dob_typed
            if lv == "near":
                return "one birth date is impossible, a typing slip from the other"
            return "one birth date is impossible and shares few digits with the other"
        da, db = str(int(self.f.dob[a])), str(int(self.f.dob[b]))
        relation = nz.date_relation(da, db)
        if lv == "near":
            return (
                "day and month swapped"
                if relation == "swapped"
                else "birth dates differ by one digit (a typing slip?)"
            )
        years = nz.years_apart(da, db)
        if years == 0:
            return "different birth dates in the same year"
        return f"birth dates {years} year{'s' if years != 1 else ''} apart"

    def phone_text(self, a: int, b: int) -> str:
        starts, codes = self.f.phone_starts(), self.f.phone_code
        mine = set(codes[starts[a] : starts[a + 1]].tolist())
        common = mine & set(codes[starts[b] : starts[b + 1]].tolist())
        numbers = [self.f.vocabs["phones"].values[c] for c in common]
        if numbers and all(n.startswith("+614") for n in numbers):
            return "same mobile number"
        return "same phone number"

    def level_texts(
        self,
        field: str,
        pairs: list[tuple[int, int, int, int]],
        names: tuple[str, ...],
        texts: tuple[str, ...],
        swapped: list[bool],
    ) -> list[str]:
        """The evidence text of each ``(pair, a, b, level)`` (the level's index in ``names``;
        ``texts`` the level texts, ``swapped`` by pair)."""
        if field == "first_name":
            return [self.first_text(a, b, names[lv], swapped[i]) for i, a, b, lv in pairs]
        if field == "date_of_birth":
            return [self.dob_text(a, b, names[lv]) for i, a, b, lv in pairs]
        if field == "phone":
            return [
                self.phone_text(a, b) if names[lv] == "same" else texts[lv] for i, a, b, lv in pairs
            ]
        if field == "address":
            return [self.address_text(a, b, names[lv], texts[lv]) for i, a, b, lv in pairs]
        if field == "last_name":  # swapped names: not "same surname" beside "Anh" / "Nguyen"
            return [
                SWAPPED_SURNAME if swapped[i] and names[lv] == "exact" else texts[lv]
                for i, a, b, lv in pairs
            ]
        return [texts[lv] for i, a, b, lv in pairs]

    def address_text(self, a: int, b: int, lv: str, text: str) -> str:
        """The level's text; a street line matched across postcodes says so."""
        pa, pb = self.f.postcode[a], self.f.postcode[b]
        if lv in ("same", "similar") and min(pa, pb) >= 0 and pa != pb:
            return f"{text} (postcodes one typing slip apart)"
        return text

    def evidence(
        self,
        a: list[int],
        b: list[int],
        levels: np.ndarray,
        shown: np.ndarray,
        prior_shown: float,
        swapped: list[bool],
        rarity: dict[str, dict[int, str]],
    ) -> list[list[Evidence]]:
        """Each pair's evidence (records ``a[i]`` and ``b[i]``, a row of ``levels`` and of the
        weights as the evidence shows them), one comparison at a time for all pairs;
        ``rarity``: per comparison, words to add to some pairs' texts (by pair)."""
        out = [[Evidence("prior", "", "", "prior", prior_shown, PRIOR_TEXT)] for _ in a]
        for k, (field, label, names, texts, read) in enumerate(self.fields):
            column = levels[:, k]
            rows = np.flatnonzero(column != names.index(MISSING))
            if rows.size == 0:
                continue
            index = rows.tolist()
            ra, rb = [a[i] for i in index], [b[i] for i in index]
            pairs: list[tuple[int, int, int, int]] = list(
                zip(index, ra, rb, column[rows].tolist(), strict=True)
            )
            words = self.level_texts(field, pairs, names, texts, swapped)
            extras = rarity.get(field)
            if extras:
                position = {i: j for j, i in enumerate(index)}
                for i, extra in extras.items():
                    words[position[i]] += extra
            values = zip(read(ra), read(rb), shown[rows, k].tolist(), words, strict=True)
            for (i, _, _, lv), (va, vb, weight, text) in zip(pairs, values, strict=True):
                out[i].append(Evidence(label, va, vb, names[lv], weight, text))
        return out


def build_pairs(
    f: Features,
    cands: Candidates,
    comp: Comparison,
    arrays: tuple[np.ndarray, ...],
    keep: np.ndarray,
    base: np.ndarray,
    prior: float,
) -> list[ScoredPair]:
    """Scored, explained pairs for the ``keep`` candidates, best first.

    ``arrays`` holds per-candidate field weights, total weight, probability, flag bits and
    band; ``base`` the model's level weights (to say when a name counted as rare or common).
    """
    fw, total, prob, flags, band = arrays
    keep = keep[np.argsort(-prob[keep], kind="stable")]
    ids = f.ids
    a_list, b_list = [], []
    for a, b in zip(cands.a[keep].tolist(), cands.b[keep].tolist(), strict=True):
        if ids[a] > ids[b]:
            a, b = b, a
        a_list.append(a)
        b_list.append(b)
    levels = comp.levels[keep]
    weights = fw[keep]
    swapped = comp.swapped[keep].tolist()
    rarity = {
        field: _rarity(levels, weights, swapped, field, base)
        for field in ("first_name", "last_name")
    }
    evidence = _Explainer(f).evidence(
        a_list, b_list, levels, _rounded(weights), round(prior, 3), swapped, rarity
    )
    flag_words: dict[int, tuple[str, ...]] = {}  # flag mask -> names (few distinct masks)
    out = []
    columns = zip(
        a_list,
        b_list,
        evidence,
        total[keep].tolist(),
        prob[keep].tolist(),
        flags[keep].tolist(),
        band[keep].tolist(),
        comp.years_apart[keep].tolist(),
        strict=True,
    )
    for a, b, told, tot, p, fl, bd, years in columns:
        names = flag_words.get(fl)
        if names is None:
            names = flag_words[fl] = flag_names(fl)
        out.append(
            ScoredPair(
                id_a=ids[a],
                id_b=ids[b],
                probability=p,
                weight=tot,
                band=_BANDS[bd],
                flags=names,
                evidence=told,
                warnings=warning_texts(names, years),
                updated_a=f.updated_at[a],
                updated_b=f.updated_at[b],
            )
        )
    return out


def _rarity(
    levels: np.ndarray, weights: np.ndarray, swapped: list[bool], field: str, base: np.ndarray
) -> dict[int, str]:
    """Pairs (by index) whose exact name counted for clearly less or more than the model's
    usual weight, with the words that say so."""
    k, exact = FIELD_NAMES.index(field), len(FIELD_LEVELS[field]) - 1
    common, rare = float(base[k, exact] - 1.0), float(base[k, exact] + 1.0)
    out = {}
    for i in np.flatnonzero(levels[:, k] == exact).tolist():
        if swapped[i]:
            continue
        w = float(weights[i, k])
        if w < common:
            out[i] = " (a common name: counts for less)"
        elif w > rare:
            out[i] = " (a rare name: counts for more)"
    return out


def _rounded(weights: np.ndarray) -> np.ndarray:
    """``round(w, 3)`` of every weight (as the evidence shows it), once per distinct weight:
    a clinic's pairs share a few hundred distinct weights, and ``round`` is slow."""
    if weights.size == 0:
        return np.zeros(weights.shape, dtype=np.float64)
    # By bit pattern, so that -0.0 and 0.0 stay apart as round keeps them.
    bits = np.ascontiguousarray(weights, dtype=np.float64).view(np.int64)
    distinct, inverse = np.unique(bits, return_inverse=True)
    table = np.array([round(w, 3) for w in distinct.view(np.float64).tolist()], dtype=np.float64)
    out: np.ndarray = table[inverse.reshape(weights.shape)]
    return out
