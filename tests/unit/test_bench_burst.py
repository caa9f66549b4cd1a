"""bench/burst.py on a small incident: its checks pass on effects and fail on a wrong account,
and its moto speed-up (`metrics_by_table`) answers GetMetricData as moto does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from bench import burst

SMALL = burst.Scenario(tables=6, read_throttled=4, again=2, duplicates=3)
NOW = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def small() -> burst.Report:
    return burst.burst(SMALL, workers=4, retry_pause=0.01)


def test_a_small_incident_passes_every_check_on_the_account(small: burst.Report):
    assert small.checks and all(small.checks.values()), small.checks
    assert small.distinct_events == SMALL.tables + SMALL.read_throttled + SMALL.again
    assert small.deliveries == small.distinct_events + SMALL.duplicates
    assert small.unresolved == 0 and small.lost == []
    # every throttled dimension (6 writes, 4 reads) ends at its measured demand plus headroom
    assert small.final == {
        "throttled dimensions": 10,
        "at demand + 25 %": 10,
        "at the minimum step": 0,
    }
    assert small.double_raises == [] and small.lost_updates == []
    # one change, one message and one re-check per table: its first alarm raised both
    # dimensions the diagnosis found throttled
    assert small.update_table["calls"] == small.notifications == small.schedules == SMALL.tables


def test_the_checks_fail_on_a_double_raise_and_a_quiet_dimension_changed():
    hot = burst.table_name(0)
    target = burst.measured_target(0, "write")
    account = burst.Account(
        records={},
        capacity={
            burst.table_name(i): {"read": burst.PROVISIONED, "write": burst.PROVISIONED}
            for i in range(SMALL.tables)
        },
        raises=[
            burst.Raise(hot, "write", 100, target),
            burst.Raise(hot, "write", target, target + 10),
            burst.Raise(burst.table_name(5), "read", 100, 130),
        ],
        lowered=[],
        update_calls=3,
        both_at_once=0,
        schedules={},
        updates_per_table={hot: 2, burst.table_name(5): 1},
    )
    account.capacity[burst.table_name(5)]["read"] = 130  # table 5's reads are quiet
    assert burst.double_raises(account, SMALL) == [
        f"{hot}/write: [{target}, {target + 10}]",
        f"{burst.table_name(5)}/read: [130]",
    ]
    lost = burst.lost_updates(account, SMALL)
    assert f"{burst.table_name(5)} read: 130" in lost  # quiet, yet changed
    assert f"{burst.table_name(1)} write: 100" in lost  # throttled, never raised


def test_metrics_by_table_answers_as_moto_does():
    scenario = replace(SMALL, tables=3, read_throttled=1)
    queries = [
        {
            "Id": f"m{n}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/DynamoDB",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "TableName", "Value": burst.table_name(i)}],
                },
                "Period": 60,
                "Stat": stat,
            },
        }
        for n, (i, metric, stat) in enumerate(
            (i, metric, stat)
            for i in range(scenario.tables)
            for metric in ("ConsumedReadCapacityUnits", "WriteThrottleEvents")
            for stat in ("Sum", "SampleCount")
        )
    ]

    def answers() -> list[tuple[str, list[float]]]:
        cloudwatch = boto3.client("cloudwatch", region_name=burst.REGION)
        found = cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=NOW - timedelta(minutes=20),
            EndTime=NOW,
        )["MetricDataResults"]
        return [(r["Id"], r["Values"]) for r in found]

    with mock_aws():
        burst.seed(boto3.session.Session(region_name=burst.REGION), NOW, scenario)
        plain = answers()
        with burst.metrics_by_table():
            indexed = answers()
    assert any(values for _, values in plain)  # the seeded incident is there to compare
    assert indexed == plain
