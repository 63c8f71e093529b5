"""People for the sample clinic: names, dates of birth, phones, emails, addresses, Medicare.

A :class:`Person` holds one real person's true details. The renderer in ``sample_clinic``
turns a person (or a damaged copy of one, for a duplicate record) into Cliniko Patient JSON.
Everything draws from one seeded ``random.Random``; nothing here touches global state.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections.abc import Sequence
from datetime import date
from itertools import accumulate
from operator import mul

from desktop.simulator import sample_names as names
from desktop.simulator import sample_places as places

DAY = 86_400


class Picker:
    """Weighted choice over a fixed list, using precomputed cumulative weights."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(
        self,
        items: Sequence[str],
        weights: Sequence[float] | None = None,
        offset: float = 4.0,
        exponent: float = 0.8,
    ) -> None:
        if weights is None:  # Zipf-like by rank: list order is popularity order
            weights = [1.0 / (rank + offset) ** exponent for rank in range(len(items))]
        self._items = tuple(items)
        self._cum = list(accumulate(weights))
        self._total = self._cum[-1]

    def __call__(self, rng: random.Random) -> str:
        return self._items[bisect(self._cum, rng.random() * self._total)]


_GROUP_KEYS = tuple(g for g, _ in names.GROUPS)
PICK_GROUP = Picker(_GROUP_KEYS, [w for _, w in names.GROUPS])
_SURNAMES = {
    g: Picker(lst, offset=10 if g in ("arabic", "greek") else 4)
    for g, lst in names.SURNAMES.items()
}
_ANGLO = {
    "Male": [Picker(e, offset=8, exponent=0.7) for e in names.ANGLO_MALE],
    "Female": [Picker(e, offset=8, exponent=0.7) for e in names.ANGLO_FEMALE],
}
_GROUP_FIRST = {
    g: {"Male": Picker(m, offset=6), "Female": Picker(f, offset=6)}
    for g, (m, f) in names.GROUP_FIRST.items()
}
_MIDDLE = {"Male": Picker(names.MIDDLE_MALE), "Female": Picker(names.MIDDLE_FEMALE)}
PICK_DOMAIN = Picker([d for d, _ in places.EMAIL_DOMAINS], [w for _, w in places.EMAIL_DOMAINS])
PICK_STREET = Picker(places.STREET_NAMES)
_STREET_TYPE_IDX = Picker(
    [str(i) for i in range(len(places.STREET_TYPES))], [w for _, _, w in places.STREET_TYPES]
)
_ASCII_CACHE: dict[str, str] = {}


def ascii_fold(text: str) -> str:
    """Return ``text`` without accents, lower-cased, keeping only letters and digits."""
    folded = _ASCII_CACHE.get(text)
    if folded is None:
        decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
        folded = "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()
        _ASCII_CACHE[text] = folded
    return folded


class Person:
    """One real person's true details (the ground truth behind one or more records)."""

    __slots__ = (
        "address_2",
        "area",
        "dob",
        "dva",
        "email",
        "emergency",
        "first",
        "group",
        "home",
        "irn",
        "last",
        "medicare",
        "middle",
        "mobile",
        "occupation",
        "pid",
        "postcode",
        "pref",
        "script",
        "sex",
        "state",
        "street",
        "street_no",
        "stype",
        "suburb",
        "title",
        "tz",
        "work",
    )

    pid: str
    group: str
    first: str
    last: str
    sex: str | None
    dob: int | None  # a date ordinal
    middle: str | None
    pref: str | None
    script: str | None
    title: str | None
    mobile: str | None
    home: str | None
    work: str | None
    email: str | None
    medicare: str | None
    irn: str | None
    dva: str | None
    occupation: str | None
    emergency: str | None
    street: str | None
    street_no: str | None
    stype: int  # an index into STREET_TYPES (meaningful once ``street`` is set)
    address_2: str | None
    suburb: str | None
    postcode: str | None
    state: str | None
    tz: str | None
    area: str  # the phone area code of where the person lives ("" before an address is given)

    def __init__(self, pid: str, group: str, first: str, last: str) -> None:
        self.pid, self.group, self.first, self.last = pid, group, first, last
        self.sex = self.dob = self.middle = self.pref = self.script = self.title = None
        self.mobile = self.home = self.work = self.email = None
        self.medicare = self.irn = self.dva = self.occupation = self.emergency = None
        self.street = self.street_no = self.address_2 = None
        self.suburb = self.postcode = self.state = self.tz = None
        self.stype, self.area = 0, ""

    def copy(self) -> Person:
        """Return a shallow copy (all fields are immutable values)."""
        other = Person.__new__(Person)
        for slot in self.__slots__:
            setattr(other, slot, getattr(self, slot))
        return other

    @property
    def has_address(self) -> bool:
        """True when the person gave a street address."""
        return self.street is not None


