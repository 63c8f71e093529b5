"""The executor's pieces: where to merge in Cliniko, what to tell the person, polling."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.account import Account
from desktop.merge.executor import (
    MergedIntoOther,
    MergeError,
    WriteNotApplied,
    is_loopback,
    merge_instructions,
    merge_page_url,
    poll_duplicates,
)

EDITED = {"updated_at": "2026-03-01T09:00:00Z"}  # every record Cliniko sends has it
SURVIVOR = {"id": "1001", "first_name": "Jane", "last_name": "Smith", "label": "Jane Smith",
            **EDITED}  # fmt: skip
DUP = {"id": "1002", "first_name": "Jane", "last_name": "Smyth", "date_of_birth": "1980-05-12",
       **EDITED}  # fmt: skip


class Client:
    """get_patient and get_public_settings only."""

    def __init__(self, patients: dict[str, dict[str, Any]]) -> None:
        self.patients = patients

    def get_patient(self, patient_id: str, include_archived: bool = True) -> dict[str, Any]:
        return dict(self.patients[patient_id])

    def get_public_settings(self) -> dict[str, Any]:
        return {"account": {"name": "Sunnyside", "subdomain": "sunnyside"}}


def merged(into: str) -> dict[str, Any]:
    link = {"links": {"self": f"https://api.au1.cliniko.com/v1/patients/{into}"}}
    return {**DUP, "merged_at": "2026-03-02T10:00:00Z", "merged_with_patient": link}


@pytest.mark.parametrize("shard", ["au1", "au2", "au3", "au4", "ca1", "uk1", "uk2", "eu1"])
def test_merge_page_of_a_real_account_carries_its_shard(shard: str) -> None:
    account = Account(subdomain="sunnyside", shard=shard)
    real = merge_page_url(f"https://api.{shard}.cliniko.com/v1", "1001", account)
    assert real == f"https://sunnyside.{shard}.cliniko.com/patients/1001"


def test_merge_page_of_the_simulator_and_of_an_unknown_account() -> None:
    sim = merge_page_url("http://127.0.0.1:8123/v1", "1001")
    assert sim == "http://127.0.0.1:8123/patients/1001/merge"
    assert is_loopback("http://localhost:1/v1") and not is_loopback("https://api.cliniko.com")
    with pytest.raises(MergeError):
        merge_page_url("https://api.au1.cliniko.com/v1", "1001", None)
    with pytest.raises(MergeError):  # a subdomain without a shard is a guess
        merge_page_url("https://api.au1.cliniko.com/v1", "1001", Account(subdomain="sunnyside"))


def test_instructions_name_exactly_the_record_to_tick() -> None:
    text = merge_instructions("https://x.cliniko.com/patients/1001", SURVIVOR, [DUP])
    assert text.survivor_name == "Jane Smith"
    assert [(d.patient_id, d.name, d.date_of_birth) for d in text.duplicates] == [
        ("1002", "Jane Smyth", "12 May 1980")
    ]
    assert "2. Press Merge." in text.text
    assert "Jane Smyth, born 12 May 1980, no phone, id 1002" in text.text
    no_dob = merge_instructions("u", SURVIVOR, [{**DUP, "date_of_birth": None}])
    assert "born not recorded" in no_dob.text
    phones = [{"number": "03 9000 0000", "phone_type": "Home"},
              {"number": "0412 345 678", "phone_type": "Mobile"}]  # fmt: skip
    on_page = merge_instructions("u/merge", SURVIVOR, [{**DUP, "patient_phone_numbers": phones}])
    assert "Jane Smyth, born 12 May 1980, mobile 0412 345 678, id 1002" in on_page.text
    assert [s.split()[0] for s in on_page.text.splitlines() if s[:1].isdigit()] == [
        "1.",
        "2.",
        "3.",
        "4.",
    ]  # numbered actions; the simulator's link opens the merge page itself
    assert "Press Merge." not in on_page.text


def test_polling_sees_waiting_merged_and_wrong_targets() -> None:
    client = Client({"1002": DUP})
    result = poll_duplicates(client, "1001", ["1002"])  # type: ignore[arg-type]
    assert not result.done and result.waiting == ("1002",)
    client.patients["1002"] = merged("1001")
    result = poll_duplicates(client, "1001", ["1002"])  # type: ignore[arg-type]
    assert result.done and result.merged == ("1002",)
    client.patients["1002"] = merged("1003")
    with pytest.raises(MergedIntoOther) as raised:
        poll_duplicates(client, "1001", ["1002"])  # type: ignore[arg-type]
    assert "1003" in raised.value.user_message and "1003" not in str(raised.value)


def test_error_messages_are_plain_and_free_of_patient_data() -> None:
    error = WriteNotApplied(["email", "city", "medicare_reference_number"])
    # Fields as Cliniko's screens name them; the API's names only in the log's message.
    assert "Email, City, Medicare reference number." in error.user_message
    assert "Nothing has been merged" in error.user_message
    assert "medicare_reference_number" in str(error)
    assert error.fields == ("email", "city", "medicare_reference_number")
