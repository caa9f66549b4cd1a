"""bench.fetch_trace: a table's CloudWatch history (GetMetricData on moto) as a backtest trace."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bench.backtest.__main__ import backtest, load_trace
from bench.backtest.simulator import SimConfig
from bench.fetch_trace import main, merge_pages, to_trace

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=1)


def _put(cloudwatch, metric, minutes_values, table="orders"):
    cloudwatch.put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "TableName", "Value": table}],
                "Timestamp": START + timedelta(minutes=minute),
                "Value": value,
                "Unit": "Count",
            }
            for minute, value in minutes_values
        ],
    )


def test_fetches_a_day_of_a_table_and_backtests_it(aws, tmp_path):
    _put(aws.cloudwatch, "ConsumedWriteCapacityUnits", [(m, 3_000.0) for m in range(60, 90)])
    _put(aws.cloudwatch, "WriteThrottleEvents", [(m, 600.0) for m in range(80, 85)])
    _put(aws.cloudwatch, "ProvisionedWriteCapacityUnits", [(m, 60.0) for m in range(0, 120, 5)])
    _put(aws.cloudwatch, "ConsumedWriteCapacityUnits", [(70, 9_999.0)], table="other")

    [path] = main(
        ["--table", "orders", "--dimension", "write", "--days", "1", "--out", str(tmp_path)],
        now=NOW,
    )

    trace = json.loads(path.read_text())
    demand = trace["demand"]
    assert len(demand) == 1440 and trace["initial_capacity"] == 60
    assert demand[59] == 0 and demand[60] == 50.0 and demand[90] == 0
    assert demand[80:85] == [60.0] * 5  # consumed 50/s + 600 throttled requests a minute
    assert sum(1 for d in demand if d > 0) == 30
    assert trace["throttled_minutes_seen"] == 5
    _runs, summaries = backtest(load_trace(path), SimConfig())
    assert [s.strategy for s in summaries] == ["none", "native", "responder"]
    assert summaries[0].demand_units == sum(demand) * 60


def test_pages_of_one_series_are_merged():
    stamps = [START + timedelta(minutes=m) for m in range(4)]
    pages = [
        {"MetricDataResults": [{"Id": "consumed", "Timestamps": stamps[:2], "Values": [60, 120]}]},
        {"MetricDataResults": [{"Id": "consumed", "Timestamps": stamps[2:], "Values": [180, 0]}]},
    ]
    series = merge_pages(pages)
    assert to_trace("t", series, START, 5, initial_capacity=10)["demand"] == [1, 2, 3, 0, 0]


def test_an_on_demand_table_starts_at_twice_its_median_demand():
    series = {"consumed": {START + timedelta(minutes=m): 600.0 * (m + 1) for m in range(3)}}
    assert to_trace("t", series, START, 3)["initial_capacity"] == 40  # median 20/s
