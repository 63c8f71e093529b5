"""Planted duplicates for the sample clinic.

A duplicate is a damaged copy of a real person's details, made the way real clinics make
them (a nickname, a typo, a new surname, a phone booking with only a name and a number) and
always keeping enough true evidence for a good matcher to find it. Look-alikes (different
people who resemble each other) are in ``sample_lookalikes``.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from desktop.simulator import sample_names as names
from desktop.simulator import sample_places as places
from desktop.simulator.sample_people import (
    Person,
    Picker,
    World,
    new_address,
    new_mobile,
    pick_middle,
    pick_surname,
)

DUPLICATE_KINDS: tuple[tuple[str, float], ...] = (
    ("new_phone", 0.10),
    ("nickname", 0.10),
    ("typo", 0.13),
    ("hyphenated_surname", 0.04),
    ("changed_surname", 0.05),
    ("swapped_names", 0.04),
    ("dob_day_month_swap", 0.05),
    ("dob_typo", 0.05),
    ("sparse_phone_assistant", 0.12),
    ("email_variant", 0.08),
    ("middle_name_in_first", 0.05),
    ("preferred_name_as_first", 0.05),
    ("accent_dropped", 0.03),
    ("exact", 0.11),
)
PICK_DUPLICATE_KIND = Picker([k for k, _ in DUPLICATE_KINDS], [w for _, w in DUPLICATE_KINDS])
YEAR = 365.25


def normalized_email(email: str | None) -> str | None:
    """Lower-case an email and drop gmail dots and any +tag (how a matcher would compare)."""
    if not email:
        return None
    local, _, domain = email.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _shared(d: Person, o: Person) -> int:
    """Count strong identifiers the duplicate still shares with the original."""
    n = 0
    if d.dob is not None and d.dob == o.dob:
        n += 1
    theirs = (o.mobile, o.home)
    if (d.mobile is not None and d.mobile in theirs) or (d.home is not None and d.home in theirs):
        n += 1
    if d.email is not None and normalized_email(d.email) == normalized_email(o.email):
        n += 1
    if d.medicare is not None and d.medicare[:9] == (o.medicare or "")[:9]:
        n += 1
    return n


def _ensure(d: Person, o: Person, need: int, order: tuple[str, ...]) -> None:
    """Restore true identifiers (in ``order``) until the duplicate shares ``need`` of them."""
    for field in order:
        if _shared(d, o) >= need:
            return
        if getattr(o, field) is not None and getattr(d, field) != getattr(o, field):
            setattr(d, field, getattr(o, field))


def _thin(w: World, d: Person) -> None:
    """Drop the optional details a second registration often lacks."""
    r = w.rng.random
    if r() < 0.25:
        d.email = None
    if r() < 0.5:
        d.home = None
    if r() < 0.7:
        d.work = None
    if r() < 0.3:
        d.street = None
    if r() < 0.5:
        d.medicare = None
    elif d.medicare is not None and r() < 0.2:  # card re-issued: next issue number
        d.medicare = d.medicare[:9] + str(min(9, int(d.medicare[9]) + 1))
    for field, p in (
        ("occupation", 0.6),
        ("title", 0.5),
        ("emergency", 0.7),
        ("pref", 0.6),
        ("dva", 0.5),
    ):
        if r() < p:
            setattr(d, field, None)


def typo(w: World, text: str) -> str:
    """Return ``text`` with one plausible typing error (one edit), never the same string."""
    rng = w.rng
    if len(text) < 3:
        return text + text[-1]
    for _ in range(10):
        i = rng.randint(1, len(text) - 1)
        c = text[i]
        r = rng.random()
        if r < 0.4 and c.lower() in places.KEYBOARD_NEIGHBOURS:
            sub = rng.choice(places.KEYBOARD_NEIGHBOURS[c.lower()])
            out = text[:i] + (sub.upper() if c.isupper() else sub) + text[i + 1 :]
        elif r < 0.65 and i < len(text) - 1:
            out = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        elif r < 0.85:
            out = text[:i] + text[i + 1 :]
        else:
            out = text[:i] + c + text[i:]
        if out != text and out.strip() == out:
            return out
    return text + text[-1]


def strip_accents(text: str) -> str:
    """Return ``text`` with accents removed but case and punctuation kept."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def new_surname(w: World, d: Person) -> str:
    """Return a surname different from ``d``'s (mostly Anglo, as after a marriage)."""
    while True:
        name = pick_surname(w.rng, "anglo" if w.rng.random() < 0.8 else d.group)
        if name != d.last:
            return name


def _dob_typo(w: World, dob: int) -> int | None:
    text = date.fromordinal(dob).isoformat()
    positions = (3, 3, 3, 8, 9, 9, 9, 6, 2)
    for _ in range(10):
        i = w.rng.choice(positions)
        digit = str(w.rng.randrange(10))
        candidate = text[:i] + digit + text[i + 1 :]
        try:
            changed = date.fromisoformat(candidate).toordinal()
        except ValueError:
            continue
        if changed != dob and w.today - 96 * YEAR < changed <= w.today:
            return changed
    return None


