"""Normalisers for contact and identity fields: phones, emails, birth dates, Medicare, address.

Each takes one raw value and returns a canonical string (empty when the value is missing or
unusable). They are not cached: :mod:`features` calls them once per distinct value already,
and nearly every value of a clinic is distinct, so a cache would cost time and memory.
"""

from __future__ import annotations

import datetime as _dt
import json
import re

import numpy as np

from desktop.matching.text import fold_words

_DIGITS = re.compile(r"\D+")
_COUNTRY_CODES = {"AU": "61", "NZ": "64", "GB": "44", "UK": "44", "US": "1", "CA": "1", "IE": "353"}
# Cliniko serves clinics in these countries.


def _digits(text: str) -> str:
    """``_DIGITS.sub("", text)``, with a short cut for the usual digits, separators and a
    leading ``+``."""
    packed = text.replace(" ", "")
    if packed.isdigit() and packed.isascii():  # the commonest shape: digits and spaces
        return packed
    packed = _without_separators(packed)
    body = packed[1:] if packed[:1] == "+" else packed
    return body if body.isascii() and body.isdigit() else _DIGITS.sub("", text)


def country_key(code: object, default: str = "AU") -> str:
    """A two-letter country code in upper case (``"gb"`` -> ``"GB"``, ``"UK"`` -> ``"GB"``);
    ``default`` when the value is missing or not one."""
    if isinstance(code, str):
        folded = code.strip().upper()
        if len(folded) == 2 and folded.isalpha():
            return "GB" if folded == "UK" else folded
    return default


def phone_e164(raw: str | None, country: str = "AU") -> str:
    """A phone number in E.164 (``"0412 345 678"`` -> ``"+61412345678"``), or ``""``.

    ``country`` is where the patient lives (the record's, else the clinic's): a number
    written without its country code is read as that country's. Common Australian, New
    Zealand and North American shapes take a fast path; everything else goes through
    ``phonenumbers``. Unparseable numbers keep their digits.
    """
    if not raw or not isinstance(raw, str):
        return ""
    digits = _digits(raw)
    if len(digits) < 6:
        return ""
    plus = raw.lstrip().startswith("+")
    cc = _COUNTRY_CODES.get(country.upper(), "")
    if cc in ("61", "64") and not plus:
        if digits.startswith("00" + cc):
            digits, plus = digits[2:], True
        elif len(digits) in (9, 10) and digits[0] == "0" and digits[1] != "0":
            return "+" + cc + digits[1:]
        elif len(digits) == 9 and digits[0] in "2345789" and cc == "61":
            return "+61" + digits
    if plus and cc and digits.startswith(cc) and cc in ("61", "64") and len(digits) in (10, 11):
        return "+" + digits[:2] + digits[2:].lstrip("0")
    if cc == "1" and digits[0] != "0":
        # North America: "(206) 555-0134", "1-206-555-0134" and "+1 206 555 0134" are one
        # number; the area code and exchange never start with 0 or 1.
        if len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
            return "+" + digits
        if len(digits) == 10 and not plus and digits[0] != "1":
            return "+1" + digits
    try:
        import phonenumbers

        parsed = phonenumbers.parse(raw, country.upper() or None)
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # phonenumbers raises NumberParseException on junk
        pass
    return ("+" if plus else "") + digits


NUMBER_FIELD = re.compile(r'"number"\s*:\s*"([^"\\]*)"')


def phones_from_json(text: object, country: str = "AU") -> tuple[str, ...]:
    """Distinct E.164 numbers from the cache's ``phones`` JSON list (bad JSON gives none)."""
    if not text:
        return ()
    if isinstance(text, str) and text.startswith("[") and "\\" not in text:
        # Fast path for the cache's own JSON: pick the numbers out without a full parse.
        out: list[str] = []
        for number in NUMBER_FIELD.findall(text):
            e164 = phone_e164(number, country)
            if e164 and e164 not in out:
                out.append(e164)
        return tuple(out)
    items: object = None
    if isinstance(text, list):
        items = text
    elif isinstance(text, str | bytes | bytearray):
        try:
            items = json.loads(text)
        except ValueError:
            return ()
    out = []
    if not isinstance(items, list):
        return ()
    for item in items:
        number = item.get("number") if isinstance(item, dict) else item
        if isinstance(number, str):
            e164 = phone_e164(number, country)
            if e164 and e164 not in out:
                out.append(e164)
    return tuple(out)


