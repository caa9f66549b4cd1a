"""A provisioned DynamoDB table (one dimension) and its CloudWatch metrics, minute by minute.

The capacity model (DynamoDB's, as documented):

- provisioned capacity is a rate: `capacity` units per second;
- unused capacity is kept as burst capacity, at most `burst_seconds` (300) seconds' worth of
  the current capacity; demand above the capacity is served from it while it lasts;
- what neither serves is throttled.

Demand is given per minute (units per second, uniform within the minute): `serve_minute` is the
per-second model in closed form (`serve_seconds` is the second-by-second reference it is tested
against). Capacity changes take effect at a minute's start, `update_delay` minutes after the
UpdateTable call (the table is UPDATING meanwhile and refuses another UpdateTable). The
datapoint of minute m (its consumed and throttled units, 1-minute Sum) is readable from the start
of minute m + `metric_delay`. Decreases follow DynamoDB's daily budget (the same rule the
responder's `domain/decrease_budget.py` encodes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from autoresponder.domain.decrease_budget import decrease_budget, start_of_day
from autoresponder.models.table import (
    BillingMode,
    Capacity,
    CapacityUnit,
    TableDescription,
)

SECONDS = 60
BURST_SECONDS = 300
START = datetime(2026, 1, 5, tzinfo=UTC)
"""A Monday, 00:00 UTC: minute 0 of every trace."""
TABLE_NAME = "backtest"
READ_UNITS = 1
"""The simulated dimension is writes; the read units UpdateTable must also carry."""


# ------------------------------------------------------------------------------------------
# the capacity model
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Served:
    served: float
    """Units served in the period."""
    throttled: float
    """Units requested and not served."""
    burst: float
    """Burst capacity (units) left at the end."""


def burst_cap(capacity: float, burst_seconds: int = BURST_SECONDS) -> float:
    return capacity * burst_seconds


def serve_minute(
    capacity: float,
    demand: float,
    burst: float,
    *,
    seconds: int = SECONDS,
    burst_seconds: int = BURST_SECONDS,
) -> Served:
    """`seconds` seconds at a uniform `demand` (units/s) against `capacity` (units/s), with
    `burst` units of burst capacity at the start (clipped to what `capacity` can keep)."""
    cap = burst_cap(capacity, burst_seconds)
    burst = min(max(burst, 0.0), cap)
    if demand <= capacity:
        return Served(demand * seconds, 0.0, min(cap, burst + (capacity - demand) * seconds))
    excess = (demand - capacity) * seconds
    used = min(excess, burst)
    return Served(capacity * seconds + used, excess - used, burst - used)


def serve_seconds(
    capacity: float, demands: Sequence[float], burst: float, *, burst_seconds: int = BURST_SECONDS
) -> Served:
    """The reference: second by second (`demands`: units requested in each second)."""
    cap = burst_cap(capacity, burst_seconds)
    burst = min(max(burst, 0.0), cap)
    served = throttled = 0.0
    for demand in demands:
        if demand <= capacity:
            served += demand
            burst = min(cap, burst + capacity - demand)
            continue
        used = min(demand - capacity, burst)
        burst -= used
        served += capacity + used
        throttled += demand - capacity - used
    return Served(served, throttled, burst)


# ------------------------------------------------------------------------------------------
# the simulated table and its metrics
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SimConfig:
    metric_delay: int = 2
    """Minutes after a minute starts until its datapoint can be read (published ~1 min after
    the minute closes)."""
    update_delay: int = 3
    """Minutes from the UpdateTable call until the new capacity is in effect (UPDATING)."""
    burst_seconds: int = BURST_SECONDS
    """Seconds' worth of unused capacity kept as burst capacity (0: no burst capacity)."""
    price_per_unit_hour: float = 0.00065
    """USD per provisioned WCU-hour (us-east-1), the settings' default."""
    start: datetime = START


@dataclass(frozen=True)
class Datapoint:
    minute: int
    demand: float
    """Requested units per second (what the application wanted; CloudWatch never sees it)."""
    consumed: float
    """Consumed units in the minute (the `ConsumedWriteCapacityUnits` Sum)."""
    throttled: float
    """Throttled units in the minute (one request per unit: the throttle-events Sum)."""
    capacity: int
    """Provisioned units per second in effect during the minute."""

    @property
    def consumed_per_second(self) -> float:
        return self.consumed / SECONDS


@dataclass(frozen=True)
class Change:
    minute: int
    """When UpdateTable was called."""
    before: int
    after: int
    by: str
    """What asked for it (a rule name)."""


