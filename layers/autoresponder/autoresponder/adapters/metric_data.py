"""CloudWatch GetMetricData, batched: every series a decision needs, in as few calls as the API
allows (the throttle diagnosis of a table and its GSIs, a latency report).

One call carries up to 500 queries and returns up to 100,800 data points before paginating.
The current window and both baselines come from ONE query per series: its range starts at the
7-day baseline, its period is the window, so the three windows are three of its periods.
With the 45 series of one table (13 operations x Average/Maximum/SampleCount, throttles,
consumed capacity, ReturnedItemCount) that is:

* an alarm, 15-minute window: 673 points per query, 45 queries -> 1 call;
* the daily report, 24-hour window: 8 points per query, 500 queries per call -> one call per
  11 managed tables (ceil(45 x tables / 500) calls).

In general: queries per call = min(500, 100,800 // points per query); calls = ceil(series /
queries per call).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.metrics import NAMESPACE, Points, Series

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800


def queries_per_call(start: datetime, end: datetime, period: timedelta) -> int:
    """How many queries fit one call without paginating."""
    points = max(1, math.ceil((end - start) / period))
    return max(1, min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // points))


def calls_needed(series: int, start: datetime, end: datetime, period: timedelta) -> int:
    return math.ceil(series / queries_per_call(start, end, period)) if series else 0


def _query(query_id: str, series: Series, period: timedelta) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": series.metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in series.dimensions.items()],
            },
            "Period": int(period.total_seconds()),
            "Stat": series.stat,
        },
        "ReturnData": True,
    }


class CloudWatchMetricData(AwsAdapter):
    """Implements `MetricDataReader`. `calls` counts the GetMetricData requests made."""

    service = "cloudwatch"

    def __init__(self, client: Any = None, region: str | None = None) -> None:
        super().__init__(client, region)
        self.calls = 0

    def read(
        self, wanted: Sequence[Series], start: datetime, end: datetime, period: timedelta
    ) -> Points:
        unique = list(dict.fromkeys(wanted))
        found: dict[Series, dict[datetime, float]] = {s: {} for s in unique}
        size = queries_per_call(start, end, period)
        for first in range(0, len(unique), size):
            chunk = unique[first : first + size]
            by_id = {f"q{first + i}": series for i, series in enumerate(chunk)}
            queries = [_query(qid, series, period) for qid, series in by_id.items()]
            for result in self._results(queries, start, end):
                series = by_id.get(result.get("Id", ""))
                if series is None:
                    continue
                values = result.get("Values", [])
                found[series].update(zip(result.get("Timestamps", []), values, strict=False))
        return found

    def _results(
        self, queries: list[dict[str, Any]], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Every page of one call's results (a page only when over MaxDatapoints)."""
        results: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            self.calls += 1
            try:
                answer = self.client.get_metric_data(**kwargs)
            except AWS_ERRORS as exc:
                raise translate(exc, "GetMetricData", queries=len(queries)) from exc
            results += answer.get("MetricDataResults", [])
            token = answer.get("NextToken")
            if not token:
                return results
            kwargs["NextToken"] = token
