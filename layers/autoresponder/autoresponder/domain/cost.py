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
"""USD a month per alarm metric of a standard-resolution CloudWatch alarm (us-east-1; the
`PRICE_PER_ALARM_MONTH` setting overrides it). CloudWatch bills a metric alarm for each metric
it reads: a single-metric alarm is one alarm metric, a metric-math alarm one per metric its
expression lists (the pre-throttle alarms read two). docs/cost.md has the sources."""


@dataclass(frozen=True)
class AlarmCost:
    """What a table's alarms cost a month: `count` alarms reading `metrics` metrics, at
    `price_per_alarm` USD per alarm metric."""

    count: int
    price_per_alarm: float
    metrics: int

    @property
    def per_month(self) -> float:
        return round(self.metrics * self.price_per_alarm, 2)

    def describe(self) -> str:
        """`11 alarms, about $1.10 a month`; `15 alarms (19 alarm metrics), about $1.90 ...`."""
        return f"{self._alarms()}, about ${self.per_month:,.2f} a month"

    def describe_saving(self) -> str:
        """`11 alarms fewer, about $1.10 a month less`."""
        return f"{self._alarms()} fewer, about ${self.per_month:,.2f} a month less"

    def _alarms(self) -> str:
        alarms = f"{self.count} alarm" if self.count == 1 else f"{self.count} alarms"
        if self.metrics == self.count:
            return alarms
        return f"{alarms} ({self.metrics} alarm metric{'' if self.metrics == 1 else 's'})"


def alarm_cost(
    count: int, price_per_alarm: float = PRICE_PER_ALARM_MONTH, metrics: int | None = None
) -> AlarmCost:
    """The monthly cost of `count` standard-resolution metric alarms reading `metrics` metrics
    (default: one each), never negative."""
    count = max(count, 0)
    return AlarmCost(count, price_per_alarm, count if metrics is None else max(metrics, 0))