_MEDICARE_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9)


def medicare_check_digit(identifier: str) -> int:
    """Return the Medicare check digit for the first 8 digits of a card number."""
    return sum(map(mul, map(int, identifier[:8]), _MEDICARE_WEIGHTS)) % 10


def new_medicare(rng: random.Random, used: set[str]) -> str:
    """Return a fresh, valid 10-digit Medicare card number (identifier, check, issue)."""
    while True:
        ident = str(2 + int(rng.random() * 5)) + f"{int(rng.random() * 10_000_000):07d}"
        if ident not in used:
            used.add(ident)
            break
    issue = 1 + int(rng.random() ** 2 * 5)
    return f"{ident}{medicare_check_digit(ident)}{issue}"


def new_mobile(rng: random.Random, used: set[int]) -> str:
    """Return an unused Australian mobile number as ten national digits (04xxxxxxxx)."""
    while True:
        n = int(rng.random() * 100_000_000)
        if n not in used:
            used.add(n)
            return f"04{n:08d}"


def new_landline(rng: random.Random, area: str, used: set[int]) -> str:
    """Return an unused landline as ten national digits in the given area code."""
    while True:
        n = 20_000_000 + int(rng.random() * 80_000_000)
        if n not in used:
            used.add(n)
            return f"{area}{n}"


def format_phone(rng: random.Random, digits: str) -> str:
    """Render ten national digits the way a person or receptionist might type them."""
    r = rng.random()
    if digits[1] == "4":
        if r < 0.4:
            return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
        if r < 0.7:
            return digits
        if r < 0.8:
            return f"+61 {digits[1:4]} {digits[4:7]} {digits[7:]}"
        if r < 0.85:
            return f"({digits[:2]}) {digits[2:6]} {digits[6:]}"
        if r < 0.9:
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        if r < 0.95:
            return "+61" + digits[1:]
        return f"{digits[:4]} {digits[4:]}"
    if r < 0.45:
        return f"({digits[:2]}) {digits[2:6]} {digits[6:]}"
    if r < 0.75:
        return f"{digits[:2]} {digits[2:6]} {digits[6:]}"
    if r < 0.92:
        return digits
    return f"+61 {digits[1]} {digits[2:6]} {digits[6:]}"


def normalized_phone(digits: str) -> str:
    """Return Cliniko's ``normalized_number`` for national digits: E.164 without the plus."""
    return "61" + digits[1:]


def make_email(rng: random.Random, first: str, last: str, year: int | None, used: set[str]) -> str:
    """Return an unused, plausible email address for a person called ``first last``."""
    f, l_ = ascii_fold(first) or "info", ascii_fold(last) or "mail"
    yy = f"{(year or 1950 + int(rng.random() * 60)) % 100:02d}"
    r = rng.random()
    if r < 0.3:
        local = f"{f}.{l_}"
    elif r < 0.45:
        local = f"{f}{l_}"
    elif r < 0.55:
        local = f"{f[0]}.{l_}"
    elif r < 0.68:
        local = f"{f}.{l_}{yy}"
    elif r < 0.74:
        local = f"{f}_{l_}"
    elif r < 0.84:
        local = f"{f}{l_[0]}{1 + int(rng.random() * 99)}"
    elif r < 0.9:
        local = f"{l_}.{f}"
    else:
        local = f"{f}{1 + int(rng.random() * 999)}"
    domain = PICK_DOMAIN(rng)
    email = f"{local}@{domain}"
    while email in used:
        email = f"{local}{rng.randint(1, 9999)}@{domain}"
    used.add(email)
    return email


