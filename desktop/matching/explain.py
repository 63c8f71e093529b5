"""Explanations: each pair's evidence for and against, in words an administrator understands."""

from __future__ import annotations

import json

from desktop.matching import normalise as nz
from desktop.matching.compare import FIELD_NAMES, FIELDS
from desktop.matching.features import Features
from desktop.matching.nicknames_table import is_nickname_pair
from desktop.matching.normalise import NUMBER_FIELD
from desktop.matching.types import Evidence

_FIELD_LABEL = {
    "first_name": "First name",
    "last_name": "Surname",
    "date_of_birth": "Birth date",
    "sex": "Sex",
    "phone": "Phone",
    "email": "Email",
    "medicare": "Medicare",
    "address": "Address",
}


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _phones(raw: object) -> str:
    if isinstance(raw, str) and raw.startswith("[") and "\\" not in raw:
        return ", ".join(NUMBER_FIELD.findall(raw))
    try:
        items = json.loads(raw) if isinstance(raw, str) else (raw or [])
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
        parts = [r["address_1"][i], r["address_2"][i], r["city"][i], r["post_code"][i]]
        return ", ".join(_s(p) for p in parts if p)
    return _s(r[field][i])


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
    return {
        "exact": "same first name",
        "close": "first names nearly the same (a typing slip?)",
        "similar": "first names alike",
        "initial": "an initial that fits the first name",
        "different": "different first names",
    }[lv]


def _dob_text(f: Features, a: int, b: int, lv: str) -> str:
    da, db = str(int(f.dob[a])), str(int(f.dob[b]))
    if lv == "exact":
        return "same birth date"
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


_TEXTS = {
    "last_name": {
        "exact": "same surname",
        "part": "one surname is part of the other (double-barrelled?)",
        "close": "surnames nearly the same (a typing slip?)",
        "similar": "surnames alike",
        "different": "different surnames",
    },
    "sex": {"same": "same sex", "different": "different sex"},
    "phone": {"same": "same phone number", "different": "no phone number in common"},
    "email": {
        "exact": "same email address",
        "similar": "email addresses nearly the same",
        "dots": "the same mailbox, written with different dots",
        "different": "different email addresses",
    },
    "medicare": {
        "exact": "same Medicare number and individual reference number",
        "card": "same Medicare card number",
        "family": "same Medicare card, different individual number (usually family members)",
        "near": "Medicare numbers one digit apart",
        "different": "different Medicare numbers",
    },
    "address": {
        "same": "same address",
        "similar": "addresses nearly the same",
        "post_code": "same postcode, different street",
        "city": "same suburb, different street",
        "different": "different addresses",
    },
}


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
        lv = FIELDS[field][levels[k]]
        if lv == "missing":
            continue
        if field == "first_name":
            text = _first_text(f, a, b, lv, swapped)
        elif field == "date_of_birth":
            text = _dob_text(f, a, b, lv)
        elif field == "phone" and lv == "same":
            text = _phone_text(f, a, b)
        else:
            text = _TEXTS[field][lv]
        if field in rarity:
            text += rarity[field]
        out.append(
            Evidence(
                _FIELD_LABEL[field],
                _values(f, a, field),
                _values(f, b, field),
                lv,
                round(weights[k], 3),
                text,
            )
        )
    return out
