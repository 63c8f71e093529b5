"""The merge plan's pure functions: survivor choice, reconciliation defaults, the PATCH body."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.merge.plan import (
    FILL_BLANK,
    KEEP_REFUSAL,
    KEEP_SURVIVOR,
    PHONE_UNION,
    WRITABLE_FIELDS,
    MergePlan,
    changed_fields,
    decisions_from,
    default_reconciliation,
    fields_sha256,
    pair_key,
    same_value,
    stale_fields,
    suggest_survivor,
    swapped_names,
    values_sha256,
)


def phone(number: str, kind: str = "Mobile") -> dict[str, str]:
    return {"number": number, "phone_type": kind, "normalized_number": number.replace(" ", "")}


SURVIVOR: dict[str, Any] = {
    "id": "1001", "first_name": "Jane", "last_name": "Smith", "title": "Ms",
    "date_of_birth": "1980-05-12", "email": "jane.smith@example.com",
    "patient_phone_numbers": [phone("0412 345 678"), phone("03 9876 5432", "Home")],
    "address_1": "1 Smith Street", "city": "Melbourne", "post_code": None, "occupation": "",
    "accepted_privacy_policy": None, "label": "Jane Smith", "gender": "F",
    "created_at": "2020-01-01T09:00:00Z", "updated_at": "2024-01-01T09:00:00Z",
    "referring_doctor": None,
}  # fmt: skip
DUPLICATE: dict[str, Any] = {
    "id": "1002", "first_name": "Jane", "last_name": "Smyth", "title": None,
    "date_of_birth": "1980-05-12", "email": "JANE.SMITH@example.com",
    "patient_phone_numbers": [phone("+61 412 345 678"), phone("0400 111 222", "Work")],
    "address_1": "", "city": "Melbourne", "post_code": "3000", "occupation": "Nurse",
    "accepted_privacy_policy": True, "label": "Jane Smyth", "gender": "Female",
    "created_at": "2021-03-04T10:30:00Z", "updated_at": "2021-03-04T10:30:00Z",
    "merged_at": None,
    "referring_doctor": {"links": {"self": "https://api.au1.cliniko.com/v1/contacts/77"}},
}  # fmt: skip


def by_field(choices: list) -> dict[str, Any]:
    return {c.field: c for c in choices}


# ----------------------------------------------------------------------------- survivor


def test_more_clinical_history_wins() -> None:
    records = {"1001": SURVIVOR, "1002": DUPLICATE}
    counts = {
        "1001": {"appointments": 1, "treatment_notes": 0, "invoices": 0, "attachments": 9},
        "1002": {"appointments": 1, "treatment_notes": 1, "invoices": 0, "attachments": 0},
    }
    assert suggest_survivor(records, counts) == "1002"  # attachments do not count


def test_equal_history_then_the_older_record_wins() -> None:
    records = [DUPLICATE, SURVIVOR]
    same = {"appointments": 2, "treatment_notes": 1, "invoices": 1}
    assert suggest_survivor(records, {"1001": same, "1002": same}) == "1001"
    assert suggest_survivor(records, None) == "1001"  # unknown history: the older one
    assert suggest_survivor(records, {"1002": None}) == "1001"


def test_suggest_survivor_needs_records() -> None:
    with pytest.raises(ValueError):
        suggest_survivor({})


# ----------------------------------------------------------------------------- reconcile


def test_defaults_keep_survivor_values_and_fill_blanks() -> None:
    choices = by_field(default_reconciliation(SURVIVOR, DUPLICATE))
    assert choices["last_name"].chosen == "Smith"
    assert choices["last_name"].reason == KEEP_SURVIVOR
    assert choices["last_name"].other_values == ("Smyth",)
    assert choices["title"].chosen == "Ms"  # the duplicate's blank never wins
    assert choices["post_code"].chosen == "3000"
    assert choices["post_code"].reason == FILL_BLANK
    assert choices["occupation"].chosen == "Nurse"  # "" counts as blank
    assert choices["accepted_privacy_policy"].chosen is True
    assert choices["referring_doctor_id"].chosen == "77"  # a link is written as its id
    assert choices["address_1"].chosen == "1 Smith Street"


@pytest.mark.parametrize(
    ("survivor", "others", "kept"),
    [
        (True, [False], False),  # a newer record says No: the patient may have opted out
        (None, [False], False),
        (True, [None, False], False),
        (False, [True], False),  # the survivor's No is kept as any value is
        (None, [True], True),  # a blank is filled as any field's
    ],
)
def test_a_marketing_consent_refused_on_any_record_stays_refused(
    survivor: bool | None, others: list[bool | None], kept: bool
) -> None:
    duplicates = [{**DUPLICATE, "accepted_email_marketing": v} for v in others]
    merged = {**SURVIVOR, "accepted_email_marketing": survivor}
    choice = by_field(default_reconciliation(merged, *duplicates))["accepted_email_marketing"]
    assert choice.chosen is kept
    assert (choice.reason == KEEP_REFUSAL) == (kept is False and survivor is not False)


def test_a_group_shows_every_other_records_value_once() -> None:
    """Four records: the others disagree on the surname, so each of their values is shown
    once, not only the first one; one of them agrees with the survivor's title."""
    third = {**DUPLICATE, "id": "3", "last_name": "Smithe", "title": SURVIVOR["title"]}
    fourth = {**DUPLICATE, "id": "4"}  # "Smyth" again
    choices = by_field(default_reconciliation(SURVIVOR, DUPLICATE, third, fourth))
    assert choices["last_name"].other_values == ("Smyth", "Smithe")
    assert choices["last_name"].options == ("Smith", "Smyth", "Smithe")
    assert choices["title"].other_values == (DUPLICATE["title"], SURVIVOR["title"])


