"""The simulated Cliniko API over real HTTP: auth, patient shape, q[] grammar, sort, paging."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop.simulator import FaultConfig, Simulator, load_patients_json
from desktop.simulator.fixtures import tiny_clinic

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HEADERS = {"Accept": "application/json", "User-Agent": "MergeDesk tests (tests@mergedesk.app)"}
PATIENT_KEYS = {
    "accepted_email_marketing", "accepted_privacy_policy", "accepted_sms_marketing",
    "address_1", "address_2", "address_3", "appointment_notes", "appointments", "archived_at",
    "attendees", "city", "concession_type", "country", "country_code", "created_at",
    "custom_fields", "date_of_birth", "deleted_at", "dva_card_number", "email",
    "emergency_contact", "first_name", "gender", "gender_identity", "id", "invoice_default_to",
    "invoice_email", "invoice_extra_information", "invoices", "label", "last_name",
    "latest_booking", "links", "medical_alerts", "medicare", "medicare_reference_number",
    "merged_at", "merged_with_patient", "notes", "occupation", "old_reference_id",
    "patient_attachments", "patient_phone_numbers", "post_code", "preferred_first_name",
    "pronouns", "receives_cancellation_emails", "receives_confirmation_emails",
    "referral_source", "referring_doctor", "relationships", "reminder_type", "sex", "state",
    "time_zone", "title", "updated_at",
}  # fmt: skip


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """One read-only simulator for the query tests (130 patients, generous rate limit)."""
    patients, history = tiny_clinic(extra=125)
    with Simulator(patients, history=history, rate_limit_per_minute=100_000) as simulator:
        yield simulator


@pytest.fixture
def fresh() -> Iterator[Simulator]:
    """A simulator of its own, for tests that write."""
    patients, history = tiny_clinic()
    with Simulator(patients, history=history, rate_limit_per_minute=100_000) as simulator:
        yield simulator


def client(simulator: Simulator, key: str | None = None) -> httpx.Client:
    """An httpx client authenticated the Cliniko way (key as username, empty password)."""
    return httpx.Client(
        base_url=simulator.base_url,
        auth=(simulator.api_key if key is None else key, ""),
        headers=HEADERS,
        timeout=10,
    )


def ids(response: httpx.Response) -> list[str]:
    """Patient ids on a list page (asserting it succeeded)."""
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["patients"]]


def test_missing_or_wrong_key_is_401_json(sim: Simulator) -> None:
    bare = httpx.get(f"{sim.base_url}/patients", headers=HEADERS)
    assert bare.status_code == 401
    assert "message" in bare.json()
    with client(sim, key="not-a-key-au1") as c:
        assert c.get("/user").status_code == 401
    shardless = sim.api_key.rsplit("-", 1)[0]
    with client(sim, key=shardless) as c:
        assert c.get("/user").status_code == 200
    token = base64.b64encode(f"{sim.api_key}:".encode()).decode()
    raw = httpx.get(f"{sim.base_url}/user", headers={"Authorization": f"Basic {token}"})
    assert raw.status_code == 200  # missing Accept/User-Agent are tolerated


def test_demo_key_looks_like_a_cliniko_key(sim: Simulator) -> None:
    key, shard = sim.api_key.split("-")
    assert key and re.fullmatch(r"\w{2}\d{1,2}", shard)
    assert sim.base_url == f"{sim.web_url}/v1" and sim.web_url.startswith("http://127.0.0.1:")
    assert "running" in repr(sim)


def test_user_and_public_settings(sim: Simulator) -> None:
    with client(sim) as c:
        user = c.get("/user").json()
        settings = c.get("/settings/public").json()
    assert isinstance(user["id"], str) and user["role"] == "administrator"
    assert TIMESTAMP.match(user["created_at"]) and user["links"]["self"].startswith("http")
    account = settings["account"]
    assert account["country"] == "Australia" and account["country_code"] == "AU"
    assert account["currency_symbol"] == "$" and account["name"] and account["subdomain"]


def test_an_account_of_another_country_reads_as_that_countrys_clinic(tmp_path: Path) -> None:
    """`mergedesk simulator --country GB`: the account's country, currency and time zone as
    MergeDesk reads them; an unknown country is said in one line."""
    import subprocess
    import sys

    from desktop.account import fetch_account
    from desktop.cliniko.client import ClinikoClient

    patients, _ = tiny_clinic()
    gb = Simulator(patients, country="GB")
    with gb, ClinikoClient(gb.api_key, base_url=gb.base_url) as cliniko:
        account = fetch_account(cliniko, cliniko.get_user())
    assert (account.country_code, account.currency_symbol) == ("GB", "£")
    assert account.time_zone == "Europe/London"
    done = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path), "simulator",
         "--country", "xx", "--port", "0"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "Error: unknown country 'XX': one of AU, NZ, GB, IE, CA, US\n"


def test_patient_has_every_field_with_cliniko_types(sim: Simulator) -> None:
    with client(sim) as c:
        patient = c.get("/patients/1001").json()
    assert set(patient) == PATIENT_KEYS
    assert patient["id"] == "1001" and isinstance(patient["id"], str)
    for name in ("created_at", "updated_at"):
        assert TIMESTAMP.match(patient[name])
    assert patient["archived_at"] is None and patient["merged_at"] is None
    assert patient["merged_with_patient"] is None
    assert patient["links"]["self"] == f"{sim.base_url}/patients/1001"
    assert patient["label"] == "Jane Smith"
    assert patient["patient_phone_numbers"][0] == {
        "number": "0412 345 678",
        "phone_type": "Mobile",
        "normalized_number": "61412345678",
    }
    assert patient["appointments"]["links"]["self"].endswith("/patients/1001/appointments")


def test_archived_patients_hidden_unless_asked_for(sim: Simulator) -> None:
    with client(sim) as c:
        default = c.get("/patients", params={"per_page": 100, "q[]": "last_name:=Ved"})
        everything = c.get("/patients", params={"q[]": ["archived_at:*", "last_name:=Ved"]})
        only_archived = c.get("/patients", params={"q[]": "archived_at:?"})
        assert c.get("/patients/1004").status_code == 404
        shown = c.get("/patients/1004", params={"q[]": "archived_at:*"})
    assert ids(default) == []
    assert ids(everything) == ["1004"] and ids(only_archived) == ["1004"]
    assert shown.status_code == 200 and TIMESTAMP.match(shown.json()["archived_at"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["last_name:=smith"], ["1001"]),
        (["last_name:!=Patient", "archived_at:*"], ["1004", "1001", "1003", "1002", "1005"]),
        (["last_name:~SM"], ["1001", "1002"]),
        (["last_name:~~%MIT%"], ["1001"]),
        (["last_name:~~sm%th"], ["1001", "1002"]),
        (["last_name:~~o'%"], ["1005"]),
        (["email:=jane.smith@example.com"], ["1001", "1002"]),
        (["email:?", "last_name:!=Patient"], ["1001", "1003", "1002"]),
        (["email:!?", "last_name:!=Patient"], ["1005"]),
        (["preferred_first_name:=Molly"], ["1005"]),
        (["old_reference_id:=LEGACY-77"], ["1003"]),
        (["date_of_birth:=1980-05-12"], ["1001", "1002"]),
        (["date_of_birth:=****-05-**", "last_name:!=Patient", "archived_at:*"],
         ["1004", "1001", "1002"]),
        (["date_of_birth:<1979-01-01", "last_name:!=Patient"], ["1003"]),
        (["date_of_birth:!?"], ["1005"]),
        (["id:=1001,1003,1004"], ["1001", "1003"]),
        (["id:>=1003", "id:<2000"], ["1003", "1005"]),
        (["created_at:>2020-01-01T09:00:00Z", "created_at:<2021-12-31T00:00:00Z"],
         ["1003", "1002"]),
        (["created_at:>=2020-01-01T09:00:00Z", "created_at:<=2020-01-01T09:00:00Z"], ["1001"]),
        (["updated_at:>2023-06-01T00:00:00Z", "last_name:!=Patient"], ["1001"]),
        (["accepted_privacy_policy:=true"], ["1003"]),
    ],
)  # fmt: skip
def test_q_filters(sim: Simulator, filters: list[str], expected: list[str]) -> None:
    with client(sim) as c:
        assert ids(c.get("/patients", params={"q[]": filters, "per_page": 100})) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("patient_phone_numbers:=0412345678", "patient_phone_numbers is not filterable"),
        ("merged_at:?", "merged_at is not filterable"),
        ("id:=abc", "must be a number"),
        ("created_at:=2020-01-01T00:00:00Z", "operator"),
        ("created_at:>yesterday", "date-time"),
        ("date_of_birth:>1980-13-45", "date"),
        ("last_name", "Invalid filter"),
    ],
)
def test_bad_filters_are_400_with_a_message(sim: Simulator, query: str, message: str) -> None:
    with client(sim) as c:
        response = c.get("/patients", params={"q[]": query})
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_sort_columns_and_directions(sim: Simulator) -> None:
    named = {"q[]": "last_name:!=Patient", "per_page": 100}
    with client(sim) as c:
        default = ids(c.get("/patients", params=named))
        newest = ids(c.get("/patients", params={**named, "sort": "created_at:desc"}))
        by_name = ids(c.get("/patients", params={**named, "sort": "first_name,last_name:desc"}))
        bad = c.get("/patients", params={"sort": "shoe_size"})
    assert default == ["1001", "1003", "1002", "1005"]
    assert newest == list(reversed(default))
    assert by_name == ["1002", "1001", "1003", "1005"]
    assert bad.status_code == 400


def test_paging_links_keep_query_and_stop_at_the_last_page(sim: Simulator) -> None:
    params = {"q[]": "last_name:=Patient", "sort": "created_at:desc", "per_page": 40}
    seen: list[str] = []
    pages = 0
    with client(sim) as c:
        response = c.get("/patients", params=params)
        first = response.json()
        assert first["total_entries"] == 125 and "previous" not in first["links"]
        while True:
            body = response.json()
            seen += [p["id"] for p in body["patients"]]
            pages += 1
            links = body["links"]
            if pages > 1:
                assert "previous" in links
            if "next" not in links:
                break
            nxt = httpx.URL(links["next"])
            assert nxt.params["sort"] == "created_at:desc" and nxt.params["per_page"] == "40"
            assert nxt.params.get_list("q[]") == ["last_name:=Patient"]
            response = c.get(links["next"])
    assert pages == 4 and len(body["patients"]) == 5
    assert len(seen) == len(set(seen)) == 125
    assert seen[0] == "2125"  # newest filler first


def test_per_page_defaults_to_50_and_is_capped_at_100(sim: Simulator) -> None:
    with client(sim) as c:
        default = c.get("/patients").json()
        huge = c.get("/patients", params={"per_page": 500}).json()
        beyond = c.get("/patients", params={"page": 99}).json()
    assert len(default["patients"]) == 50 and default["total_entries"] == 129
    assert len(huge["patients"]) == 100
    assert beyond["patients"] == [] and "next" not in beyond["links"]


def test_patch_updates_writable_fields_and_bumps_updated_at(fresh: Simulator) -> None:
    with client(fresh) as c:
        before = c.get("/patients/1002").json()
        response = c.patch(
            "/patients/1002",
            json={
                "last_name": "Smith",
                "id": "999",
                "created_at": "2000-01-01T00:00:00Z",
                "label": "ignored",
                "patient_phone_numbers": [{"number": "03 9000 0000", "phone_type": "Work"}],
                "accepted_privacy_policy": True,
            },
        )
        after = c.get("/patients/1002").json()
    assert response.status_code == 200
    assert response.json() == after
    assert after["id"] == "1002" and after["created_at"] == before["created_at"]
    assert after["last_name"] == "Smith" and after["label"] == "Jane Smith"
    assert after["patient_phone_numbers"] == [
        {"number": "03 9000 0000", "phone_type": "Work", "normalized_number": "61390000000"}
    ]
    assert after["updated_at"] > before["updated_at"]
    assert fresh.stats["requests_by_route"]["PATCH /patients/{id}"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"last_name": "   "}, "last_name"),
        ({"email": "not-an-email"}, "email"),
        ({"date_of_birth": "1980-02-30"}, "date_of_birth"),
        ({"reminder_type": "Pigeon"}, "reminder_type"),
        ({"patient_phone_numbers": [{"number": "1", "phone_type": "Pager"}]},
         "patient_phone_numbers"),
    ],
)  # fmt: skip
def test_patch_validation_422(fresh: Simulator, body: dict[str, object], field: str) -> None:
    with client(fresh) as c:
        before = c.get("/patients/1001").json()
        response = c.patch("/patients/1001", json={**body, "city": "Sydney"})
        after = c.get("/patients/1001").json()
    assert response.status_code == 422
    assert response.json()["message"] == "Validation Failed"
    assert isinstance(response.json()["errors"][field], str)
    assert after == before


def test_patch_unknown_patient_and_bad_body(fresh: Simulator) -> None:
    with client(fresh) as c:
        assert c.patch("/patients/424242", json={"city": "X"}).status_code == 404
        assert c.patch("/patients/1001", content=b"{nope").status_code == 400
        assert c.patch("/patients/1001", json=[1, 2]).status_code == 422


def test_archive_and_unarchive(fresh: Simulator) -> None:
    with client(fresh) as c:
        archived = c.post("/patients/1003/archive")
        assert archived.status_code == 204 and archived.content == b""
        assert c.get("/patients/1003").status_code == 404
        assert "1003" not in ids(c.get("/patients"))
        restored = c.post("/patients/1003/unarchive")
        assert restored.status_code == 200
        assert restored.json()["archived_at"] is None and restored.json()["id"] == "1003"
        assert c.get("/patients/1003").status_code == 200


def test_create_patient(fresh: Simulator) -> None:
    with client(fresh) as c:
        bad = c.post("/patients", json={"first_name": "No"})
        made = c.post("/patients", json={"first_name": "New", "last_name": "Person"})
    assert bad.status_code == 422 and "last_name" in bad.json()["errors"]
    assert made.status_code == 201 and made.headers["Location"] == made.json()["links"]["self"]


def test_touch_add_and_snapshot(fresh: Simulator) -> None:
    before = fresh.patient("1005")
    touched = fresh.touch_patient("1005", email="mary@example.com", first_name="Maria")
    assert touched["email"] == "mary@example.com" and touched["label"] == "Maria O'Brien"
    assert touched["updated_at"] > before["updated_at"]
    added = fresh.add_patient({"first_name": "Ada", "last_name": "Lovelace"})
    assert added["id"].isdigit() and TIMESTAMP.match(added["created_at"])
    snapshot = fresh.patients_snapshot()
    assert {p["id"] for p in snapshot} >= {"1004", "1005", added["id"]}  # archived included
    with client(fresh) as c:
        listed = c.get("/patients/1005").json()
        since = c.get("/patients", params={"q[]": f"updated_at:>={before['updated_at']}"})
    assert listed == next(p for p in snapshot if p["id"] == "1005")
    assert "1005" in ids(since) and added["id"] in ids(since)


def test_load_patients_json_accepts_both_shapes(tmp_path: Path) -> None:
    patients, _ = tiny_clinic()
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps(patients))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"patients": patients[:2]}))
    assert len(load_patients_json(as_list)) == 5
    assert [p["id"] for p in load_patients_json(wrapped)] == ["1001", "1002"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"people": []}))
    with pytest.raises(ValueError):
        load_patients_json(broken)


def test_fault_config_parse() -> None:
    parsed = FaultConfig.parse("latency=50,5xx=0.05,drop=0.02,storm=0.01,silent-drop,seed=7")
    assert parsed == FaultConfig(
        latency_ms=50,
        error_rate=0.05,
        drop_rate=0.02,
        storm_rate=0.01,
        silent_write_drop=True,
        seed=7,
    )
    assert FaultConfig.parse("") == FaultConfig()
    with pytest.raises(ValueError):
        FaultConfig.parse("explode=1")
    with pytest.raises(ValueError):
        FaultConfig.parse("5xx=2")


def test_default_clinic_comes_from_the_sample_generator() -> None:
    with Simulator(size=80, seed=3) as generated, client(generated) as c:
        snapshot = generated.patients_snapshot()
        listed = c.get("/patients", params={"q[]": "archived_at:*", "per_page": 100}).json()
    assert len(snapshot) == 80 and listed["total_entries"] == 80
    assert [p["id"] for p in listed["patients"]] == [p["id"] for p in snapshot]
    for patient in snapshot:
        assert set(patient) == PATIENT_KEYS and patient["id"].isdigit()
        assert patient["links"]["self"] == f"{generated.base_url}/patients/{patient['id']}"
        link = patient["merged_with_patient"]
        assert link is None or link["links"]["self"].startswith(f"{generated.base_url}/patients/")


def test_concurrent_reads_and_writes(fresh: Simulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def worker(n: int) -> list[int]:
        with client(fresh) as c:
            statuses = []
            for i in range(15):
                statuses.append(c.get("/patients", params={"sort": "updated_at:desc"}).status_code)
                body = {"notes": f"worker {n} edit {i}"}
                statuses.append(c.patch(f"/patients/100{1 + n % 3}", json=body).status_code)
            return statuses

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = [s for batch in pool.map(worker, range(6)) for s in batch]
    assert results == [200] * 180
    assert fresh.stats["requests_total"] == 180


def test_a_seed_file_patient_not_in_clinikos_shape_is_named_in_one_line(tmp_path: Path) -> None:
    """`mergedesk simulator --seed-file` with a patient whose phones are a string, or whose
    id is no number: one line naming the patient, no traceback."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    patients, _ = tiny_clinic()
    for position, odd in ((2, {"patient_phone_numbers": "0412 345 678"}), (4, {"id": "abc"})):
        seed = tmp_path / "seed.json"
        seed.write_text(json.dumps([*patients[:position], {**patients[position], **odd}]))
        done = subprocess.run(
            [sys.executable, "-m", "desktop", "--data-dir", str(tmp_path), "simulator",
             "--seed-file", str(seed), "--port", "0"],
            cwd=root, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2
        assert done.stderr.startswith(f"Error: patient #{position} (id ")
        assert "Traceback" not in done.stderr
