"""Look-alikes never reach the likely band, and carry a warning in plain words."""

from __future__ import annotations

import json

import pytest

from desktop.matching import MatchEngine, MatchSettings
from desktop.matching.lookalike import ambiguous_links

PHONE = json.dumps([{"number": "0412 345 678", "phone_type": "Mobile"}])
HOME = {
    "address_1": "12 Wattle St",
    "city": "Carlton",
    "post_code": "3053",
    "phones": PHONE,
    "email": "family.nguyen@gmail.com",
}


def person(pid: str, first: str, last: str, dob: str, **extra) -> dict:
    return {
        "id": pid,
        "first_name": first,
        "last_name": last,
        "date_of_birth": dob,
        "updated_at": "2024-01-01",
        **extra,
    }


def scored(a: dict, b: dict):
    return MatchEngine().score_pair(a, b)


def test_a_true_duplicate_is_likely_without_warnings():
    pair = scored(
        person("1", "Robert", "Nguyen", "1980-03-04", **HOME),
        person("2", "Bob", "Nguyen", "1980-03-04", **HOME),
    )
    assert pair.band == "likely"
    assert pair.flags == ()
    assert pair.warnings == []


def test_twins_are_never_likely():
    pair = scored(
        person("1", "Liam", "Nguyen", "2010-05-01", **HOME),
        person("2", "Olivia", "Nguyen", "2010-05-01", **HOME),
    )
    assert pair.band != "likely"
    assert "twins" in pair.flags
    assert any("twins" in w for w in pair.warnings)


def test_twins_with_nickname_related_names_registered_together_are_never_likely():
    ella = person("1", "Ella", "Wilson", "2019-10-28", created_at="2020-09-20T00:13:29Z", **HOME)
    gabrielle = person(
        "2", "Gabrielle", "Wilson", "2019-10-28", created_at="2020-09-20T00:15:38Z", **HOME
    )
    pair = scored(ella, gabrielle)
    assert pair.band != "likely"
    assert "twins" in pair.flags


def test_a_short_form_made_the_same_day_as_its_full_name_is_one_person():
    # Parents give twins two names; "Josh" beside "Joshua" is one boy booked twice.
    joshua = person("1", "Joshua", "Bingsey", "1980-10-13", created_at="2026-05-17T15:12:09Z")
    josh = person("2", "Josh", "Bingsey", "1980-10-13", created_at="2026-05-18T09:47:15Z")
    pair = scored({**joshua, **HOME}, {**josh, **HOME})
    assert pair.band == "likely"
    assert pair.flags == ()


def test_a_nickname_duplicate_made_years_later_is_still_likely():
    robert = person("1", "Robert", "Nguyen", "1980-03-04", created_at="2019-02-01T09:00:00Z")
    bob = person("2", "Bob", "Nguyen", "1980-03-04", created_at="2024-06-11T10:30:00Z")
    pair = scored({**robert, **HOME}, {**bob, **HOME})
    assert pair.band == "likely"
    assert pair.flags == ()


@pytest.mark.parametrize(
    ("parent", "child", "years"),
    [
        (("David", "Nguyen", "1960-02-02"), ("David", "Nguyen", "1991-07-09"), 31),
        # An initial fits the father's name as well as the son's.
        (("B", "Baran", "1976-05-22"), ("Bentley", "Baran", "2012-12-29"), 36),
    ],
)
def test_parent_and_child_with_one_name_are_never_likely(parent, child, years):
    pair = scored(person("1", *parent, **HOME), person("2", *child, **HOME))
    assert pair.band != "likely"
    assert "parent_child" in pair.flags
    assert f"same name (or initial): birth dates {years} years apart" in " ".join(pair.warnings)


def test_siblings_and_household_members():
    sib = scored(
        person("1", "Mia", "Nguyen", "2012-01-01", **HOME),
        person("2", "Ethan", "Nguyen", "2015-06-01", **HOME),
    )
    assert sib.band != "likely"
    assert "siblings" in sib.flags
    spouse = scored(
        person("1", "Anna", "Nguyen", "1970-01-01", **HOME),
        person("2", "Peter", "Smith", "1968-06-01", **HOME),
    )
    assert spouse.band != "likely"
    assert "household" in spouse.flags


def test_common_name_without_anything_else_is_flagged():
    rows = [
        person(str(i), "John", "Smith", f"19{50 + i % 40}-01-{1 + i % 28:02d}") for i in range(60)
    ]
    rows += [person(str(100 + i), f"Name{i}", f"Surname{i}", "1970-01-01") for i in range(60)]
    result = MatchEngine().scan(rows)
    assert all(p.band != "likely" for p in result.pairs)


