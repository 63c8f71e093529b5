"""Non-secret settings kept as JSON in the data directory (never the API key or cache key)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from desktop.paths import make_private

CONFIG_FILE_NAME = "settings.json"


@dataclass
class Settings:
    """What the administrator can change; defaults are what a new clinic gets."""

    base_url: str | None = None
    hourly_rate: float = 28.00
    idle_threshold_seconds: int = 120
    # Match probability from which a pair is "likely" / "possible" (the queue's bands).
    likely_threshold: float = 0.95
    possible_threshold: float = 0.30
    # The labor-cost report (desktop.labor): on-costs on top of the rate, the manual baseline,
    # the hours the clinic's automation saves per month (None: no semantic debt line), and
    # whether to cost wall time instead of active time.
    on_cost_percent: float = 0.0
    manual_minutes_per_merge: float = 15.0
    automation_hours_saved_per_month: float | None = None
    use_wall_time: bool = False
    # Compare the whole cache with Cliniko when the last comparison is this many days old
    # (desktop.reconcile); 0 turns the automatic comparison off.
    reconcile_every_days: int = 7


def load_settings(data_dir: Path) -> Settings:
    """Read the settings file; a missing or unreadable file gives the defaults."""
    path = data_dir / CONFIG_FILE_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in raw.items() if k in known})


def save_settings(data_dir: Path, settings: Settings) -> None:
    """Write the settings atomically (a crash leaves the old file or the new one)."""
    path = data_dir / CONFIG_FILE_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    make_private(tmp)
    os.replace(tmp, path)