# Values read together: a clinic's numbers are not all held at once (peak memory).
PHONE_BATCH = 4096


def phone_lists(values: list[object], country: str = "AU") -> list[tuple[str, ...]]:
    """:func:`phones_from_json` of many values, the commonest number shapes read without
    :func:`phone_e164`'s full parse."""
    out: list[tuple[str, ...]] = []
    for start in range(0, len(values), PHONE_BATCH):
        out.extend(_phone_batch(values[start : start + PHONE_BATCH], country))
    return out


def _phone_batch(values: list[object], country: str) -> list[tuple[str, ...]]:
    """:func:`phone_lists` of one batch of values."""
    cc = _COUNTRY_CODES.get(country.upper(), "")
    trunk = cc in ("61", "64")
    findall = NUMBER_FIELD.findall
    # The cache's own JSON (the regex reads its numbers); None for other values.
    own = [
        v if isinstance(v, str) and v.startswith("[") and "\\" not in v else None for v in values
    ]
    found: list[list[str]] = [[] if v is None else findall(v) for v in own]
    # Every number without its separators, in one pass ('"' never occurs inside a number).
    packed = _without_separators('"'.join([n for numbers in found for n in numbers])).split('"')
    out: list[tuple[str, ...]] = []
    k = 0
    for value, text, numbers in zip(values, own, found, strict=True):
        if text is None:
            try:
                out.append(phones_from_json(value, country))
            except Exception:  # malformed phone lists count as no phone
                out.append(())
            continue
        read: list[str] = []
        for number in numbers:
            e164 = _common_e164(number, packed[k], cc) if trunk else ""
            k += 1
            if not e164:
                e164 = phone_e164(number, country)
            if e164:
                read.append(e164)
        out.append(tuple(dict.fromkeys(read)) if len(read) > 1 else tuple(read))
    return out


def _without_separators(text: str) -> str:
    """``text`` without the separators people type inside numbers: spaces, hyphens, brackets
    and dots ("0412 345 678", "(03) 9012-2037", "2123 45678 1")."""
    return text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace(".", "")


def _common_e164(number: str, packed: str, cc: str) -> str:
    """:func:`phone_e164` of the commonest shapes where numbers have a trunk 0 (Australia,
    New Zealand: ``"0412 345 678"``, ``"(03) 9012-2037"``, ``"+61 412 345 678"``), given the
    number without its separators (``packed``) and the country code ``cc``; ``""`` for any
    other shape (phone_e164 then reads it)."""
    if not packed.isascii():
        return ""
    if packed.isdigit():
        if len(packed) in (9, 10) and packed[0] == "0" and packed[1] != "0":
            return "+" + cc + packed[1:]
        return ""
    if (
        len(packed) in (11, 12)
        and packed[1:3] == cc
        and packed[0] == "+"
        and packed[1:].isdigit()
        and number.lstrip()[:1] == "+"
    ):
        return "+" + cc + packed[3:].lstrip("0")
    return ""


_DOT_BLIND = frozenset(("gmail.com", "googlemail.com"))
_PLUS_TAGS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "fastmail.fm",
        "protonmail.com",
        "proton.me",
        "bigpond.com",
    ]
)


def email_key(raw: str | None, fold_dots: bool = True) -> str:
    """A canonical email: lower case; for providers that ignore them, no dots or +tags.

    With ``fold_dots=False`` the dots stay (to tell an identical address from one that only
    reaches the same mailbox).
    """
    if not raw or not isinstance(raw, str):
        return ""
    email = raw.strip().lower()
    if "@" not in email:
        return ""
    local, _, domain = email.rpartition("@")
    domain = domain.strip(". ")
    if not local or "." not in domain:
        return ""
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _PLUS_TAGS and "+" in local:
        local = local.split("+", 1)[0]
    if fold_dots and domain in _DOT_BLIND:
        local = local.replace(".", "")
    return f"{local}@{domain}"


