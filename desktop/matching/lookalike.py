"""Look-alike rules: people real clinics are full of who are not duplicates.

Twins, a parent and child sharing a name, siblings, household members sharing contact details
and people with very common names. A flagged pair never reaches the "likely" band and carries
a warning in plain words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from desktop.matching.compare import FIELD_NAMES, Comparison, level

if TYPE_CHECKING:
    from desktop.matching.blocking import Candidates
    from desktop.matching.features import Features

LOOKALIKE_FLAGS = (
    "twins",
    "parent_child",
    "siblings",
    "household",
    "family_card",
    "common_name",
    "other_birth_date",
    "other_first_name",
    "ambiguous",
    "child_record",
    "names_only",
    "other_sex",
    "incomplete_record",
    "no_first_name",
    "other_medicare_card",
    "no_first_name_same_birth_date",
)

WARNINGS = {
    "twins": "Possibly twins: same birth date and surname but different first names.",
    "parent_child": "Possibly a parent and child with the same name (or initial): birth dates "
    "{years} years apart.",
    "siblings": "Possibly siblings: same surname and shared contact details, different first "
    "names and birth dates.",
    "household": "Possibly two people of one household sharing a phone, email or address "
    "(or two residents of a place many patients share, such as a care home).",
    "family_card": "Same Medicare card but a different individual reference number: usually "
    "two members of one family.",
    "common_name": "A very common name: different people often share it. Check the details.",
    "other_birth_date": "Same name but birth dates that do not match: possibly two different "
    "people.",
    "other_first_name": "Different first names: possibly two members of one family.",
    "names_only": "Only the names agree: no birth date, phone, email, Medicare number or "
    "address confirms it.",
    "child_record": "One record is a child's and the other has no birth date: a phone or "
    "address they share may be a parent's.",
    "other_sex": "Recorded sex differs and the first names are not the same: possibly two "
    "members of one family (twins, a brother and sister).",
    "incomplete_record": "Incomplete record: the names agree, but there is no birth date or "
    "address on both records to compare, and one record has little else (or their phones "
    "differ). At the patient's next visit, check the birth date and address.",
    "no_first_name": "One record has no first name (or only a word such as 'Baby' or 'Mrs'): "
    "it may belong to any member of this family.",
    "other_medicare_card": "Different Medicare cards and no birth date on both records to "
    "compare: possibly two people with one name (a parent and child).",
    "no_first_name_same_birth_date": "One record has no first name (or only a word such as "
    "'Baby' or 'Mrs'), but this patient's surname and birth date: this patient's own record, "
    "unless a twin is a patient too.",
    "ambiguous": "One of these records also matches another patient who is a different person "
    "(a twin, parent or child): check which one it belongs to.",
}
# What each rule suspects, in a few words: the queue's Match column ("held: twins?").
HELD_BECAUSE = {
    "twins": "twins?",
    "parent_child": "parent and child?",
    "siblings": "siblings?",
    "household": "same household?",
    "family_card": "family on one card?",
    "common_name": "common name?",
    "other_birth_date": "other birth date?",
    "other_first_name": "other first name?",
    "ambiguous": "matches a look-alike too?",
    "child_record": "a child's record?",
    "names_only": "only names agree?",
    "other_sex": "other sex?",
    "incomplete_record": "incomplete record?",
    "no_first_name": "no first name?",
    "other_medicare_card": "other Medicare card?",
    "no_first_name_same_birth_date": "no first name (a twin?)",
}
# Expected number of other patients with the same full name above which a name is common.
COMMON_NAME_EXPECTED = 0.5
# ... below which a full name is rare enough to confirm a pair with no birth date to compare.
RARE_NAME_EXPECTED = 0.02
# ... below which a pair that only its names confirm is more often one person than two.
FIT_NAME_EXPECTED = 0.1


def _col(comp: Comparison, name: str) -> np.ndarray:
    return comp.levels[:, FIELD_NAMES.index(name)]


def lookalike_flags(
    comp: Comparison,
    name_expected: np.ndarray,
    non_card: np.ndarray | None = None,
    *,
    banding: bool = False,
) -> np.ndarray:
    """A bit mask per pair: bit ``i`` set when rule ``LOOKALIKE_FLAGS[i]`` fires.

    ``name_expected`` is, per pair, how many patients of this clinic would be expected to share
    the first record's full name by chance; ``non_card`` marks pairs whose identifier is a
    personal number rather than a family's Medicare card (one digit off still names one person).
    ``banding``: also the rules that only hold pairs back when they are banded and leave the
    model's fit as it was (residents of one care home).
    """
    fn, ln = _col(comp, "first_name"), _col(comp, "last_name")
    dob, years = _col(comp, "date_of_birth"), comp.years_apart
    phone, email = _col(comp, "phone"), _col(comp, "email")
    medicare, address = _col(comp, "medicare"), _col(comp, "address")
    first_diff = (fn == level("first_name", "different")) | (fn == level("first_name", "similar"))
    first_same = fn >= level("first_name", "close")
    last_same = ln >= level("last_name", "close")
    dob_exact = dob == level("date_of_birth", "exact")
    dob_apart = dob == level("date_of_birth", "different")
    shared = (
        (phone == level("phone", "same"))
        | (email >= level("email", "similar"))
        | (address >= level("address", "similar"))
    )
    strong_id = (
        (phone == level("phone", "same"))
        | (email == level("email", "exact"))
        | (medicare == level("medicare", "exact"))
    )
    # The same individual identifier (Medicare card and IRN) names one person, whoever else
    # looks alike; only then are the look-alike rules overruled.
    personal = medicare == level("medicare", "exact")
    if non_card is not None:
        personal |= non_card & (medicare == level("medicare", "near"))
    same_surname = ln >= level("last_name", "part")
    # A slip in a shared surname still names one family.
    family_name = ln >= level("last_name", "close")
    dob_close = dob >= level("date_of_birth", "near")
    twins = ~personal & dob_close & family_name & first_diff
    # Two records made on the same day with the same birth date and surname and first names
    # that are nickname forms of each other, but each a name in its own right (Ella /
    # Gabrielle), are a parent registering twins far more often than one person entered
    # twice. A name that is only ever a short form (Josh, Tilly) is not given to a twin beside
    # its full form, and a preferred first name that names the other record says outright
    # that they are one person.
    alias_first = (fn == level("first_name", "alias")) & ~comp.stated_alias & ~comp.short_form
    twins |= ~personal & dob_exact & same_surname & alias_first & comp.made_together
    # Nathan / Jonathan, Lisa / Melissa with one birth date and surname and each their own
    # mobile: twins given names of one family (any name, short forms included), not one
    # person's two records, unless a preferred first name says so.
    own_phones = phone == level("phone", "different")
    nick_first = (fn == level("first_name", "alias")) & ~comp.stated_alias
    twins |= ~personal & dob_exact & same_surname & nick_first & own_phones
    # Surnames may differ: a child can carry another parent's name, a mother a new one.
    # B Baran beside Bentley Baran, born a generation apart: an initial fits a parent's and a
    # child's name alike.
    initial = (fn == level("first_name", "initial")) & family_name
    parent = ~personal & (first_same | initial) & dob_apart & (years >= 12)
    other_dob = ~personal & first_same & dob_apart & (years < 12)
    siblings = ~personal & first_diff & family_name & dob_apart & shared
    household = ~personal & first_diff & ~same_surname & shared
    # Margaret Lee and Margaret Wong at a care home's address and phone: one first name among
    # the many patients of one building is two residents as often as one person renamed.
    # Held when banded only: EM still learns from these pairs, as it did before the rule.
    household |= (
        banding
        & ~personal
        & comp.crowd_contact
        & first_same
        & (ln == level("last_name", "different"))
        & ~dob_exact
        & (email < level("email", "similar"))
    )
    # Adam / Aidan with no birth date to tell them apart: names alike in spelling are two
    # people's as often as one person's slip.
    undated_alike = (fn == level("first_name", "similar")) & (dob == 0)
    other_first = (
        ~personal
        & ((fn == level("first_name", "different")) | undated_alike)
        & ~twins
        & ~siblings
        & ~household
    )
    family = medicare == level("medicare", "family")
    common = (
        (fn == level("first_name", "exact"))
        & (ln == level("last_name", "exact"))
        & ~dob_exact
        & ~strong_id
        & (name_expected >= COMMON_NAME_EXPECTED)
    )
    mask = np.zeros(comp.levels.shape[0], dtype=np.uint16)
    rules = (twins, parent, siblings, household, family, common, other_dob, other_first)
    for bit, rule in enumerate(rules):
        mask |= rule.astype(np.uint16) << bit
    child = ~personal & first_same & last_same & comp.child_undated
    mask |= child.astype(np.uint16) << LOOKALIKE_FLAGS.index("child_record")
    confirmed = (
        dob_close
        | (phone == level("phone", "same"))
        | (email >= level("email", "similar"))
        | (medicare >= level("medicare", "near"))
        | (address >= level("address", "similar"))
    )
    # A full name so rare in this clinic that another patient would hardly ever share it by
    # chance (Candy Kirkpatrick; a tax form without birth date, at a mailing address) is itself
    # the confirmation; the score still has to reach "likely" on its own.
    rare_name = (
        (fn == level("first_name", "exact"))
        & (ln == level("last_name", "exact"))
        & (dob == 0)
        & (name_expected < RARE_NAME_EXPECTED)
    )
    mask |= (~confirmed & ~rare_name).astype(np.uint16) << LOOKALIKE_FLAGS.index("names_only")
    # Michael / Michelle, Luke / (no first name), recorded Male and Female: sex typed wrong
    # is rarer than two members of one family, unless the first names agree outright.
    sex = _col(comp, "sex")
    other_sex = ~personal & (sex == level("sex", "different")) & (fn < level("first_name", "alias"))
    mask |= other_sex.astype(np.uint16) << LOOKALIKE_FLAGS.index("other_sex")
    # A record with little to go on (a phone assistant's name and phone) that shares no phone
    # with the other: the same name is a lead to check, not a duplicate to merge. Two fuller
    # records that only happen to hold different details (a birth date on one, an address on
    # the other) are not such a record, unless the one thing both hold, a phone, differs.
    incomplete = (
        first_same
        & last_same
        & (dob == 0)
        & (address == 0)
        & (medicare == 0)
        & (email != level("email", "exact"))
        & (phone != level("phone", "same"))
        & (comp.sparse_record | (phone == level("phone", "different")))
    )
    mask |= incomplete.astype(np.uint16) << LOOKALIKE_FLAGS.index("incomplete_record")
    # Kavya Mehta on two Medicare cards, one record undated: a same-name parent or child as
    # often as one person who changed cards.
    other_card = (medicare == level("medicare", "different")) & first_same & (dob == 0)
    if non_card is not None:
        other_card &= ~non_card
    mask |= other_card.astype(np.uint16) << LOOKALIKE_FLAGS.index("other_medicare_card")
    nameless = ~personal & (fn == 0) & (family_name | shared)
    # With the surname and the whole birth date: this patient, or a twin. Flagged on its own,
    # so that the administrator's answers can show which one it mostly is in this clinic.
    dated = nameless & dob_exact & family_name
    mask |= (nameless & ~dated).astype(np.uint16) << LOOKALIKE_FLAGS.index("no_first_name")
    mask |= dated.astype(np.uint16) << LOOKALIKE_FLAGS.index("no_first_name_same_birth_date")
    return mask


# Rules that say only "little confirms this pair", never "these look like two people".
LITTLE_EVIDENCE = ("names_only", "incomplete_record")


def joined_flags(flags: Iterable[str]) -> str:
    """A pair's flag names as the queue stores them: one text, joined by ";"."""
    return ";".join(flags)


