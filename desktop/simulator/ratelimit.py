"""Per-key rolling-window rate limiter (Cliniko: 200 requests per minute per user)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Allow ``limit`` requests per key in any rolling ``window`` seconds."""

    def __init__(
        self, limit: int = 200, window: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str, now: float | None = None) -> float | None:
        """Record one request; return None if allowed, else the epoch time the window frees up."""
        now = self.clock() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            horizon = now - self.window
            while hits and hits[0] <= horizon:
                hits.popleft()
            if self.limit <= 0 or len(hits) >= self.limit:
                return (hits[0] + self.window) if hits else now + self.window
            hits.append(now)
            return None

    def reset(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._hits.clear()


def reset_headers(reset_at: float, now: float | None = None) -> dict[str, str]:
    """Headers for a 429: ``X-RateLimit-Reset`` (epoch seconds) and ``Retry-After`` (seconds)."""
    now = time.time() if now is None else now
    return {
        "X-RateLimit-Reset": str(math.ceil(reset_at)),
        "Retry-After": str(max(1, math.ceil(reset_at - now))),
    }