def test_ambiguous_links_find_a_record_that_fits_two_people():
    # record 0 (sparse) matches both 1 and 2, who are parent and child.
    assert ambiguous_links([(0, 1), (0, 2)], [(0, 1), (0, 2)], {(1, 2)}) == {0, 1}
    assert ambiguous_links([(0, 1)], [(0, 1)], {(1, 2)}) == set()


def test_sparse_record_matching_parent_and_child_is_not_likely():
    # Their own birthdays: the same day one digit apart (1964 / 1994) reads as a typing slip.
    home = dict(HOME)
    rows = [
        person("1", "William", "Holling", "1964-02-09", **home),
        person("2", "William", "Holling", "1994-07-21", **home),
        {
            "id": "3",
            "first_name": "william",
            "last_name": "holling",
            "phones": PHONE,
            "updated_at": "2024-01-01",
        },
    ]
    rows += [person(str(10 + i), f"N{i}x", f"S{i}y", f"19{40 + i}-01-01") for i in range(40)]
    result = MatchEngine().scan(rows)
    for p in result.pairs:
        if "3" in (p.id_a, p.id_b):
            assert p.band != "likely"


def test_names_alone_never_make_a_likely_pair():
    pair = scored(
        {
            "id": "1",
            "first_name": "Léa",
            "last_name": "Przybylski",
            "post_code": "3000",
            "updated_at": "x",
        },
        {
            "id": "2",
            "first_name": "Lea",
            "last_name": "Przybylski",
            "post_code": "3000",
            "updated_at": "y",
        },
    )
    assert pair.band != "likely"
    assert "names_only" in pair.flags
    assert any("Only the names agree" in w for w in pair.warnings)


def test_a_child_record_and_an_undated_namesake_are_held_back():
    engine = MatchEngine(MatchSettings(today="2026-01-01"))
    child = person("1", "Matthew", "Scott", "2021-07-12", phones=PHONE)
    undated = {
        "id": "2",
        "first_name": "Matthew",
        "last_name": "Scott",
        "phones": PHONE,
        "updated_at": "2024-01-01",
    }
    pair = engine.score_pair(child, undated)
    assert "child_record" in pair.flags
    assert pair.band != "likely"


def test_twins_with_a_slip_in_the_surname_are_still_twins():
    pair = scored(
        person("1", "Holly", "Green", "1941-01-14", **HOME),
        person("2", "Madison", "Gpreen", "1941-01-14", **HOME),
    )
    assert pair.band != "likely"
    assert "twins" in pair.flags


def test_a_preferred_name_duplicate_made_the_same_day_is_likely():
    made = {"created_at": "2024-06-11T10:30:00Z", **HOME}
    duc = person("1", "Duc", "Bui", "2001-04-07", preferred_first_name="Liam", **made)
    liam = person(
        "2", "Liam", "Bui", "2001-04-07", **{**made, "created_at": "2024-06-11T16:02:00Z"}
    )
    pair = scored(duc, liam)
    assert pair.band == "likely"
    assert pair.flags == ()


def test_a_brother_and_sister_recorded_male_and_female_are_never_likely():
    """Michael and Michelle Blanton, one birth date, one home: recorded sex disagrees."""
    pair = scored(
        person("1", "Michael", "Blanton", "1970-08-06", sex="Male", **HOME),
        person("2", "Michelle", "Blanton", "1970-08-06", sex="Female", **HOME),
    )
    assert pair.band != "likely"
    assert "other_sex" in pair.flags
    blank = scored(
        person("1", "Luke", "Goodwin", "1973-05-15", sex="Male", **HOME),
        person("2", "", "Goodwin", "1973-05-15", sex="Female", **HOME),
    )
    assert blank.band != "likely"
    assert "other_sex" in blank.flags


def test_one_name_with_sex_typed_wrong_is_still_likely():
    pair = scored(
        person("1", "Robert", "Nguyen", "1980-03-04", sex="Male", **HOME),
        person("2", "Robert", "Nguyen", "1980-03-04", sex="Female", **HOME),
    )
    assert pair.band == "likely"
    assert "other_sex" not in pair.flags