def can_duplicate(w: World, o: Person, kind: str) -> bool:
    """Cheap test whether ``o`` has what a duplicate of ``kind`` needs (no random draws)."""
    if kind == "sparse_phone_assistant":
        return (o.mobile or o.home) is not None and o.script is None
    if kind in ("new_phone", "dob_day_month_swap", "dob_typo"):
        if o.dob is None:
            return False
        if kind == "dob_day_month_swap":
            born = date.fromordinal(o.dob)
            return born.day <= 12 and born.day != born.month
    if kind == "nickname":
        return o.first in names.NICKNAMES
    if kind in ("typo", "accent_dropped", "middle_name_in_first") and o.script is not None:
        return False
    if kind in ("hyphenated_surname", "changed_surname"):
        return o.dob is not None and w.today - o.dob >= 20 * YEAR
    if kind == "swapped_names":
        return o.first != o.last
    if kind == "email_variant":
        return o.email is not None
    if kind == "middle_name_in_first":
        return " " not in o.first and (o.middle is not None or o.group == "anglo")
    if kind == "preferred_name_as_first":
        return o.pref is not None and o.pref != o.first
    if kind == "accent_dropped":
        return not (o.first.isascii() and o.last.isascii())
    return True


def make_duplicate(w: World, o: Person, kind: str) -> Person | None:
    """Return a damaged copy of ``o`` of the given kind, or None if the kind cannot apply."""
    rng = w.rng
    if not can_duplicate(w, o, kind):
        return None
    if kind == "sparse_phone_assistant":
        phone = o.mobile or o.home
        if phone is None or o.script is not None:
            return None
        d = Person(o.pid, o.group, o.first, o.last)
        if phone == o.mobile:
            d.mobile = phone
        else:
            d.home = phone
        if rng.random() < 0.15:
            d.first, d.last = d.first.lower(), d.last.lower()
        return d
    d = o.copy()
    _thin(w, d)
    need = 2
    order: tuple[str, ...] = ("dob", "mobile", "email", "home")
    if kind == "exact":
        pass
    elif kind == "new_phone":
        if o.dob is None:
            return None
        d.mobile = new_mobile(rng, w.used_mobiles)
        d.home = None
        if rng.random() < 0.5:
            d.email = None
        if rng.random() < 0.4:
            new_address(rng, w.region(), d)
        need, order = 1, ("dob",)
    elif kind == "nickname":
        nick = names.NICKNAMES.get(o.first)
        if not nick:
            return None
        d.first = rng.choice(nick)
        d.pref = None
    elif kind == "typo":
        if o.script is not None:
            return None
        if rng.random() < 0.5:
            d.first = typo(w, o.first)
        else:
            d.last = typo(w, o.last)
    elif kind in ("hyphenated_surname", "changed_surname"):
        if (w.today - (o.dob or w.today)) < 20 * YEAR or (o.sex == "Male" and rng.random() < 0.85):
            return None
        new = new_surname(w, o)
        if kind == "changed_surname":
            d.last = new
            if d.email is not None and rng.random() < 0.5:
                d.email = None
            need, order = 2, ("dob", "mobile", "email", "medicare", "home")
        else:
            d.last = f"{o.last}-{new}" if rng.random() < 0.8 else f"{new}-{o.last}"
        if d.title in ("Miss", "Ms") and rng.random() < 0.6:
            d.title = "Mrs"
    elif kind == "swapped_names":
        if o.first == o.last:
            return None
        d.first, d.last = o.last, o.first
    elif kind == "dob_day_month_swap":
        if o.dob is None:
            return None
        born = date.fromordinal(o.dob)
        if born.day > 12 or born.day == born.month:
            return None
        d.dob = born.replace(month=born.day, day=born.month).toordinal()
        need, order = 1, ("mobile", "email", "home", "medicare")
    elif kind == "dob_typo":
        changed = _dob_typo(w, o.dob) if o.dob is not None else None
        if changed is None:
            return None
        d.dob = changed
        need, order = 1, ("mobile", "email", "home", "medicare")
    elif kind == "email_variant":
        if o.email is None:
            return None
        d.email = _email_variant(w, o.email)
        if rng.random() < 0.4:
            d.mobile = None
        if rng.random() < 0.3:
            d.dob = None
        need, order = 1, ("email",)
    elif kind == "middle_name_in_first":
        if o.script is not None or " " in o.first:
            return None
        if o.middle is None:
            if o.group != "anglo" or o.sex is None:
                return None
            o.middle = pick_middle(rng, o.sex)
        d.first = f"{o.first} {o.middle}" if rng.random() < 0.85 else f"{o.first}-{o.middle}"
    elif kind == "preferred_name_as_first":
        if o.pref is None or o.pref == o.first:
            return None
        d.first, d.pref = o.pref, None
    elif kind == "accent_dropped":
        plain_first, plain_last = strip_accents(o.first), strip_accents(o.last)
        if (plain_first, plain_last) == (o.first, o.last) or o.script is not None:
            return None
        d.first, d.last = plain_first, plain_last
    else:
        raise ValueError(f"unknown duplicate kind {kind!r}")
    _ensure(d, o, need, order)
    if _shared(d, o) < need:  # the original has too little to recognise it by
        return None
    return d


def _email_variant(w: World, email: str) -> str:
    local, _, domain = email.partition("@")
    r = w.rng.random()
    if domain == "gmail.com" and r < 0.4:
        if "." in local:
            return f"{local.replace('.', '')}@{domain}"
        cut = w.rng.randint(1, max(1, len(local) - 1))
        return f"{local[:cut]}.{local[cut:]}@{domain}"
    if r < 0.7:
        return f"{local}+{w.rng.choice(places.EMAIL_TAGS)}@{domain}"
    if r < 0.85:
        return f"{local.capitalize()}@{domain.capitalize()}"
    return email.upper()
