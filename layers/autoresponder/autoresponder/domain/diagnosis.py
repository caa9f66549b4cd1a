"""Where throttling gets diagnosed: what the table and each of its GSIs did in the last minutes.

The alarm only names a table; DynamoDB's own metrics say what throttled. One GetMetricData
call reads, for the table and every GSI, per dimension (read, write):

- the generic `Read/WriteThrottleEvents` and the per-cause throttle metrics of the table's
  billing mode (`…ProvisionedThroughput…` or `…MaxOnDemandThroughput…`, `…KeyRangeThroughput…`,
  `…AccountLimit…`), 1-minute `Sum`;
- `Consumed*CapacityUnits`, 1-minute `Sum` and `SampleCount` (requests).

From them, per resource and dimension: throttled or not, by which cause(s), how many events
were rejected, and the demand: consumed plus rejected, the events turned into units with the
consumed units per request (`Sum` ÷ `SampleCount`), per second, per minute; its peak and trend.

A GSI whose writes throttle back-pressures the base table's writes (DynamoDB throttles the
table's write to keep the index in step): the table's write diagnosis names those indexes, and
the plan raises the index, not the table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from autoresponder.domain.throttling import ThrottleCause
from autoresponder.models.metrics import Points, Series
from autoresponder.models.table import Dimension, TableDescription

MAX_SERIES_PER_CALL = 500
"""GetMetricData's limit of queries per call: a table and 40 GSIs fit in one call."""
PERIOD = timedelta(minutes=1)

_PREFIX = {Dimension.READ: "Read", Dimension.WRITE: "Write"}
_CAUSE_METRIC = {
    ThrottleCause.PROVISIONED: "{}ProvisionedThroughputThrottleEvents",
    ThrottleCause.KEY_RANGE: "{}KeyRangeThroughputThrottleEvents",
    ThrottleCause.ACCOUNT_LIMIT: "{}AccountLimitThrottleEvents",
    ThrottleCause.ON_DEMAND_MAX: "{}MaxOnDemandThroughputThrottleEvents",
}
PROVISIONED_CAUSES = (
    ThrottleCause.PROVISIONED,
    ThrottleCause.KEY_RANGE,
    ThrottleCause.ACCOUNT_LIMIT,
)
ON_DEMAND_CAUSES = (
    ThrottleCause.ON_DEMAND_MAX,
    ThrottleCause.KEY_RANGE,
    ThrottleCause.ACCOUNT_LIMIT,
)


class Trend(StrEnum):
    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"
    UNKNOWN = "unknown"


def generic_metric(dimension: Dimension) -> str:
    return f"{_PREFIX[dimension]}ThrottleEvents"


def cause_metric(cause: ThrottleCause, dimension: Dimension) -> str:
    return _CAUSE_METRIC[cause].format(_PREFIX[dimension])


def consumed_metric(dimension: Dimension) -> str:
    return f"Consumed{_PREFIX[dimension]}CapacityUnits"


def causes_of(table: TableDescription) -> tuple[ThrottleCause, ...]:
    """The per-cause throttle metrics DynamoDB publishes for a table in this billing mode."""
    return ON_DEMAND_CAUSES if table.is_on_demand else PROVISIONED_CAUSES


def resources_of(table: TableDescription) -> list[str | None]:
    """The base table (None) and each GSI, in a stable order."""
    return [None, *sorted(table.indexes)]


def unit_series(
    table: TableDescription, index_name: str | None, dimension: Dimension
) -> list[Series]:
    name = table.table_name
    consumed = consumed_metric(dimension)
    return [
        Series(name, generic_metric(dimension), "Sum", index_name=index_name),
        *(
            Series(name, cause_metric(cause, dimension), "Sum", index_name=index_name)
            for cause in causes_of(table)
        ),
        Series(name, consumed, "Sum", index_name=index_name),
        Series(name, consumed, "SampleCount", index_name=index_name),
    ]


def observed_series(table: TableDescription, alarm_series: Sequence[Series] = ()) -> list[Series]:
    """What one observation reads: every resource and dimension of the table (12 series each:
    a table and 40 GSIs are 492), then the alarm's own DynamoDB series of this table while they
    still fit in one call (they let the diagnosis tell publishing lag from no throttling)."""
    wanted = [
        series
        for index_name in resources_of(table)
        for dimension in Dimension
        for series in unit_series(table, index_name, dimension)
    ]
    known = set(wanted)
    for series in alarm_series:
        if len(wanted) >= MAX_SERIES_PER_CALL:
            break
        if series.table_name == table.table_name and series not in known:
            wanted.append(series)
            known.add(series)
    return wanted