def _clinic_with(*extra: dict) -> dict[frozenset, object]:
    """A scan of 300 different people, 30 John Smiths born on different days, and ``extra``;
    the pairs it proposes by their two ids."""
    rows = [
        person(f"p{n}", f"Given{n}x", f"Family{n}y", f"{1940 + n % 60}-{1 + n % 12:02d}-11")
        for n in range(300)
    ]
    rows += [
        person(
            f"js{n}", "John", "Smith", f"{1950 + n}-03-{1 + n % 28:02d}", address_1=f"{n} Elm St"
        )
        for n in range(30)
    ]
    result = MatchEngine(MatchSettings(today="2026-01-01")).scan([*rows, *extra])
    return {frozenset((p.id_a, p.id_b)): p for p in result.pairs}


def test_a_rare_name_on_a_record_with_little_to_go_on_is_possible_and_says_what_to_check():
    """A phone assistant's record (name and phone only) and a full record of one rare name."""
    caller = person("a1", "Adrianna", "Lafontaine", "", phones=PHONE)
    full = person("a2", "Adrianna", "Lafontaine", "2012-06-19", address_1="3375 176th St NW")
    pair = _clinic_with(caller, full)[frozenset(("a1", "a2"))]
    assert pair.band == "possible"
    assert "incomplete_record" in pair.flags
    assert any("next visit" in w for w in pair.warnings)


def test_an_email_only_nearly_the_same_does_not_complete_a_record_with_little_to_go_on():
    """Luis Lopez with only "luislopez@gmail.com" beside a dated Luis Lopez with
    "luis.lopez@gmail.com": people of one name pick such addresses alike, so the record is
    still one to check at the next visit; the very same address would settle it."""
    caller = person("e1", "Luis", "Lopezq", "", email="luislopez@gmail.com")
    full = person("e2", "Luis", "Lopezq", "1952-10-03", email="luis.lopez@gmail.com",
                  address_1="3375 176th St NW")  # fmt: skip
    pair = _clinic_with(caller, full)[frozenset(("e1", "e2"))]
    assert pair.band == "possible"
    assert "incomplete_record" in pair.flags
    same = _clinic_with(dict(caller, email="luis.lopez@gmail.com"), full)
    assert "incomplete_record" not in same[frozenset(("e1", "e2"))].flags


def test_two_fuller_records_with_nothing_in_common_to_compare_are_not_an_incomplete_record():
    """A social security record (name, birth date, no address) beside a tax form (name,
    address, no birth date) of one rare name: each record says who its patient is, they only
    hold different details, so no rule holds the pair for the next visit."""
    benefits = person("f1", "Adrianna", "Lafontaine", "1982-06-19", sex="Female")
    tax_form = person("f2", "Adrianna", "Lafontaine", "", address_1="3375 176th St NW")
    pair = _clinic_with(benefits, tax_form)[frozenset(("f1", "f2"))]
    assert "incomplete_record" not in pair.flags
    assert pair.band == "likely"


def test_fuller_records_whose_phones_differ_are_still_an_incomplete_record():
    """The same two records, each with its own phone: the one thing both hold disagrees."""
    other = json.dumps([{"number": "0498 111 222", "phone_type": "Mobile"}])
    benefits = person("g1", "Adrianna", "Lafontaine", "1982-06-19", phones=PHONE)
    tax_form = person("g2", "Adrianna", "Lafontaine", "", address_1="3375 176th St NW",
                      phones=other)  # fmt: skip
    pair = _clinic_with(benefits, tax_form)[frozenset(("g1", "g2"))]
    assert pair.band == "possible"
    assert "incomplete_record" in pair.flags


def test_a_common_name_on_a_record_with_little_to_go_on_is_not_paired_blindly():
    caller = person("c1", "John", "Smith", "", phones=PHONE)
    pairs = _clinic_with(caller)
    assert not [key for key in pairs if "c1" in key]


def test_a_record_without_a_real_first_name_is_never_likely_with_a_family_member():
    """'Husband' Garrell may be any Garrell of the household."""
    pair = scored(
        person("1", "Christopher", "Garrell", "1980-02-15", sex="Male", **HOME),
        person("2", "Husband", "Garrell", "1952-08-20", sex="Male", **HOME),
    )
    assert pair.band != "likely"
    assert "no_first_name" in pair.flags


def test_twins_with_nickname_related_names_and_their_own_mobiles_are_never_likely():
    """Nathan and Jonathan Cranworth: one birth date and home, each their own mobile."""
    home = {k: v for k, v in HOME.items() if k != "phones"}

    def mobile(number: str) -> str:
        return json.dumps([{"number": number, "phone_type": "Mobile"}])

    pair = scored(
        person("1", "Nathan", "Cranworth", "1974-02-07", phones=mobile("0457 759 060"), **home),
        person("2", "Jonathan", "Cranworth", "1974-02-07", phones=mobile("0421 258 903"), **home),
    )
    assert pair.band != "likely"
    assert "twins" in pair.flags


