"""The semantic debt ratio and the integration's monthly total cost of ownership (no Qt).

Definitions (printed on the report with their inputs):

* A duplicate *arrived through the integration* when the newer record of the pair (or cluster)
  matches a rule the settings name: created after hours or at a weekend (on the account's
  clock), notes or referral source containing a text, or created by a named Cliniko user (as far
  as the record's data names its creator; Cliniko's patient API usually does not).
* Correction hours = the time of merges (and merges planned) on such records in the period.
* Semantic debt ratio = correction hours / hours the integration saves in the period (the
  monthly figure typed in settings x the period's months). Above 1, the integration costs more
  staff time than it saves.
* Monthly TCO = vendor subscription + API access fees + remediation labor cost per month
  (the correction cost / the period's months).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from desktop.config import Settings
from desktop.intake import CreationWindow, creation_window
from desktop.labor.cost import CostModel, cents, hours, to_decimal
from desktop.timestamps import parse_timestamp

CREATOR_KEYS = ("created_by", "creator", "user", "created_by_user")


@dataclass(frozen=True)
class IntegrationRule:
    """Which records count as made by the integration (empty: none named)."""

    after_hours: bool = False
    text_pattern: str = ""
    cliniko_user: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> IntegrationRule:
        """The rule the settings name."""
        return cls(
            bool(settings.integration_after_hours),
            (settings.integration_text_pattern or "").strip(),
            (settings.integration_cliniko_user or "").strip(),
        )

    @property
    def named(self) -> bool:
        """True when at least one rule is set."""
        return self.after_hours or bool(self.text_pattern) or bool(self.cliniko_user)

    def describe(self) -> str:
        """The rule in words."""
        parts = []
        if self.after_hours:
            parts.append("created after hours or at a weekend")
        if self.text_pattern:
            parts.append(f'notes or referral source containing "{self.text_pattern}"')
        if self.cliniko_user:
            parts.append(f'created by the Cliniko user "{self.cliniko_user}"')
        return " or ".join(parts) if parts else "no rule set"

    def matches(self, created_at: str | None, raw: dict[str, Any], tz: dt.tzinfo) -> bool:
        """True when one record was made by the integration."""
        if self.after_hours:
            moment = parse_timestamp(created_at)  # read on the clock of tz below
            if moment is not None and creation_window(moment, tz) != CreationWindow.BUSINESS_HOURS:
                return True
        if self.text_pattern:
            needle = self.text_pattern.casefold()
            texts = (raw.get("notes"), raw.get("referral_source"))
            if any(isinstance(t, str) and needle in t.casefold() for t in texts):
                return True
        if self.cliniko_user:
            needle = self.cliniko_user.casefold()
            for key in CREATOR_KEYS:
                value = raw.get(key)
                text = str(value) if value is not None else ""
                if needle in text.casefold():
                    return True
        return False


def newer_records(
    ids: Sequence[str], origins: dict[str, tuple[str | None, dict[str, Any]]]
) -> list[str]:
    """The records of a pair or cluster other than the oldest-created one (the duplicates)."""
    known = sorted((origins[i][0] or "", i) for i in ids if i in origins)
    return [i for _, i in known[1:]]


@dataclass(frozen=True)
class DebtFigures:
    """The semantic debt ratio and the monthly TCO, with every input."""

    rule: IntegrationRule
    cases: int  # merge cases whose duplicate came through the integration
    correction_minutes: float
    correction_hours: Decimal
    correction_cost: Decimal
    months: float
    saved_per_month: Decimal | None  # the input; None when not set
    saved_in_period: Decimal | None
    ratio: Decimal | None
    subscription: Decimal
    api_fees: Decimal
    remediation_per_month: Decimal
    tco_per_month: Decimal


def debt_figures(
    case_minutes: Sequence[tuple[tuple[str, ...], float]],
    is_integration: Callable[[Sequence[str]], bool],
    rule: IntegrationRule,
    settings: Settings,
    model: CostModel,
    months: float,
) -> DebtFigures:
    """The figures from the period's merge cases ((ids, minutes)) and the settings' inputs."""
    attributed = [m for ids, m in case_minutes if rule.named and is_integration(ids)]
    minutes = float(sum(attributed))
    correction = hours(minutes)
    cost = model.cost(minutes)
    per_month = to_decimal(months) if months > 0 else Decimal(1)
    saved = settings.automation_hours_saved_per_month
    saved_month = cents(to_decimal(saved)) if saved else None
    saved_period = cents(saved_month * per_month) if saved_month is not None else None
    ratio = cents(correction / saved_period) if saved_period else None
    subscription = cents(max(Decimal(0), to_decimal(settings.integration_subscription_per_month)))
    fees = cents(max(Decimal(0), to_decimal(settings.integration_api_fees_per_month)))
    remediation = cents(to_decimal(minutes) / 60 * model.loaded_rate / per_month)
    return DebtFigures(
        rule, len(attributed), minutes, correction, cost, months, saved_month, saved_period,
        ratio, subscription, fees, remediation, subscription + fees + remediation,
    )  # fmt: skip
