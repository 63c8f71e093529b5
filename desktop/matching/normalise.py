"""Normalisers for contact and identity fields: phones, emails, birth dates, Medicare, address.

Each takes one raw value and returns a canonical string (empty when the value is missing or
unusable). They are not cached: :mod:`features` calls them once per distinct value already,
and nearly every value of a clinic is distinct, so a cache would cost time and memory.
"""

from __future__ import annotations

import datetime as _dt
import json
import re

from desktop.matching.text import fold_words

_DIGITS = re.compile(r"\D+")
_COUNTRY_CODES = {"AU": "61", "NZ": "64", "GB": "44", "UK": "44", "US": "1", "CA": "1", "IE": "353"}


# Separators people type inside numbers ("0412 345 678", "(03) 9012-2037", "2123 45678 1").
_SEPARATORS = str.maketrans("", "", " -().")


def _digits(text: str) -> str:
    """``_DIGITS.sub("", text)``, with a short cut for the usual digits, separators and a
    leading ``+``."""
    packed = text.replace(" ", "")
    if packed.isdigit() and packed.isascii():  # the commonest shape: digits and spaces
        return packed
    packed = packed.translate(_SEPARATORS)
    body = packed[1:] if packed[:1] == "+" else packed
    return body if body.isascii() and body.isdigit() else _DIGITS.sub("", text)


def phone_e164(raw: str | None, country: str = "AU") -> str:
    """A phone number in E.164 (``"0412 345 678"`` -> ``"+61412345678"``), or ``""``.

    Common Australian and New Zealand shapes take a fast path; everything else goes through
    ``phonenumbers`` with the account's country. Unparseable numbers keep their digits.
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
    try:
        import phonenumbers

        parsed = phonenumbers.parse(raw, country.upper() or None)
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # phonenumbers raises NumberParseException on junk
        pass
    return ("+" if plus else "") + digits


NUMBER_FIELD = re.compile(r'"number"\s*:\s*"([^"\\]*)"')


def phones_from_json(text: str | None, country: str = "AU") -> tuple[str, ...]:
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
    if isinstance(text, list):
        items = text
    else:
        try:
            items = json.loads(text)
        except (ValueError, TypeError):
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


_NUMBER_OR_END = re.compile(r'"number"\s*:\s*"([^"\\]*)"|(\x01)')


# Values per regex pass: one pass holds the interpreter lock throughout, and a window whose
# scan runs in a worker thread must get it back within a few tens of milliseconds.
PHONE_BATCH = 4096


def phone_lists(values: list, country: str = "AU") -> list[tuple[str, ...]]:
    """:func:`phones_from_json` of many values, with a regex pass over the cache's JSON per
    batch of values."""
    fast = [
        isinstance(v, str) and v.startswith("[") and "\\" not in v and "\x01" not in v
        for v in values
    ]
    out: list[tuple[str, ...]] = []
    current: list[str] = []
    for start in range(0, len(values), PHONE_BATCH):
        end = start + PHONE_BATCH
        batch = zip(values[start:end], fast[start:end], strict=True)
        blob = "\x01".join(v if ok else "" for v, ok in batch) + "\x01"
        for number, end in _NUMBER_OR_END.findall(blob):
            if end:
                out.append(tuple(dict.fromkeys(current)))
                current = []
                continue
            e164 = phone_e164(number, country)
            if e164:
                current.append(e164)
    for i, ok in enumerate(fast):
        if not ok:
            try:
                out[i] = phones_from_json(values[i], country)
            except Exception:  # malformed phone lists count as no phone
                out[i] = ()
    return out


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


def birth_date(raw: str | None) -> str:
    """A valid birth date as ``YYYYMMDD`` (from ISO ``YYYY-MM-DD`` or ``DD/MM/YYYY``), or ``""``."""
    if not raw or not isinstance(raw, str):
        return ""
    text = raw.strip()[:10]
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # the cache's ISO dates
        y, m, d = text[:4], text[5:7], text[8:]
        if not (y.isdigit() and m.isdigit() and d.isdigit()):
            return ""
        year, month, day_ = int(y), int(m), int(d)
        if 1880 <= year <= 2100 and 1 <= month <= 12 and 1 <= day_ <= _month_days(year, month):
            return y + m + d
        return ""
    parts = re.split(r"[-/. ]", text)
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return ""
    if len(parts[0]) == 4:
        y, m, d = (int(p) for p in parts)
    elif len(parts[2]) == 4:
        d, m, y = (int(p) for p in parts)
    else:
        return ""
    try:
        day = _dt.date(y, m, d)
    except ValueError:
        return ""
    if not 1880 <= y <= 2100:
        return ""
    return day.strftime("%Y%m%d")


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


def medicare_valid(card: str) -> bool:
    """True when a 10-digit Medicare card number starts 2-6 and its check digit is right."""
    if len(card) < 9 or not card[:9].isdigit() or card[0] not in "23456":
        return False
    d = [ord(c) - 48 for c in card[:9]]
    total = d[0] + 3 * d[1] + 7 * d[2] + 9 * d[3] + d[4] + 3 * d[5] + 7 * d[6] + 9 * d[7]
    return total % 10 == d[8]


def medicare_parts(raw: str | None, irn: str | None = None) -> tuple[str, str]:
    """``(card, irn)``: the card identity (without issue number) and the individual reference.

    An 11-digit value carries the IRN at its end. A card number is shared by a family; the IRN
    tells its members apart. Numbers that are not Medicare-shaped keep all their digits.
    """
    digits = _digits(raw) if isinstance(raw, str) else ""
    ref = _digits(irn) if isinstance(irn, str) else (str(irn) if irn else "")
    if len(digits) < 5 or set(digits) == {"0"}:
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
    "lane": "ln",
    "boulevard": "blvd",
    "close": "cl",
    "circuit": "cct",
    "square": "sq",
    "grove": "gr",
    "way": "wy",
    "esplanade": "esp",
    "unit": "u",
    "apartment": "u",
    "apt": "u",
    "flat": "u",
    "level": "lvl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "mount": "mt",
    "saint": "st",
}


def address_key(line1: str | None, line2: str | None = None) -> str:
    """A folded street address with common words abbreviated (``Street`` -> ``st``)."""
    raw = " ".join(x for x in (line1, line2) if isinstance(x, str) and x)
    return " ".join([_ADDRESS_WORDS.get(w, w) for w in fold_words(raw)])