def test_one_name_on_two_medicare_cards_without_a_birth_date_to_compare_is_never_likely():
    pair = scored(
        person("1", "Kavya", "Mehta", "1992-02-20", medicare="4863636864",
               medicare_reference_number="2", **HOME),
        person("2", "Kavya", "Mehta", "", medicare="6410240362",
               medicare_reference_number="2", **HOME),
    )  # fmt: skip
    assert pair.band != "likely"
    assert "other_medicare_card" in pair.flags


def test_names_alike_in_spelling_with_no_birth_date_to_compare_are_never_likely():
    """Adam and Aidan Fabrardi share the family mobile; the caller's record has no birth date."""
    pair = scored(
        person("1", "Adam", "Fabrardi", "2009-09-26", sex="Male", **HOME),
        person("2", "Aidan", "Fabrardi", "", phones=PHONE),
    )
    assert pair.band != "likely"
    assert "other_first_name" in pair.flags


def test_a_nameless_record_sharing_a_home_is_never_likely_whatever_its_surname():
    """'Youngest' Woods and Richard Hankins: one birth date, one home and phone."""
    pair = scored(
        person("1", "Richard", "Hankins", "1991-03-31", sex="Male", **HOME),
        person("2", "Youngest", "Woods", "1991-03-31", sex="Male", **HOME),
    )
    assert pair.band != "likely"
    assert "no_first_name" in pair.flags


def test_a_placeholder_surname_does_not_count_against_one_person():
    """'Archie Dont Know' at Archie Christensen's address, undated: the surname was not given,
    it does not disagree."""
    home = {"address_1": "11900 N Orchard Dr", "city": "Spokane", "post_code": "99208"}
    pair = scored(
        person("1", "Archie", "Dont Know", "1951-01-18", **home),
        person("2", "Archie", "Christensen", "", **home),
    )
    assert not any(e.field == "Surname" for e in pair.evidence)


