"""The report_latency_regression handler on an emulated account (moto) with seeded metric data.

moto's GetMetricData serves `put_metric_data` data (StatisticValues included) for Average,
Maximum and SampleCount, with timestamps days in the past, in one call over many queries:
the effects below are read back from the account (decision table, the queue subscribed to the
topic). Only AccessDenied, which moto cannot produce, is injected with a botocore event hook.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from autoresponder.adapters.clients import client
from autoresponder.domain.latency.windows import compared_windows
from autoresponder.errors import AwsUnavailableError
from functions.report_latency_regression.app import lambda_handler
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import alarm_event, published
from tests.conftest import DECISION_TABLE, REGION

EVENTS = Path(__file__).resolve().parents[2] / "events"
MANAGED = {"autoresponder:managed": "true"}
REPORT_PK = "REPORT#report_latency_regression"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def seed_latency(
    cloudwatch: Any, table: str, operation: str, windows: Any, *stats: tuple[float, int] | None
) -> None:
    """What DynamoDB publishes: one aggregated datum per window, (average, samples) for the
    current window, 1 day earlier and 7 days earlier (None: no data)."""
    data = []
    starts = (windows.current_start, windows.baseline_1d_start, windows.baseline_7d_start)
    for start, window in zip(starts, stats, strict=True):
        if window is None:
            continue
        average, count = window
        data.append(
            {
                "MetricName": "SuccessfulRequestLatency",
                "Dimensions": [
                    {"Name": "TableName", "Value": table},
                    {"Name": "Operation", "Value": operation},
                ],
                "Timestamp": start + timedelta(minutes=1),
                "StatisticValues": {
                    "SampleCount": count,
                    "Sum": average * count,
                    "Minimum": average / 4,
                    "Maximum": average * 3,
                },
                "Unit": "Milliseconds",
            }
        )
    cloudwatch.put_metric_data(Namespace="AWS/DynamoDB", MetricData=data)


def seed_sum(cloudwatch: Any, table: str, metric: str, when: datetime, value: float) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "TableName", "Value": table}],
                "Timestamp": when,
                "Value": value,
                "Unit": "Count",
            }
        ],
    )


def count_calls(operation: str) -> list[str]:
    """Count the responder's own CloudWatch requests of `operation`."""
    calls: list[str] = []
    client("cloudwatch", REGION).meta.events.register(
        f"before-call.cloudwatch.{operation}", lambda **kwargs: calls.append(operation)
    )
    return calls


def decision_item(aws: Any, pk: str) -> dict[str, Any]:
    answer = aws.dynamodb.query(
        TableName=DECISION_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )
    [item] = answer["Items"]
    return item


@pytest.fixture
def account(aws):
    aws.create_table("profiles", 200, 100, tags=MANAGED)
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    aws.create_table("inventory", 50, 50, tags={**MANAGED, "autoresponder:dry-run": "true"})
    aws.create_table("legacy", 10, 10)
    return aws


# --------------------------------------------------------------------------------------------
# the alarm
# --------------------------------------------------------------------------------------------
ALARM = sample("latency_alarm_getitem.json")
ALARM_WINDOWS = compared_windows(
    datetime(2026, 11, 20, 14, 12, 41, tzinfo=UTC), timedelta(minutes=15)
)


def test_alarm_reports_the_regression_with_seeded_metrics(account, context):
    seed_latency(account.cloudwatch, "profiles", "GetItem", ALARM_WINDOWS,
                 (14.5, 21_000), (3.8, 20_500), (3.6, 19_800))  # fmt: skip
    seed_latency(account.cloudwatch, "profiles", "PutItem", ALARM_WINDOWS,
                 (6.0, 3_000), (6.1, 3_100), (5.9, 2_900))  # fmt: skip
    seed_sum(account.cloudwatch, "profiles", "ReadThrottleEvents",
             ALARM_WINDOWS.current_start + timedelta(minutes=5), 120)  # fmt: skip
    calls = count_calls("GetMetricData")

    result = lambda_handler(ALARM, context)

    assert result["runbook"] == "report_latency_regression"
    assert result["action"] == "latency_regression"
    assert result["table_name"] == "profiles"
    assert result["index_name"] is None
    assert result["dry_run"] is False
    ops = {op["operation"]: op for op in result["operations"]}
    assert set(ops) == {"GetItem", "PutItem"}
    assert ops["GetItem"]["verdict"] == "regression"
    assert ops["GetItem"]["now"] == {"avg_ms": 14.5, "max_ms": 43.5, "samples": 21_000}
    assert ops["GetItem"]["baseline_1d"] == pytest.approx(
        {"avg_ms": 3.8, "max_ms": 11.4, "samples": 20_500}
    )
    assert ops["GetItem"]["baseline_7d"]["samples"] == 19_800
    assert ops["GetItem"]["sla_target_ms"] == 10.0
    assert ops["PutItem"]["verdict"] == "ok"
    held = [c["cause"] for c in result["causes"] if c["holds"]]
    assert held == ["throttling"]
    assert calls == ["GetMetricData"]  # 45 series, three windows: one call

    item = decision_item(account, "DECISION#profiles")
    assert item["action"]["S"] == "latency_regression"
    assert item["notified"]["BOOL"] is True
    assert json.loads(item["decision"]["S"])["operations"][0]["operation"] == "GetItem"
    [note] = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "latency_regression"
    chat = json.loads(note["Message"])
    assert "profiles" in chat["content"]["title"]
    graph = [s for s in chat["content"]["nextSteps"] if "metricsV2:graph=" in s]
    assert graph
    assert "SuccessfulRequestLatency" in graph[0]
    assert "profiles" in graph[0]