def pick_first(rng: random.Random, group: str, sex: str, birth_year: int) -> str:
    """Pick a first name for the person's cultural group, sex and birth era."""
    era = 0 if birth_year < 1965 else 1 if birth_year < 1990 else 2
    if rng.random() < 0.2:
        era = min(2, max(0, era + (1 if rng.random() < 0.5 else -1)))
    own = _GROUP_FIRST.get(group)
    if own is None or rng.random() < names.ENGLISH_FIRST_NAME_SHARE.get(group, 0.0):
        return _ANGLO[sex][era](rng)
    return own[sex](rng)


def pick_surname(rng: random.Random, group: str) -> str:
    """Pick a surname: mostly from the group's list, sometimes from a synthetic long tail."""
    r = rng.random()
    if r < names.TAIL_SHARE.get(group, 0.0):
        tail = names.synthetic_surname(rng, group)
        if tail is not None:
            return tail
    if group == "anglo" and r > 0.985:  # double-barrelled
        first, second = _SURNAMES["anglo"](rng), _SURNAMES["anglo"](rng)
        if first != second:
            return f"{first}-{second}"
    return _SURNAMES[group](rng)


def pick_middle(rng: random.Random, sex: str) -> str:
    """Pick a middle name."""
    return _MIDDLE[sex](rng)


def birth_ordinal(rng: random.Random, today: int) -> int:
    """Return a date-of-birth ordinal for a clinic patient aged 0 to 95 at ``today``."""
    r = rng.random()
    if r < 0.15:
        age = rng.uniform(0.1, 18)
    elif r < 0.40:
        age = rng.uniform(18, 35)
    elif r < 0.70:
        age = rng.uniform(35, 55)
    elif r < 0.92:
        age = rng.uniform(55, 75)
    else:
        age = rng.uniform(75, 95.9)
    return today - int(age * 365.25)


def new_address(rng: random.Random, region: str, person: Person) -> None:
    """Give ``person`` a street address in ``region`` (sets street, suburb, state, ...)."""
    state, tz, area, suburbs = places.REGIONS[region]
    person.suburb, person.postcode = suburbs[int(len(suburbs) * rng.random())]
    person.state, person.tz, person.area = state, tz, area
    person.street = PICK_STREET(rng)
    person.stype = int(_STREET_TYPE_IDX(rng))
    n = 1 + int(rng.random() ** 2 * 250)
    suffix = "A" if rng.random() < 0.03 else ""
    unit = 1 + int(rng.random() * 30)
    person.street_no = f"{unit}/{n}" if rng.random() < 0.18 else f"{n}{suffix}"
    person.address_2 = None
    if rng.random() < 0.04:
        person.address_2 = rng.choice(("Unit 2", "Level 1", "Flat 3", "Rear", "PO Box 118"))


def birth_date(ordinal: int | None) -> date | None:
    """Return the ``date`` for an ordinal, or None."""
    return None if ordinal is None else date.fromordinal(ordinal)