# What separates a typed date's day, month and year.
_DATE_PARTS = re.compile(r"[-/. ]")


def birth_date(raw: str | None) -> str:
    """A valid birth date as ``YYYYMMDD`` (from ISO ``YYYY-MM-DD`` or ``DD/MM/YYYY``), or ``""``."""
    if not raw or not isinstance(raw, str):
        return ""
    text = raw.strip()
    if not (
        len(text) == 10
        and text[4] == "-"
        and text[7] == "-"
        and text[:4].isdecimal()
        and text[5:7].isdecimal()
        and text[8:].isdecimal()
    ):  # the cache's ISO dates hold no look-alikes to read
        text = _digits_misread(text)[:10]
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # the cache's ISO dates
        y, m, d = text[:4], text[5:7], text[8:]
        if not (y.isdecimal() and m.isdecimal() and d.isdecimal()):
            return ""
        year, month, day_ = int(y), int(m), int(d)
        if month > 12 and 1 <= day_ <= 12:  # day and month typed the other way round
            month, day_, m, d = day_, month, d, m
        if 1880 <= year <= 2100 and 1 <= month <= 12 and 1 <= day_ <= _month_days(year, month):
            return y + m + d
        return ""
    parts = _DATE_PARTS.split(text)
    if len(parts) != 3 or not all(p.isdecimal() for p in parts):
        return ""
    if len(parts[0]) == 4:
        yy, mm, dd = (int(p) for p in parts)
    elif len(parts[2]) == 4:
        dd, mm, yy = (int(p) for p in parts)
    else:
        return ""
    if mm > 12 and 1 <= dd <= 12:  # day and month typed the other way round
        dd, mm = mm, dd
    try:
        day = _dt.date(yy, mm, dd)
    except ValueError:
        return ""
    if not 1880 <= yy <= 2100:
        return ""
    return day.strftime("%Y%m%d")


def typed_birth_date(raw: str | None) -> str:
    """The digits ``YYYYMMDD`` of a birth date typed in a date's shape that is no patient's
    birth date, to compare digit by digit; ``""`` for a real one or any other text.

    Cliniko stores real calendar dates, so from Cliniko these are years no patient was born in
    ("1173-10-29" for 1973); other sources also bring impossible days and months
    ("1942-03-41", "31/13/1950")."""
    if not raw or not isinstance(raw, str) or birth_date(raw):
        return ""
    parts = _DATE_PARTS.split(_digits_misread(raw.strip()))
    if not all(p.isascii() and p.isdigit() for p in parts):
        return ""
    shape = [len(p) for p in parts]
    if shape == [4, 2, 2]:
        return "".join(parts)
    if shape == [2, 2, 4]:
        return parts[2] + parts[1] + parts[0]
    return ""


# Characters a paper form's digits are misread or mistyped as ("O5/27/1983", "|2/23/|996").
_DIGIT_LOOKALIKES = str.maketrans("OoQDIl|!ZzSsGbBq", "0000111122556689")
_LOOKALIKES_MAX = 2  # more than this many and the text is not a misread date


def _digits_misread(text: str) -> str:
    """A date's text with up to two look-alike characters read as the digits they resemble."""
    odd = sum(not ch.isdigit() and ch not in "-/. " for ch in text)
    if odd == 0 or odd > _LOOKALIKES_MAX:
        return text
    return text.translate(_DIGIT_LOOKALIKES)


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def date_relation(a: str, b: str) -> str:
    """How two ``YYYYMMDD`` dates relate: same, swapped, typo, near, far or missing."""
    if not a or not b:
        return "missing"
    if a == b:
        return "same"
    if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return "swapped"
    if sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return "typo"
    return "far"


def years_apart(a: str, b: str) -> int:
    """Whole years between two ``YYYYMMDD`` dates (0 when either is missing)."""
    if not a or not b:
        return 0
    return abs(int(a[:4]) - int(b[:4]))