def test_duplicate_delivery_notifies_once(account, context):
    seed_latency(account.cloudwatch, "profiles", "GetItem", ALARM_WINDOWS,
                 (14.5, 21_000), (3.8, 20_500), None)  # fmt: skip
    first = lambda_handler(ALARM, context)
    second = lambda_handler(json.loads(json.dumps(ALARM)), context)
    assert second == first
    assert len(account.notifications()) == 1


def test_alarm_without_regression_is_recorded_not_notified(account, context):
    seed_latency(account.cloudwatch, "profiles", "GetItem", ALARM_WINDOWS,
                 (4.1, 21_000), (3.8, 20_500), (3.6, 19_800))  # fmt: skip
    result = lambda_handler(ALARM, context)
    assert result["action"] == "no_regression"
    assert "same window 1 and 7 days earlier" in result["reason"]
    item = decision_item(account, "DECISION#profiles")
    assert item["action"]["S"] == "no_regression"
    assert item["notified"]["BOOL"] is False
    assert account.notifications() == []


def test_recent_scale_up_by_the_responder_is_named_as_a_likely_cause(account, context):
    now = account.clock.now()
    windows = compared_windows(now, timedelta(minutes=15))
    account.publish(published("profiles", consumed=50, rejected=20, end=now))
    scaled = scale_on_throttle(
        alarm_event("WriteProvisionedThroughputThrottleEvents", "profiles", timestamp=now),
        context,
    )
    assert scaled["action"] == "scale_up"
    seed_latency(account.cloudwatch, "profiles", "PutItem", windows,
                 (21.0, 5_000), (6.0, 5_100), (6.2, 4_900))  # fmt: skip
    event = alarm_event("SuccessfulRequestLatency", "profiles", operation="PutItem", timestamp=now)
    result = lambda_handler(event, context)
    assert result["action"] == "latency_regression"
    [recent] = [c for c in result["causes"] if c["cause"] == "recent_change"]
    assert recent["holds"] is True
    assert "scale_up" in recent["detail"]