class World:
    """The shared state of one generation run: random source, clock, used identifiers."""

    def __init__(self, rng: random.Random, now: int, home_region: str) -> None:
        self.rng = rng
        self.now = now
        self.today = date(1970, 1, 1).toordinal() + now // DAY
        self.home_region = home_region
        self.used_mobiles: set[int] = set()
        self.used_landlines: set[int] = set()
        self.used_emails: set[str] = set()
        self.used_medicare: set[str] = set()
        self._next_pid = 0
        away = [r for r in places.REGIONS if r != home_region]
        self._away = Picker(away, [1.0] * len(away))

    def region(self) -> str:
        """Pick where a new patient lives: mostly the clinic's home region."""
        return self.home_region if self.rng.random() < 0.88 else self._away(self.rng)

    def new_pid(self) -> str:
        """Return the next person id."""
        self._next_pid += 1
        return f"P{self._next_pid:07d}"

    def new_person(self) -> Person:
        """Create an independent person with realistic details and realistic gaps."""
        rng = self.rng
        pid = self.new_pid()
        group = PICK_GROUP(rng)
        sex = "Female" if rng.random() < 0.56 else "Male"
        dob = birth_ordinal(rng, self.today)
        year = date.fromordinal(dob).year
        age = (self.today - dob) / 365.25
        first = pick_first(rng, group, sex, year)
        p = Person(pid, group, first, pick_surname(rng, group))
        p.sex, p.dob = sex, dob
        if rng.random() < 0.3:
            p.middle = pick_middle(rng, sex)
        nick = names.NICKNAMES.get(p.first)
        if nick and rng.random() < 0.18:
            p.pref = nick[0] if rng.random() < 0.6 else rng.choice(nick)
        elif p.group in ("chinese", "korean", "vietnamese") and rng.random() < 0.25:
            p.pref = _ANGLO[sex][2 if year >= 1985 else 1](rng)
            if p.pref == p.first:
                p.pref = None
        if p.group == "chinese" and rng.random() < 0.06:
            p.script = "zh"
        elif p.group == "greek" and rng.random() < 0.08:
            p.script = "el"
        new_address(rng, self.region(), p)
        if rng.random() < 0.2:
            p.street = None  # no address given
        minor = age < 18
        if rng.random() < 0.93:
            p.mobile = new_mobile(rng, self.used_mobiles)
        if rng.random() < (0.35 if age > 60 else 0.15):
            p.home = new_landline(rng, p.area, self.used_landlines)
        if not minor and rng.random() < 0.06:
            p.work = new_landline(rng, p.area, self.used_landlines)
        if minor:  # a parent's email, if any
            if rng.random() < 0.6:
                parent = pick_first(
                    rng, p.group, "Female" if rng.random() < 0.7 else "Male", year - 30
                )
                p.email = make_email(rng, parent, p.last, year - 30, self.used_emails)
        elif rng.random() < (0.6 if age > 75 else 0.85):
            p.email = make_email(rng, p.first, p.last, year, self.used_emails)
        if rng.random() < 0.55:
            p.medicare = new_medicare(rng, self.used_medicare)
            p.irn = str(1 + int(rng.random() ** 2 * 5))
        if age >= 65 and rng.random() < 0.04:
            st = rng.choice("NVQSWT")
            p.dva = f"{st}X{rng.randint(10000, 999999)}" + ("A" if rng.random() < 0.2 else "")
        if rng.random() < 0.45:
            if minor:
                p.title = (
                    "Master"
                    if p.sex == "Male" and age < 12
                    else ("Miss" if p.sex == "Female" else "Mr")
                )
            elif p.sex == "Male":
                p.title = "Dr" if rng.random() < 0.04 else "Mr"
            else:
                p.title = rng.choice(("Mrs", "Ms", "Ms", "Miss")) if rng.random() > 0.04 else "Dr"
        if not minor and rng.random() < 0.35:
            p.occupation = "Retired" if age > 68 else rng.choice(places.OCCUPATIONS)
        if rng.random() < 0.2:
            rel = "mum" if minor else rng.choice(places.EMERGENCY_RELATIONS)
            who = pick_first(rng, p.group, "Female" if rng.random() < 0.6 else "Male", year)
            p.emergency = f"{who} ({rel}) {format_phone(rng, new_mobile(rng, self.used_mobiles))}"
        if rng.random() < 0.03:
            p.dob = None  # never asked for, or the patient preferred not to say
        return p
