"""Explanations: each pair's evidence for and against, in words an administrator understands."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
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


ValueReader = Callable[[int], str]


def value_readers(raw: dict[str, list[Any]]) -> dict[str, ValueReader]:
    """Per comparison, a function giving the values a record shows for it (by record index)."""
    first, preferred = raw["first_name"], raw["preferred_first_name"]
    phones = raw["phones"]
    medicare, irn = raw["medicare"], raw["medicare_reference_number"]
    address = [raw[column] for column in COMPARED_FIELDS["address"].sources]

    def first_name(i: int) -> str:
        pref, name = _s(preferred[i]), _s(first[i])
        return f"{name} ({pref})" if pref and pref != name else name

    def medicare_number(i: int) -> str:
        ref = _s(irn[i])
        return _s(medicare[i]) + (f" / {ref}" if ref else "")

    def address_lines(i: int) -> str:
        return ", ".join([_s(p) for p in [column[i] for column in address] if p])

    def phone_numbers(i: int) -> str:
        return _phones(phones[i])

    def plain(column: list[Any]) -> ValueReader:
        def read(i: int) -> str:
            value = column[i]
            return value if value.__class__ is str else _s(value)

        return read

    def reader(name: str) -> ValueReader:
        if name == "first_name":
            return first_name
        if name == "phone":
            return phone_numbers
        if name == "medicare":
            return medicare_number
        if name == "address":
            return address_lines
        return plain(raw[COMPARED_FIELDS[name].sources[0]])

    return {name: reader(name) for name in FIELD_NAMES}


class _Explainer:
    """Words for the evidence of one scan's pairs, with what they read prepared once."""

    def __init__(self, f: Features) -> None:
        self.f = f
        readers = value_readers(f.raw)
        # Per comparison, in level-column order: its words and its value reader.
        self.fields = tuple((*words, readers[words[0]]) for words in _FIELD_WORDS)

    @cached_property
    def first(self) -> list[int]:
        out: list[int] = self.f.first.tolist()
        return out

    @cached_property
    def dob(self) -> list[int]:
        out: list[int] = self.f.dob.tolist()
        return out

    @cached_property
    def phone_code(self) -> list[int]:
        out: list[int] = self.f.phone_code.tolist()
        return out

    def first_text(self, a: int, b: int, lv: str, swapped: bool) -> str:
        if swapped:
            return "first and last names swapped between the records"
        if lv == "alias":
            names, first = self.f.names.values, self.first
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
        da, db = str(self.dob[a]), str(self.dob[b])
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
        starts, codes = self.f.phone_starts(), self.phone_code
        common = set(codes[starts[a] : starts[a + 1]]) & set(codes[starts[b] : starts[b + 1]])
        numbers = [self.f.vocabs["phones"].values[c] for c in common]
        if numbers and all(n.startswith("+614") for n in numbers):
            return "same mobile number"
        return "same phone number"

    def evidence(
        self,
        a: int,
        b: int,
        levels: list[int],
        shown: list[float],
        prior_shown: float,
        swapped: bool,
        rarity: dict[str, str],
    ) -> list[Evidence]:
        """:func:`explain_pair` with the weights already rounded as the evidence shows them."""
        out = [Evidence("prior", "", "", "prior", prior_shown, PRIOR_TEXT)]
        for (field, label, names, texts, read), level, weight in zip(
            self.fields, levels, shown, strict=True
        ):
            lv = names[level]
            if lv == MISSING:
                continue
            if field == "first_name":
                text = self.first_text(a, b, lv, swapped)
            elif field == "date_of_birth":
                text = self.dob_text(a, b, lv)
            elif field == "phone" and lv == "same":
                text = self.phone_text(a, b)
            else:
                text = texts[level]
            if rarity and field in rarity:
                text += rarity[field]
            out.append(Evidence(label, read(a), read(b), lv, weight, text))
        return out


def explain_pair(
    f: Features,
    a: int,
    b: int,
    levels: list[int],
    weights: list[float],
    prior_weight: float,
    swapped: bool,
    rarity: dict[str, str],
) -> list[Evidence]:
    """Evidence list for records ``a`` and ``b``; weights (with the prior) add up to the score."""
    shown = [round(w, 3) for w in weights]
    return _Explainer(f).evidence(a, b, levels, shown, round(prior_weight, 3), swapped, rarity)


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
    # Per name comparison: its column, its exact level, and the weights below and above which
    # the name counts as common or rare.
    names_rated = []
    for field in ("first_name", "last_name"):
        k, exact = FIELD_NAMES.index(field), len(FIELD_LEVELS[field]) - 1
        names_rated.append(
            (field, k, exact, float(base[k, exact] - 1.0), float(base[k, exact] + 1.0))
        )
    out = []
    explainer = _Explainer(f)
    flag_words: dict[int, tuple[str, ...]] = {}  # flag mask -> names (few distinct masks)
    prior_shown = round(prior, 3)
    columns = zip(
        cands.a[keep].tolist(),
        cands.b[keep].tolist(),
        comp.levels[keep].tolist(),
        fw[keep].tolist(),
        _rounded(fw[keep]),
        total[keep].tolist(),
        prob[keep].tolist(),
        flags[keep].tolist(),
        band[keep].tolist(),
        comp.years_apart[keep].tolist(),
        comp.swapped[keep].tolist(),
        strict=True,
    )
    for a, b, lv, w, shown, tot, p, fl, bd, years, swapped in columns:
        if f.ids[a] > f.ids[b]:
            a, b = b, a
        rarity: dict[str, str] = {}
        for field, k, exact, common, rare in names_rated:
            if lv[k] == exact and not swapped:
                if w[k] < common:
                    rarity[field] = " (a common name: counts for less)"
                elif w[k] > rare:
                    rarity[field] = " (a rare name: counts for more)"
        names = flag_words.get(fl)
        if names is None:
            names = flag_words[fl] = flag_names(fl)
        out.append(
            ScoredPair(
                id_a=f.ids[a],
                id_b=f.ids[b],
                probability=p,
                weight=tot,
                band=_BANDS[bd],
                flags=names,
                evidence=explainer.evidence(a, b, lv, shown, prior_shown, swapped, rarity),
                warnings=warning_texts(names, years),
                updated_a=f.updated_at[a],
                updated_b=f.updated_at[b],
            )
        )
    return out


def _rounded(weights: np.ndarray) -> list[list[float]]:
    """``round(w, 3)`` of every weight (as the evidence shows it), once per distinct weight:
    a clinic's pairs share a few hundred distinct weights, and ``round`` is slow."""
    if weights.size == 0:
        return [[] for _ in range(weights.shape[0])]
    # By bit pattern, so that -0.0 and 0.0 stay apart as round keeps them.
    bits = np.ascontiguousarray(weights, dtype=np.float64).view(np.int64)
    distinct, inverse = np.unique(bits, return_inverse=True)
    table = np.array([round(w, 3) for w in distinct.view(np.float64).tolist()], dtype=np.float64)
    out: list[list[float]] = table[inverse.reshape(weights.shape)].tolist()
    return out
