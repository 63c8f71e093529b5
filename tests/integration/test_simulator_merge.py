"""History lists and Cliniko's web-UI merge, as the simulator serves them over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from desktop.simulator import Simulator
from desktop.simulator.fixtures import tiny_clinic

HEADERS = {"Accept": "application/json", "User-Agent": "MergeDesk tests (tests@mergedesk.app)"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KINDS = ("individual_appointments", "treatment_notes", "invoices", "patient_attachments")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """The tiny clinic: 1001 has 3/2/1/1 history items, 1002 has 2/1/1/1."""
    patients, history = tiny_clinic()
    with Simulator(patients, history=history, rate_limit_per_minute=10_000) as simulator:
        yield simulator


@pytest.fixture
def api(sim: Simulator) -> Iterator[httpx.Client]:
    """An authenticated API client."""
    with httpx.Client(
        base_url=sim.base_url, auth=(sim.api_key, ""), headers=HEADERS, timeout=10
    ) as client:
        yield client


def counts(api: httpx.Client, patient_id: str) -> dict[str, int]:
    """total_entries of each history list for one patient."""
    result = {}
    for kind in KINDS:
        response = api.get(f"/{kind}", params={"q[]": f"patient_id:={patient_id}"})
        assert response.status_code == 200, response.text
        result[kind] = response.json()["total_entries"]
    return result


def test_history_lists_are_filtered_by_patient(sim: Simulator, api: httpx.Client) -> None:
    assert counts(api, "1001") == {
        "individual_appointments": 3,
        "treatment_notes": 2,
        "invoices": 1,
        "patient_attachments": 1,
    }
    assert counts(api, "1005") == dict.fromkeys(KINDS, 0)
    body = api.get("/individual_appointments", params={"q[]": "patient_id:=1001"}).json()
    for item in body["individual_appointments"]:
        assert isinstance(item["id"], str) and TIMESTAMP.match(item["starts_at"])
        assert item["patient"]["links"]["self"] == f"{sim.base_url}/patients/1001"
    both = api.get("/treatment_notes", params={"q[]": "patient_id:=1001,1002", "per_page": 2})
    assert both.json()["total_entries"] == 3 and "next" in both.json()["links"]
    nested = api.get("/patients/1001/treatment_notes").json()
    assert nested["total_entries"] == 2
    every = api.get("/invoices").json()
    assert every["total_entries"] == 2
    assert api.get("/invoices", params={"q[]": "colour:=red"}).status_code == 400


def test_history_is_deterministic(sim: Simulator, api: httpx.Client) -> None:
    patients, history = tiny_clinic()
    first = api.get("/invoices", params={"q[]": "patient_id:=1002"}).json()["invoices"]
    with (
        Simulator(patients, history=history) as other,
        httpx.Client(base_url=other.base_url, auth=(other.api_key, "")) as client,
    ):
        again = client.get("/invoices", params={"q[]": "patient_id:=1002"}).json()["invoices"]
    assert [i["id"] for i in first] == [i["id"] for i in again]
    assert first[0]["total_amount"] == again[0]["total_amount"]


def assert_merged(sim: Simulator, api: httpx.Client, before: dict[str, dict]) -> None:
    """1002 merged into 1001: archived, merged fields set, history moved, survivor untouched."""
    assert api.get("/patients/1002").status_code == 404
    dup = api.get("/patients/1002", params={"q[]": "archived_at:*"}).json()
    assert TIMESTAMP.match(dup["archived_at"]) and TIMESTAMP.match(dup["merged_at"])
    assert dup["merged_with_patient"] == {"links": {"self": f"{sim.base_url}/patients/1001"}}
    assert dup["updated_at"] > before["1002"]["updated_at"]
    assert dup["first_name"] == before["1002"]["first_name"]
    assert api.get("/patients/1001").json() == before["1001"]
    assert counts(api, "1001") == {
        "individual_appointments": 5,
        "treatment_notes": 3,
        "invoices": 2,
        "patient_attachments": 1,
    }
    assert counts(api, "1002") == {
        "individual_appointments": 0,
        "treatment_notes": 0,
        "invoices": 0,
        "patient_attachments": 1,
    }
    moved = api.get("/invoices", params={"q[]": "patient_id:=1001"}).json()["invoices"]
    assert {i["patient"]["links"]["self"] for i in moved} == {f"{sim.base_url}/patients/1001"}


def snapshot(api: httpx.Client) -> dict[str, dict]:
    """1001 and 1002 as the API shows them."""
    return {pid: api.get(f"/patients/{pid}").json() for pid in ("1001", "1002")}


def test_merge_through_the_json_test_endpoint(sim: Simulator, api: httpx.Client) -> None:
    before = snapshot(api)
    response = httpx.post(
        f"{sim.web_url}/_simulator/merge", json={"survivor_id": "1001", "duplicate_ids": ["1002"]}
    )
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["merged"]] == ["1002"]
    assert_merged(sim, api, before)
    since = api.get(
        "/patients",
        params={"q[]": ["archived_at:*", f"updated_at:>{before['1002']['updated_at']}"]},
    )
    assert "1002" in [p["id"] for p in since.json()["patients"]]


def test_merge_through_the_web_form(sim: Simulator, api: httpx.Client) -> None:
    before = snapshot(api)
    page = httpx.get(f"{sim.web_url}/patients/1001/merge")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Merge patients into Jane Smith" in page.text
    assert 'name="duplicate_ids" value="1002"' in page.text
    assert "Merge patients</button>" in page.text
    assert 'value="1004"' not in page.text  # archived patients are not offered
    profile = httpx.get(f"{sim.web_url}/patients/1001")
    assert profile.status_code == 200 and "/patients/1001/merge" in profile.text
    searched = httpx.get(f"{sim.web_url}/patients/1001/merge", params={"search": "mary"})
    assert 'value="1005"' in searched.text
    done = httpx.post(f"{sim.web_url}/patients/1001/merge", data={"duplicate_ids": ["1002"]})
    assert done.status_code == 200 and "Patients merged" in done.text
    assert_merged(sim, api, before)
    assert sim.stats["requests_by_route"]["POST /patients/{id}/merge (web)"] == 1


def test_merge_from_python_and_several_duplicates(sim: Simulator, api: httpx.Client) -> None:
    merged = sim.merge("1003", ["1002", "1005"])
    assert {m["id"] for m in merged} == {"1002", "1005"}
    assert all(m["merged_with_patient"]["links"]["self"].endswith("/1003") for m in merged)
    assert counts(api, "1003")["individual_appointments"] == 1 + 2
    sim.merge("1001", ["1003"])  # history follows the chain
    assert counts(api, "1001")["individual_appointments"] == 3 + 3
    assert sim.history_counts("1003")["appointments"] == 0


@pytest.mark.parametrize(
    ("survivor", "duplicates"),
    [("1001", ["1001"]), ("1001", ["9999"]), ("9999", ["1002"]), ("1001", [])],
)
def test_impossible_merges_are_refused(
    sim: Simulator, survivor: str, duplicates: list[str]
) -> None:
    response = httpx.post(
        f"{sim.web_url}/_simulator/merge",
        json={"survivor_id": survivor, "duplicate_ids": duplicates},
    )
    assert response.status_code == 422 and response.json()["message"]
    assert all(p["merged_at"] is None for p in sim.patients_snapshot())


def test_a_patient_cannot_be_merged_twice(sim: Simulator) -> None:
    sim.merge("1001", ["1002"])
    again = httpx.post(f"{sim.web_url}/patients/1003/merge", data={"duplicate_ids": "1002"})
    assert again.status_code == 422 and "already been merged" in again.text
