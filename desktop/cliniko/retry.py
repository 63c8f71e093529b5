"""Pure retry arithmetic: exponential backoff with jitter, and 429 wait times."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable, Mapping

RATE_LIMIT_MARGIN = 0.05  # X-RateLimit-Reset is whole seconds; land just after it
DEFAULT_RATE_LIMIT_WAIT = 5.0  # a 429 that names no reset time
MIN_RATE_LIMIT_WAIT = 0.25  # a reset already past (clock skew) still gets a short pause

# Methods whose retry after an unknown outcome can't create a second copy of anything.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


def backoff_delay(
    failures: int,
    *,
    base: float,
    cap: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure (1-based).

    Exponential (``base * 2**(failures-1)``, at most ``cap``) with "equal jitter": half the
    delay is fixed, half random, so concurrent clients spread out but never retry at once.
    """
    if failures < 1:
        return 0.0
    exp = min(cap, base * 2.0 ** (failures - 1))
    return exp / 2 + rand() * exp / 2


def rate_limit_delay(headers: Mapping[str, str], *, now: float, cap: float) -> float:
    """Seconds to wait after a 429, from ``Retry-After`` or ``X-RateLimit-Reset``.

    ``Retry-After`` (seconds, or an HTTP date) is preferred because it does not depend on the
    local clock agreeing with Cliniko's; ``X-RateLimit-Reset`` is a UNIX time in seconds.
    The result is at least :data:`MIN_RATE_LIMIT_WAIT` and at most ``cap``.

    Args:
        headers: the 429 response's headers (case-insensitive mapping, e.g. httpx's).
        now: the current UNIX time (``time.time()``).
        cap: the longest wait allowed.
    """
    delay: float | None = _retry_after_seconds(headers.get("retry-after"), now)
    if delay is None:
        reset = _to_float(headers.get("x-ratelimit-reset"))
        if reset is not None:
            delay = reset - now + RATE_LIMIT_MARGIN
    if delay is None:
        delay = DEFAULT_RATE_LIMIT_WAIT
    return min(cap, max(MIN_RATE_LIMIT_WAIT, delay))


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    if not value:
        return None
    seconds = _to_float(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - now


def _to_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None