def split_flags(text: str | None) -> tuple[str, ...]:
    """The flag names in the queue's text of them (:func:`joined_flags`); none for "" or None."""
    return tuple(f for f in (text or "").split(";") if f)


def may_be_two_people(flags: str) -> bool:
    """True when a rule in ``flags`` (as the queue stores them) says the pair may be two
    people (twins, a household...), not only that little confirms it."""
    return any(f not in LITTLE_EVIDENCE for f in split_flags(flags))


def fits_model(flags: np.ndarray, name_expected: np.ndarray) -> np.ndarray:
    """Per pair: may it teach the model (EM) what a duplicate looks like?

    Pairs a look-alike rule claims are left out: households and namesakes break EM's
    assumption that fields agree independently. Pairs held only because little confirms them
    stay in when their name is not a common one (``name_expected``, other patients expected
    to share it by chance): leaving them out would teach the model that a duplicate's address
    hardly ever differs, because the duplicates whose address differs are the ones little
    confirms.
    """
    little = (flags & ~np.uint16(relaxed_mask(LITTLE_EVIDENCE))) == 0
    out: np.ndarray = (flags == 0) | (little & (name_expected < FIT_NAME_EXPECTED))
    return out


def relaxed_mask(names: tuple[str, ...]) -> int:
    """The bits of the named rules (unknown names are ignored)."""
    return sum(1 << LOOKALIKE_FLAGS.index(n) for n in set(names) if n in LOOKALIKE_FLAGS)


