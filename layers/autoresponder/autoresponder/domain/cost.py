"""Rough costs for decisions and notifications: a capacity change, and the alarms onboarding
creates. Pure: prices come in as arguments (settings, with documented defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from autoresponder.models.table import Dimension


@dataclass(frozen=True)
class Prices:
    """Provisioned capacity prices in USD per unit-hour (us-east-1 standard table class)."""

    rcu_hour: float = 0.00013
    wcu_hour: float = 0.00065


def hourly_delta(added_units: int, dimension: Dimension | None, prices: Prices) -> float | None:
    """USD per hour that `added_units` of `dimension` add to the bill; None when unknown."""
    if dimension is None:
        return None
    price = prices.rcu_hour if dimension is Dimension.READ else prices.wcu_hour
    return round(added_units * price, 4)


PRICE_PER_ALARM_MONTH = 0.10
"""USD a month for one standard-resolution CloudWatch metric alarm (us-east-1; the
`PRICE_PER_ALARM_MONTH` setting overrides it). The alarms onboard_tables creates are all of that
kind: one metric, 60-second period. docs/cost.md has the sources."""


@dataclass(frozen=True)
class AlarmCost:
    """What a table's alarms cost a month: `count` alarms at `price_per_alarm` USD each."""

    count: int
    price_per_alarm: float

    @property
    def per_month(self) -> float:
        return round(self.count * self.price_per_alarm, 2)

    def describe(self) -> str:
        """`11 alarms, about $1.10 a month`."""
        return f"{_alarms(self.count)}, about ${self.per_month:,.2f} a month"

    def describe_saving(self) -> str:
        """`11 alarms fewer, about $1.10 a month less`."""
        return f"{_alarms(self.count)} fewer, about ${self.per_month:,.2f} a month less"


def alarm_cost(count: int, price_per_alarm: float = PRICE_PER_ALARM_MONTH) -> AlarmCost:
    """The monthly cost of `count` standard-resolution metric alarms (never negative)."""
    return AlarmCost(max(count, 0), price_per_alarm)


def _alarms(count: int) -> str:
    return f"{count} alarm" if count == 1 else f"{count} alarms"
