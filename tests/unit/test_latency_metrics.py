"""The batched GetMetricData adapter: how many calls, chunking, pagination, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from autoresponder.adapters.metric_data import (
    MAX_DATAPOINTS_PER_CALL,
    MAX_QUERIES_PER_CALL,
    CloudWatchMetricData,
    calls_needed,
    queries_per_call,
)
from autoresponder.domain.latency.windows import compared_windows, series_for_table
from autoresponder.errors import AccessDeniedError, AwsThrottledError

END = datetime(2026, 11, 20, 14, 12, tzinfo=UTC)


def span(window: timedelta) -> tuple[datetime, datetime, timedelta]:
    w = compared_windows(END, window)
    return w.baseline_7d_start, w.current_end, window


@pytest.mark.parametrize(
    ("window", "tables", "per_call", "calls"),
    [
        pytest.param(timedelta(minutes=15), 1, 149, 1, id="alarm-15-min"),
        pytest.param(timedelta(minutes=5), 1, 49, 1, id="alarm-5-min"),
        pytest.param(timedelta(minutes=1), 1, 9, 5, id="alarm-1-min"),
        pytest.param(timedelta(hours=24), 1, 500, 1, id="daily-1-table"),
        pytest.param(timedelta(hours=24), 11, 500, 1, id="daily-11-tables"),
        pytest.param(timedelta(hours=24), 12, 500, 2, id="daily-12-tables"),
        pytest.param(timedelta(hours=24), 100, 500, 9, id="daily-100-tables"),
    ],
)
def test_as_few_calls_as_the_api_allows(window, tables, per_call, calls):
    start, end, period = span(window)
    assert queries_per_call(start, end, period) == per_call
    assert calls_needed(45 * tables, start, end, period) == calls
    points = -(-(end - start) // period)
    assert per_call * points <= MAX_DATAPOINTS_PER_CALL or per_call == 1


class FakeCloudWatch:
    """Answers get_metric_data with one value per query, paginating after `page` results."""

    def __init__(self, page: int | None = None, error: Exception | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.page = page
        self.error = error

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if self.error is not None:
            raise self.error
        queries = kwargs["MetricDataQueries"]
        assert len(queries) <= MAX_QUERIES_PER_CALL
        assert len({q["Id"] for q in queries}) == len(queries)
        first = int(kwargs.get("NextToken", 0))
        last = len(queries) if self.page is None else min(first + self.page, len(queries))
        answer: dict[str, Any] = {
            "MetricDataResults": [
                {
                    "Id": q["Id"],
                    "Timestamps": [kwargs["StartTime"]],
                    "Values": [float(q["Id"][1:])],
                    "StatusCode": "Complete",
                }
                for q in queries[first:last]
            ]
        }
        if last < len(queries):
            answer["NextToken"] = str(last)
        return answer


def test_twelve_tables_take_two_calls_and_every_series_gets_its_value():
    start, end, period = span(timedelta(hours=24))
    wanted = [s for i in range(12) for s in series_for_table(f"table-{i}")]
    fake = FakeCloudWatch()
    metrics = CloudWatchMetricData(client=fake)
    found = metrics.read(wanted, start, end, period)
    assert metrics.calls == 2
    assert [len(r["MetricDataQueries"]) for r in fake.requests] == [500, 40]
    assert all(r["StartTime"] == start and r["EndTime"] == end for r in fake.requests)
    query = fake.requests[0]["MetricDataQueries"][0]
    assert query["MetricStat"]["Period"] == 86_400
    assert query["MetricStat"]["Metric"] == {
        "Namespace": "AWS/DynamoDB",
        "MetricName": "SuccessfulRequestLatency",
        "Dimensions": [
            {"Name": "TableName", "Value": "table-0"},
            {"Name": "Operation", "Value": "GetItem"},
        ],
    }
    assert query["MetricStat"]["Stat"] == "Average"
    assert [found[s] for s in wanted] == [{start: float(i)} for i in range(len(wanted))]


def test_pages_of_one_call_are_followed_and_counted():
    start, end, period = span(timedelta(minutes=15))
    wanted = series_for_table("orders")
    fake = FakeCloudWatch(page=20)
    metrics = CloudWatchMetricData(client=fake)
    found = metrics.read(wanted, start, end, period)
    assert metrics.calls == 3
    assert [r.get("NextToken") for r in fake.requests] == [None, "20", "40"]
    assert all(found[s] for s in wanted)


def test_duplicates_are_asked_once():
    start, end, period = span(timedelta(minutes=15))
    wanted = series_for_table("orders")
    fake = FakeCloudWatch()
    CloudWatchMetricData(client=fake).read(wanted + wanted, start, end, period)
    assert len(fake.requests[0]["MetricDataQueries"]) == 45


@pytest.mark.parametrize(
    ("code", "error"),
    [("AccessDenied", AccessDeniedError), ("Throttling", AwsThrottledError)],
)
def test_errors_are_translated(code, error):
    start, end, period = span(timedelta(minutes=15))
    failure = ClientError({"Error": {"Code": code, "Message": "no"}}, "GetMetricData")
    metrics = CloudWatchMetricData(client=FakeCloudWatch(error=failure))
    with pytest.raises(error, match="GetMetricData failed"):
        metrics.read(series_for_table("orders"), start, end, period)
