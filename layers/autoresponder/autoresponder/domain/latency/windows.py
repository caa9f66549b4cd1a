"""The windows compared (the current one, 1 and 7 days earlier) and the metric series read
for them, in one GetMetricData query whose period is the window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from autoresponder.models.latency import ComparedWindows, WindowStats
from autoresponder.models.metrics import Points, Series

LATENCY_METRIC = "SuccessfulRequestLatency"
DAY = timedelta(days=1)
WEEK = timedelta(days=7)

OPERATIONS = (
    "GetItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
)
"""Operations DynamoDB publishes `SuccessfulRequestLatency` for (`Operation` dimension)."""

ITEM_COUNT_OPERATIONS = ("Query", "Scan")
"""`ReturnedItemCount` is published for these."""


def compared_windows(end: datetime, length: timedelta) -> ComparedWindows:
    """The current window ending at `end` (to the minute) and its 1-day and 7-day baselines.

    `length` must divide a day, so that all three windows fall on buckets of one GetMetricData
    query whose period is the window and whose range starts at the 7-day baseline.
    """
    if length < timedelta(minutes=1) or DAY % length:
        raise ValueError(f"the window ({length}) must be whole minutes that divide a day")
    end = end.replace(second=0, microsecond=0)
    start = end - length
    return ComparedWindows(
        window_minutes=int(length.total_seconds() // 60),
        current_start=start,
        current_end=end,
        baseline_1d_start=start - DAY,
        baseline_7d_start=start - WEEK,
    )


def window_length(windows: ComparedWindows) -> timedelta:
    return timedelta(minutes=windows.window_minutes)


def window_words(windows: ComparedWindows) -> str:
    """`15-minute`, `24-hour`."""
    minutes = windows.window_minutes
    return f"{minutes // 60}-hour" if minutes >= 60 and not minutes % 60 else f"{minutes}-minute"


def latency_series(table_name: str, operation: str) -> tuple[Series, Series, Series]:
    return (
        Series(table_name, LATENCY_METRIC, "Average", operation),
        Series(table_name, LATENCY_METRIC, "Maximum", operation),
        Series(table_name, LATENCY_METRIC, "SampleCount", operation),
    )


def cause_series(table_name: str) -> list[Series]:
    return [
        Series(table_name, "ReadThrottleEvents", "Sum"),
        Series(table_name, "WriteThrottleEvents", "Sum"),
        Series(table_name, "ConsumedReadCapacityUnits", "Sum"),
        Series(table_name, "ConsumedWriteCapacityUnits", "Sum"),
        *(Series(table_name, "ReturnedItemCount", "Average", op) for op in ITEM_COUNT_OPERATIONS),
    ]


def series_for_table(table_name: str) -> list[Series]:
    """Everything one table's report reads (45 series: 13 operations x 3 statistics + 6)."""
    found = [s for op in OPERATIONS for s in latency_series(table_name, op)]
    return found + cause_series(table_name)


def value_at(points: Mapping[datetime, float], start: datetime, length: timedelta) -> float | None:
    """The value of the period starting at `start` (within half a window, for alignment)."""
    for timestamp, value in points.items():
        if abs(timestamp - start) < length / 2:
            return value
    return None


def window_stats(
    points: Points, table: str, operation: str, start: datetime, length: timedelta
) -> WindowStats:
    avg, peak, count = (
        value_at(points.get(s, {}), start, length) for s in latency_series(table, operation)
    )
    samples = int(count or 0)
    return WindowStats(
        avg_ms=avg if samples else None, max_ms=peak if samples else None, samples=samples
    )
