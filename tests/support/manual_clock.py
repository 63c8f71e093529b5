"""A clock that moves only when the test says so, for code that takes a ``clock`` callable."""

from __future__ import annotations


class ManualClock:
    """Epoch seconds, starting at ``start``; ``tick`` and ``at`` move it."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds

    def at(self, offset: float) -> float:
        """Set the clock to ``offset`` seconds after the start; return the new time."""
        self.now = self.start + offset
        return self.now