def unpaired(flags: np.ndarray) -> np.ndarray:
    """Pairs not to propose at all: only the names agree and the name is a common one."""
    names_only = 1 << LOOKALIKE_FLAGS.index("names_only")
    common = 1 << LOOKALIKE_FLAGS.index("common_name")
    out: np.ndarray = (flags & names_only != 0) & (flags & common != 0)
    return out


Record = TypeVar("Record", int, str)  # a record's index in a scan, or its id


def ambiguous_links(
    likely: list[tuple[Record, Record]],
    linked: list[tuple[Record, Record]],
    conflicts: set[tuple[Record, Record]],
    sparse: set[Record] | None = None,
) -> set[int]:
    """Indexes into ``likely`` of pairs (x, a) where x also links to b and a, b are flagged
    as two different people: such a record cannot be placed without a person's judgement.

    Only records in ``sparse`` (no birth date or no first name: what tells a twin or a parent
    apart) are considered as x; None considers every record.
    """
    neighbours: dict[Record, set[Record]] = {}
    for x, y in linked:
        neighbours.setdefault(x, set()).add(y)
        neighbours.setdefault(y, set()).add(x)
    out: set[int] = set()
    for i, (x, a) in enumerate(likely):
        for one, other in ((x, a), (a, x)):
            if sparse is not None and one not in sparse:
                continue
            for b in neighbours.get(one, ()):
                if b != other and (min(other, b), max(other, b)) in conflicts:
                    out.add(i)
    return out


