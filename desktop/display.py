"""Patient fields and values as a person reads them in Cliniko (Qt-free).

The cache holds Cliniko's JSON: ``address_1``, ``True``, ``None``, pronouns as an object. The
window shows Cliniko's own labels and plain values instead::

    field_label("address_1")                         # "Address line 1"
    display_value("accepted_privacy_policy", True)   # "Yes"
    display_value("pronouns", {"nominative": "she", "accusative": "her", ...})  # "she/her"
    same_values("patient_phone_numbers", [a, b])     # +61465581120 and 0465581120: True

Differences are judged after the matcher's own normalisers (phones in E.164, emails, birth
dates, post codes, Medicare numbers), so formatting alone never shows as a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from desktop.fields import COMPARED_FIELDS, Normaliser, fields_normalised_as, patient_field
from desktop.matching.normalise import (
    address_key,
    birth_date,
    email_key,
    medicare_parts,
    phone_e164,
    postcode_key,
)
from desktop.matching.text import fold_words
from desktop.timestamps import day_words, moment_words, parse_timestamp

PHONES = "patient_phone_numbers"
DATES = fields_normalised_as("date")
TIMESTAMPS = fields_normalised_as("timestamp")
# How a text value of a field is read for comparison, by the registry's normaliser;
# any other text compares by its words, folded.
TEXT_NORMALISERS: dict[Normaliser, Callable[[str], str]] = {
    "email": lambda v: email_key(v, fold_dots=False),
    "date": lambda v: birth_date(v) or v.strip(),
    "post_code": postcode_key,
    "address": address_key,
    "medicare": lambda v: medicare_parts(v)[0] or v.strip(),
}
PRONOUN_ORDER = ("nominative", "accusative", "predicative_possessive")
# Characters a record may hold that would change how the text around them shows: control
# characters (a NUL shows as a box) and the marks that turn text right to left until further
# notice ("\u202eEvil" shows as "liveE"). Line breaks and tabs stay.
_HIDDEN = dict.fromkeys(
    [
        *(c for c in range(0x20) if c not in (0x09, 0x0A)),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)


def readable(text: str) -> str:
    """``text`` without the characters that would garble or reverse how it shows."""
    return text.translate(_HIDDEN)


# Characters of a name a heading, a choice or a message shows. A record may hold hundreds (a
# malformed one), and a label does not wrap: the window would grow past the screen, its
# buttons out of sight. Tables of field values show a name whole.
NAME_CHARS = 60


def shortened(name: str) -> str:
    """``name`` cut to :data:`NAME_CHARS` characters, the last an ellipsis, when longer."""
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def full_name(record: Mapping[str, Any]) -> str:
    """A record's first and last name as a person reads them ("" when it has neither), cut
    to :data:`NAME_CHARS`."""
    name = f"{record.get('first_name') or ''} {record.get('last_name') or ''}"
    return shortened(readable(name).strip())


def field_label(api_name: str) -> str:
    """Cliniko's label for a patient field (``address_1`` -> ``Address line 1``), from the
    field registry; a field it does not know reads as its name in words."""
    known = patient_field(api_name)
    return known.label if known else api_name.replace("_", " ").strip().capitalize()


def readable_date(value: str) -> str:
    """``1980-03-07`` -> ``7 Mar 1980``; a timestamp gives its day; anything else as it is."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return day_words(day)


def _phones(value: Iterable[Any]) -> str:
    lines = []
    for phone in value:
        if isinstance(phone, Mapping):
            number = str(phone.get("number") or "").strip()
            if number:
                kind = phone.get("phone_type")
                lines.append(f"{number} ({kind})" if kind else number)
        elif phone:
            lines.append(str(phone))
    return "\n".join(lines)


def _pronouns(value: Mapping[str, Any]) -> str:
    words: list[str] = []
    for key in PRONOUN_ORDER:
        word = str(value.get(key) or "").strip()
        if word and word not in words:
            words.append(word)
    return "/".join(words)


