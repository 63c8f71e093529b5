"""The cost model of the labor report: hourly rate, on-cost, currency, active or wall time.

Money is :class:`~decimal.Decimal`, rounded to the cent (half up) only when shown or summed
for a total; a total is always costed from the summed minutes, never from rounded row costs::

    model = CostModel.from_settings(settings, currency="$")
    model.cost(minutes=90)        # Decimal('42.00') at 28.00/h and no on-cost
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from desktop.account import DEFAULT_CURRENCY, stored_account
from desktop.config import Settings
from desktop.timestamps import day_words

if TYPE_CHECKING:
    from desktop.store.cache import Cache

log = logging.getLogger(__name__)

CENT = Decimal("0.01")


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """An exact Decimal of a number (floats go through ``repr``, so 28.1 stays 28.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def share_cents(amounts: list[Decimal], total: Decimal) -> list[Decimal]:
    """``amounts`` to the cent so that they add up to ``total`` (itself to the cent): each is
    cut to the cent, and the cents left go to the largest remainders first (ties: the
    earlier)."""
    cut = [a.quantize(CENT, rounding=ROUND_DOWN) for a in amounts]
    left = int((total - sum(cut, Decimal(0))) / CENT)
    order = sorted(range(len(amounts)), key=lambda i: (cut[i] - amounts[i], i))
    for i in order[: max(0, left)]:
        cut[i] += CENT
    return cut


@dataclass(frozen=True)
class CostModel:
    """What an hour of administrator time costs.

    Attributes:
        hourly_rate: the rate per hour, in ``currency``.
        on_cost_percent: added on top of the rate (super, payroll tax...); 0 for none.
        currency: the symbol shown before amounts (the account's, default ``$``).
        use_wall_time: cost wall time (open to finished) instead of active time.
    """

    hourly_rate: Decimal = Decimal("28.00")
    on_cost_percent: Decimal = Decimal("0")
    currency: str = DEFAULT_CURRENCY
    use_wall_time: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, currency: str | None = None) -> CostModel:
        """The model for the administrator's settings (negative values count as zero)."""
        return cls(
            hourly_rate=max(Decimal(0), to_decimal(settings.hourly_rate or 0)),
            on_cost_percent=max(Decimal(0), to_decimal(settings.on_cost_percent or 0)),
            currency=currency or DEFAULT_CURRENCY,
            use_wall_time=bool(settings.use_wall_time),
        )

    @property
    def basis(self) -> str:
        """``"active"`` or ``"wall"``: which minutes are costed."""
        return "wall" if self.use_wall_time else "active"

    @property
    def loaded_rate(self) -> Decimal:
        """The hourly rate with the on-cost added (not rounded)."""
        return self.hourly_rate * (1 + self.on_cost_percent / 100)

    def minutes_of(self, row: Any) -> float:
        """The costed minutes of a time-log row (active or wall, per the model)."""
        return float(row.wall_minutes if self.use_wall_time else row.active_minutes)

    def cost(self, minutes: float | Decimal) -> Decimal:
        """Cost of ``minutes``: hours x rate x (1 + on-cost), to the cent."""
        return cents(to_decimal(minutes) / 60 * self.loaded_rate)

    def money(self, amount: Decimal) -> str:
        """An amount for people: ``$1,234.50`` (negative: ``-$5.00``)."""
        sign = "-" if amount < 0 else ""
        return f"{sign}{self.currency}{abs(cents(amount)):,.2f}"

    def describe(self) -> str:
        """One line: the rate, the on-cost and the basis."""
        on_cost = (
            f" + {self.on_cost_percent.normalize():f}% on-cost" if self.on_cost_percent else ""
        )
        return (
            f"{self.money(self.hourly_rate)} per hour{on_cost}, "
            f"{'wall-clock' if self.use_wall_time else 'active'} time"
        )


def hours(minutes: float) -> Decimal:
    """Minutes as hours, to two decimals."""
    return cents(to_decimal(minutes) / 60)


# ----------------------------------------------------------------------------- currency


def stored_currency(cache: Cache) -> str:
    """The account's currency symbol kept in the cache (default ``$``)."""
    account = stored_account(cache.db)
    return account.currency_symbol if account else DEFAULT_CURRENCY


def stored_clinic_name(cache: Cache) -> str | None:
    """The clinic's name kept by :func:`desktop.account.remember_account`, if any."""
    account = stored_account(cache.db)
    return account.name if account and account.name else None


# ----------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """Calendar days ``[start, end)`` (``end`` is the day after the last one) and a label."""

    start: dt.date
    end: dt.date
    label: str

    @property
    def last_day(self) -> dt.date:
        """The last day included."""
        return self.end - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days

    @property
    def months(self) -> float:
        """Length in months (a calendar month counts as exactly 1)."""
        whole = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        if self.start.day == 1 and self.end.day == 1:
            return float(whole)
        return self.days / (365.25 / 12)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """One calendar month."""
        start = dt.date(year, month, 1)
        end = dt.date(year + (month == 12), month % 12 + 1, 1)
        return cls(start, end, start.strftime("%B %Y"))

    @classmethod
    def this_month(cls, today: dt.date | None = None) -> Period:
        """The calendar month of ``today`` (default: today)."""
        day = today or dt.date.today()
        return cls.month(day.year, day.month)

    @classmethod
    def last_month(cls, today: dt.date | None = None) -> Period:
        """The calendar month before ``today``'s."""
        first = (today or dt.date.today()).replace(day=1) - dt.timedelta(days=1)
        return cls.month(first.year, first.month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        """Calendar quarter 1-4 of ``year``."""
        if quarter not in (1, 2, 3, 4):
            raise ValueError("a quarter is 1, 2, 3 or 4")
        first = 3 * (quarter - 1) + 1
        start = dt.date(year, first, 1)
        end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, first + 3, 1)
        return cls(start, end, f"Q{quarter} {year}")

    @classmethod
    def custom(cls, first_day: dt.date, last_day: dt.date) -> Period:
        """From ``first_day`` to ``last_day``, both included."""
        if last_day < first_day:
            raise ValueError("the period ends before it starts")
        end = last_day + dt.timedelta(days=1)
        if first_day.day == 1 and end.day == 1:  # whole months: name them as the picker would
            month = cls.month(first_day.year, first_day.month)
            if month.end == end:
                return month
            if first_day.month % 3 == 1:
                quarter = cls.quarter(first_day.year, first_day.month // 3 + 1)
                if quarter.end == end:
                    return quarter
            if first_day.month == 1 and end == dt.date(first_day.year + 1, 1, 1):
                return cls(first_day, end, f"Year {first_day.year}")
        return cls(first_day, end, f"{day_words(first_day)} to {day_words(last_day)}")
