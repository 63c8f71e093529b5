"""The semantic debt ratio and the monthly TCO, from their inputs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from labor_data import at, insert_session

from desktop.config import Settings
from desktop.labor.cost import CostModel, Period
from desktop.labor.debt import IntegrationRule, debt_figures
from desktop.labor.report_text import render_plain, report_blocks
from desktop.labor.summary import build_summary
from desktop.store import upsert_patients
from desktop.store.cache import Cache
from desktop.store.transaction import transaction

KEY = "8e" * 32
UTC = dt.UTC


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db", KEY) as opened:
        yield opened


def test_ratio_and_tco_from_their_inputs() -> None:
    settings = Settings(
        hourly_rate=28.0, automation_hours_saved_per_month=10.0,
        integration_subscription_per_month=199.0, integration_api_fees_per_month=50.0,
        integration_after_hours=True,
    )  # fmt: skip
    model = CostModel.from_settings(settings)
    work = [(("1", "2"), 30.0), (("3", "4"), 90.0)]
    figures = debt_figures(work, lambda ids: "2" in ids, IntegrationRule(True), settings, model, 2)
    assert figures.cases == 1 and figures.correction_hours == Decimal("0.50")
    assert figures.saved_in_period == Decimal("20.00")  # 10 h a month x 2 months
    assert figures.ratio == Decimal("0.03")  # 0.5 / 20 = 0.025, half up
    assert figures.correction_cost == Decimal("14.00")
    assert figures.remediation_per_month == Decimal("7.00")  # 14.00 over 2 months
    assert figures.tco_per_month == Decimal("256.00")  # 199 + 50 + 7


def test_nothing_is_attributed_without_a_rule_and_no_ratio_without_the_savings() -> None:
    settings = Settings()
    model = CostModel.from_settings(settings)
    figures = debt_figures([(("1", "2"), 30.0)], lambda ids: True, IntegrationRule(), settings,
                           model, 1)  # fmt: skip
    assert figures.cases == 0 and figures.ratio is None and figures.tco_per_month == 0


def test_the_rule_matches_after_hours_text_and_user() -> None:
    tz = dt.timezone(dt.timedelta(hours=10))
    evening = "2026-03-03T09:30:00Z"  # 19:30 on a Tuesday in UTC+10
    morning = "2026-03-03T00:30:00Z"  # 10:30
    assert IntegrationRule(after_hours=True).matches(evening, {}, tz)
    assert not IntegrationRule(after_hours=True).matches(morning, {}, tz)
    booking = IntegrationRule(text_pattern="online booking")
    assert booking.matches(morning, {"referral_source": "Via Online Booking widget"}, tz)
    assert booking.matches(morning, {"notes": "created by ONLINE BOOKING"}, tz)
    assert not booking.matches(morning, {"notes": "walk-in"}, tz)
    robot = IntegrationRule(cliniko_user="FormBot")
    assert robot.matches(morning, {"created_by": "FormBot (integration)"}, tz)
    assert not robot.matches(morning, {}, tz)
    assert "after hours" in IntegrationRule(True, "x", "y").describe()


def patient(pid: str, created: str, **extra) -> dict:
    return {"id": pid, "first_name": "A", "last_name": "B", "created_at": created,
            "updated_at": created, **extra}  # fmt: skip


def test_the_report_attributes_merges_by_the_newer_record_and_prints_the_inputs(
    cache: Cache,
) -> None:
    with transaction(cache) as db:
        upsert_patients(db, [
            patient("1", "2024-01-01T10:00:00Z"),
            patient("2", "2026-03-02T22:00:00Z"),  # after hours: the integration's
            patient("3", "2023-01-01T22:00:00Z"),  # old record made after hours...
            patient("4", "2026-03-03T11:00:00Z"),  # ...its newer duplicate in business hours
            patient("5", "2024-01-01T10:00:00Z"),
            patient("6", "2026-03-03T23:00:00Z"),  # after hours, but "not the same person"
        ])  # fmt: skip
    d = dt.date(2026, 3, 4)
    insert_session(cache, "a", ["1", "2"], at(d, 9), 1800, 1800, "merged")
    insert_session(cache, "b", ["3", "4"], at(d, 10), 600, 600, "merged")
    insert_session(cache, "c", ["5", "6"], at(d, 11), 900, 900, "not_same")
    settings = Settings(
        hourly_rate=40.0, integration_after_hours=True, automation_hours_saved_per_month=2.0,
        integration_subscription_per_month=120.0, integration_api_fees_per_month=30.0,
    )  # fmt: skip
    s = build_summary(cache, Period.month(2026, 3), settings, tz=UTC)
    assert s.debt.cases == 1 and s.debt.correction_hours == Decimal("0.50")
    assert s.debt.ratio == Decimal("0.25") and s.debt.tco_per_month == Decimal("170.00")
    text = render_plain(report_blocks(s))
    assert re.search(r"Semantic debt ratio +0\.25", text)
    assert "2.00 h per month x 1.00 months = 2.00 h" in text
    assert re.search(r"Total cost of ownership per month +\$170\.00", text)
    assert re.search(r"Vendor subscription per month +\$120\.00", text)
    assert "created after hours or at a weekend" in text