def test_access_denied_on_metrics_is_a_notified_failure(account, context):
    def deny(**kwargs):
        return (
            AWSResponse("https://example.invalid", 403, {}, None),
            {
                "Error": {"Code": "AccessDenied", "Message": "not authorized"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            },
        )

    client("cloudwatch", REGION).meta.events.register("before-call.cloudwatch.GetMetricData", deny)
    result = lambda_handler(ALARM, context)
    assert result["action"] == "fail"
    assert "AccessDenied" in result["reason"]
    [note] = account.notifications()
    assert note["MessageAttributes"]["severity"]["Value"] == "critical"


def test_malformed_event_is_rejected_and_kept(account, context):
    raw = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    result = lambda_handler(raw, context)
    assert result["action"] == "reject"
    item = decision_item(account, "REJECT")
    assert json.loads(item["raw_event"]["S"]) == raw
    assert account.notifications() == []


# --------------------------------------------------------------------------------------------
# the daily report
# --------------------------------------------------------------------------------------------
REPORT = sample("latency_daily_report.json")
REPORT_WINDOWS = compared_windows(datetime(2026, 11, 21, 7, tzinfo=UTC), timedelta(hours=24))


def test_daily_report_over_several_tables(account, context):
    cw = account.cloudwatch
    seed_latency(cw, "profiles", "GetItem", REPORT_WINDOWS,
                 (3.9, 2_000_000), (3.8, 1_950_000), (3.7, 1_900_000))  # fmt: skip
    seed_latency(cw, "orders", "Query", REPORT_WINDOWS,
                 (16.0, 800_000), (6.5, 790_000), (6.1, 805_000))  # fmt: skip
    seed_latency(cw, "orders", "GetItem", REPORT_WINDOWS,
                 (4.0, 300_000), (4.1, 290_000), None)  # fmt: skip
    seed_latency(cw, "inventory", "UpdateItem", REPORT_WINDOWS,
                 (8.0, 40_000), (7.9, 41_000), (8.1, 39_000))  # fmt: skip
    seed_latency(cw, "legacy", "GetItem", REPORT_WINDOWS,
                 (80.0, 40_000), (4.0, 41_000), None)  # fmt: skip
    cw.put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": "ReturnedItemCount",
                "Dimensions": [
                    {"Name": "TableName", "Value": "orders"},
                    {"Name": "Operation", "Value": "Query"},
                ],
                "Timestamp": REPORT_WINDOWS.current_start + timedelta(hours=3),
                "StatisticValues": {
                    "SampleCount": 1_000,
                    "Sum": 640_000,
                    "Minimum": 1,
                    "Maximum": 5_000,
                },
                "Unit": "Count",
            }
        ],
    )
    calls = count_calls("GetMetricData")

    result = lambda_handler(REPORT, context)

    assert result["action"] == "latency_regression"
    assert result["table_name"] is None
    assert result["tables"] == ["inventory", "orders", "profiles"]  # not legacy (unmanaged)
    verdicts = {(op["table_name"], op["operation"]): op["verdict"] for op in result["operations"]}
    assert verdicts == {
        ("inventory", "UpdateItem"): "ok",
        ("orders", "GetItem"): "ok",
        ("orders", "Query"): "regression",
        ("profiles", "GetItem"): "ok",
    }
    held = [(c["table_name"], c["cause"]) for c in result["causes"] if c["holds"]]
    assert held == [("orders", "many_items")]
    assert "Query returned 640 items per request" in result["causes"][2]["detail"]
    assert calls == ["GetMetricData"]  # 3 tables x 45 series over 8 daily periods: one call

    item = decision_item(account, REPORT_PK)
    assert item["sk"]["S"] == "RUN#2026-11-21T07:00:00+00:00"
    assert item["notified"]["BOOL"] is True
    [note] = account.notifications()
    body = json.loads(note["Message"])
    assert "orders" in body["content"]["description"]
    assert any("Latency graph of orders" in step for step in body["content"]["nextSteps"])


def test_daily_report_delivered_twice_reports_once(account, context):
    seed_latency(account.cloudwatch, "orders", "Query", REPORT_WINDOWS,
                 (16.0, 800_000), (6.5, 790_000), None)  # fmt: skip
    first = lambda_handler(REPORT, context)
    second = lambda_handler(json.loads(json.dumps(REPORT)), context)
    assert second == first
    assert len(account.notifications()) == 1


def test_daily_report_without_regressions_is_not_notified(account, context):
    seed_latency(account.cloudwatch, "orders", "Query", REPORT_WINDOWS,
                 (6.4, 800_000), (6.5, 790_000), (6.1, 805_000))  # fmt: skip
    result = lambda_handler(REPORT, context)
    assert result["action"] == "no_regression"
    assert "orders/Query 6.4 ms" in result["reason"]
    assert decision_item(account, REPORT_PK)["notified"]["BOOL"] is False
    assert account.notifications() == []


def test_a_failed_notification_is_sent_by_the_retry_without_reading_metrics_again(account, context):
    seed_latency(account.cloudwatch, "profiles", "GetItem", ALARM_WINDOWS,
                 (14.5, 21_000), (3.8, 20_500), None)  # fmt: skip
    failures = {"left": 1}

    def unavailable(**kwargs):
        if failures["left"] <= 0:
            return None
        failures["left"] -= 1
        return (
            AWSResponse("https://example.invalid", 503, {}, None),
            {
                "Error": {"Code": "ServiceUnavailable", "Message": "try later"},
                "ResponseMetadata": {"HTTPStatusCode": 503},
            },
        )

    client("sns", REGION).meta.events.register("before-call.sns.Publish", unavailable)
    calls = count_calls("GetMetricData")
    with pytest.raises(AwsUnavailableError):
        lambda_handler(ALARM, context)  # Lambda retries the event
    assert decision_item(account, "DECISION#profiles")["notified"]["BOOL"] is False

    result = lambda_handler(ALARM, context)

    assert result["action"] == "latency_regression"
    assert calls == ["GetMetricData"]
    [note] = account.notifications()
    chat = json.loads(note["Message"])
    assert "GetItem averages 14.5 ms vs 3.8 ms 1 day earlier" in chat["content"]["description"]
    assert decision_item(account, "DECISION#profiles")["notified"]["BOOL"] is True
