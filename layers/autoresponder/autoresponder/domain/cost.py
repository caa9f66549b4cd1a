"""Rough cost of a capacity change, for the decision record and the notification."""

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
