"""Client-side request pacing, so a long sync stays under Cliniko's per-user limit.

Cliniko allows 200 requests per minute per user and answers 429 beyond that. The pacer
spaces requests evenly (``window / limit`` seconds apart, a generic cell rate algorithm) with
a small burst allowance, and also keeps a log of the last ``limit`` send times so that no
rolling window ever holds more than ``limit`` requests, burst included. In steady state it
sends at exactly the limit; after a 429 every caller is held until the server's reset time.

The pacer is pure logic over an injectable monotonic clock: :meth:`Pacer.reserve` returns
how long to wait, and the caller does the waiting (so it can be cancelled).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

DEFAULT_WINDOW = 60.0


class Pacer:
    """Thread-safe scheduler of request send times.

    Args:
        max_per_window: the most requests allowed in any rolling ``window`` seconds.
        burst: how many requests may go out back to back before spacing applies (>= 1).
        window: the window length in seconds (60 for Cliniko's per-minute limit).
        margin: extra seconds before a slot leaves the rolling window, to absorb network
            jitter between our send time and the server's arrival time.
        clock: a monotonic clock in seconds (``time.monotonic``; a fake one in tests).
    """

    def __init__(
        self,
        max_per_window: int,
        *,
        burst: int = 4,
        window: float = DEFAULT_WINDOW,
        margin: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_per_window < 1:
            raise ValueError("max_per_window must be at least 1")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.limit = max_per_window
        self.window = float(window)
        self.margin = max(0.0, margin)
        self.burst = min(burst, max_per_window)
        self.interval = self.window / max_per_window
        self._tolerance = (self.burst - 1) * self.interval
        self._clock = clock
        self._lock = threading.Lock()
        self._tat: float | None = None  # theoretical arrival time of the next request
        self._sent: deque[float] = deque(maxlen=max_per_window)
        self._hold_until = float("-inf")

    def reserve(self) -> float:
        """Claim the next send slot and return the seconds to wait before sending (>= 0)."""
        with self._lock:
            now = self._clock()
            send_at = now
            if self._tat is not None:
                send_at = max(send_at, self._tat - self._tolerance)
            send_at = max(send_at, self._hold_until)
            if len(self._sent) == self.limit:
                send_at = max(send_at, self._sent[0] + self.window + self.margin)
            base = send_at if self._tat is None else max(self._tat, send_at)
            self._tat = base + self.interval
            self._sent.append(send_at)
            return send_at - now

    def hold_until(self, deadline: float) -> None:
        """Send nothing before ``deadline`` (same clock), e.g. after a 429 until its reset."""
        with self._lock:
            self._hold_until = max(self._hold_until, deadline)
            if self._tat is not None:
                # Resume at a steady pace after the hold rather than with a fresh burst.
                self._tat = max(self._tat, deadline + self._tolerance)

    def hold_for(self, seconds: float) -> None:
        """Send nothing for the next ``seconds``."""
        self.hold_until(self._clock() + max(0.0, seconds))

    @property
    def now(self) -> float:
        """The pacer's clock reading."""
        return self._clock()
