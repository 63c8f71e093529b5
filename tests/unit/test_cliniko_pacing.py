"""The pacer's schedule, checked exactly against a fake clock (it is pure logic)."""

from __future__ import annotations

import threading
from bisect import bisect_right
from itertools import pairwise

import pytest

from desktop.cliniko.pacing import Pacer
from desktop.simulator.ratelimit import RateLimiter


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def run(pacer: Pacer, clock: FakeClock, count: int) -> list[float]:
    """Send ``count`` requests as fast as the pacer allows; return the send times."""
    sent = []
    for _ in range(count):
        clock.now += pacer.reserve()
        sent.append(clock.now)
    return sent


def max_in_window(times: list[float], window: float) -> int:
    """The most sends in any half-open window (t - window, t]."""
    worst = 0
    for i, t in enumerate(times):
        first = bisect_right(times, t - window)
        worst = max(worst, i + 1 - first)
    return worst


def test_burst_then_even_spacing() -> None:
    clock = FakeClock()
    pacer = Pacer(120, burst=3, margin=0, clock=clock)
    times = run(pacer, clock, 8)
    start = 1000.0
    assert times[:3] == [start, start, start]
    gaps = [round(b - a, 9) for a, b in pairwise(times[2:])]
    assert gaps == [0.5] * 5  # 60 s / 120


@pytest.mark.parametrize(("limit", "burst"), [(120, 1), (120, 4), (190, 4), (200, 10), (7, 7)])
def test_never_more_than_limit_in_any_rolling_window(limit: int, burst: int) -> None:
    clock = FakeClock()
    pacer = Pacer(limit, burst=burst, margin=0, clock=clock)
    times = run(pacer, clock, limit * 6)
    assert max_in_window(times, 60.0) <= limit


def test_long_run_achieves_at_least_90_percent_of_the_limit() -> None:
    clock = FakeClock()
    pacer = Pacer(190, clock=clock)
    times = run(pacer, clock, 190 * 10)
    minutes = (times[-1] - times[0]) / 60
    rate = (len(times) - 1) / minutes
    assert rate >= 0.9 * 190
    assert max_in_window(times, 60.0) <= 190


def test_margin_keeps_slots_out_of_the_window_a_little_longer() -> None:
    clock = FakeClock()
    pacer = Pacer(10, burst=10, margin=0.5, clock=clock)
    times = run(pacer, clock, 11)
    assert times[:10] == [1000.0] * 10
    assert times[10] == pytest.approx(1060.5)
    assert max_in_window(times, 60.5) <= 10


def test_idle_time_does_not_build_an_unbounded_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(60, burst=2, margin=0, clock=clock)
    run(pacer, clock, 5)
    clock.now += 3600  # an hour idle
    back = clock.now
    times = run(pacer, clock, 4)
    assert times[:2] == [back, back]  # the burst allowance, and no more
    assert times[2] - times[1] == pytest.approx(1.0)
    assert times[3] - times[2] == pytest.approx(1.0)


def test_hold_until_delays_everyone_then_resumes_evenly() -> None:
    clock = FakeClock()
    pacer = Pacer(120, burst=4, margin=0, clock=clock)
    run(pacer, clock, 2)
    pacer.hold_for(5.0)
    wake = clock.now + 5.0
    times = run(pacer, clock, 3)
    assert times[0] == pytest.approx(wake)
    assert times[1] - times[0] == pytest.approx(0.5)  # no fresh burst after a 429
    assert times[2] - times[1] == pytest.approx(0.5)


def test_hold_never_shortens_an_earlier_hold() -> None:
    clock = FakeClock()
    pacer = Pacer(120, clock=clock)
    pacer.hold_until(clock.now + 10)
    pacer.hold_until(clock.now + 2)
    assert pacer.reserve() == pytest.approx(10)


def test_reservations_from_threads_get_distinct_slots() -> None:
    clock = FakeClock()
    pacer = Pacer(600, burst=1, margin=0, clock=clock)
    delays: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            delay = pacer.reserve()
            with lock:
                delays.append(delay)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(d, 6) for d in delays) == [round(i * 0.1, 6) for i in range(200)]


@pytest.mark.parametrize("kwargs", [{"max_per_window": 0}, {"max_per_window": 5, "burst": 0}])
def test_rejects_nonsense_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Pacer(**kwargs)


@pytest.mark.parametrize(("limit", "burst"), [(120, 4), (200, 4), (190, 1), (30, 30)])
def test_the_simulators_rolling_window_never_refuses_the_pacer(limit: int, burst: int) -> None:
    """Replay the pacer's schedule into the simulator's own rate limiter (same clock)."""
    clock = FakeClock(start=1_800_000_000.0)
    pacer = Pacer(limit, burst=burst, clock=clock)
    server = RateLimiter(limit, 60.0)
    for _ in range(limit * 5):
        clock.now += pacer.reserve()
        assert server.check("key", now=clock.now) is None
