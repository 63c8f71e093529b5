"""The names of what patients' link fields point at, fetched from the simulator over HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from desktop.cliniko import ClinikoClient
from desktop.merge.link_names import fetch_link_names
from desktop.merge.plan import link_addresses
from desktop.simulator import Simulator
from desktop.simulator.linked import FIRST_DOCTOR_ID

FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "max_requests_per_minute": 6000}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(size=250, seed=7, rate_limit_per_minute=100_000) as simulator:
        yield simulator


def linked(concession: str | None, doctor: int | None, base: str) -> dict:
    """A patient whose links point as Cliniko's do (full addresses)."""
    record: dict = {"id": "1", "first_name": "Ann", "last_name": "Lee"}
    if concession:
        record["concession_type"] = {"links": {"self": f"{base}/concession_types/{concession}"}}
    if doctor is not None:
        record["referring_doctor"] = {"links": {"self": f"{base}/contacts/{doctor}"}}
    return record


def test_concession_types_and_referring_doctors_are_named(sim: Simulator) -> None:
    records = [
        linked("1100000000000000001", FIRST_DOCTOR_ID, sim.base_url),
        linked("1100000000000000003", FIRST_DOCTOR_ID + 1, sim.base_url),
        linked("1100000000000000009", None, sim.base_url),  # deleted in Cliniko since
    ]
    links = link_addresses(records)
    assert links[("concession_type_id", "1100000000000000003")].endswith(
        "/concession_types/1100000000000000003"
    )
    with ClinikoClient(sim.api_key, base_url=sim.base_url, **FAST) as client:
        names = fetch_link_names(client, links)
    assert names == {
        ("concession_type_id", "1100000000000000001"): "Pensioner",
        ("concession_type_id", "1100000000000000003"): "Student",
        ("referring_doctor_id", str(FIRST_DOCTOR_ID)): "Dr Helen Nguyen",
        ("referring_doctor_id", str(FIRST_DOCTOR_ID + 1)): "Dr Mark Brennan",
    }  # the one Cliniko no longer has stays an id, and the rest are still named


def test_offline_the_links_stay_ids() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    links = link_addresses([linked("1100000000000000001", FIRST_DOCTOR_ID, base)])
    with ClinikoClient("MS0xLWRlbW8tc2ltdWxhdG9y-au1", base_url=base, **FAST) as client:
        client.max_retries = 0
        assert fetch_link_names(client, links) == {}


def test_a_link_to_another_server_is_not_followed(sim: Simulator) -> None:
    """A hostile or damaged record whose link points elsewhere: no request leaves for it (the
    API key would go with it), and the id stays as it is."""
    records = [linked("1100000000000000001", None, "https://elsewhere.example/v1")]
    seen: list = []
    with ClinikoClient(
        sim.api_key, base_url=sim.base_url, on_request=seen.append, **FAST
    ) as client:
        assert fetch_link_names(client, link_addresses(records)) == {}
    assert seen == []
