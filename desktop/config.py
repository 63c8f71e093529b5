"""Non-secret settings kept as JSON in the data directory (never the API key or cache key)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
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
    # The watch (desktop.watch): how often it syncs and re-scores, whether it keeps running
    # from the tray after the window closes (the intake alarm is below).
    watch_every_minutes: float = 15.0
    watch_in_tray: bool = False
    # The labor report, issue 16 (desktop.labor): the wait for Cliniko's merge counts as work
    # while the wizard is open on that step, up to this many minutes per merge.
    merge_wait_cap_minutes: float = 20.0
    # The intake alarm: above this share of new patients arriving as duplicates, over at least
    # this many new patients in the period.
    intake_alarm_threshold: float = 0.03
    intake_alarm_minimum: int = 50
    # What the integration costs per month (TCO), in the clinic's currency.
    integration_subscription_per_month: float = 0.0
    integration_api_fees_per_month: float = 0.0
    # Which duplicates came through the integration (semantic debt): records created after
    # hours or at weekends, records whose notes or referral source contain this text, records
    # created by this Cliniko user (name or id, as the record's raw data names its creator).
    integration_after_hours: bool = False
    integration_text_pattern: str = ""
    integration_cliniko_user: str = ""
    # Compare the whole cache with Cliniko when the last comparison is this many days old
    # (desktop.reconcile); 0 turns the automatic comparison off.
    reconcile_every_days: int = 7

    @property
    def reconcile_interval(self) -> timedelta | None:
        """How old the last comparison with Cliniko may be before a sync makes another
        (``reconcile_every`` of :func:`desktop.sync.run_sync`); None: never unasked."""
        days = self.reconcile_every_days
        return timedelta(days=days) if days > 0 else None


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
