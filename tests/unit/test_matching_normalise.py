"""Normalisers: names, nicknames, phones, emails, birth dates, Medicare, postcodes, addresses."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from desktop.matching import normalise as nz
from desktop.matching import text
from desktop.matching.nicknames_table import canonical_forms, is_nickname_pair


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("José", "jose"),
        ("  ZOË   Müller ", "zoe muller"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("Smith-Jones", "smith jones"),
        ("Łukasz", "lukasz"),
        ("Strauß", "strauss"),
        ("", ""),
        (None, ""),
        ("王伟", "王伟"),
        ("Дмитрий", "дмитрии"),  # combining marks go in every script
    ],
)
def test_fold(raw, folded):
    assert text.fold(raw) == folded


def test_obrien_variants_share_a_surname_key():
    assert text.surname_key("O'Brien") == text.surname_key("OBrien") == "obrien"
    assert text.surname_key("Smith Jones") == text.surname_key("Smith-Jones") == "smithjones"


def test_given_name_skips_titles_and_middle_names():
    assert text.given_name("Dr John Paul") == "john"
    assert text.name_tokens("Mary-Anne") == ("mary", "anne")
    assert text.given_name(None) == ""


def test_phonetic_codes_match_for_sound_alikes():
    assert text.phonetic("smith") == text.phonetic("smyth")
    assert text.phonetic("王伟") == "王伟"  # non-Latin scripts keep the word itself
    assert text.phonetic("") == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("bob", "robert"),
        ("bill", "william"),
        ("liz", "elizabeth"),
        ("kate", "katherine"),
        ("bec", "rebecca"),
        ("mick", "michael"),
        ("shaz", "sharon"),
        ("gazza", "gary"),
        ("dave", "david"),
        ("jim", "james"),
        ("jenny", "jennifer"),
        ("rob", "bob"),
        ("kosta", "konstantinos"),
        ("jimmy", "dimitrios"),
        ("george", "georgios"),
        ("joe", "giuseppe"),
        ("rosie", "rosemary"),
    ],
)
def test_known_nicknames(a, b):
    assert is_nickname_pair(a, b)
    assert is_nickname_pair(b, a)


def test_unrelated_names_are_not_nicknames():
    assert not is_nickname_pair("robert", "mary")
    assert not is_nickname_pair("robert", "robert")  # the same name is not a nickname
    assert not is_nickname_pair("", "bob")
    assert canonical_forms("zzyzx") == frozenset({"zzyzx"})


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0412 345 678", "+61412345678"),
        ("+61412345678", "+61412345678"),
        ("+61 (0)412 345 678", "+61412345678"),
        ("0412-345-678", "+61412345678"),
        ("(02) 9876 5432", "+61298765432"),
        ("0061 412 345 678", "+61412345678"),
        ("412345678", "+61412345678"),
        ("", ""),
        (None, ""),
        ("n/a", ""),
    ],
)
def test_phone_e164(raw, e164):
    assert nz.phone_e164(raw, "AU") == e164


def test_phone_other_country_goes_through_phonenumbers():
    assert nz.phone_e164("+44 20 7946 0958", "AU") == "+442079460958"
    assert nz.phone_e164("020 7946 0958", "GB") == "+442079460958"


def test_phones_from_json_dedupes_and_survives_junk():
    raw = '[{"number":"0412 345 678","phone_type":"Mobile"},{"number":"+61412345678"}]'
    assert nz.phones_from_json(raw) == ("+61412345678",)
    assert nz.phones_from_json("not json") == ()
    assert nz.phones_from_json('{"number": 5}') == ()
    assert nz.phones_from_json([{"number": "0412345678"}]) == ("+61412345678",)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Rob.OBrien@Gmail.com", "robobrien@gmail.com"),
        ("rob.obrien+clinic@googlemail.com", "robobrien@gmail.com"),
        ("Jane.Doe+x@outlook.com", "jane.doe@outlook.com"),
        ("jane.doe@bigpond.net.au", "jane.doe@bigpond.net.au"),
        ("not an email", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_email_key(raw, key):
    assert nz.email_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("1980-03-04", "19800304"),
        ("04/03/1980", "19800304"),
        ("1980-02-30", ""),
        ("", ""),
        ("garbage", ""),
        ("1800-01-01", ""),
        (None, ""),
    ],
)
def test_birth_date(raw, key):
    assert nz.birth_date(raw) == key


def test_date_relations():
    assert nz.date_relation("19800304", "19800403") == "swapped"
    assert nz.date_relation("19800304", "19800305") == "typo"
    assert nz.date_relation("19800304", "19500304") == "typo"
    assert nz.date_relation("19800304", "19800304") == "same"
    assert nz.date_relation("19800304", "20110304") == "far"
    assert nz.date_relation("", "20110304") == "missing"
    assert nz.years_apart("19800304", "20110304") == 31


def test_medicare_check_digit_and_parts():
    assert nz.medicare_valid("2123456701")
    assert not nz.medicare_valid("2123456791")
    # 11 digits: the last one is the individual reference number (IRN).
    assert nz.medicare_parts("2123 45670 1 3") == ("212345670", "3")
    assert nz.medicare_parts("2123456701", "2") == ("212345670", "2")
    # The issue number (10th digit) is not part of the card's identity.
    assert nz.medicare_parts("2123456709")[0] == nz.medicare_parts("2123456701")[0]
    # Other identifiers keep all their digits.
    assert nz.medicare_parts("4408444") == ("4408444", "")
    assert nz.medicare_parts("") == ("", "")
    assert nz.medicare_parts("0000000000") == ("", "")


def test_postcode_and_address():
    assert nz.postcode_key(" 3000 ") == "3000"
    assert nz.address_key("12 Smith Street", "Unit 4") == nz.address_key("12 Smith St", "U 4")
    assert nz.address_key("", None) == ""


def test_phone_lists_agree_with_one_by_one_parsing(monkeypatch):
    monkeypatch.setattr(nz, "PHONE_BATCH", 2)  # values cross batch boundaries too
    values = [
        '[{"number":"0412 345 678","phone_type":"Mobile"},{"number":"+61412345678"}]',
        None,
        "[]",
        "junk",
        '[{"number": "(02) 9876 5432"}]',
        [{"number": "0412345678"}],
        '[{"number":"a\\"b"}]',
        "",
        '[{"number":"0400 000 001"}]',
    ]
    assert nz.phone_lists(values) == [nz.phones_from_json(v) for v in values]


_PHONE_TYPING = st.text(alphabet="0123456789 +-().٤/", max_size=18)


@given(
    numbers=st.lists(
        st.one_of(_PHONE_TYPING, st.from_regex(r"\A\+?6[14][ 0-9()-]{8,12}\Z")), max_size=4
    ),
    country=st.sampled_from(["AU", "NZ", "GB"]),
)
@example(
    numbers=["0012345678", "(+61) 412 345 678", "+61 0412 345 678", "+6141234567", "412345678"],
    country="AU",
)
@example(numbers=["09 123 4567", "+64 21 123 4567", "0212345678", "04123456789"], country="NZ")
@example(numbers=["0412 345 678", "+61 412 345 678", "0٤12345678"], country="GB")
def test_the_short_cut_for_usual_phone_shapes_agrees_with_full_parsing(numbers, country):
    """Many numbers per patient go through batched parsing with a short cut for the usual
    shapes: whatever is typed, each must come out as the parser reads it alone."""
    value = json.dumps([{"number": n, "phone_type": "Mobile"} for n in numbers])
    one_by_one = [nz.phone_e164(n, country) for n in numbers]
    assert nz.phone_lists([value], country) == [tuple(dict.fromkeys(e for e in one_by_one if e))]


_MEDICARE_TYPING = st.one_of(
    st.none(),
    st.text(alphabet="0123456789 ٣a-", max_size=13),
    st.from_regex(r"\A[2-6][0-9]{9,10}\Z"),
    st.from_regex(r"\A[0-9]{4} [0-9]{5} [0-9]\Z"),
)


@given(
    pairs=st.lists(
        st.tuples(_MEDICARE_TYPING, st.sampled_from(["", "1", "12", " 3", "٣", "x"])),
        max_size=8,
    )
)
@example(pairs=[("2123 45670 1", ""), ("2123456701", "2"), ("21234567012", ""), (None, "1")])
@example(pairs=[("0000000000", "1"), ("0000 00000 0", ""), ("٢١٢٣٤٥٦٧٠١", ""), ("2123456709", "")])
def test_medicare_numbers_read_together_as_one_by_one(pairs):
    """Medicare numbers of a clinic are checked together, with a short cut for ten digits:
    each must come out as it does alone (card, reference number, valid or not)."""
    numbers, refs = [n for n, _ in pairs], [r for _, r in pairs]
    one_by_one = [("", "") if n is None else nz.medicare_parts(n, r) for n, r in pairs]
    assert nz.medicare_parts_many(numbers, refs) == one_by_one
    cards = [n for n in numbers if n is not None] + [card for card, _ in one_by_one]
    assert nz.medicare_valid_many(cards).tolist() == [nz.medicare_valid(c) for c in cards]


@given(text=st.one_of(_PHONE_TYPING, st.text(max_size=14)))
@example(text="+61 (0)412 345-678")
@example(text="2123 45678 1")
@example(text="0412+345")
@example(text="+")
def test_digits_short_cut_keeps_exactly_the_digits(text):
    """Phone and Medicare numbers take a short cut to their digits; it must keep exactly the
    characters a full pass of the digit pattern keeps, Unicode digits included."""
    assert nz._digits(text) == nz._DIGITS.sub("", text)


@pytest.mark.parametrize(
    ("country", "forms", "e164"),
    [
        ("US", ["(206) 555-0134", "+1 206 555 0134", "1-206-555-0134", "206.555.0134"],
         "+12065550134"),
        ("CA", ["(416) 555-0199", "+1 416 555 0199", "1 416 555 0199"], "+14165550199"),
        ("AU", ["0412 345 678", "+61 412 345 678", "0061 412 345 678"], "+61412345678"),
        ("NZ", ["021 123 4567", "+64 21 123 4567"], "+64211234567"),
        ("GB", ["07700 900123", "+44 7700 900123", "+44 (0)7700 900123"], "+447700900123"),
        ("IE", ["087 123 4567", "+353 87 123 4567", "00353 87 123 4567"], "+353871234567"),
    ],
)  # fmt: skip
def test_phones_are_read_as_the_clinics_countrys_numbers(country, forms, e164):
    assert {nz.phone_e164(form, country) for form in forms} == {e164}


def test_a_number_without_country_code_is_not_read_as_american_in_australia():
    assert nz.phone_e164("(206) 555-0134", "AU") != "+12065550134"
    assert nz.phone_e164("+1 206 555 0134", "AU") == "+12065550134"  # its own code wins


@pytest.mark.parametrize(
    ("raw", "country"),
    [("gb", "GB"), ("UK", "GB"), (" us ", "US"), ("", "AU"), (None, "AU"), ("USA", "AU")],
)
def test_country_key(raw, country):
    assert nz.country_key(raw, "AU") == country


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1200 Northeast 45th Street", "1200 NE 45th St"),
        ("1200 North East 45th Street", "1200 ne 45th st"),
        ("88 Southwest Parkway", "88 SW Pkwy"),
        ("P.O. Box 123", "PO Box 123"),
        ("Post Office Box 123", "POB 123"),
        ("Box 123", "PO Box 123"),
        ("5 Main Street Suite 200", "5 Main St Ste 200"),
        ("12 Lakeview Terrace", "12 Lakeview Ter"),
        ("7 Ocean Circle", "7 Ocean Cir"),
        ("3 Flinders Street", "3 Flinders St"),  # the Australian forms still fold
    ],
)
def test_address_forms_of_every_country_fold_to_one_key(a, b):
    assert nz.address_key(a) == nz.address_key(b)


@pytest.mark.parametrize(
    ("address", "street"),
    [
        ("1609 Ellicott Road", "ellicott rd"),
        ("Ellicott Road", "ellicott rd"),
        ("1G17 Chloe Avenue", "chloe ave"),  # a misread house number goes too
        ("3/21 Smith Street", "smith st"),  # unit and house
        ("8th Ave W", "8th ave w"),  # a numbered street keeps its number
        ("PO Box 12", ""),
        ("12", ""),
    ],
)
def test_the_street_of_an_address_leaves_out_the_house_number(address, street):
    assert nz.street_key(nz.address_key(address)) == street


def test_a_street_named_box_is_not_a_post_office_box():
    assert nz.address_key("12 Box Hill Road") == "12 box hill rd"


@pytest.mark.parametrize("placeholder", ["Baby", "Mrs", "Female Child", "Husband", "Lady of the"])
def test_a_first_name_field_of_placeholder_words_names_nobody(placeholder):
    assert text.given_name(placeholder) == ""
    assert text.first_name_tokens(placeholder) == ()


@pytest.mark.parametrize("name", ["Na", "Son", "Nino", "Dr John", "Baby Jane"])
def test_given_names_that_look_like_placeholders_are_kept(name):
    assert text.given_name(name) != ""


@pytest.mark.parametrize(
    ("raw", "iso"),
    [("2004-24-07", "20040724"), ("24/07/2004", "20040724"), ("07/24/2004", "20040724")],
)
def test_a_birth_date_with_day_and_month_the_other_way_round_is_read(raw, iso):
    """A month over 12 with a day of 12 or less: the two were typed the other way round."""
    assert nz.birth_date(raw) == iso


def test_a_date_that_is_impossible_either_way_is_still_missing():
    assert nz.birth_date("2004-13-13") == ""
    assert nz.birth_date("2004-02-30") == ""


@pytest.mark.parametrize("placeholder", ["Unknown", "Dont Know", "Resident", "Lady of the House"])
def test_a_surname_field_of_a_placeholder_names_nobody(placeholder):
    assert text.surname_key(placeholder) == ""
    assert text.surname_tokens(placeholder) == ()


@pytest.mark.parametrize("surname", ["House", "Child", "Na", "No", "Unknown-Smith"])
def test_surnames_that_look_like_placeholders_are_kept(surname):
    assert text.surname_key(surname) != ""


@pytest.mark.parametrize(
    ("raw", "iso"),
    [("O5/27/1983", "19830527"), ("|2/23/|996", "19961223"), ("1985-O6-23", "19850623")],
)
def test_a_birth_date_with_letters_that_look_like_digits_is_read(raw, iso):
    """A paper form's 0 read as O, its 1 as |: the date is still the patient's."""
    assert nz.birth_date(raw) == iso


def test_text_that_is_not_a_misread_date_stays_missing():
    assert nz.birth_date("Soon") == ""
    assert nz.birth_date("1990-ab-cd") == ""


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("1942-03-41", "19420341"),  # day 41
        ("1945-00-04", "19450004"),  # month 00
        ("31/13/1950", "19501331"),  # month 13, not a day/month swap (31 is no month)
        ("1251-01-16", "12510116"),  # a year no patient was born in
        ("1942-03-11", ""),  # a real date is read by birth_date
        ("12/519/0019", ""),  # not a date's shape
        ("1990-ab-cd", ""),
        ("", ""),
    ],
)
def test_a_birth_date_that_is_no_real_date_keeps_its_digits(raw, digits):
    assert nz.typed_birth_date(raw) == digits


@pytest.mark.parametrize("raw", ["²⁰⁰⁴-01-01", "1980-0²-01", "0²/01/1980"])
def test_digits_that_are_not_decimal_digits_are_no_birth_date(raw):
    """Superscripts count as digits to str.isdigit but int() refuses them: they were an
    exception where a normaliser must answer."""
    assert nz.birth_date(raw) == ""
    assert nz.typed_birth_date(raw) == ""