def test_equal_values_are_not_listed() -> None:
    choices = by_field(default_reconciliation(SURVIVOR, DUPLICATE))
    assert "first_name" not in choices and "date_of_birth" not in choices
    assert "city" not in choices
    assert "email" not in choices  # emails differ only in letter case


def test_read_only_fields_are_never_touched() -> None:
    fields = set(by_field(default_reconciliation(SURVIVOR, DUPLICATE)))
    assert fields <= set(WRITABLE_FIELDS)
    for read_only in ("id", "label", "gender", "created_at", "updated_at", "merged_at"):
        assert read_only not in fields


def test_phones_are_unioned_with_the_survivors_first() -> None:
    choice = by_field(default_reconciliation(SURVIVOR, DUPLICATE))["patient_phone_numbers"]
    assert choice.reason == PHONE_UNION
    assert choice.chosen == [
        {"number": "0412 345 678", "phone_type": "Mobile"},
        {"number": "03 9876 5432", "phone_type": "Home"},
        {"number": "0400 111 222", "phone_type": "Work"},
    ]  # +61 412 345 678 is the same number as 0412 345 678


def test_phones_already_all_there_are_not_listed() -> None:
    duplicate = {**DUPLICATE, "patient_phone_numbers": [phone("+61412345678")]}
    assert "patient_phone_numbers" not in by_field(default_reconciliation(SURVIVOR, duplicate))


def test_several_duplicates_fill_from_the_first_that_has_a_value() -> None:
    third = {
        "id": "1003", "first_name": "Jane", "last_name": "Smith", "post_code": "3001",
        "medicare": "2123456701", "patient_phone_numbers": [phone("0499 000 111")],
    }  # fmt: skip
    choices = by_field(default_reconciliation(SURVIVOR, DUPLICATE, third))
    assert choices["post_code"].chosen == "3000"
    assert choices["medicare"].chosen == "2123456701"
    numbers = [p["number"] for p in choices["patient_phone_numbers"].chosen]
    assert numbers == ["0412 345 678", "03 9876 5432", "0400 111 222", "0499 000 111"]


# ----------------------------------------------------------------------------- PATCH body


def plan_for(decisions: dict[str, Any], base: dict[str, Any] | None = None) -> MergePlan:
    return MergePlan("p1", ("1001", "1002"), "1001", ("1002",), decisions, base or {})