def _custom_fields(value: Mapping[str, Any]) -> str:
    lines = []
    for section in value.get("sections") or []:
        for item in (section or {}).get("fields") or []:
            answer = item.get("value")
            if answer in (None, "", []):
                options = [o.get("name") for o in item.get("options") or [] if o.get("selected")]
                answer = ", ".join(str(o) for o in options if o)
            if answer not in (None, "", []):
                lines.append(f"{item.get('name') or 'Field'}: {display_value('', answer)}")
    return "\n".join(lines)


def display_value(api_name: str, value: Any, tz: dt.tzinfo | None = None) -> str:
    """A field's value as a person reads it: Yes/No, pronouns as words, blanks as "".

    Phones one per line with their type, dates as ``7 Mar 1980``, Cliniko's links (a
    concession type, a referring doctor) as blank: the cache holds no name for them. A time
    (``created_at``...) is the day and time of day it was on the clock of ``tz`` (the
    clinic's; None: this computer's), not in UTC: when a duplicate was made, after hours or
    in the clinic's day, says which channel made it.
    """
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if api_name == PHONES and isinstance(value, list):
        return _phones(value)
    if isinstance(value, Mapping):
        if api_name == "pronouns" or "nominative" in value:
            return _pronouns(value)
        if "sections" in value:
            return _custom_fields(value)
        if "links" in value:
            return ""
        return "\n".join(
            f"{field_label(str(k))}: {display_value(str(k), v)}" for k, v in value.items() if v
        )
    if isinstance(value, list):
        return "\n".join(filter(None, (display_value(api_name, v, tz) for v in value)))
    text = readable(str(value)).strip()
    if api_name in TIMESTAMPS and (moment := parse_timestamp(text)):
        return moment_words(moment.astimezone(tz))
    if api_name in DATES or api_name in TIMESTAMPS:
        return readable_date(text)
    return text


def comparable(api_name: str, value: Any, country: str = "AU") -> Any:
    """What a value means for telling two records apart, after the matcher's normalisers."""
    known = patient_field(api_name)
    normaliser = known.normaliser if known else "words"
    if normaliser == "phones":
        numbers = value if isinstance(value, list) else []
        raw = (p.get("number") if isinstance(p, Mapping) else p for p in numbers)
        return frozenset(filter(None, (phone_e164(str(n), country) for n in raw if n)))
    if isinstance(value, str):
        read = TEXT_NORMALISERS.get(normaliser)
        return read(value) if read else " ".join(fold_words(value))
    return display_value(api_name, value).casefold()


def same_values(api_name: str, values: Sequence[Any], country: str = "AU") -> bool:
    """True when the values differ at most in formatting (``0465 581 120`` = ``+61465581120``)."""
    return len({comparable(api_name, v, country) for v in values}) <= 1


# Evidence rows that count birth dates, and how many of the two records they say have one.
_DATED_BY_LEVEL: dict[tuple[str, str], int] = {
    **{(COMPARED_FIELDS["date_of_birth"].label, lv): 2 for lv in ("different", "near", "exact")},
    (COMPARED_FIELDS["birth_date_recorded"].label, "both"): 2,
    (COMPARED_FIELDS["birth_date_recorded"].label, "one"): 1,
}


def note_merged_birth_dates(
    evidence: Sequence[Mapping[str, Any]], record_a: Mapping[str, Any], record_b: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The evidence, with a word where it counts a birth date the records do not show.

    A scan reads a patient's missing birth date from the records merged into it in Cliniko
    (they are one person), so "same birth date" can stand beside a record with none.
    """
    dated = [bool(record_a.get("date_of_birth")), bool(record_b.get("date_of_birth"))]
    out: list[dict[str, Any]] = []
    for item in evidence:
        row = dict(item)
        implied = _DATED_BY_LEVEL.get((str(row.get("field")), str(row.get("level"))))
        if implied is not None and sum(dated) < implied:
            values = (row.get("value_a"), row.get("value_b"))
            sides = [s for s, has, v in zip("AB", dated, values, strict=True) if not has and v]
            whose = f"{sides[0]}'s birth date" if len(sides) == 1 else "a birth date"
            row["text"] = f"{row.get('text') or ''} ({whose} is on a record merged into it)"
        out.append(row)
    return out