@dataclass(frozen=True)
class UnitDiagnosis:
    """What one resource (the table, or one GSI) did in one dimension over the window."""

    index_name: str | None
    dimension: Dimension
    throttled_events: float = 0.0
    """Requests rejected in the window (the generic metric, or the per-cause sum if larger)."""
    causes: Mapping[ThrottleCause, float] = field(default_factory=dict)
    """Rejected requests per cause; `GENERIC` holds what no per-cause metric explains."""
    consumed_peak: float | None = None
    """Highest consumed units per second (1-minute Sum / 60)."""
    units_per_request: float = 1.0
    """Consumed units per request (`Sum` ÷ `SampleCount` over the window; 1 when unknown)."""
    demand_peak: float | None = None
    """Highest estimated demand, units per second: (consumed + rejected × units per request)
    ÷ 60, per minute, counting only the rejections more capacity serves (not a hot partition's
    nor the account quota's). None when CloudWatch had no datapoint for this resource."""
    demand_latest: float | None = None
    """The estimated demand of the newest minute with data."""
    demand_peak_at: datetime | None = None
    """The minute of the peak demand (it leaves a window that long after it)."""
    first_throttled_at: datetime | None = None
    last_throttled_at: datetime | None = None
    last_fixable_at: datetime | None = None
    """The newest minute with throttling more capacity would have served."""
    last_unthrottled_at: datetime | None = None
    """The newest minute with traffic and no throttling."""
    minutes: int = 0
    """Minutes with any datapoint."""
    trend: Trend = Trend.UNKNOWN
    back_pressure_from: tuple[str, ...] = ()
    """Base table writes only: GSIs whose writes throttled in the same window."""

    @property
    def throttled(self) -> bool:
        return self.throttled_events > 0

    @property
    def main_cause(self) -> ThrottleCause | None:
        """The cause with the most rejected requests (a named cause wins a tie with GENERIC)."""
        if not self.throttled:
            return None
        ranked = sorted(
            (
                (events, cause is not ThrottleCause.GENERIC, cause)
                for cause, events in self.causes.items()
            ),
            reverse=True,
        )
        return ranked[0][2] if ranked and ranked[0][0] > 0 else ThrottleCause.GENERIC

    def has(self, cause: ThrottleCause) -> bool:
        return self.causes.get(cause, 0.0) > 0

    def where(self) -> str:
        dimension = "reads" if self.dimension is Dimension.READ else "writes"
        if self.index_name:
            return f"{dimension} of index {self.index_name}"
        return f"{dimension} of the table"

    def as_record(self) -> dict[str, Any]:
        """The decision record's `diagnosis` entry (docs/architecture.md): cause, throttled events,
        consumed, estimated demand."""
        cause = self.main_cause
        return {
            "index_name": self.index_name,
            "dimension": self.dimension.value,
            "cause": cause.value if cause else None,
            "causes": {c.value: round(v, 1) for c, v in sorted(self.causes.items()) if v > 0},
            "throttled_events": round(self.throttled_events, 1),
            "consumed": _round(self.consumed_peak),
            "estimated_demand": _round(self.demand_peak),
            "units_per_request": round(self.units_per_request, 3),
            "trend": self.trend.value,
            "first_throttled_at": _iso(self.first_throttled_at),
            "last_throttled_at": _iso(self.last_throttled_at),
            "back_pressure_from": list(self.back_pressure_from),
        }


@dataclass(frozen=True)
class Diagnosis:
    """The table and every GSI, per dimension, over [start, end)."""

    table_name: str
    start: datetime
    end: datetime
    units: tuple[UnitDiagnosis, ...] = ()
    newest_datapoint: datetime | None = None
    """The newest minute any series answered for (publishing lag shows as an old one)."""
    alarm_points: Mapping[Series, Mapping[datetime, float]] = field(default_factory=dict)
    """The alarm's own series, as GetMetricData answered them."""
    table: TableDescription | None = field(default=None, compare=False, repr=False)
    points: Points = field(default_factory=dict, compare=False, repr=False)
    """Everything GetMetricData answered (for `over_last`)."""

    def over_last(self, window: timedelta) -> Diagnosis:
        """The same observation narrowed to its last `window` (one read serves a throttle
        decision over the lookback and a scale-back over each unit's own window)."""
        start = self.end - window - PERIOD
        if start <= self.start or self.table is None:
            return self
        narrowed = {
            series: {t: v for t, v in values.items() if t >= start}
            for series, values in self.points.items()
        }
        return diagnose(self.table, narrowed, start, self.end, tuple(self.alarm_points))

    def unit(self, index_name: str | None, dimension: Dimension) -> UnitDiagnosis | None:
        for unit in self.units:
            if unit.index_name == index_name and unit.dimension is dimension:
                return unit
        return None

    @property
    def throttled(self) -> tuple[UnitDiagnosis, ...]:
        return tuple(u for u in self.units if u.throttled)

    @property
    def minutes(self) -> int:
        return max(1, round((self.end - self.start) / PERIOD))

    def as_record(self) -> list[dict[str, Any]]:
        """Per resource and dimension with any datapoint: the decision record's `diagnosis`."""
        return [u.as_record() for u in self.units if u.minutes or u.throttled]


