"""The Cliniko client over real HTTP against the local simulator: reads, writes, paging, errors."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from desktop.cliniko import (
    BadRequest,
    ClinikoClient,
    InsecureURL,
    KeyRejected,
    NotFound,
    Offline,
    RequestRecord,
    UnexpectedResponse,
    ValidationFailed,
)
from desktop.simulator import Simulator

FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "max_requests_per_minute": 6000}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(size=250, seed=7, rate_limit_per_minute=100_000) as simulator:
        yield simulator


@pytest.fixture
def records() -> list[RequestRecord]:
    return []


@pytest.fixture
def client(sim: Simulator, records: list[RequestRecord]) -> Iterator[ClinikoClient]:
    with ClinikoClient(sim.api_key, base_url=sim.base_url, on_request=records.append, **FAST) as c:
        yield c


def first_patient(client: ClinikoClient, where: Callable[[dict[str, Any]], bool]) -> dict:
    for patient in client.iter_items("/patients", [("q[]", "archived_at:*")]):
        if where(patient):
            return patient
    raise AssertionError("no such patient in the sample clinic")


def test_get_user_checks_the_key(
    sim: Simulator, client: ClinikoClient, records: list[RequestRecord]
) -> None:
    user = client.get_user()
    assert sim.stats["requests_without_user_agent"] == 0
    assert isinstance(user["id"], str)
    assert records[-1].method == "GET"
    assert records[-1].path == "/v1/user"
    assert records[-1].status == 200


def test_public_settings_name_the_clinic(client: ClinikoClient) -> None:
    settings = client.get_public_settings()
    assert settings["account"]["name"]


def test_paging_follows_next_links_to_the_end(
    client: ClinikoClient, records: list[RequestRecord]
) -> None:
    pages = list(client.iter_pages("/patients", [("q[]", "archived_at:*")], "patients"))
    total = pages[0].total_entries
    assert total >= 250
    assert len(pages) == -(-total // 100)
    assert [len(p.items) for p in pages[:-1]] == [100] * (len(pages) - 1)
    assert pages[-1].next_url is None and pages[-1].is_last
    ids = [p["id"] for page in pages for p in page.items]
    assert len(ids) == len(set(ids)) == total
    assert all(isinstance(i, str) for i in ids)  # ids stay strings
    assert "per_page=100" in records[-len(pages)].path
    assert all("per_page=100" in r.path for r in records[-len(pages) :])
    assert [r.status for r in records[-len(pages) :]] == [200] * len(pages)


def test_default_listing_hides_archived_patients(client: ClinikoClient) -> None:
    everyone = client.fetch_page("/patients", [("q[]", "archived_at:*"), ("per_page", 1)])
    active = client.fetch_page("/patients", {"per_page": 1}, key="patients")
    assert active.total_entries < everyone.total_entries


def test_repeated_filters_survive(client: ClinikoClient) -> None:
    patient = first_patient(client, lambda p: bool(p["last_name"] and p["date_of_birth"]))
    params = [
        ("q[]", f"last_name:={patient['last_name']}"),
        ("q[]", f"date_of_birth:={patient['date_of_birth']}"),
        ("q[]", "archived_at:*"),
    ]
    found = [p["id"] for p in client.iter_items("/patients", params)]
    assert patient["id"] in found
    for other in client.iter_items("/patients", params):
        assert other["last_name"].casefold() == patient["last_name"].casefold()
        assert other["date_of_birth"] == patient["date_of_birth"]


def test_archived_patient_by_id(client: ClinikoClient) -> None:
    archived = first_patient(client, lambda p: p["archived_at"] is not None)
    assert client.get_patient(archived["id"])["id"] == archived["id"]


def test_update_patient_round_trip(client: ClinikoClient, records: list[RequestRecord]) -> None:
    patient = first_patient(client, lambda p: p["archived_at"] is None)
    updated = client.update_patient(patient["id"], {"occupation": "Cartographer"})
    assert updated["occupation"] == "Cartographer"
    assert client.get_patient(patient["id"])["occupation"] == "Cartographer"
    patch = next(r for r in records if r.method == "PATCH")
    body = json.dumps({"occupation": "Cartographer"}, separators=(",", ":")).encode()
    assert patch.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert patch.path == f"/v1/patients/{patient['id']}"


def test_history_counts(sim: Simulator, client: ClinikoClient) -> None:
    patient = first_patient(client, lambda p: p["archived_at"] is None)
    counts = client.history_counts(patient["id"])
    assert set(counts) == {"appointments", "treatment_notes", "invoices", "attachments"}
    assert all(isinstance(n, int) and n >= 0 for n in counts.values())
    listed = list(
        client.iter_items(
            "/individual_appointments",
            [
                ("q[]", f"patient_id:={patient['id']}"),
                ("q[]", "archived_at:*"),
                ("q[]", "cancelled_at:*"),
            ],
        )
    )
    assert counts["appointments"] == len(listed)
    assert counts == sim.history_counts(patient["id"])


def test_records_never_carry_filter_values(
    client: ClinikoClient, records: list[RequestRecord]
) -> None:
    client.fetch_page("/patients", [("q[]", "last_name:~Smith"), ("q[]", "archived_at:*")])
    record = records[-1]
    assert "Smith" not in record.path
    assert record.path == "/v1/patients?q[]=last_name:~…&q[]=archived_at:*"
    assert record.payload_sha256 == hashlib.sha256(b"").hexdigest()
    assert len(record.response_sha256) == 64
    assert record.duration_ms >= 0
    assert record.timestamp.endswith("Z")


# ----------------------------------------------------------------------------- errors


def test_wrong_key_is_rejected(sim: Simulator) -> None:
    with (
        ClinikoClient("wrongkey123-au1", base_url=sim.base_url, **FAST) as client,
        pytest.raises(KeyRejected) as info,
    ):
        client.get_user()
    message = info.value.user_message
    assert "did not accept this API key" in message
    assert "revoked" in message
    assert "My info > Manage API keys" in message
    assert "wrongkey123" not in message + str(info.value)
    assert info.value.status == 401


def test_unknown_patient_is_not_found(client: ClinikoClient) -> None:
    with pytest.raises(NotFound) as info:
        client.get_patient("999999999999999999")
    assert "could not find this record" in info.value.user_message
    assert info.value.status == 404


def test_blank_last_name_is_a_validation_failure(client: ClinikoClient) -> None:
    patient = first_patient(client, lambda p: p["archived_at"] is None)
    with pytest.raises(ValidationFailed) as info:
        client.update_patient(patient["id"], {"last_name": ""})
    error = info.value
    assert "last_name" in error.field_errors
    assert error.user_message.startswith("Cliniko did not accept the changes")
    assert f"last_name: {error.field_errors['last_name']}" in error.user_message
    assert "blank" in error.field_errors["last_name"]
    assert client.get_patient(patient["id"])["last_name"] == patient["last_name"]


def test_unfilterable_field_is_a_bad_request(client: ClinikoClient) -> None:
    with pytest.raises(BadRequest) as info:
        client.fetch_page("/patients", [("q[]", "phone:=0412345678")])
    assert info.value.status == 400
    assert info.value.message
    assert info.value.message in info.value.user_message
    assert "Cliniko rejected the request" in info.value.user_message
    assert "0412345678" not in str(info.value)


def test_html_where_json_was_expected(sim: Simulator, client: ClinikoClient) -> None:
    patient = first_patient(client, lambda p: True)
    root = sim.base_url.rsplit("/v1", 1)[0]
    with (
        ClinikoClient(sim.api_key, base_url=root, **FAST) as web,
        pytest.raises(UnexpectedResponse) as info,
    ):
        web.get(f"/patients/{patient['id']}")
    assert "MergeDesk could not read" in info.value.user_message


def test_next_link_to_another_host_is_refused(
    client: ClinikoClient, records: list[RequestRecord]
) -> None:
    with pytest.raises(InsecureURL) as info:
        client.fetch_page("https://evil.example/v1/patients?page=2", key="patients")
    assert records == []  # nothing was sent, so the key never left
    assert "another server" in info.value.user_message
    assert "HTTPS" not in info.value.user_message


def test_ids_must_be_strings(client: ClinikoClient) -> None:
    with pytest.raises(ValueError):
        client.get_patient(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.get_patient("../user")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_host_is_offline() -> None:
    records: list[RequestRecord] = []
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with (
        ClinikoClient(
            "abc123-au1", base_url=url, max_retries=2, on_request=records.append, **FAST
        ) as client,
        pytest.raises(Offline) as info,
    ):
        client.get_user()
    assert info.value.user_message == (
        "Can't reach Cliniko. Check your internet connection; your work is saved and will "
        "continue offline."
    )
    assert [r.status for r in records] == [0, 0, 0]
    assert records[0].error == "ConnectError"


def test_logs_never_carry_the_key_or_filter_values(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="desktop.cliniko")
    with ClinikoClient(sim.api_key, base_url=sim.base_url, **FAST) as client:
        client.fetch_page("/patients", [("q[]", "last_name:~Quixotic"), ("q[]", "archived_at:*")])
        with pytest.raises(BadRequest):
            client.fetch_page("/patients", [("q[]", "phone:=0499111222")])
    assert caplog.records, "debug logging should describe the calls"
    text = caplog.text
    for secret in (sim.api_key, sim.api_key.split("-")[0], "Quixotic", "0499111222"):
        assert secret not in text
