"""Which DynamoDB table, index and metric an alarm watches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autoresponder.models.alarm import AlarmMetric, Metric
from autoresponder.models.metrics import Series

DYNAMODB_NAMESPACE = "AWS/DynamoDB"
AUTOSCALING_ALARM_PREFIX = "TargetTracking-"


@dataclass(frozen=True)
class AlarmTarget:
    """The DynamoDB resource an alarm is about."""

    table_name: str
    index_name: str | None
    metric_name: str
    operation: str | None = None


@dataclass(frozen=True)
class Unresolved:
    """Why an alarm could not be tied to one DynamoDB table."""

    reason: str


def resolve_target(metrics: Sequence[AlarmMetric]) -> AlarmTarget | Unresolved:
    """Resolve single-metric and metric-math alarms to the one table (or index) they watch.

    A metric-math alarm counts when all its DynamoDB metrics name the same table and index;
    throttle metrics are preferred as the one that names the cause.
    """
    stats = [m.metric_stat.metric for m in metrics if m.metric_stat is not None]
    if not stats:
        return Unresolved("the alarm has no metric (expression only or empty)")
    dynamodb = [m for m in stats if m.namespace == DYNAMODB_NAMESPACE]
    if not dynamodb:
        namespaces = sorted({m.namespace for m in stats})
        return Unresolved(f"the alarm watches {', '.join(namespaces)}, not {DYNAMODB_NAMESPACE}")
    with_table = [m for m in dynamodb if "TableName" in m.dimensions]
    if not with_table:
        return Unresolved("the alarm's DynamoDB metrics have no TableName dimension")
    resources = {
        (m.dimensions["TableName"], m.dimensions.get("GlobalSecondaryIndexName"))
        for m in with_table
    }
    if len(resources) > 1:
        names = ", ".join(sorted(f"{t}/{i}" if i else t for t, i in resources))
        return Unresolved(f"the alarm combines several tables or indexes ({names})")
    chosen = _most_specific(with_table)
    return AlarmTarget(
        table_name=chosen.dimensions["TableName"],
        index_name=chosen.dimensions.get("GlobalSecondaryIndexName"),
        metric_name=chosen.name,
        operation=chosen.dimensions.get("Operation"),
    )


@dataclass(frozen=True)
class AlarmedTable:
    """The one table an alarm watches, and each of its DynamoDB metrics on it."""

    table_name: str
    targets: tuple[AlarmTarget, ...]
    series: tuple[Series, ...]
    """The alarm's own metric statistics, as GetMetricData queries them."""

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(sorted({t.index_name for t in self.targets if t.index_name}))


def resolve_table(metrics: Sequence[AlarmMetric]) -> AlarmedTable | Unresolved:
    """The table a single-metric or metric-math alarm watches (any of its DynamoDB metrics,
    whichever index, dimension or operation: the metrics decide what throttled, not the alarm).

    An alarm whose DynamoDB metrics name several tables is unresolved."""
    stats = [m.metric_stat for m in metrics if m.metric_stat is not None]
    if not stats:
        return Unresolved("the alarm has no metric (expression only or empty)")
    dynamodb = [s for s in stats if s.metric.namespace == DYNAMODB_NAMESPACE]
    if not dynamodb:
        namespaces = sorted({s.metric.namespace for s in stats})
        return Unresolved(f"the alarm watches {', '.join(namespaces)}, not {DYNAMODB_NAMESPACE}")
    with_table = [s for s in dynamodb if "TableName" in s.metric.dimensions]
    if not with_table:
        return Unresolved("the alarm's DynamoDB metrics have no TableName dimension")
    tables = sorted({s.metric.dimensions["TableName"] for s in with_table})
    if len(tables) > 1:
        return Unresolved(f"the alarm combines several tables ({', '.join(tables)})")
    targets = tuple(
        dict.fromkeys(
            AlarmTarget(
                table_name=tables[0],
                index_name=s.metric.dimensions.get("GlobalSecondaryIndexName"),
                metric_name=s.metric.name,
                operation=s.metric.dimensions.get("Operation"),
            )
            for s in with_table
        )
    )
    series = tuple(
        dict.fromkeys(
            Series(
                tables[0],
                s.metric.name,
                s.stat or "Sum",
                operation=s.metric.dimensions.get("Operation"),
                index_name=s.metric.dimensions.get("GlobalSecondaryIndexName"),
            )
            for s in with_table
            if set(s.metric.dimensions) <= {"TableName", "GlobalSecondaryIndexName", "Operation"}
        )
    )
    return AlarmedTable(tables[0], targets, series)


def _most_specific(metrics: Sequence[Metric]) -> Metric:
    throttles = [m for m in metrics if "Throttle" in m.name or m.name == "ThrottledRequests"]
    return (throttles or list(metrics))[0]


def is_autoscaling_alarm(alarm_name: str) -> bool:
    """Application Auto Scaling's own target-tracking alarms: never act on them."""
    return alarm_name.startswith(AUTOSCALING_ALARM_PREFIX)