class TableBusy(Exception):
    """ResourceInUseException: the table is UPDATING."""


class DecreaseRefused(Exception):
    """LimitExceededException: no decrease allowed now (the daily budget)."""


class SameValue(Exception):
    """ValidationException: the provisioned throughput is unchanged."""


@dataclass
class SimTable:
    """One provisioned table (the write dimension), as DynamoDB and CloudWatch would show it."""

    capacity: int
    config: SimConfig = field(default_factory=SimConfig)
    burst: float = 0.0
    pending: tuple[int, int] | None = None
    """(minute the change takes effect, new units) while UPDATING."""
    history: list[Datapoint] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    decreases: list[datetime] = field(default_factory=list)
    last_increase_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.burst == 0.0:
            self.burst = burst_cap(self.capacity, self.config.burst_seconds)

    # -- time -----------------------------------------------------------------------------
    def time_of(self, minute: int) -> datetime:
        return self.config.start + timedelta(minutes=minute)

    def settle(self, minute: int) -> None:
        """A change in flight takes effect at the start of its minute."""
        if self.pending is not None and self.pending[0] <= minute:
            self.capacity = self.pending[1]
            self.burst = min(self.burst, burst_cap(self.capacity, self.config.burst_seconds))
            self.pending = None

    def serve(self, minute: int, demand: float) -> Datapoint:
        outcome = serve_minute(
            self.capacity, demand, self.burst, burst_seconds=self.config.burst_seconds
        )
        self.burst = outcome.burst
        point = Datapoint(minute, demand, outcome.served, outcome.throttled, self.capacity)
        self.history.append(point)
        return point

    # -- DynamoDB -------------------------------------------------------------------------
    @property
    def updating(self) -> bool:
        return self.pending is not None

    def update(self, minute: int, units: int, by: str) -> None:
        """UpdateTable; raises what DynamoDB would answer."""
        if self.updating:
            raise TableBusy
        if units == self.capacity:
            raise SameValue
        now = self.time_of(minute)
        if units < self.capacity:
            used, last = self.decreases_today(now)
            if not decrease_budget(used, last, now).allowed_now:
                raise DecreaseRefused
            self.decreases.append(now)
        else:
            self.last_increase_at = now
        self.changes.append(Change(minute, self.capacity, units, by))
        if self.config.update_delay <= 0:
            self.capacity = units
            self.burst = min(self.burst, burst_cap(units, self.config.burst_seconds))
        else:
            self.pending = (minute + self.config.update_delay, units)

    def decreases_today(self, now: datetime) -> tuple[int, datetime | None]:
        """`NumberOfDecreasesToday` and `LastDecreaseDateTime`."""
        today = [d for d in self.decreases if d >= start_of_day(now)]
        return len(today), (self.decreases[-1] if self.decreases else None)

    def description(self, minute: int) -> TableDescription:
        """What `DescribeTable` answers, as the responder's adapter parses it."""
        now = self.time_of(minute)
        used, last = self.decreases_today(now)
        status = "UPDATING" if self.updating else "ACTIVE"
        return TableDescription(
            table_name=TABLE_NAME,
            table_arn=f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE_NAME}",
            status=status,
            billing_mode=BillingMode.PROVISIONED,
            table=CapacityUnit(
                status=status,
                provisioned=Capacity(read=READ_UNITS, write=self.capacity),
                decreases_today=used,
                last_decrease_at=last,
                last_increase_at=self.last_increase_at,
            ),
        )

    # -- CloudWatch -----------------------------------------------------------------------
    def visible(self, minute: int) -> Sequence[Datapoint]:
        """The datapoints readable at the start of `minute`, oldest first."""
        return self.history[: max(0, minute - self.config.metric_delay + 1)]

    def window(self, minute: int, minutes: int) -> Sequence[Datapoint]:
        """The readable datapoints of the last `minutes` minutes before `minute`."""
        return self.visible(minute)[max(0, minute - minutes) :]


class Strategy(Protocol):
    """Who changes the capacity: called at the start of every minute, before it is served."""

    name: str

    def act(self, minute: int, table: SimTable) -> None: ...


@dataclass(frozen=True)
class Run:
    """One trace through one strategy."""

    trace: str
    strategy: str
    points: tuple[Datapoint, ...]
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()
    calls: Mapping[str, int] = field(default_factory=dict)
    """The AWS calls the strategy made (the responder's functions count theirs)."""


