"""Pacing, 429 recovery, retries after 5xx and dropped connections, cancellation: real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from desktop.cliniko import (
    Cancelled,
    ClinikoClient,
    ClinikoUnavailable,
    Offline,
    RateLimited,
    RequestRecord,
)
from desktop.simulator import FaultConfig, Simulator

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(size=40, seed=3, rate_limit_per_minute=100_000) as simulator:
        yield simulator


def client_for(sim: Simulator, records: list[RequestRecord], **kwargs: object) -> ClinikoClient:
    options: dict = {"max_requests_per_minute": 100_000, **FAST, **kwargs}
    return ClinikoClient(sim.api_key, base_url=sim.base_url, on_request=records.append, **options)


def test_pacing_keeps_under_the_limit_without_429s() -> None:
    limit, count, burst = 1200, 40, 4
    records: list[RequestRecord] = []
    with Simulator(size=10, seed=2, rate_limit_per_minute=limit) as sim:
        with client_for(sim, records, max_requests_per_minute=limit, burst=burst) as client:
            started = time.monotonic()
            for _ in range(count):
                client.get_user()
            elapsed = time.monotonic() - started
        assert sim.stats["responses_429"] == 0
    expected = (count - burst) * 60 / limit  # even spacing after the burst
    assert expected * 0.95 <= elapsed <= expected + 1.5
    assert [r.status for r in records] == [200] * count


def test_429_storm_is_waited_out(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(storm_rate=0.15, storm_seconds=0.3, seed=11)
    with client_for(sim, records, max_rate_limit_wait=0.5) as client:
        for _ in range(12):
            assert client.get_user()["id"]
    statuses = [r.status for r in records]
    assert 429 in statuses
    assert statuses.count(200) == 12
    assert sim.stats["responses_429"] >= 1


def test_429_that_never_ends_gives_up_with_rate_limited(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(storm_rate=1.0, storm_seconds=60, seed=1)
    with (
        client_for(sim, records, max_rate_limit_retries=2, max_rate_limit_wait=0.05) as client,
        pytest.raises(RateLimited) as info,
    ):
        client.get_user()
    assert [r.status for r in records] == [429, 429, 429]
    assert "limiting how fast MergeDesk may send requests" in info.value.user_message
    assert "Nothing was lost" in info.value.user_message


def test_429s_give_up_once_their_waits_add_up_to_the_total(sim: Simulator) -> None:
    """A server asking for two minutes after each 429 held one call sixteen minutes, with
    eight retries allowed: the waits of one call now have a total too."""
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(storm_rate=1.0, storm_seconds=60, seed=1)
    with (
        client_for(
            sim,
            records,
            max_rate_limit_retries=8,
            max_rate_limit_wait=0.2,
            max_rate_limit_total=0.5,
        ) as client,
        pytest.raises(RateLimited),
    ):
        client.get_user()
    assert len(records) == 3  # 0.2 + 0.2 + 0.2 s is over 0.5 s: no fourth request


def test_server_errors_are_retried_to_success(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(error_rate=0.3, seed=5)
    with client_for(sim, records) as client:
        pages = list(client.iter_pages("/patients", [("q[]", "archived_at:*")]))
        for _ in range(10):
            client.get_user()
    assert sum(len(p.items) for p in pages) == pages[0].total_entries
    statuses = {r.status for r in records}
    assert statuses & {500, 502, 503}
    assert records[-1].status == 200


def test_server_errors_that_persist_end_as_unavailable(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(error_rate=1.0, seed=5)
    with (
        client_for(sim, records, max_retries=2) as client,
        pytest.raises(ClinikoUnavailable) as info,
    ):
        client.get_user()
    assert len(records) == 3
    assert "Cliniko is having trouble right now" in info.value.user_message
    assert "work is saved" in info.value.user_message


def test_dropped_connections_are_retried_to_success(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(drop_rate=0.3, seed=8)
    with client_for(sim, records) as client:
        for _ in range(15):
            client.get_user()
    dropped = [r for r in records if r.status == 0]
    assert dropped, "the fault seed should drop at least one connection"
    assert all(r.error for r in dropped)
    assert [r.status for r in records].count(200) == 15


def test_connections_that_always_drop_end_offline(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(drop_rate=1.0, seed=8)
    with client_for(sim, records, max_retries=2) as client, pytest.raises(Offline) as info:
        client.get_user()
    assert len(records) == 3
    assert "Can't reach Cliniko" in info.value.user_message


def test_patch_is_retried_and_lands_once(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    with client_for(sim, records) as client:
        patient = client.fetch_page("/patients", {"per_page": 1}).items[0]
        sim.faults = FaultConfig(error_rate=0.5, drop_rate=0.2, seed=21)
        client.update_patient(patient["id"], {"occupation": "Beekeeper"})
        sim.faults = FaultConfig()
        assert client.get_patient(patient["id"])["occupation"] == "Beekeeper"
    patches = [r for r in records if r.method == "PATCH"]
    assert patches[-1].status == 200
    assert len({r.payload_sha256 for r in patches}) == 1  # the same body every time


def test_post_is_not_retried_after_a_server_error(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    with client_for(sim, records) as client:
        patient = client.fetch_page("/patients", {"per_page": 1}).items[0]
        sim.faults = FaultConfig(error_rate=1.0, seed=2)
        with pytest.raises(ClinikoUnavailable):
            client.post(f"/patients/{patient['id']}/archive")
        assert [r.method for r in records].count("POST") == 1
        sim.faults = FaultConfig(error_rate=0.5, seed=4)
        assert client.post(f"/patients/{patient['id']}/archive", idempotent=True) is None
    assert [r.status for r in records if r.method == "POST"][-1] == 204


def test_cancel_before_start_sends_nothing(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    cancel = threading.Event()
    cancel.set()
    with client_for(sim, records, cancel=cancel) as client, pytest.raises(Cancelled) as info:
        client.get_user()
    assert records == []
    assert info.value.user_message == "The operation was cancelled."


def test_cancel_interrupts_a_rate_limit_wait_promptly(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    cancel = threading.Event()
    sim.faults = FaultConfig(storm_rate=1.0, storm_seconds=30, seed=1)
    timer = threading.Timer(0.3, cancel.set)
    with client_for(sim, records, cancel=cancel, max_rate_limit_wait=30) as client:
        timer.start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            client.get_user()
        waited = time.monotonic() - started
    timer.cancel()
    assert waited < 1.5
    assert records and records[0].status == 429


def test_cancel_interrupts_paging(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    cancel = threading.Event()
    with client_for(sim, records, cancel=cancel) as client:
        pages = client.iter_pages("/patients", [("q[]", "archived_at:*"), ("per_page", 5)])
        next(pages)
        cancel.set()
        with pytest.raises(Cancelled):
            next(pages)
    assert len(records) == 1


def test_request_timeouts_are_retried_then_offline(sim: Simulator) -> None:
    """A server that took the request and never answered was 'Can't reach Cliniko. Check
    your internet connection': the connection was fine."""
    records: list[RequestRecord] = []
    sim.faults = FaultConfig(latency_ms=400)
    with (
        client_for(sim, records, timeout=0.1, max_retries=1) as client,
        pytest.raises(Offline) as info,
    ):
        client.get_user()
    assert [r.error for r in records] == ["ReadTimeout", "ReadTimeout"]
    assert info.value.user_message.startswith("MergeDesk reached Cliniko, but no answer came")


