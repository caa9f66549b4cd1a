"""Demand traces: units per second requested in each minute, and the table's starting point.

Five synthetic shapes (deterministic: the noise has a fixed seed) and, from
`bench/fetch_trace.py`, a real table's last 14 days of `Consumed*CapacityUnits`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

BASE = 50.0
"""Units per second the synthetic tables serve most of the time."""
INITIAL_CAPACITY = 100
"""Their provisioned units: twice the base load, as a person would set it."""
CEILING = 10_000
"""Auto Scaling's MaxCapacity and the responder's ceiling (its default max-write-units)."""


@dataclass(frozen=True)
class Trace:
    name: str
    title: str
    demand: tuple[float, ...]
    """Units per second requested, one value per minute."""
    initial_capacity: int = INITIAL_CAPACITY
    ceiling: int = CEILING

    @property
    def minutes(self) -> int:
        return len(self.demand)


def _noisy(values: Sequence[float], seed: int, spread: float = 0.03) -> tuple[float, ...]:
    rng = random.Random(seed)
    return tuple(round(max(0.0, v * (1 + rng.uniform(-spread, spread))), 2) for v in values)


def step_spike(factor: float = 10.0) -> Trace:
    """30 min at the base, 120 min at `factor` times it, 150 min back at the base."""
    demand = [BASE] * 30 + [BASE * factor] * 120 + [BASE] * 150
    return Trace(f"step_{factor:g}x", f"{factor:g}x step spike (120 min)", _noisy(demand, 1))


def ramp(factor: float = 3.0, minutes: int = 30) -> Trace:
    """From 1.2x the base to `factor` times that over `minutes`, held 60 min, then back for
    150 min."""
    low = BASE * 1.2
    rising = [low + (low * factor - low) * i / minutes for i in range(minutes)]
    demand = [low] * 30 + rising + [low * factor] * 60 + [low] * 150
    return Trace("ramp_3x", f"{factor:g}x ramp over {minutes} min", _noisy(demand, 2))


def daily_cycle(days: int = 3) -> Trace:
    """A daily sine between 0.4x and 2.8x the base (peak at 14:00 UTC), `days` days."""
    demand = [
        BASE * (1.6 + 1.2 * math.sin(2 * math.pi * (m / 1440 - 8 / 24))) for m in range(days * 1440)
    ]
    return Trace("daily_cycle", f"daily cycle 0.4x-2.8x, {days} days", _noisy(demand, 3))


def flash_crowd(factor: float = 8.0, minutes: int = 5) -> Trace:
    """`minutes` at `factor` times the base, an hour into a quiet three hours."""
    demand = [BASE] * 60 + [BASE * factor] * minutes + [BASE] * (180 - 60 - minutes)
    return Trace("flash_crowd", f"flash crowd {factor:g}x for {minutes} min", _noisy(demand, 4))


def synthetic() -> list[Trace]:
    return [step_spike(), step_spike(20.0), ramp(), daily_cycle(), flash_crowd()]