def _town(n: int = 400) -> list[dict]:
    """A clinic of n patients with ordinary names: 40 first names, 20 surnames."""
    firsts = [f"First{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(40)]
    return [
        person(str(100 + i), firsts[i % 40], f"Family{chr(97 + i % 20)}", f"19{40 + i % 60}-03-04",
               address_1=f"{i} Long Rd", city="Carlton", post_code="3053")
        for i in range(n)
    ]  # fmt: skip


def _pair_flags(rows: list[dict], a: str, b: str) -> tuple[str, ...] | None:
    result = MatchEngine(MatchSettings(include_unlikely=True)).scan(rows)
    found = [p for p in result.pairs if {p.id_a, p.id_b} == {a, b}]
    return found[0].flags if found else None


def test_a_full_name_rare_in_this_clinic_confirms_a_pair_with_no_birth_date_to_compare():
    """Candy Kirkpatrick twice, once from a form without a birth date at a mailing address:
    nobody else here is called that, so the name is not 'only the names'."""
    rows = _town()
    rows.append(person("1", "Candy", "Kirkpatrick", "1969-08-19", address_1="3714 Via Roma St",
                       city="Carlton", post_code="3053"))  # fmt: skip
    rows.append(person("2", "Candy", "Kirkpatrick", "", address_1="PO Box 88", city="Carlton",
                       post_code="3053"))  # fmt: skip
    assert "names_only" not in (_pair_flags(rows, "1", "2") or ("missing",))


def test_a_full_name_common_in_this_clinic_is_still_only_the_names():
    rows = _town()
    first, last = rows[0]["first_name"], rows[0]["last_name"]
    rows.append(person("1", first, last, "1969-08-19", address_1="3714 Via Roma St",
                       city="Carlton", post_code="3053"))  # fmt: skip
    rows.append(person("2", first, last, "", address_1="PO Box 88", city="Carlton",
                       post_code="3053"))  # fmt: skip
    flags = _pair_flags(rows, "1", "2")
    assert flags is None or "names_only" in flags


def test_a_nameless_record_with_the_surname_and_birth_date_has_a_flag_of_its_own():
    """'Male Child' Bitter with Luis Bitter's birth date: his record or a twin's. Flagged apart
    from other nameless records, so answers about it can be learned on their own."""
    pair = scored(
        person("1", "Luis", "Bitter", "1949-03-08", sex="Male", **HOME),
        person("2", "Male Child", "Bitter", "1949-03-08", sex="Male", **HOME),
    )
    assert pair.band != "likely"
    assert pair.flags == ("no_first_name_same_birth_date",)
    assert any("twin" in w for w in pair.warnings)


def test_a_first_name_nobody_else_has_beside_one_given_to_many_is_a_slip_not_a_twin():
    """Nartin and Martin Jonas, one birth date: Martin is the given name of 20 patients here,
    Nartin of nobody else, so Nartin is Martin mistyped. Liam and Leah, both given to many,
    with one birth date and surname, are still twins."""
    rows = _town()
    for i in range(20):
        rows.append(person(f"m{i}", "Martin", f"Other{i}x", f"19{50 + i}-05-06"))
        rows.append(person(f"l{i}", "Liam", f"Lother{i}x", f"19{50 + i}-07-08"))
        rows.append(person(f"e{i}", "Leah", f"Eother{i}x", f"19{50 + i}-09-10"))
    rows += [
        person("1", "Martin", "Jonas", "1980-01-02", **HOME),
        person("2", "Nartin", "Jonas", "1980-01-02", **HOME),
        person("3", "Liam", "Kowalczyk", "2010-05-01", **HOME),
        person("4", "Leah", "Kowalczyk", "2010-05-01", **HOME),
    ]
    assert "twins" not in (_pair_flags(rows, "1", "2") or ("missing",))
    assert "twins" in (_pair_flags(rows, "3", "4") or ())


HOME_PHONE = json.dumps([{"number": "(03) 9347 1200", "phone_type": "Work"}])
CARE_HOME = {"address_1": "40 Rathdowne St", "city": "Carlton", "post_code": "3053"}


def _care_home(residents: int) -> list[dict]:
    """``residents`` patients of one care home, its address and front-desk phone on each."""
    return [
        person(f"r{i}", f"Resident{chr(97 + i % 26)}{chr(97 + i // 26)}", f"Family{i}z",
               f"19{30 + i % 20}-0{1 + i % 9}-1{i % 10}", phones=HOME_PHONE, **CARE_HOME)
        for i in range(residents)
    ]  # fmt: skip


def test_one_first_name_with_two_surnames_at_a_care_home_is_never_likely():
    """Margaret Lee and Margaret Wong, undated, at the address and phone 12 residents share:
    two residents as often as one person renamed."""
    lee = person("1", "Margaret", "Lee", "1941-05-02", phones=HOME_PHONE, **CARE_HOME)
    wong = person("2", "Margaret", "Wong", "", phones=HOME_PHONE, **CARE_HOME)
    rows = [*_town(), *_care_home(10), lee, wong]
    result = MatchEngine(MatchSettings(include_unlikely=True)).scan(rows)
    pair = next(p for p in result.pairs if {p.id_a, p.id_b} == {"1", "2"})
    assert pair.band != "likely"
    assert "household" in pair.flags
    assert any("care home" in w for w in pair.warnings)
    # ... and the wizard's confirmation names it too.
    from desktop.merge.lookalike import risk_in_words

    assert "care home" in risk_in_words(pair.flags)
    # A re-score of one of them with the saved model sees the care home too, though it reads
    # only a few of its residents.
    few = [lee, wong, *_care_home(2)]
    again = MatchEngine(MatchSettings(include_unlikely=True)).rescore(few, ["2"], result.model)
    pair = next(p for p in again.pairs if {p.id_a, p.id_b} == {"1", "2"})
    assert pair.band != "likely" and "household" in pair.flags


def test_the_same_two_records_in_a_small_household_or_with_their_own_mobile_are_one_person():
    """The rule is about a place many patients share: at a home of three, or when the two
    records also share a mobile nobody else has, a new surname is a renamed patient."""
    lee = person("1", "Margaret", "Lee", "1941-05-02", phones=HOME_PHONE, **CARE_HOME)
    wong = person("2", "Margaret", "Wong", "", phones=HOME_PHONE, **CARE_HOME)
    small = MatchEngine().scan([*_town(), *_care_home(1), lee, wong])
    pair = next(p for p in small.pairs if {p.id_a, p.id_b} == {"1", "2"})
    assert pair.band == "likely" and pair.flags == ()
    own = json.dumps([{"number": "0412 555 019", "phone_type": "Mobile"},
                      {"number": "(03) 9347 1200", "phone_type": "Work"}])  # fmt: skip
    lee, wong = {**lee, "phones": own}, {**wong, "phones": own}
    crowded = MatchEngine().scan([*_town(), *_care_home(12), lee, wong])
    pair = next(p for p in crowded.pairs if {p.id_a, p.id_b} == {"1", "2"})
    assert pair.band == "likely" and pair.flags == ()
