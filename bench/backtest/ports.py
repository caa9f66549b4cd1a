"""The responder's ports (`autoresponder.services.ports`) backed by the simulated table.

The backtest builds `ScaleOnThrottle` and `ScaleBack` exactly as their handlers do, with these
adapters in place of AWS:

- DescribeTable → the `SimTable` at the current simulated minute (UPDATING while a change is in
  flight, the old units until it lands, the day's decreases);
- UpdateTable → `SimTable.update`, its refusals turned into the errors the DynamoDB adapter
  raises (`ResourceInUseException` → `TableBusyError`, ...);
- GetMetricData → the datapoints readable at that minute (after the metric delay), as DynamoDB
  publishes them: consumed units every minute with traffic, throttle events only in minutes
  with throttling, provisioned units every minute; one write unit per request;
- the decision table, the notifier and EventBridge Scheduler → in memory; the clock → the
  simulated minute.

Nothing here decides anything: every decision is the services' own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from autoresponder.domain.notification import Notification
from autoresponder.domain.scaling.history import UnitKey
from autoresponder.errors import (
    InvalidChangeError,
    LimitExceededError,
    ResourceNotFoundError,
    TableBusyError,
)
from autoresponder.models.alarm import AlarmMetric
from autoresponder.models.metrics import Points, Series
from autoresponder.models.scale_back import ActiveAlarm
from autoresponder.models.table import (
    Capacity,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
)
from autoresponder.models.tags import MANAGED_TAG, MANAGED_VALUE, MAX_WRITE_TAG
from bench.backtest.simulator import (
    TABLE_NAME,
    Datapoint,
    DecreaseRefused,
    SameValue,
    SimTable,
    TableBusy,
)

_THROTTLES = frozenset({"WriteThrottleEvents", "WriteProvisionedThroughputThrottleEvents"})


@dataclass
class SimAccount:
    """One account with one table, at one simulated minute; counts the calls it answers."""

    table: SimTable
    ceiling: int
    minute: int = 0
    calls: Counter[str] = field(default_factory=Counter)

    # -- Clock ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.table.time_of(self.minute)

    # -- TableReader ---------------------------------------------------------------------
    def describe(self, table_name: str) -> TableDescription:
        self.calls["dynamodb:DescribeTable"] += 1
        if table_name != TABLE_NAME:
            raise ResourceNotFoundError("DescribeTable failed: ResourceNotFoundException")
        return self.table.description(self.minute)

    def tags(self, table_arn: str) -> dict[str, str]:
        self.calls["dynamodb:ListTagsOfResource"] += 1
        return {MANAGED_TAG: MANAGED_VALUE, MAX_WRITE_TAG: str(self.ceiling)}

    # -- CapacityWriter --------------------------------------------------------------------
    def set_provisioned(self, table_name: str, index_name: str | None, capacity: Capacity) -> None:
        self.calls["dynamodb:UpdateTable"] += 1
        try:
            self.table.update(self.minute, capacity.write, "responder")
        except TableBusy as exc:
            raise TableBusyError("ResourceInUseException", table=table_name) from exc
        except SameValue as exc:
            raise InvalidChangeError("ValidationException: unchanged", table=table_name) from exc
        except DecreaseRefused as exc:
            raise LimitExceededError("LimitExceededException", table=table_name) from exc

    def set_on_demand_max(
        self, table_name: str, index_name: str | None, limits: OnDemandLimits
    ) -> None:
        raise InvalidChangeError("the simulated table is provisioned", table=table_name)

    # -- AutoScalingPort (the simulated table has no scalable target) ----------------------
    def scalable_target(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> ScalableTarget | None:
        return None

    def scalable_targets(
        self, table_name: str, index_names: Sequence[str]
    ) -> Mapping[UnitKey, ScalableTarget]:
        self.calls["application-autoscaling:DescribeScalableTargets"] += 1
        return {}

    def set_limits(self, target: ScalableTarget, min_capacity: int, max_capacity: int) -> None:
        raise InvalidChangeError("the simulated table has no scalable target")

    # -- MetricDataReader ----------------------------------------------------------------
    def read(
        self, wanted: Sequence[Series], start: datetime, end: datetime, period: timedelta
    ) -> Points:
        self.calls["cloudwatch:GetMetricData"] += 1
        self.calls["cloudwatch:GetMetricData metrics"] += len(wanted)
        points = [
            p
            for p in self.table.visible(self.minute)
            if start <= self.table.time_of(p.minute) < end
        ]
        return {series: self._values(series, points) for series in wanted}

    def _values(self, series: Series, points: Sequence[Datapoint]) -> dict[datetime, float]:
        if series.table_name != TABLE_NAME or series.index_name or series.operation:
            return {}
        found = {}
        for point in points:
            value = metric_value(series.metric, point)
            if value is not None:
                found[self.table.time_of(point.minute)] = value
        return found

    # -- AlarmReader (no composite alarm) ---------------------------------------------------
    def metrics_of(self, alarm_names: Sequence[str]) -> Mapping[str, list[AlarmMetric]]:
        return {}


def metric_value(metric: str, point: Datapoint) -> float | None:
    """One datapoint of a DynamoDB write metric, as CloudWatch would answer it (None: no
    datapoint for that minute). One request consumes one write unit."""
    if metric in _THROTTLES:
        return point.throttled if point.throttled > 0 else None
    if metric == "ConsumedWriteCapacityUnits" and point.consumed > 0:
        return point.consumed  # Sum, and SampleCount (requests) at one unit per request
    if metric == "ProvisionedWriteCapacityUnits":
        return float(point.capacity)
    return None


@dataclass
class SimAlarmsInAlarm:
    """`DescribeAlarms StateValue=ALARM` (ActiveAlarmReader): filled by the alarm models."""

    active: dict[str, ActiveAlarm] = field(default_factory=dict)

    def alarms_in_alarm(self) -> list[ActiveAlarm]:
        return list(self.active.values())


@dataclass
class CountingNotifier:
    """SNS: the notifications are counted, not sent."""

    sent: int = 0

    def publish(self, notification: Notification) -> None:
        self.sent += 1
