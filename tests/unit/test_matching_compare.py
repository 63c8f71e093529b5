"""Comparisons of two records: the awkward cases, each seen through the evidence it gives."""

from __future__ import annotations

import json

import pytest

from desktop.matching import MatchEngine, MatchSettings


def row(pid: str, **fields) -> dict:
    """A store row with only the given fields set."""
    base = {"id": pid, "updated_at": "2024-01-01T00:00:00Z"}
    if "phones" in fields and isinstance(fields["phones"], list):
        fields["phones"] = json.dumps(
            [{"number": n, "phone_type": "Mobile"} for n in fields["phones"]]
        )
    base.update(fields)
    return base


def levels(a: dict, b: dict) -> dict[str, str]:
    pair = MatchEngine().score_pair(a, b)
    return {e.field: e.level for e in pair.evidence}


def test_accents_and_case_are_ignored():
    lv = levels(
        row("1", first_name="José", last_name="Müller"),
        row("2", first_name="JOSE", last_name="muller"),
    )
    assert lv["First name"] == "exact"
    assert lv["Surname"] == "exact"


def test_obrien_and_o_apostrophe_brien_agree():
    lv = levels(
        row("1", first_name="Sean", last_name="O'Brien"),
        row("2", first_name="Sean", last_name="OBrien"),
    )
    assert lv["Surname"] == "exact"


def test_double_barrelled_surname_is_part_of_the_other():
    lv = levels(
        row("1", first_name="Jane", last_name="Smith-Jones"),
        row("2", first_name="Jane", last_name="Jones"),
    )
    assert lv["Surname"] == "part"


def test_bob_and_robert_are_a_nickname():
    pair = MatchEngine().score_pair(
        row("1", first_name="Robert", last_name="Hill"),
        row("2", first_name="Bob", last_name="Hill"),
    )
    first = next(e for e in pair.evidence if e.field == "First name")
    assert first.level == "alias"
    assert first.text == "Robert / Bob: a known nickname"
    assert first.weight > 0


def test_preferred_name_and_middle_name_count_as_the_same_first_name():
    lv = levels(
        row("1", first_name="Elizabeth", preferred_first_name="Beth", last_name="Ng"),
        row("2", first_name="Beth", last_name="Ng"),
    )
    assert lv["First name"] == "alias"
    lv = levels(
        row("1", first_name="John Michael", last_name="Ng"),
        row("2", first_name="Michael", last_name="Ng"),
    )
    assert lv["First name"] == "alias"


def test_phone_formats_agree():
    lv = levels(
        row("1", first_name="A", phones=["0412 345 678"]),
        row("2", first_name="B", phones=["+61412345678"]),
    )
    assert lv["Phone"] == "same"


def test_day_month_swap_is_near_not_different():
    pair = MatchEngine().score_pair(
        row("1", date_of_birth="1980-03-04"), row("2", date_of_birth="1980-04-03")
    )
    dob = next(e for e in pair.evidence if e.field == "Birth date")
    assert dob.level == "near"
    assert dob.text == "day and month swapped"


@pytest.mark.parametrize(("a", "b"), [("1982-08-04", "1922-08-04"), ("1982-08-04", "1928-08-04")])
def test_one_digit_typos_and_transpositions_are_near(a, b):
    assert levels(row("1", date_of_birth=a), row("2", date_of_birth=b))["Birth date"] == "near"


def test_birth_dates_years_apart_are_explained():
    pair = MatchEngine().score_pair(
        row("1", date_of_birth="1950-01-01"), row("2", date_of_birth="1981-06-01")
    )
    dob = next(e for e in pair.evidence if e.field == "Birth date")
    assert dob.level == "different"
    assert dob.text == "birth dates 31 years apart"
    assert dob.weight < 0


def test_empty_fields_give_no_evidence():
    pair = MatchEngine().score_pair(row("1"), row("2"))
    assert [e.field for e in pair.evidence] == ["prior"]
    assert pair.band == "unlikely"


def test_non_latin_names_compare_exactly():
    lv = levels(
        row("1", first_name="伟", last_name="王"), row("2", first_name="伟", last_name="王")
    )
    assert lv["First name"] == "exact"
    assert lv["Surname"] == "exact"
    lv = levels(
        row("1", first_name="伟", last_name="王"), row("2", first_name="芳", last_name="李")
    )
    assert lv["First name"] == "different"


def test_swapped_first_and_last_names():
    pair = MatchEngine().score_pair(
        row("1", first_name="Nguyen", last_name="Anh"),
        row("2", first_name="Anh", last_name="Nguyen"),
    )
    first = next(e for e in pair.evidence if e.field == "First name")
    assert first.text == "first and last names swapped between the records"
    surname = next(e for e in pair.evidence if e.field == "Surname")  # not "same surname"
    assert surname.text == "surname written as the other record's first name"