# Weights of a Medicare card's first eight digits in its check digit.
_MEDICARE_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9)


def medicare_valid(card: str) -> bool:
    """True when a 10-digit Medicare card number starts 2-6 and its check digit is right.

    One card at a time, for the odd shapes; :func:`medicare_valid_many` checks a clinic's.
    """
    head = card[:9]
    if len(head) < 9 or not head.isdigit() or head[0] not in "23456":
        return False
    d = [ord(c) - 48 for c in head]
    return sum(w * x for w, x in zip(_MEDICARE_WEIGHTS, d[:8], strict=True)) % 10 == d[8]


def _digit_rows(texts: list[str], width: int) -> np.ndarray:
    """The first ``width`` characters of each text (at least that long) as digit values, one
    row per text (a character that is not an ASCII digit gives a value outside 0-9)."""
    chars = np.array(texts, dtype=f"<U{width}").view(np.uint32).reshape(len(texts), width)
    return chars.astype(np.int64) - 48


def medicare_valid_many(cards: list[str]) -> np.ndarray:
    """:func:`medicare_valid` of many cards, the ASCII ones checked together."""
    out = np.zeros(len(cards), dtype=bool)
    ascii_ = [i for i, card in enumerate(cards) if len(card) >= 9 and card.isascii()]
    rows = _digit_rows([cards[i] for i in ascii_], 9)
    digits = ((rows >= 0) & (rows <= 9)).all(axis=1)
    first = (rows[:, 0] >= 2) & (rows[:, 0] <= 6)
    checked = (rows[:, :8] @ np.array(_MEDICARE_WEIGHTS, dtype=np.int64)) % 10 == rows[:, 8]
    out[ascii_] = digits & first & checked
    for i, card in enumerate(cards):
        if len(card) >= 9 and not card.isascii():
            out[i] = medicare_valid(card)
    return out


def medicare_parts_many(numbers: list[str | None], refs: list[str]) -> list[tuple[str, str]]:
    """:func:`medicare_parts` of each number and reference (``("", "")`` for a number of
    None); numbers of ten ASCII digits (spaces aside), the commonest shape, checked together."""
    out: list[tuple[str, str]] = [("", "")] * len(numbers)
    packed = ["" if raw is None else raw.replace(" ", "") for raw in numbers]
    quick = [len(p) == 10 and p.isdigit() and p.isascii() for p in packed]
    ten = [i for i, q in enumerate(quick) if q]
    cards = [packed[i] for i in ten]
    ref_digit = {ref: _digits(ref)[:1] for ref in set(refs)}  # few distinct references
    for i, card, valid in zip(ten, cards, medicare_valid_many(cards).tolist(), strict=True):
        ref = ref_digit[refs[i]]
        if valid:
            out[i] = (card[:9], ref)
        elif card.strip("0"):  # a number of only zeros is none
            out[i] = (card, ref)
    for i, (raw, q) in enumerate(zip(numbers, quick, strict=True)):
        if raw is not None and not q:
            out[i] = medicare_parts(raw, refs[i])
    return out


def medicare_parts(raw: str | None, irn: str | None = None) -> tuple[str, str]:
    """``(card, irn)``: the card identity (without issue number) and the individual reference.

    An 11-digit value carries the IRN at its end. A card number is shared by a family; the IRN
    tells its members apart. Numbers that are not Medicare-shaped keep all their digits.
    """
    digits = _digits(raw) if isinstance(raw, str) else ""
    ref = _digits(irn) if isinstance(irn, str) else (str(irn) if irn else "")
    if len(digits) < 5 or not digits.strip("0"):  # too short, or only zeros
        return "", ""
    if len(digits) == 11 and not ref:
        ref = digits[10]
    if len(digits) in (10, 11) and medicare_valid(digits):
        return digits[:9], ref[:1]
    return digits, ref[:1]


