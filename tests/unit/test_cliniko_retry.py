"""Backoff arithmetic and 429 wait times."""

from __future__ import annotations

import email.utils

import pytest

from desktop.cliniko.retry import (
    DEFAULT_RATE_LIMIT_WAIT,
    MIN_RATE_LIMIT_WAIT,
    RATE_LIMIT_MARGIN,
    backoff_delay,
    rate_limit_delay,
)

NOW = 1_800_000_000.0


def test_backoff_doubles_and_is_capped() -> None:
    low = [backoff_delay(n, base=0.5, cap=4.0, rand=lambda: 0.0) for n in range(1, 7)]
    high = [backoff_delay(n, base=0.5, cap=4.0, rand=lambda: 1.0) for n in range(1, 7)]
    assert low == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert high == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_delay(0, base=0.5, cap=4.0) == 0.0


def test_backoff_has_jitter() -> None:
    delays = {backoff_delay(3, base=1.0, cap=60.0) for _ in range(20)}
    assert len(delays) > 1
    assert all(2.0 <= d <= 4.0 for d in delays)


def test_retry_after_seconds() -> None:
    assert rate_limit_delay({"retry-after": "7"}, now=NOW, cap=120) == 7.0


def test_retry_after_http_date() -> None:
    date = email.utils.formatdate(NOW + 12, usegmt=True)
    assert rate_limit_delay({"retry-after": date}, now=NOW, cap=120) == pytest.approx(12.0)


def test_reset_epoch_seconds() -> None:
    delay = rate_limit_delay({"x-ratelimit-reset": str(int(NOW) + 9)}, now=NOW, cap=120)
    assert delay == pytest.approx(9 + RATE_LIMIT_MARGIN)


def test_retry_after_wins_over_reset() -> None:
    headers = {"retry-after": "2", "x-ratelimit-reset": str(int(NOW) + 50)}
    assert rate_limit_delay(headers, now=NOW, cap=120) == 2.0


def test_wait_is_capped() -> None:
    assert rate_limit_delay({"x-ratelimit-reset": str(NOW + 3600)}, now=NOW, cap=120) == 120


def test_past_reset_still_pauses_briefly() -> None:
    delay = rate_limit_delay({"x-ratelimit-reset": str(NOW - 30)}, now=NOW, cap=120)
    assert delay == MIN_RATE_LIMIT_WAIT


@pytest.mark.parametrize("headers", [{}, {"retry-after": "soon"}, {"x-ratelimit-reset": "nan"}])
def test_missing_or_garbled_headers_fall_back(headers: dict[str, str]) -> None:
    assert rate_limit_delay(headers, now=NOW, cap=120) == DEFAULT_RATE_LIMIT_WAIT