def test_swapped_names_with_a_surname_of_several_words():
    home = {"address_1": "3 Moore St", "post_code": "2150", "date_of_birth": "1985-01-24"}
    pair = MatchEngine().score_pair(
        row("1", first_name="Maria", last_name="De La Cruz", **home),
        row("2", first_name="De La Cruz", last_name="Maria", **home),
    )
    lv = {e.field: e.level for e in pair.evidence}
    assert (lv["First name"], lv["Surname"]) == ("exact", "exact")
    assert pair.flags == ()  # one person, not a household of two
    assert pair.band == "likely"


def test_typing_slip_in_a_name_is_close():
    assert (
        levels(row("1", first_name="Sanjay"), row("2", first_name="Saanjay"))["First name"]
        == "close"
    )


def test_gmail_dots_and_tags_give_the_same_email():
    lv = levels(row("1", email="Rob.Hill@gmail.com"), row("2", email="rob.hill+physio@gmail.com"))
    assert lv["Email"] == "exact"
    pair = MatchEngine().score_pair(
        row("1", email="Rob.Hill@gmail.com"), row("2", email="robhill@gmail.com")
    )
    email = next(e for e in pair.evidence if e.field == "Email")
    assert email.level == "dots"  # one mailbox, written two ways: it counts for less
    assert 0 < email.weight <= 4.0


def test_medicare_same_card_other_irn_is_family():
    pair = MatchEngine().score_pair(
        row("1", medicare="2123456701", medicare_reference_number="1"),
        row("2", medicare="2123 45670 1", medicare_reference_number="2"),
    )
    med = next(e for e in pair.evidence if e.field == "Medicare")
    assert med.level == "family"
    assert med.weight < 0
    assert "family_card" in pair.flags


def test_swapped_names_with_a_typing_slip_are_compared_crosswise():
    home = {"address_1": "14 Markham St", "post_code": "6169", "date_of_birth": "1925-01-24"}
    pair = MatchEngine().score_pair(
        row("1", first_name="Robin", last_name="Morrison", **home),
        row("2", first_name="Morrion", last_name="Robin", **home),
    )
    lv = {e.field: e.level for e in pair.evidence}
    assert lv["Surname"] == "close"  # the slip still costs what a slip costs
    assert pair.band == "likely"


def test_a_stray_space_inside_a_first_name_is_a_slip_not_a_second_name():
    assert (
        levels(row("1", first_name="Soph ie"), row("2", first_name="Sophie"))["First name"]
        == "close"
    )
    assert (
        levels(row("1", first_name="Lachlq-n John"), row("2", first_name="Lachlan-John"))[
            "First name"
        ]
        == "close"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [("Daniel", "Danielle"), ("Paul", "Paula"), ("Brian", "Brianna"), ("Juanita", "Justin")],
)
def test_two_names_each_given_in_its_own_right_are_different_names(a, b):
    """Near in spelling, but the name table knows both as names and not as forms of one."""
    got = levels(row("1", first_name=a, last_name="Ford"), row("2", first_name=b, last_name="Ford"))
    assert got["First name"] == "different"


@pytest.mark.parametrize(
    ("a", "b"), [("Jon", "John"), ("Chris", "Christopher"), ("Jessica", "Jesica")]
)
def test_short_forms_and_slips_are_still_one_name(a, b):
    got = levels(row("1", first_name=a, last_name="Ford"), row("2", first_name=b, last_name="Ford"))
    assert got["First name"] != "different"


def test_first_names_this_clinic_gives_to_several_patients_are_two_names():
    """Eric and Erin Alonso Tellez at one address: both names are given to several patients
    here, so they are two people's names, not one name typed two ways; a name typed wrong
    once (Nartin) is still a slip of Martin."""
    from desktop.matching import MatchSettings

    rows = []
    for i, first in enumerate(["Eric", "Erin", "Martin"] * 3):
        rows.append({"id": f"b{i}", "first_name": first, "last_name": f"Base{i}x",
                     "date_of_birth": f"19{50 + i}-01-02", "updated_at": "2024-01-01"})  # fmt: skip
    home = {"address_1": "1501 Interlake Ave N", "city": "Seattle", "post_code": "98103"}
    rows += [
        {"id": "1", "first_name": "Eric", "last_name": "Alonso Tellez", **home},
        {"id": "2", "first_name": "Erin", "last_name": "Alonso Tellez", **home},
        {"id": "3", "first_name": "Martin", "last_name": "Jonas", "date_of_birth": "1980-01-02"},
        {"id": "4", "first_name": "Nartin", "last_name": "Jonas", "date_of_birth": "1980-01-02"},
    ]
    pairs = MatchEngine(MatchSettings(include_unlikely=True)).scan(rows).pairs

    def first_name_level(a: str, b: str) -> str:
        pair = next(p for p in pairs if {p.id_a, p.id_b} == {a, b})
        return next(e.level for e in pair.evidence if e.field == "First name")

    assert first_name_level("1", "2") == "different"
    assert first_name_level("3", "4") != "different"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("49580 Pointe Dr", "Pointe Dr", "similar"),  # the house number left out
        ("88 Weakley Ln Unit 37", "88 Unit 37", "similar"),  # the street name left out
        ("Smith St", "14 Jones St", "post_code"),  # another street
        ("14 Smith St", "St", "post_code"),  # one word says nothing
    ],
)
def test_an_address_with_words_left_out_is_the_same_address(a, b, expected):
    place = {"city": "Anytown", "post_code": "98001"}
    got = levels(row("1", address_1=a, **place), row("2", address_1=b, **place))
    assert got["Address"] == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # One street line in one suburb, its postcode typed with one slip: one address.
        (("Anytown", "20000"), ("Anytown", "00000"), "same"),
        (("Anytown", "98013"), ("Anytown", "98031"), "same"),  # two digits swapped
        (("", "98013"), ("Anytown", "98013 "), "same"),
        # Two suburbs a digit apart, or two postcodes further apart: two addresses.
        (("Morley", "6062"), ("Perth", "6000"), "different"),
        (("Morley", "6062"), ("Bedford", "6052"), "different"),
        (("Anytown", "98013"), ("Anytown", "98113"), "same"),
        (("Anytown", "98013"), ("Anytown", "98450"), "city"),
    ],
)
def test_a_postcode_typed_with_one_slip_keeps_the_address(a, b, expected):
    """Rick Jones and Richard Jones at 950 Caribou Lane, Anytown, postcodes 00000 and 20000."""
    first = row("1", address_1="950 Caribou Lane", city=a[0], post_code=a[1])
    second = row("2", address_1="950 Caribou Lane", city=b[0], post_code=b[1])
    pair = MatchEngine().score_pair(first, second)
    address = next(e for e in pair.evidence if e.field == "Address")
    assert address.level == expected
    # The compare view shows two postcodes; the evidence says why it is one address.
    retyped = expected == "same" and a[1].strip() != b[1].strip()
    assert address.text.endswith("(postcodes one typing slip apart)") == retyped


