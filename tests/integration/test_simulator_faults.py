"""Rate limiting and injected faults of the simulated Cliniko API, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from manual_clock import ManualClock

from desktop.simulator import FaultConfig, Simulator
from desktop.simulator.fixtures import tiny_clinic

HEADERS = {"Accept": "application/json", "User-Agent": "MergeDesk tests (tests@mergedesk.app)"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A small simulator with a generous limit (tests lower it or add faults as needed)."""
    patients, history = tiny_clinic()
    with Simulator(patients, history=history, rate_limit_per_minute=1000) as simulator:
        yield simulator


def client(simulator: Simulator) -> httpx.Client:
    """An authenticated client."""
    return httpx.Client(
        base_url=simulator.base_url, auth=(simulator.api_key, ""), headers=HEADERS, timeout=10
    )


def test_rate_limit_answers_429_with_reset_headers() -> None:
    patients, _ = tiny_clinic()
    with Simulator(patients, rate_limit_per_minute=5) as sim, client(sim) as c:
        statuses = [c.get("/patients").status_code for _ in range(5)]
        limited = c.get("/patients/1001")
        stats = sim.stats
    assert statuses == [200] * 5
    assert limited.status_code == 429
    reset = int(limited.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 61
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert stats["responses_429"] == 1 and stats["requests_total"] == 6


def test_rate_limit_is_per_key_and_ignores_bad_keys() -> None:
    patients, _ = tiny_clinic()
    with Simulator(patients, rate_limit_per_minute=2) as sim, client(sim) as c:
        for _ in range(3):
            assert httpx.get(f"{sim.base_url}/user", auth=("wrong-au1", "")).status_code == 401
        assert [c.get("/user").status_code for _ in range(3)] == [200, 200, 429]


def test_rate_limit_can_be_raised_while_running(sim: Simulator) -> None:
    sim.rate_limit_per_minute = 1
    with client(sim) as c:
        assert [c.get("/user").status_code for _ in range(2)] == [200, 429]
        sim.rate_limit_per_minute = 200
        assert c.get("/user").status_code == 200


def test_error_rate_gives_5xx(sim: Simulator) -> None:
    sim.faults = FaultConfig(error_rate=1.0, seed=3)
    with client(sim) as c:
        statuses = {c.get("/patients").status_code for _ in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    assert sim.stats["responses_5xx"] == 12


def test_drop_rate_closes_the_connection_without_an_answer(sim: Simulator) -> None:
    sim.faults = FaultConfig(drop_rate=1.0)
    with client(sim) as c, pytest.raises(httpx.TransportError):
        c.get("/patients")
    assert sim.stats["dropped"] == 1
    sim.faults = FaultConfig()
    with client(sim) as c:
        assert c.get("/patients").status_code == 200


def test_faults_are_partial_and_repeatable(sim: Simulator) -> None:
    def run() -> list[int]:
        sim.faults = FaultConfig(error_rate=0.5, seed=11)
        with client(sim) as c:
            return [c.get("/user").status_code for _ in range(20)]

    first = run()
    assert 200 in first and any(s >= 500 for s in first)
    assert run() == first


def test_storm_answers_429_for_a_while() -> None:
    clock = ManualClock(time.time())
    patients, history = tiny_clinic()
    faults = FaultConfig(storm_rate=0.3, storm_seconds=0.6, seed=5)
    with Simulator(patients, history=history, faults=faults, clock=clock) as sim, client(sim) as c:
        statuses = []
        for _ in range(40):
            response = c.get("/user")
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses[-1] == 429, "no storm started"
        reset = int(response.headers["X-RateLimit-Reset"])
        assert reset <= clock() + 2 and "Retry-After" in response.headers
        during = [c.get("/user").status_code for _ in range(5)]
        assert during == [429] * 5
        clock.tick(0.7)  # the storm is over
        sim.faults = FaultConfig(seed=5)
        assert c.get("/user").status_code == 200


def test_latency_delays_answers(sim: Simulator) -> None:
    sim.faults = FaultConfig(latency_ms=150)
    with client(sim) as c:
        start = time.perf_counter()
        assert c.get("/user").status_code == 200
        assert time.perf_counter() - start >= 0.14


def test_silent_write_drop_answers_200_but_changes_nothing(sim: Simulator) -> None:
    sim.faults = FaultConfig(silent_write_drop=True)
    with client(sim) as c:
        before = c.get("/patients/1001").json()
        answer = c.patch("/patients/1001", json={"city": "Sydney"})
        after = c.get("/patients/1001").json()
        assert answer.status_code == 200
        assert answer.json()["city"] == "Sydney"
        assert answer.json()["updated_at"] > before["updated_at"]
        assert after == before
        sim.faults = None
        assert c.patch("/patients/1001", json={"city": "Sydney"}).json()["city"] == "Sydney"
        assert c.get("/patients/1001").json()["city"] == "Sydney"


def test_faults_leave_the_web_ui_alone(sim: Simulator) -> None:
    sim.faults = FaultConfig(error_rate=1.0, drop_rate=0.0)
    page = httpx.get(f"{sim.web_url}/patients/1001/merge")
    assert page.status_code == 200


def test_keep_alive_reuses_one_connection(sim: Simulator) -> None:
    with client(sim) as c:
        first = c.get("/user")
        second = c.get("/settings/public")
    assert first.http_version == "HTTP/1.1" and second.status_code == 200
    assert first.headers.get("Connection", "").lower() != "close"
    assert sim.stats["requests_by_route"] == {"GET /user": 1, "GET /settings/public": 1}


def test_stop_and_start_again_keeps_the_address(sim: Simulator) -> None:
    url = sim.base_url
    with client(sim) as c:
        assert c.get("/user").status_code == 200
        sim.stop()
        assert not sim.running
        with pytest.raises(httpx.TransportError):
            c.get("/user")
        sim.start()
        assert sim.base_url == url
        assert c.get("/user").status_code == 200