def diagnose(
    table: TableDescription,
    points: Points,
    start: datetime,
    end: datetime,
    alarm_series: Sequence[Series] = (),
) -> Diagnosis:
    """The diagnosis of one observation (`points`: what GetMetricData answered for
    `observed_series(table, alarm_series)` over [start, end))."""
    newest = max((t for values in points.values() for t in values), default=None)
    # the trend counts a minute without data as 0 up to the last minute CloudWatch has
    # surely published (two minutes before the window's end), the same for every unit
    published_until = end.replace(second=0, microsecond=0) - 2 * PERIOD
    units = [
        _unit(table, points, index_name, dimension, published_until)
        for index_name in resources_of(table)
        for dimension in Dimension
    ]
    units = _with_back_pressure(units)
    own = {s: points.get(s, {}) for s in alarm_series}
    return Diagnosis(table.table_name, start, end, tuple(units), newest, own, table, points)


FIXABLE = frozenset({ThrottleCause.PROVISIONED, ThrottleCause.ON_DEMAND_MAX})
"""Causes more capacity (or a higher on-demand maximum) serves; the generic metric's
unexplained remainder counts with them. A hot partition or the account quota do not."""


def _unit(
    table: TableDescription,
    points: Points,
    index_name: str | None,
    dimension: Dimension,
    latest: datetime | None,
) -> UnitDiagnosis:
    name = table.table_name

    def values(metric: str, stat: str = "Sum") -> Mapping[datetime, float]:
        return points.get(Series(name, metric, stat, index_name=index_name), {})

    generic = values(generic_metric(dimension))
    by_cause = {cause: values(cause_metric(cause, dimension)) for cause in causes_of(table)}
    consumed = values(consumed_metric(dimension))
    requests = values(consumed_metric(dimension), "SampleCount")
    minutes = sorted({*generic, *consumed, *requests, *(t for v in by_cause.values() for t in v)})
    if not minutes:
        return UnitDiagnosis(index_name, dimension)
    causes, throttled_at, fixable_at = _attribute(minutes, generic, by_cause)
    request_count = sum(requests.values())
    consumed_total = sum(consumed.values())
    units_per_request = (
        consumed_total / request_count if request_count > 0 and consumed_total > 0 else 1.0
    )
    seconds = PERIOD.total_seconds()
    demand = {
        t: (consumed.get(t, 0.0) + fixable_at[t] * units_per_request) / seconds for t in minutes
    }
    throttled_minutes = [t for t in minutes if throttled_at[t] > 0]
    fixable_minutes = [t for t in minutes if fixable_at[t] > 0]
    quiet = [t for t in minutes if throttled_at[t] <= 0 and consumed.get(t, 0.0) > 0]
    return UnitDiagnosis(
        index_name=index_name,
        dimension=dimension,
        throttled_events=sum(throttled_at.values()),
        causes=causes,
        consumed_peak=max(consumed.values()) / seconds if consumed else None,
        units_per_request=units_per_request,
        demand_peak=max(demand.values()),
        demand_latest=demand[minutes[-1]],
        demand_peak_at=max(minutes, key=lambda t: (demand[t], t)),
        first_throttled_at=throttled_minutes[0] if throttled_minutes else None,
        last_throttled_at=throttled_minutes[-1] if throttled_minutes else None,
        last_fixable_at=fixable_minutes[-1] if fixable_minutes else None,
        last_unthrottled_at=quiet[-1] if quiet else None,
        minutes=len(minutes),
        trend=trend(_every_minute(demand, latest)) if len(minutes) >= 3 else Trend.UNKNOWN,
    )


