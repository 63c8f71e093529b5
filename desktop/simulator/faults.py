"""Fault injection for the simulator: latency, 5xx errors, dropped connections, 429 storms."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class FaultConfig:
    """Which faults the simulator injects into API (/v1) requests.

    ``latency_ms`` delays every answer; ``error_rate`` is the chance of a random 500/502/503;
    ``drop_rate`` the chance the socket is closed without an answer; ``storm_rate`` the chance a
    request starts a 429 storm lasting ``storm_seconds``; ``silent_write_drop`` makes PATCH answer
    200 with the patient as if changed while changing nothing. ``seed`` makes the dice repeatable.
    """

    latency_ms: float = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    storm_rate: float = 0.0
    silent_write_drop: bool = False
    seed: int = 0
    storm_seconds: float = 3.0

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """Parse ``"latency=50,5xx=0.05,drop=0.02,storm=0.01,silent-drop,seed=3"`` (CLI form)."""
        values: dict[str, float | bool | int] = {}
        names = {
            "latency": "latency_ms",
            "latency_ms": "latency_ms",
            "5xx": "error_rate",
            "error": "error_rate",
            "errors": "error_rate",
            "drop": "drop_rate",
            "storm": "storm_rate",
            "storm_seconds": "storm_seconds",
            "storm-seconds": "storm_seconds",
            "seed": "seed",
        }
        for raw in text.split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip().lower()
            if key in ("silent-drop", "silent_drop", "silent-write-drop", "silent_write_drop"):
                values["silent_write_drop"] = (not sep) or value.strip().lower() in (
                    "1",
                    "true",
                    "yes",
                    "on",
                )
                continue
            if key not in names or not sep:
                raise ValueError(f"unknown fault setting: {item!r}")
            field = names[key]
            try:
                number = int(value) if field == "seed" else float(value)
            except ValueError as exc:
                raise ValueError(f"bad value for {key}: {value!r}") from exc
            if field.endswith("_rate") and not 0.0 <= number <= 1.0:
                raise ValueError(f"{key} must be between 0 and 1")
            if number < 0:
                raise ValueError(f"{key} must not be negative")
            values[field] = number
        return cls(**values)  # type: ignore[arg-type]

    def __str__(self) -> str:
        parts = []
        if self.latency_ms:
            parts.append(f"latency={self.latency_ms:g}")
        if self.error_rate:
            parts.append(f"5xx={self.error_rate:g}")
        if self.drop_rate:
            parts.append(f"drop={self.drop_rate:g}")
        if self.storm_rate:
            parts.append(f"storm={self.storm_rate:g}")
        if self.silent_write_drop:
            parts.append("silent-drop")
        return ",".join(parts) or "none"


class Fault(Enum):
    """What the injector decided for one request."""

    NONE = "none"
    DROP = "drop"
    ERROR = "error"
    STORM = "storm"


class FaultInjector:
    """Rolls the dice for each request, deterministically from the config's seed."""

    def __init__(
        self, config: FaultConfig | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self._storm_until = 0.0

    @property
    def config(self) -> FaultConfig:
        """The active configuration."""
        return self._config

    @config.setter
    def config(self, value: FaultConfig | None) -> None:
        with self._lock:
            self._config = value or FaultConfig()
            self._rng = random.Random(self._config.seed)
            self._storm_until = 0.0

    def delay(self) -> None:
        """Sleep for the configured latency."""
        latency = self._config.latency_ms
        if latency > 0:
            time.sleep(latency / 1000.0)

    def storm_until(self, now: float | None = None) -> float:
        """End of the current 429 storm (epoch seconds), or 0 when there is none."""
        now = self.clock() if now is None else now
        with self._lock:
            return self._storm_until if self._storm_until > now else 0.0

    def decide(self) -> tuple[Fault, int]:
        """Pick the fault for one request: (kind, HTTP status for ERROR)."""
        with self._lock:
            cfg = self._config
            now = self.clock()
            if cfg.drop_rate and self._rng.random() < cfg.drop_rate:
                return Fault.DROP, 0
            if self._storm_until > now:
                return Fault.STORM, 429
            if cfg.storm_rate and self._rng.random() < cfg.storm_rate:
                self._storm_until = now + cfg.storm_seconds
                return Fault.STORM, 429
            if cfg.error_rate and self._rng.random() < cfg.error_rate:
                return Fault.ERROR, self._rng.choice((500, 502, 503))
            return Fault.NONE, 0