def test_cancel_interrupts_a_request_in_flight(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    threads: list[int] = []

    def audit(record: RequestRecord) -> None:
        records.append(record)
        threads.append(threading.get_ident())

    cancel = threading.Event()
    sim.faults = FaultConfig(latency_ms=1500)
    timer = threading.Timer(0.2, cancel.set)
    with ClinikoClient(
        sim.api_key, base_url=sim.base_url, on_request=audit, cancel=cancel, **FAST
    ) as client:
        timer.start()
        started = time.monotonic()
        with pytest.raises(Cancelled) as info:
            client.get_user()
        waited = time.monotonic() - started
    timer.cancel()
    assert waited < 0.8
    assert info.value.path == "/v1/user"
    # The abandoned request is still audited, on the caller's thread, as "outcome unknown".
    assert [(r.status, r.error) for r in records] == [(0, "Cancelled")]
    assert threads == [threading.get_ident()]


def test_audit_hook_runs_on_the_callers_thread_when_cancellable(sim: Simulator) -> None:
    threads: list[int] = []
    cancel = threading.Event()
    with ClinikoClient(
        sim.api_key,
        base_url=sim.base_url,
        on_request=lambda r: threads.append(threading.get_ident()),
        cancel=cancel,
        **FAST,
    ) as client:
        client.get_user()
        client.get_public_settings()
    assert threads == [threading.get_ident()] * 2


def test_server_rate_limit_429s_are_respected_then_reported(sim: Simulator) -> None:
    records: list[RequestRecord] = []
    sim.rate_limit_per_minute = 3  # the simulator's real rolling-window limiter
    with (
        client_for(sim, records, max_rate_limit_retries=2, max_rate_limit_wait=0.1) as client,
        pytest.raises(RateLimited),
    ):
        for _ in range(4):
            client.get_user()
    assert [r.status for r in records] == [200, 200, 200, 429, 429, 429]
    assert sim.stats["responses_429"] == 3
