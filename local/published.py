"""What DynamoDB publishes to CloudWatch for a table: the demo account's metrics, the tests'.

`published(...)` builds the 1-minute `Sum` (and `SampleCount` of consumed capacity) series a
table or GSI would show over the last minutes: the generic `Read/WriteThrottleEvents`, the
per-cause metric of the throttling, `Consumed*CapacityUnits`; `put_published` writes them to an
emulated CloudWatch (each minute one datapoint with statistic values).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from autoresponder.models.metrics import Series

Points = dict[Series, dict[datetime, float]]
CAUSES = {
    "provisioned": "ProvisionedThroughputThrottleEvents",
    "key_range": "KeyRangeThroughputThrottleEvents",
    "account_limit": "AccountLimitThrottleEvents",
    "on_demand_max": "MaxOnDemandThroughputThrottleEvents",
}


def minutes_before(end: datetime, count: int) -> list[datetime]:
    """The starts of the `count` whole minutes before `end`'s minute, oldest first."""
    last = end.replace(second=0, microsecond=0) - timedelta(minutes=1)
    return [last - timedelta(minutes=count - 1 - i) for i in range(count)]


def published(
    table: str,
    *,
    end: datetime,
    index: str | None = None,
    dimension: str = "write",
    consumed: float | None = 40.0,
    rejected: float = 0.0,
    cause: str | None = "provisioned",
    minutes: int = 5,
    units_per_request: float = 1.0,
    operation: str | None = None,
) -> Points:
    """What DynamoDB would publish for one table (or GSI) and dimension over the `minutes`
    before `end`: `consumed` units per second served (None: no consumed series), `rejected`
    requests per second throttled — the generic metric and the per-cause one `cause` names
    (None: the generic one only) — and, with `operation`, `ThrottledRequests` of it."""
    prefix = "Read" if dimension == "read" else "Write"
    at = minutes_before(end, minutes)
    points: Points = {}

    def put(metric: str, stat: str, value: float, op: str | None = None) -> None:
        series = Series(table, metric, stat, operation=op, index_name=index)
        points[series] = dict.fromkeys(at, value)

    if consumed is not None:
        put(f"Consumed{prefix}CapacityUnits", "Sum", consumed * 60)
        put(f"Consumed{prefix}CapacityUnits", "SampleCount", consumed * 60 / units_per_request)
    if rejected > 0:
        put(f"{prefix}ThrottleEvents", "Sum", rejected * 60)
        if cause is not None:
            put(f"{prefix}{CAUSES[cause]}", "Sum", rejected * 60)
        if operation is not None:
            put("ThrottledRequests", "Sum", rejected * 60, op=operation)
    return points


def merged(*parts: Mapping[Series, Mapping[datetime, float]]) -> Points:
    found: Points = {}
    for part in parts:
        for series, values in part.items():
            found.setdefault(series, {}).update(values)
    return found


def put_published(cloudwatch: Any, points: Mapping[Series, Mapping[datetime, float]]) -> int:
    """Publish `points` to an emulated CloudWatch: the `Sum` and `SampleCount` of one series and
    minute become one datapoint with statistic values. Returns the datapoints written."""
    by_metric: dict[tuple[str, str | None, str | None, str, datetime], dict[str, float]] = {}
    for series, values in points.items():
        for when, value in values.items():
            key = (series.table_name, series.index_name, series.operation, series.metric, when)
            by_metric.setdefault(key, {})[series.stat] = value
    data = []
    for (table, index, operation, metric, when), stats in by_metric.items():
        dimensions = [{"Name": "TableName", "Value": table}]
        if index:
            dimensions.append({"Name": "GlobalSecondaryIndexName", "Value": index})
        if operation:
            dimensions.append({"Name": "Operation", "Value": operation})
        total = stats.get("Sum", 0.0)
        count = stats.get("SampleCount", max(total, 1.0))
        data.append(
            {
                "MetricName": metric,
                "Dimensions": dimensions,
                "Timestamp": when,
                "StatisticValues": {
                    "SampleCount": count,
                    "Sum": total,
                    "Minimum": 0.0,
                    "Maximum": total,
                },
                "Unit": "Count",
            }
        )
    for first in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/DynamoDB", MetricData=data[first : first + 500])
    return len(data)