def postcode_key(raw: str | None) -> str:
    """A postcode without spaces, upper case (``" 3000 "`` -> ``"3000"``)."""
    if not raw or not isinstance(raw, str):
        return ""
    return "".join(raw.split()).upper()


_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "court": "ct",
    "place": "pl",
    "crescent": "cres",
    "cr": "cres",
    "parade": "pde",
    "highway": "hwy",
    "terrace": "tce",
    "ter": "tce",
    "terr": "tce",
    "lane": "ln",
    "boulevard": "blvd",
    "close": "cl",
    "circuit": "cct",
    "circle": "cir",
    "square": "sq",
    "grove": "gr",
    "way": "wy",
    "esplanade": "esp",
    "parkway": "pkwy",
    "pky": "pkwy",
    "expressway": "expy",
    "freeway": "fwy",
    "trail": "trl",
    "crossing": "xing",
    "point": "pt",
    "heights": "hts",
    "centre": "ctr",
    "center": "ctr",
    "route": "rte",
    "gardens": "gdns",
    "unit": "u",
    "apartment": "u",
    "apt": "u",
    "flat": "u",
    "suite": "u",
    "ste": "u",
    "level": "lvl",
    "floor": "fl",
    "building": "bldg",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
    "mount": "mt",
    "saint": "st",
}
# Ways of writing a post office box, as word sequences (after folding), longest first.
_PO_BOX = (
    ("post", "office", "box"),
    ("p", "o", "box"),
    ("po", "box"),
    ("p", "o", "b"),
    ("pob",),
    ("pobox",),
    ("box",),
)
_SPLIT_DIRECTIONS = {("north", "east"): "ne", ("north", "west"): "nw"}
_SPLIT_DIRECTIONS |= {("south", "east"): "se", ("south", "west"): "sw"}


_PO_BOX_FIRST = frozenset(form[0] for form in _PO_BOX)
_SPLIT_SECOND = frozenset(second for _, second in _SPLIT_DIRECTIONS)


def _po_box(words: list[str]) -> list[str]:
    """``P.O. Box 12``, ``PO Box 12``, ``Post Office Box 12``, ``POB 12`` -> ``pobox 12``."""
    if not words or words[0] not in _PO_BOX_FIRST:
        return words
    for form in _PO_BOX:
        k = len(form)
        if tuple(words[:k]) == form and len(words) > k and words[k][:1].isdigit():
            return ["pobox", *words[k:]]
    return words


def address_key(line1: str | None, line2: str | None = None) -> str:
    """A folded street address with common words abbreviated (``Street`` -> ``st``,
    ``Northeast`` -> ``ne``, ``Parkway`` -> ``pkwy``, ``P.O. Box`` -> ``pobox``)."""
    first = line1 if isinstance(line1, str) else ""
    second = line2 if isinstance(line2, str) else ""
    raw = f"{first} {second}" if first and second else first or second
    words = _po_box(fold_words(raw))
    out = words
    if not _SPLIT_SECOND.isdisjoint(words):
        out = []
        for w in words:
            if out and (out[-1], w) in _SPLIT_DIRECTIONS:  # "North East" -> "ne"
                out[-1] = _SPLIT_DIRECTIONS[(out[-1], w)]
                continue
            out.append(w)
    return " ".join(map(_ADDRESS_WORDS.get, out, out))


# Words in front of a street that carry a digit (a house or unit number: "1609", "3/21",
# "1g17"), but not an ordinal that names the street ("8th Ave").
_HOUSE_NUMBERS = re.compile(r"^(?:(?!\d+(?:st|nd|rd|th)\b)\S*\d\S*(?: +|$))+")
_THREE_LETTERS = re.compile(r"[^\s\d]{3}")


def street_key(address: str) -> str:
    """The street of an :func:`address_key`, without the house or unit number in front
    ("1609 ellicott rd" -> "ellicott rd"; "8th ave" stays): "" for a post office box or when
    no word of three letters is left."""
    if address.startswith("pobox"):
        return ""
    street = _HOUSE_NUMBERS.sub("", address, count=1) if address[:1].isdigit() else address
    return street if _THREE_LETTERS.search(street) else ""
