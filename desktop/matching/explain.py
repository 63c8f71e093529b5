"""Explanations: each pair's evidence for and against, in words an administrator understands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop.fields import COMPARED_FIELDS
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


def _values(f: Features, i: int, field: str) -> str:
    r = f.raw
    if field == "first_name":
        pref = _s(r["preferred_first_name"][i])
        first = _s(r["first_name"][i])
        return f"{first} ({pref})" if pref and pref != first else first
    if field == "phone":
        return _phones(r["phones"][i])
    if field == "medicare":
        irn = _s(r["medicare_reference_number"][i])
        return _s(r["medicare"][i]) + (f" / {irn}" if irn else "")
    if field == "address":
        parts = [r[column][i] for column in COMPARED_FIELDS["address"].sources]
        return ", ".join(_s(p) for p in parts if p)
    return _s(r[COMPARED_FIELDS[field].sources[0]][i])


def _first_text(f: Features, a: int, b: int, lv: str, swapped: bool) -> str:
    names = f.names.values
    fa, fb = (
        names[f.first[a]] if f.first[a] >= 0 else "",
        names[f.first[b]] if f.first[b] >= 0 else "",
    )
    if swapped:
        return "first and last names swapped between the records"
    if lv == "alias":
        ra, rb = _s(f.raw["first_name"][a]).split(), _s(f.raw["first_name"][b]).split()
        da, db = (ra[0] if ra else fa), (rb[0] if rb else fb)
        if is_nickname_pair(fa, fb):
            return f"{da} / {db}: a known nickname"
        return f"{da} / {db}: a preferred or middle name of the other record"
    return COMPARED_FIELDS["first_name"].text(lv)


def _dob_text(f: Features, a: int, b: int, lv: str) -> str:
    da, db = str(int(f.dob[a])), str(int(f.dob[b]))
    if lv == "exact":
        return COMPARED_FIELDS["date_of_birth"].text(lv)
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


def _phone_text(f: Features, a: int, b: int) -> str:
    starts = f.phone_starts()
    mine = set(f.phone_code[starts[a] : starts[a + 1]].tolist())
    theirs = set(f.phone_code[starts[b] : starts[b + 1]].tolist())
    common = mine & theirs
    numbers = [f.vocabs["phones"].values[c] for c in common]
    if numbers and all(n.startswith("+614") for n in numbers):
        return "same mobile number"
    return "same phone number"


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
    out = [
        Evidence(
            "prior",
            "",
            "",
            "prior",
            round(prior_weight, 3),
            "how rare duplicates are in this clinic (starting point)",
        )
    ]
    for k, field in enumerate(FIELD_NAMES):
        lv = FIELD_LEVELS[field][levels[k]]
        if lv == "missing":
            continue
        if field == "first_name":
            text = _first_text(f, a, b, lv, swapped)
        elif field == "date_of_birth":
            text = _dob_text(f, a, b, lv)
        elif field == "phone" and lv == "same":
            text = _phone_text(f, a, b)
        else:
            text = COMPARED_FIELDS[field].text(lv)
        if field in rarity:
            text += rarity[field]
        out.append(
            Evidence(
                COMPARED_FIELDS[field].label,
                _values(f, a, field),
                _values(f, b, field),
                lv,
                round(weights[k], 3),
                text,
            )
        )
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
    exact_first = len(FIELD_LEVELS["first_name"]) - 1
    exact_last = len(FIELD_LEVELS["last_name"]) - 1
    k_first, k_last = FIELD_NAMES.index("first_name"), FIELD_NAMES.index("last_name")
    out = []
    columns = zip(
        cands.a[keep].tolist(),
        cands.b[keep].tolist(),
        comp.levels[keep].tolist(),
        fw[keep].tolist(),
        total[keep].tolist(),
        prob[keep].tolist(),
        flags[keep].tolist(),
        band[keep].tolist(),
        comp.years_apart[keep].tolist(),
        comp.swapped[keep].tolist(),
        strict=True,
    )
    for a, b, lv, w, tot, p, fl, bd, years, swapped in columns:
        if f.ids[a] > f.ids[b]:
            a, b = b, a
        rarity: dict[str, str] = {}
        for field, k, exact in (
            ("first_name", k_first, exact_first),
            ("last_name", k_last, exact_last),
        ):
            if lv[k] == exact and not swapped:
                if w[k] < base[k, exact] - 1.0:
                    rarity[field] = " (a common name: counts for less)"
                elif w[k] > base[k, exact] + 1.0:
                    rarity[field] = " (a rare name: counts for more)"
        names = flag_names(fl)
        out.append(
            ScoredPair(
                id_a=f.ids[a],
                id_b=f.ids[b],
                probability=p,
                weight=tot,
                band=_BANDS[bd],
                flags=names,
                evidence=explain_pair(f, a, b, lv, w, prior, swapped, rarity),
                warnings=warning_texts(names, years),
                updated_a=f.updated_at[a],
                updated_b=f.updated_at[b],
            )
        )
    return out
