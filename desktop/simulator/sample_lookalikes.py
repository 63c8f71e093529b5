"""Planted look-alikes for the sample clinic: different people who resemble each other.

A twin, a parent and child with the same name, siblings, a household sharing one mobile and
one email, spouses sharing an address and a landline, or an unrelated namesake. Each is a new
person built from a fresh random one, then made to resemble an existing person ("the anchor").
"""

from __future__ import annotations

from datetime import date

from desktop.simulator import sample_names as names
from desktop.simulator.sample_people import (
    Person,
    Picker,
    World,
    ascii_fold,
    birth_ordinal,
    make_email,
    new_address,
    new_landline,
    new_mobile,
    pick_first,
)
from desktop.simulator.sample_variants import YEAR, new_surname

LOOKALIKE_KINDS: tuple[tuple[str, float], ...] = (
    ("twins", 0.18),
    ("parent_child_same_name", 0.2),
    ("siblings", 0.2),
    ("household", 0.14),
    ("spouses", 0.12),
    ("common_name", 0.16),
)
PICK_LOOKALIKE_KIND = Picker([k for k, _ in LOOKALIKE_KINDS], [w for _, w in LOOKALIKE_KINDS])


def _related(a: str, b: str) -> bool:
    """True when two first names are the same or nickname forms of each other."""
    if ascii_fold(a) == ascii_fold(b):
        return True
    return b in names.NICKNAMES.get(a, ()) or a in names.NICKNAMES.get(b, ())


def _other_first(w: World, p: Person, avoid: str, year: int) -> str:
    assert p.sex is not None, "new_person always gives a sex"
    for _ in range(20):
        first = pick_first(w.rng, p.group, p.sex, year)
        if not _related(first, avoid) and first[0] != avoid[0]:
            return first
    return "Alex" if avoid != "Alex" else "Sam"


def _same_home(p: Person, a: Person) -> None:
    for field in (
        "street",
        "street_no",
        "stype",
        "suburb",
        "postcode",
        "state",
        "tz",
        "area",
        "address_2",
    ):
        setattr(p, field, getattr(a, field))
    p.home = a.home


def _share_card(w: World, p: Person, a: Person) -> None:
    if a.medicare is not None:
        p.medicare = a.medicare
        p.irn = str(int(a.irn or "1") % 9 + 1)


def _child_title(p: Person, age: float) -> str | None:
    if p.title is None:
        return None
    if age < 18:
        return "Master" if p.sex == "Male" and age < 12 else ("Miss" if p.sex == "Female" else "Mr")
    return "Mr" if p.sex == "Male" else "Ms"


def make_lookalike(w: World, a: Person, kind: str) -> Person | None:
    """Return a new, different person resembling ``a`` as ``kind``, or None if it can't."""
    rng = w.rng
    if a.dob is None or a.script is not None:
        return None
    a_age = (w.today - a.dob) / YEAR
    if (
        (kind == "common_name" and a.last not in names.COMMON_SURNAMES)
        or (kind == "twins" and a_age > 70)
        or (kind in ("household", "spouses") and a_age < 20)
    ):
        return None
    p = w.new_person()
    p.group, p.script, p.pref = a.group, None, None
    if p.dob is None:
        p.dob = birth_ordinal(w.rng, w.today)
    if kind == "common_name":
        p.first, p.last, p.sex = a.first, a.last, a.sex
        while abs(p.dob - a.dob) < 2 * YEAR:
            p.dob = w.today - int(rng.uniform(16, 90) * YEAR)
        p.title = _child_title(p, (w.today - p.dob) / YEAR)
        if p.email is not None:
            p.email = make_email(rng, p.first, p.last, None, w.used_emails)
        return p
    if kind == "twins":
        p.dob, p.last = a.dob, a.last
        similar = [t for t in names.SIMILAR_TWIN_NAMES if t[0] == a.sex]
        if similar and a_age < 25 and rng.random() < 0.1:
            _, a.first, p.first = rng.choice(similar)
            p.sex = a.sex
        else:
            p.sex = a.sex if rng.random() < 0.6 else ("Male" if a.sex == "Female" else "Female")
            p.first = _other_first(w, p, a.first, date.fromordinal(a.dob).year)
        _same_home(p, a)
        _share_card(w, p, a)
        if a_age < 18 or rng.random() < 0.2:
            p.mobile, p.email = a.mobile, a.email
    elif kind == "parent_child_same_name":
        gap = int(rng.uniform(20, 40) * YEAR)
        if a_age >= 38 or (a_age >= 20 and rng.random() < 0.5):
            p.dob = a.dob + min(gap, int((a_age - 1) * YEAR))  # p is the child
        elif a_age + gap / YEAR <= 95:
            p.dob = a.dob - gap  # p is the parent
        else:
            return None
        p.first, p.last, p.sex = a.first, a.last, a.sex
        if p.first.lower() in (a.last.lower(),):
            return None
        _same_home(p, a)
        child_age = (w.today - max(p.dob, a.dob)) / YEAR
        if child_age < 15:
            _share_card(w, p, a)
        if (child_age < 16 and rng.random() < 0.6) or rng.random() < 0.25:
            p.mobile = a.mobile
        if child_age < 18 and rng.random() < 0.5:
            p.email = a.email
    elif kind == "siblings":
        gap = int(rng.uniform(1.2, 8) * YEAR) * (1 if rng.random() < 0.5 else -1)
        p.dob = a.dob + gap
        if p.dob > w.today - 30 or (w.today - p.dob) / YEAR > 95:
            p.dob = a.dob - gap
        p.last = a.last
        p.first = _other_first(w, p, a.first, date.fromordinal(p.dob).year)
        both_minor = max(a_age, (w.today - p.dob) / YEAR) < 18
        if both_minor or rng.random() < 0.4:
            _same_home(p, a)
        if both_minor:
            p.mobile, p.email = a.mobile, a.email
            _share_card(w, p, a)
    elif kind in ("household", "spouses"):
        p.sex = "Male" if a.sex == "Female" else "Female"
        if rng.random() < 0.1:
            p.sex = a.sex
        p.dob = a.dob + int(rng.uniform(-6, 6) * YEAR)
        p.dob = min(p.dob, w.today - int(19 * YEAR))
        p.first = _other_first(w, p, a.first, date.fromordinal(p.dob).year)
        p.last = (
            a.last if rng.random() < (0.5 if kind == "household" else 0.65) else (new_surname(w, a))
        )
        if a.street is None:
            new_address(rng, w.home_region, a)
        if kind == "household":
            if a.mobile is None:
                a.mobile = new_mobile(rng, w.used_mobiles)
            if a.email is None:
                a.email = make_email(rng, a.first, a.last, None, w.used_emails)
            _same_home(p, a)
            p.mobile, p.email = a.mobile, a.email
        else:
            if a.home is None:
                a.home = new_landline(rng, a.area, w.used_landlines)
            _same_home(p, a)
        if a.medicare is not None and rng.random() < 0.5:
            _share_card(w, p, a)
    else:
        raise ValueError(f"unknown look-alike kind {kind!r}")
    p.dob = max(p.dob, w.today - int(95.5 * YEAR))
    age = (w.today - p.dob) / YEAR
    p.title = _child_title(p, age)
    if age < 16:  # a child: no job, the family's phone and email (if any)
        p.occupation = p.work = p.dva = None
        if age < 12:
            p.mobile = a.mobile
        if p.email != a.email:
            p.email = None
    elif p.email is not None and p.email != a.email:  # new_person made it for another name
        p.email = make_email(rng, p.first, p.last, date.fromordinal(p.dob).year, w.used_emails)
    return p