def simulate(
    trace_name: str,
    demand: Sequence[float],
    initial_capacity: int,
    strategy: Strategy,
    config: SimConfig | None = None,
) -> Run:
    """Replay `demand` (units/s per minute) through `strategy` on a fresh table."""
    table = SimTable(initial_capacity, config or SimConfig())
    for minute, wanted in enumerate(demand):
        table.settle(minute)
        strategy.act(minute, table)
        table.serve(minute, wanted)
    notes = tuple(getattr(strategy, "notes", ()))
    calls = dict(sorted(getattr(strategy, "calls", {}).items()))
    return Run(trace_name, strategy.name, tuple(table.history), tuple(table.changes), notes, calls)


# ------------------------------------------------------------------------------------------
# what a run cost and how long it throttled
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Episode:
    start: int
    """First throttled minute."""
    end: int
    """Last throttled minute."""
    mitigated_at: int | None
    """First minute from `start` in which the capacity was raised above the episode's starting
    value and covered a demand still above that value: the strategy's capacity ended it. None
    when demand fell back first (the episode ended on its own) or it never ended."""

    @property
    def minutes_to_mitigation(self) -> int | None:
        return None if self.mitigated_at is None else self.mitigated_at - self.start


@dataclass(frozen=True)
class Summary:
    trace: str
    strategy: str
    demand_units: float
    throttled_units: float
    minutes_throttled: int
    episodes: tuple[Episode, ...]
    capacity_hours: float
    """Provisioned unit-hours (the bill's unit)."""
    cost: float
    increases: int
    decreases: int
    aws_calls: Mapping[str, int] = field(default_factory=dict)

    @property
    def throttled_share(self) -> float:
        return self.throttled_units / self.demand_units if self.demand_units else 0.0

    @property
    def worst_time_to_mitigation(self) -> int | None:
        """The longest time to mitigation over the episodes; None if one was never mitigated."""
        times = [e.minutes_to_mitigation for e in self.episodes]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)

    @property
    def unmitigated(self) -> int:
        return sum(1 for e in self.episodes if e.mitigated_at is None)

    def as_json(self) -> dict[str, Any]:
        """`bench/out/backtest.json`'s entry for one trace and strategy."""
        return {
            "trace": self.trace,
            "strategy": self.strategy,
            "demand_units": round(self.demand_units, 1),
            "throttled_units": round(self.throttled_units, 1),
            "throttled_share": round(self.throttled_share, 5),
            "minutes_throttled": self.minutes_throttled,
            "episodes": [
                {
                    "start": e.start,
                    "end": e.end,
                    "mitigated_at": e.mitigated_at,
                    "minutes_to_mitigation": e.minutes_to_mitigation,
                }
                for e in self.episodes
            ],
            "time_to_mitigation": self.worst_time_to_mitigation,
            "capacity_hours": round(self.capacity_hours, 2),
            "cost": round(self.cost, 4),
            "increases": self.increases,
            "decreases": self.decreases,
            "aws_calls": dict(self.aws_calls),
        }


def episodes(points: Sequence[Datapoint], gap: int = 5) -> tuple[Episode, ...]:
    """Throttled minutes grouped into episodes (runs merged across gaps shorter than `gap`)."""
    throttled = [p.minute for p in points if p.throttled > 0]
    if not throttled:
        return ()
    runs: list[list[int]] = [[throttled[0], throttled[0]]]
    for minute in throttled[1:]:
        if minute - runs[-1][1] < gap:
            runs[-1][1] = minute
        else:
            runs.append([minute, minute])
    found = []
    for start, end in runs:
        base = points[start].capacity
        mitigated = next(
            (p.minute for p in points[start:] if p.capacity >= p.demand > base),
            None,
        )
        found.append(Episode(start, end, mitigated))
    return tuple(found)


def summarize(run: Run, config: SimConfig | None = None) -> Summary:
    config = config or SimConfig()
    points = run.points
    hours = sum(p.capacity for p in points) / 60
    return Summary(
        trace=run.trace,
        strategy=run.strategy,
        demand_units=sum(p.demand for p in points) * SECONDS,
        throttled_units=sum(p.throttled for p in points),
        minutes_throttled=sum(1 for p in points if p.throttled > 0),
        episodes=episodes(points),
        capacity_hours=hours,
        cost=hours * config.price_per_unit_hour,
        increases=sum(1 for c in run.changes if c.after > c.before),
        decreases=sum(1 for c in run.changes if c.after < c.before),
        aws_calls=dict(run.calls),
    )


def ceil_units(value: float) -> int:
    return max(1, math.ceil(value - 1e-9))