@pytest.mark.parametrize(
    ("typed", "other", "expected"),
    [
        ("1173-10-29", "1973-10-29", "near"),  # a year typed wrong (Cliniko keeps real dates)
        ("1942-03-41", "1942-03-11", "near"),  # one digit
        ("1942-03-41", "1942-03-14", "near"),  # two digits the wrong way round
        ("1942-03-41", "1942-03-41", "near"),  # the same slip on both
        ("1942-03-41", "1942-07-02", None),  # three digits apart: says nothing either way
        ("1942-03-41", "1977-06-02", "different"),  # five of eight digits: another date
        ("2410-09-16", "2009-12-03", "different"),  # seven: a household member's, mistyped
    ],
)
def test_a_birth_date_that_is_no_real_date_is_compared_digit_by_digit(typed, other, expected):
    """'1942-03-41' beside '1942-03-11': a typing slip of one date, not a missing one.
    Beside a date it shares few digits with, it is another person's date."""
    pair = MatchEngine().score_pair(row("1", date_of_birth=typed), row("2", date_of_birth=other))
    dob = next((e for e in pair.evidence if e.field == "Birth date"), None)
    assert (dob and dob.level) == expected
    if expected == "near":
        assert dob.text == "one birth date is impossible, a typing slip from the other"
    elif expected == "different":
        assert dob.text == "one birth date is impossible and shares few digits with the other"
        assert dob.weight < 0
    # A date typed wrong is a date typed: not a record that lacks one.
    recorded = next(e for e in pair.evidence if e.field == "Birth date recorded")
    assert recorded.level == "both"


@pytest.mark.parametrize(
    ("typed", "other", "expected"),
    [
        ("2076-08-20", "2016-08-20", "near"),  # a child's year typed with one slip
        ("2037-08-12", "1929-03-18", "different"),  # six digits apart: another date
        ("2037-08-12", "1937-08-21", None),  # three digits apart: says nothing either way
    ],
)
def test_a_birth_date_after_today_is_typed_wrong_not_a_generation_apart(typed, other, expected):
    """'2076-08-20' beside '2016-08-20' is one birth date typed with a slip, not a parent born
    sixty years after the child: read as typed, like a date no patient has."""
    engine = MatchEngine(MatchSettings(today="2026-12-05"))
    pair = engine.score_pair(
        row("1", first_name="Emily", last_name="Florez", date_of_birth=typed),
        row("2", first_name="Emily", last_name="Florez", date_of_birth=other),
    )
    dob = next((e for e in pair.evidence if e.field == "Birth date"), None)
    assert (dob and dob.level) == expected
    assert "parent_child" not in pair.flags
    assert not any("parent and child" in w for w in pair.warnings)


def test_a_typed_birth_date_beside_a_childs_is_no_undated_record():
    """A child's record beside one whose birth date is typed wrong ('2016-08-41'): no
    'a child's record beside an undated one' hold, which is for a parent's record."""
    engine = MatchEngine(MatchSettings(today="2026-12-05"))
    child = dict(first_name="Emily", last_name="Florez", phones=["0412 345 678"])
    pair = engine.score_pair(
        row("1", date_of_birth="2016-08-41", **child),
        row("2", date_of_birth="2016-08-20", **child),
    )
    assert "child_record" not in pair.flags
    assert pair.band == "likely"
