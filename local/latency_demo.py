"""The demo account's `SuccessfulRequestLatency` history, for report_latency_regression.

The latency events are about fixed moments (`events/latency_alarm_getitem.json` changed state
at 2026-11-20 14:12:41 UTC, `events/latency_daily_report.json` ran at 2026-11-21 07:00 UTC), so
their metrics are seeded at those moments and at the same windows 1 and 7 days earlier, as
DynamoDB publishes them (aggregated datapoints: SampleCount, Sum, Minimum, Maximum):

* the alarm: `profiles` GetItem climbs from 9 to 17 ms (13 ms on average, over its 10 ms
  target) where it ran at 3.8 ms a day earlier and 3.6 ms a week earlier, while reads use 95 %
  of the table's 200 units; PutItem stays at 6 ms. → `latency_regression`, likely cause:
  consumed capacity near provisioned.
* the daily report (every managed table, 24-hour windows): `orders` Query drifted from 4.2 ms a
  week ago to 8.9 ms yesterday and 9.5 ms today, below its 20 ms target and any alarm, and
  returns 640 items per request where it returned 35; `clickstream` BatchWriteItem runs over
  its 100 ms target as it always did; the rest is steady. → `latency_regression` (orders Query,
  against the week; likely cause: many items per request), `sla_breach` for clickstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

ALARM_STATE_CHANGED = datetime(2026, 11, 20, 14, 12, 41, tzinfo=UTC)
REPORT_SCHEDULED = datetime(2026, 11, 21, 7, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
DAY = timedelta(days=1)
BASELINES = (timedelta(0), DAY, 7 * DAY)
"""The current window, then the same window 1 day and 7 days earlier."""

# (table, operation, average ms now / 1 day earlier / 7 days earlier, requests per datapoint)
DAILY: tuple[tuple[str, str, tuple[float, float, float], int], ...] = (
    ("orders", "Query", (9.5, 8.9, 4.2), 90_000),
    ("orders", "GetItem", (3.2, 3.2, 3.1), 300_000),
    ("orders", "PutItem", (5.8, 5.9, 5.7), 40_000),
    ("profiles", "GetItem", (3.8, 3.8, 3.6), 150_000),
    ("profiles", "PutItem", (6.0, 6.1, 5.9), 20_000),
    ("clickstream", "BatchWriteItem", (131.0, 128.0, 126.0), 8_000),
    ("inventory", "UpdateItem", (7.5, 7.4, 7.6), 5_000),
)
ITEMS_PER_QUERY = (640.0, 610.0, 35.0)
"""`ReturnedItemCount` of orders' Query, per request, in the three daily windows."""


def put_latency_metrics(cloudwatch: Any) -> None:
    """Seed the latency history both latency events compare."""
    data = _alarm_data() + _daily_data()
    for first in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/DynamoDB", MetricData=data[first : first + 500])


def _alarm_data() -> list[dict[str, Any]]:
    """1-minute datapoints of the 15 minutes before the alarm, and of the baselines."""
    end = ALARM_STATE_CHANGED.replace(second=0, microsecond=0)
    data = []
    for minute in range(15):
        at = end - WINDOW + timedelta(minutes=minute)
        getitem = (9.0 + 8.0 * minute / 14, 3.8, 3.6)
        for back, average in zip(BASELINES, getitem, strict=True):
            data.append(_latency("profiles", "GetItem", at - back, average, 1_400))
        for back, average in zip(BASELINES, (6.0, 6.1, 5.9), strict=True):
            data.append(_latency("profiles", "PutItem", at - back, average, 200))
        data.append(_count("profiles", "ConsumedReadCapacityUnits", at, 190 * 60))
    return data


def _daily_data() -> list[dict[str, Any]]:
    """Every 3 hours of the reported day and of the same day 1 and 7 days earlier."""
    data = []
    for back in BASELINES:
        day_start = REPORT_SCHEDULED - DAY - back
        for slot in range(8):
            at = day_start + timedelta(hours=3 * slot, minutes=30)
            index = BASELINES.index(back)
            for table, operation, averages, requests in DAILY:
                data.append(_latency(table, operation, at, averages[index], requests))
            data.append(
                _stats(
                    "ReturnedItemCount",
                    [("TableName", "orders"), ("Operation", "Query")],
                    at,
                    ITEMS_PER_QUERY[index],
                    90_000,
                    unit="Count",
                )
            )
    return data


def _latency(
    table: str, operation: str, at: datetime, average: float, requests: int
) -> dict[str, Any]:
    dimensions = [("TableName", table), ("Operation", operation)]
    return _stats(
        "SuccessfulRequestLatency", dimensions, at, average, requests, unit="Milliseconds"
    )


def _stats(
    metric: str,
    dimensions: Sequence[tuple[str, str]],
    at: datetime,
    average: float,
    samples: int,
    *,
    unit: str,
) -> dict[str, Any]:
    return {
        "MetricName": metric,
        "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions],
        "Timestamp": at,
        "StatisticValues": {
            "SampleCount": samples,
            "Sum": round(average * samples, 3),
            "Minimum": round(average / 3, 3),
            "Maximum": round(average * 4, 3),
        },
        "Unit": unit,
    }


def _count(table: str, metric: str, at: datetime, value: float) -> dict[str, Any]:
    return {
        "MetricName": metric,
        "Dimensions": [{"Name": "TableName", "Value": table}],
        "Timestamp": at,
        "Value": value,
        "Unit": "Count",
    }