def _attribute(
    minutes: list[datetime],
    generic: Mapping[datetime, float],
    by_cause: Mapping[ThrottleCause, Mapping[datetime, float]],
) -> tuple[dict[ThrottleCause, float], dict[datetime, float], dict[datetime, float]]:
    """Throttle events by cause over the window (the generic metric's events that no per-cause
    metric explains count as GENERIC), and per minute: all events, and those capacity fixes."""
    causes: dict[ThrottleCause, float] = {}
    throttled_at: dict[datetime, float] = {}
    fixable_at: dict[datetime, float] = {}
    for t in minutes:
        named = {cause: v.get(t, 0.0) for cause, v in by_cause.items()}
        unexplained = max(0.0, generic.get(t, 0.0) - sum(named.values()))
        for cause, events in (*named.items(), (ThrottleCause.GENERIC, unexplained)):
            if events > 0:
                causes[cause] = causes.get(cause, 0.0) + events
        throttled_at[t] = max(generic.get(t, 0.0), sum(named.values()))
        fixable_at[t] = unexplained + sum(e for c, e in named.items() if c in FIXABLE)
    return causes, throttled_at, fixable_at


def _every_minute(values: Mapping[datetime, float], latest: datetime | None) -> list[float]:
    """`values` from its first minute to `latest` (the newest minute CloudWatch answered for
    any series), a minute without a datapoint counting as 0: traffic that stopped falls."""
    first = min(values)
    last = max(latest or first, *values)
    found = []
    at = first
    while at <= last:
        found.append(values.get(at, 0.0))
        at += PERIOD
    return found


def trend(values: Sequence[float]) -> Trend:
    """Rising or falling: the last third of the window against the first third (±20 %)."""
    if len(values) < 3:
        return Trend.UNKNOWN
    third = max(1, len(values) // 3)
    first = sum(values[:third]) / third
    last = sum(values[-third:]) / third
    if first <= 0:
        return Trend.RISING if last > 0 else Trend.STEADY
    ratio = last / first
    if ratio > 1.2:
        return Trend.RISING
    if ratio < 0.8:
        return Trend.FALLING
    return Trend.STEADY


def _with_back_pressure(units: Iterable[UnitDiagnosis]) -> list[UnitDiagnosis]:
    found = list(units)
    throttled_indexes = tuple(
        sorted(
            u.index_name
            for u in found
            if u.index_name is not None and u.dimension is Dimension.WRITE and u.throttled
        )
    )
    if not throttled_indexes:
        return found
    return [
        replace(u, back_pressure_from=throttled_indexes)
        if u.index_name is None and u.dimension is Dimension.WRITE and u.throttled
        else u
        for u in found
    ]


def describe(
    unit: UnitDiagnosis, capacity: int | None, window_minutes: int, *, on_demand: bool = False
) -> str:
    """One line a person understands, e.g. "writes of index by-user throttled on provisioned
    capacity: 1,820 requests rejected in 15 min, demand ≈ 640 WCU/s against 400"."""
    units = _unit_name(unit.dimension, on_demand=on_demand)
    cause = unit.main_cause
    if unit.throttled and cause is not None:
        head = f"{unit.where()} throttled {_CAUSE_WORDS[cause]}: "
        head += f"{unit.throttled_events:,.0f} requests rejected in the last {window_minutes} min"
    else:
        head = f"{unit.where()}: no throttling in the last {window_minutes} min"
    if unit.demand_peak is not None:
        head += f", demand ≈ {unit.demand_peak:,.0f} {units}/s"
        if capacity is not None:
            head += f" against {capacity:,}"
    if unit.back_pressure_from:
        head += f" (index {', '.join(unit.back_pressure_from)} also throttled writes)"
    return head


_CAUSE_WORDS = {
    ThrottleCause.PROVISIONED: "on provisioned capacity",
    ThrottleCause.KEY_RANGE: "on a hot partition (key range)",
    ThrottleCause.ACCOUNT_LIMIT: "on the account's throughput quota",
    ThrottleCause.ON_DEMAND_MAX: "on the table's own on-demand maximum",
    ThrottleCause.GENERIC: "(cause not published)",
    ThrottleCause.NOT_THROTTLE: "",
}


def _unit_name(dimension: Dimension, *, on_demand: bool) -> str:
    """Capacity units (provisioned) or request units (on-demand), per second."""
    kind = "RU" if on_demand else "CU"
    return ("R" if dimension is Dimension.READ else "W") + kind


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def units_to_request(demand: float, headroom_percent: float) -> int:
    """Capacity for `demand` units per second plus headroom."""
    return math.ceil(demand * (1 + headroom_percent / 100) - 1e-9)
