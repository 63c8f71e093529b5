"""The labor cost model and report periods (no Qt, no cache)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from desktop.config import Settings
from desktop.labor.cost import CostModel, Period, hours


def test_cost_is_hours_times_rate_times_on_cost() -> None:
    plain = CostModel.from_settings(Settings())
    assert plain.cost(90) == Decimal("42.00")
    loaded = CostModel.from_settings(Settings(hourly_rate=28.0, on_cost_percent=12.5))
    assert loaded.cost(90) == Decimal("47.25")
    assert loaded.cost(1) == Decimal("0.53")  # 0.525 rounds half up
    assert hours(90) == Decimal("1.50")


def test_rate_zero_and_nonsense_settings_cost_nothing() -> None:
    model = CostModel.from_settings(Settings(hourly_rate=0.0, on_cost_percent=-5))
    assert model.cost(600) == Decimal("0.00")
    assert model.money(model.cost(600)) == "$0.00"
    assert model.on_cost_percent == 0


def test_money_and_description() -> None:
    model = CostModel.from_settings(Settings(hourly_rate=31.5, on_cost_percent=20), "£")
    assert model.money(Decimal("1234.5")) == "£1,234.50"
    assert model.money(Decimal("-5")) == "-£5.00"
    assert model.describe() == "£31.50 per hour + 20% on-cost, active time"
    wall = CostModel.from_settings(Settings(use_wall_time=True))
    assert wall.basis == "wall" and "wall-clock" in wall.describe()


def test_periods() -> None:
    assert Period.month(2026, 12) == Period(
        dt.date(2026, 12, 1), dt.date(2027, 1, 1), "December 2026"
    )
    last = Period.last_month(dt.date(2026, 1, 15))
    assert (last.start, last.end) == (dt.date(2025, 12, 1), dt.date(2026, 1, 1))
    q = Period.quarter(2026, 4)
    assert (q.start, q.end, q.label, q.months) == (
        dt.date(2026, 10, 1),
        dt.date(2027, 1, 1),
        "Q4 2026",
        3.0,
    )
    custom = Period.custom(dt.date(2026, 3, 1), dt.date(2026, 3, 14))
    assert custom.days == 14 and custom.last_day == dt.date(2026, 3, 14)
    assert custom.label == "1 Mar 2026 to 14 Mar 2026"
    assert Period.custom(dt.date(2026, 2, 1), dt.date(2026, 2, 28)).label == "February 2026"
    assert Period.custom(dt.date(2026, 4, 1), dt.date(2026, 6, 30)).label == "Q2 2026"
    assert Period.custom(dt.date(2025, 1, 1), dt.date(2025, 12, 31)).label == "Year 2025"
    assert custom.months == pytest.approx(14 / (365.25 / 12))
    with pytest.raises(ValueError):
        Period.custom(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    with pytest.raises(ValueError):
        Period.quarter(2026, 5)


def test_report_command_periods() -> None:
    from desktop.labor.report_cli import period_from

    today = dt.date(2026, 5, 17)
    assert period_from(None, None, today) == Period.month(2026, 5)
    assert period_from("2026-05-03", None, today) == Period.custom(dt.date(2026, 5, 3), today)
    assert period_from(None, "2026-02-28", today) == Period.month(2026, 2)
    with pytest.raises(ValueError, match="--from '2026-13-01' is not a date; write it as YYYY"):
        period_from("2026-13-01", None, today)


@pytest.mark.parametrize(
    ("date_from", "date_to", "says"),
    [
        ("2026-06-01", None, "--from 2026-06-01 is after today (2026-05-17): give --to as well"),
        ("2026-05-10", "2026-05-01", "the period ends (2026-05-01) before it starts (2026-05-10)"),
        ("1900-01-01", "2026-01-01", "--from 1900-01-01 is before 2000-01-01"),
        ("2001-01-01", "2999-12-31", "longer than 10 years"),
        (None, "31/05/2026", "--to '31/05/2026' is not a date"),
    ],
)
def test_report_periods_a_person_cannot_mean_are_refused_in_words(date_from, date_to, says):
    """A --from in the future alone said "ends before it starts"; 1900 to 2999 printed
    thousands of weekly rows named "Jan 00"; a date typed wrong said "Invalid isoformat"."""
    from desktop.labor.report_cli import period_from

    with pytest.raises(ValueError) as raised:
        period_from(date_from, date_to, dt.date(2026, 5, 17))
    assert says in str(raised.value)


def test_shared_cents_add_up_to_the_total_and_stay_within_a_cent() -> None:
    import random

    from desktop.labor.cost import cents, share_cents

    rng = random.Random(7)
    for _ in range(200):
        amounts = [Decimal(rng.randint(0, 100_000)) / 7919 for _ in range(rng.randint(1, 40))]
        total = cents(sum(amounts, Decimal(0)))
        shared = share_cents(amounts, total)
        assert sum(shared, Decimal(0)) == total
        assert all(abs(s - a) < Decimal("0.01") for s, a in zip(shared, amounts, strict=True))
