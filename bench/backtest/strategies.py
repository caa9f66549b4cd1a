"""Who changes the simulated table's capacity: nobody, native auto scaling, or this responder.

The responder (`bench/backtest/responder.py`) runs THE SAME SERVICE AND DOMAIN CODE as the
Lambda functions, on ports backed by the simulated table (`bench/backtest/ports.py`).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field

from autoresponder.settings import Settings
from bench.backtest.responder import Responder, default_settings, responder_configs
from bench.backtest.simulator import DecreaseRefused, SimTable, ceil_units

__all__ = ["NativeAutoScaling", "NoAutomation", "Responder", "strategies"]


class NoAutomation:
    """The provisioned capacity stays what it is."""

    name = "none"

    def act(self, minute: int, table: SimTable) -> None:
        del minute, table


@dataclass
class NativeAutoScaling:
    """A model of DynamoDB auto scaling (Application Auto Scaling target tracking).

    - utilization = consumed units per second / provisioned units (the alarms' thresholds
      follow the provisioned value, so readable datapoints are judged against the current one);
    - scale out when the last `out_datapoints` readable datapoints are all above `target`:
      to consumed / target (the latest datapoint), at most `max_capacity`;
    - scale in when the last `in_datapoints` are all below `target - in_margin` (70 % - 20
      points = 50 %): to consumed / target, at least `min_capacity`, within the daily decrease
      budget (DynamoDB refuses the rest);
    - nothing while the table is UPDATING; no cooldowns (DynamoDB's target tracking default).
    """

    min_capacity: int
    max_capacity: int
    target: float = 0.70
    out_datapoints: int = 2
    in_datapoints: int = 15
    in_margin: float = 0.20
    name: str = "native"
    notes: list[str] = field(default_factory=list)

    def act(self, minute: int, table: SimTable) -> None:
        if table.updating:
            return
        seen = table.visible(minute)
        capacity = table.capacity

        def utilization(points: int) -> list[float]:
            return [p.consumed_per_second / capacity for p in seen[-points:]]

        if len(seen) >= self.out_datapoints and all(
            u > self.target for u in utilization(self.out_datapoints)
        ):
            wanted = min(self.max_capacity, ceil_units(seen[-1].consumed_per_second / self.target))
            if wanted > capacity:
                table.update(minute, wanted, "native.scale_out")
            return
        if len(seen) >= self.in_datapoints and all(
            u < self.target - self.in_margin for u in utilization(self.in_datapoints)
        ):
            wanted = max(self.min_capacity, ceil_units(seen[-1].consumed_per_second / self.target))
            if wanted < capacity:
                # refused past the budget: Application Auto Scaling tries again next minute
                with suppress(DecreaseRefused):
                    table.update(minute, wanted, "native.scale_in")


def strategies(
    initial_capacity: int,
    ceiling: int,
    *,
    settings: Settings | None = None,
    scale_back: bool = True,
    pre_throttle: bool = True,
    rechecks: bool = True,
) -> list[NoAutomation | NativeAutoScaling | Responder]:
    """The three strategies for a table that starts at `initial_capacity` units."""
    throttle, back = responder_configs(settings or default_settings())
    return [
        NoAutomation(),
        NativeAutoScaling(min_capacity=initial_capacity, max_capacity=ceiling),
        Responder(
            ceiling=ceiling,
            throttle=throttle,
            back=back if scale_back else None,
            pre_throttle=pre_throttle,
            rechecks=rechecks,
        ),
    ]