def flag_names(mask: int) -> tuple[str, ...]:
    """The flag names set in one pair's mask."""
    return tuple(name for bit, name in enumerate(LOOKALIKE_FLAGS) if mask >> bit & 1)


def warning_texts(flags: tuple[str, ...], years: int) -> list[str]:
    """Plain-words warnings for a pair's flags."""
    return [WARNINGS[f].format(years=years) for f in flags]


# What makes a link ambiguous (:func:`ambiguous_links`): rules that say two different people
# for sure, and rules that hold a strong link back only for want of detail (it still links).
FAMILY_FLAGS = ("twins", "parent_child")
SOFT_FLAGS = ("child_record", "names_only")


def demote_ambiguous(
    f: Features,
    cands: Candidates,
    flags: np.ndarray,
    band: np.ndarray,
    strong: np.ndarray,
    relaxed: int = 0,
) -> None:
    """A likely pair whose record is also a strong match for a look-alike of its partner
    drops to possible and is flagged "ambiguous" (a sparse record of a parent, say).

    ``strong`` marks pairs scored above the likely threshold; those held back only
    because one record is a child's, or by a rule this clinic's answers relaxed (the
    ``relaxed`` bits), still count as links here.
    """
    likely = np.flatnonzero(band == 2)
    if likely.size == 0:
        return
    family = flags & relaxed_mask(FAMILY_FLAGS) != 0
    conflicts = set(zip(cands.a[family].tolist(), cands.b[family].tolist(), strict=True))
    if not conflicts:
        return
    # Links of a sparse record that only its lack of detail holds back count too: an undated
    # Olivia Brown beside two dated ones (mother and daughter) cannot be placed by a rule.
    soft = relaxed_mask(SOFT_FLAGS) | relaxed
    linked_idx = np.flatnonzero(strong & ((flags & ~np.uint16(soft)) == 0))
    linked = list(zip(cands.a[linked_idx].tolist(), cands.b[linked_idx].tolist(), strict=True))
    pairs = list(zip(cands.a[likely].tolist(), cands.b[likely].tolist(), strict=True))
    sparse = set(np.flatnonzero((f.dob <= 0) | (f.first < 0)).tolist())
    for i in ambiguous_links(pairs, linked, conflicts, sparse):
        band[likely[i]] = 1
        flags[likely[i]] |= 1 << LOOKALIKE_FLAGS.index("ambiguous")
