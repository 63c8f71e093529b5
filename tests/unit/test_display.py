"""Fields and values in plain words; differences only where values differ after normalising."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from desktop.display import display_value, field_label, same_values


def test_field_labels_are_clinikos_words() -> None:
    assert field_label("address_1") == "Address line 1"
    assert field_label("patient_phone_numbers") == "Phone numbers"
    assert field_label("medicare") == "Medicare number"
    assert field_label("dva_card_number") == "DVA card number"
    assert field_label("accepted_sms_marketing") == "Accepted SMS marketing"
    assert field_label("some_new_field") == "Some new field"


def test_a_time_is_the_day_it_was_at_the_clinic_not_in_utc() -> None:
    """08:30 on 25 September in Melbourne is still the 24th in UTC: the compare view and the
    survivor choice said "Created 24 Sep" for a record made that morning."""
    melbourne = ZoneInfo("Australia/Melbourne")
    assert display_value("created_at", "2026-09-24T22:30:00Z", melbourne) == "25 Sep 2026 08:30"
    assert display_value("updated_at", "2026-09-24T22:30:00Z", UTC) == "24 Sep 2026 22:30"
    assert display_value("created_at", "2026-09-24", melbourne) == "24 Sep 2026"  # a day only
    assert display_value("date_of_birth", "1980-03-07", melbourne) == "7 Mar 1980"


def test_values_read_as_a_person_reads_them() -> None:
    assert display_value("accepted_privacy_policy", True) == "Yes"
    assert display_value("receives_confirmation_emails", False) == "No"
    assert display_value("email", None) == ""
    assert display_value("notes", "") == ""
    assert display_value("pronouns", None) == ""
    pronouns = {
        "accusative": "her",
        "nominative": "she",
        "predicative_possessive": "hers",
        "pronominal_possessive": "her",
        "reflexive": "herself",
    }
    assert display_value("pronouns", pronouns) == "she/her/hers"
    assert display_value("date_of_birth", "1980-03-07") == "7 Mar 1980"
    assert display_value("created_at", "2024-11-02T03:04:05Z", UTC) == "2 Nov 2024 03:04"
    phones = [
        {"number": "0465 581 120", "phone_type": "Mobile", "normalized_number": "61465581120"},
        {"number": "03 9012 2037", "phone_type": "Home"},
    ]
    assert (
        display_value("patient_phone_numbers", phones)
        == "0465 581 120 (Mobile)\n03 9012 2037 (Home)"
    )
    assert display_value("referring_doctor", {"links": {"self": "https://x/contacts/1"}}) == ""
    for value in (True, None, pronouns, phones, "1980-03-07"):
        text = display_value("x", value)
        assert "None" not in text and "True" not in text and "{" not in text


def test_formatting_alone_is_no_difference() -> None:
    a = [{"number": "+61465581120", "phone_type": "Mobile"}]
    b = [{"number": "0465 581 120", "phone_type": "Mobile"}]
    assert same_values("patient_phone_numbers", [a, b])
    assert not same_values("patient_phone_numbers", [a, [{"number": "0465 581 121"}]])
    assert same_values("email", ["Ann.Lee@Example.com", "ann.lee@example.com "])
    assert same_values("post_code", ["3000", " 3000"])
    assert same_values("address_1", ["180 Bridge St", "180 Bridge Street"])
    assert same_values("first_name", ["Anne-Marie", "anne marie"])
    assert not same_values("first_name", ["Anne", "Anna"])
    assert same_values("date_of_birth", ["1980-03-07", "07/03/1980"])
    assert not same_values("accepted_privacy_policy", [True, None])


def test_characters_that_garble_or_reverse_a_name_are_not_shown() -> None:
    """A record may hold a NUL or a right-to-left override ("\\u202eEvil" shows as "liveE",
    and everything after it in the cell too). Letters of any script stay, and so do line
    breaks."""
    from desktop.display import readable
    from desktop.merge.executor import display_name

    assert display_value("first_name", "\u202eEvil\u0000Name") == "EvilName"
    assert display_name({"first_name": "\u202eEvil", "last_name": "\u2066Lee\u2069"}) == "Evil Lee"
    assert readable("سارة\nכהן\tMüller") == "سارة\nכהן\tMüller"