def test_changed_fields_sends_only_what_differs_from_the_survivor() -> None:
    decisions = decisions_from(default_reconciliation(SURVIVOR, DUPLICATE))
    body = changed_fields(plan_for(decisions), SURVIVOR)
    assert set(body) == {
        "post_code", "occupation", "accepted_privacy_policy", "referring_doctor_id",
        "patient_phone_numbers",
    }  # fmt: skip
    assert body["patient_phone_numbers"][-1] == {"number": "0400 111 222", "phone_type": "Work"}


def test_changed_fields_after_the_write_is_empty() -> None:
    decisions = decisions_from(default_reconciliation(SURVIVOR, DUPLICATE))
    body = changed_fields(plan_for(decisions), SURVIVOR)
    written = {**SURVIVOR, **body, "referring_doctor": {"links": {"self": ".../contacts/77"}}}
    written["patient_phone_numbers"] = [phone(p["number"]) for p in body["patient_phone_numbers"]]
    assert changed_fields(plan_for(decisions), written) == {}


def test_a_chosen_duplicate_value_is_sent() -> None:
    body = changed_fields(plan_for({"last_name": "Smyth", "title": "Ms"}), SURVIVOR)
    assert body == {"last_name": "Smyth"}


def test_hash_of_written_fields_matches_the_stored_record() -> None:
    written = {**SURVIVOR, "post_code": "3000", "occupation": "Nurse"}
    names = ["occupation", "post_code"]
    expected = values_sha256({"post_code": "3000", "occupation": "Nurse"})
    assert fields_sha256(written, names) == expected
    assert fields_sha256(SURVIVOR, names) != expected


def test_stale_fields_notice_edits_made_in_cliniko() -> None:
    plan = plan_for({"post_code": "3000"}, {"post_code": None})
    assert stale_fields(plan, SURVIVOR) == []
    assert stale_fields(plan, {**SURVIVOR, "post_code": "3000"}) == []  # already as chosen
    assert stale_fields(plan, {**SURVIVOR, "post_code": "3999"}) == ["post_code"]


def test_pair_key_is_order_free() -> None:
    assert pair_key(["1002", "1001", "1002"]) == "1001:1002"


def test_a_medicare_number_written_with_spaces_is_the_same_number() -> None:
    """The fields step asked to choose between "5999 78061 4" and "5999780614"."""
    survivor = {**SURVIVOR, "medicare": "5999 78061 4"}
    duplicate = {**DUPLICATE, "medicare": "5999780614"}
    assert "medicare" not in by_field(default_reconciliation(survivor, duplicate))
    assert not same_value("medicare", "5999780614", "5999780615")


@pytest.mark.parametrize(
    ("stays", "others", "swapped"),
    [
        (("Sophie", "Martin"), [("Martin", "Sophie")], 0),
        (("Sophie", "Martin"), [("  martin ", "SOPHIE")], 0),  # case and spaces aside
        (("Mary Ann", "Lee"), [("Lee", "mary  ann")], 0),
        (("Sophie", "Martin"), [("Sophie", "Martin"), ("Martin", "Sophie")], 1),  # a group
        (("Sophie", "Martin"), [("Sophie", "Martin")], None),
        (("Sophie", "Martin"), [("Martin", "Sophia")], None),
        (("Lee", "Lee"), [("Lee", "Lee")], None),  # the same either way round
        (("Sophie", ""), [("", "Sophie")], None),  # one name only: nothing swapped to tell
        ((None, "Martin"), [("Martin", None)], None),
    ],
)
def test_swapped_names_finds_the_record_naming_the_person_the_other_way_round(
    stays: tuple[Any, Any], others: list[tuple[Any, Any]], swapped: int | None
) -> None:
    def record(names: tuple[Any, Any]) -> dict[str, Any]:
        return {"first_name": names[0], "last_name": names[1]}

    duplicates = [record(n) for n in others]
    found = swapped_names(record(stays), *duplicates)
    assert found is (None if swapped is None else duplicates[swapped])
