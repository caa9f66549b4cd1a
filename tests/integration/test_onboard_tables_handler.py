"""The onboard_tables handler on an emulated account (moto): the alarms in CloudWatch, their
tags, the decision records and the notifications that reached the topic's queue."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from autoresponder.adapters.clients import client
from autoresponder.errors import AwsThrottledError
from functions.onboard_tables.app import lambda_handler
from tests.onboarding import MANAGED, scheduled_event, tag_change_event

ORDERS_TABLE_ALARMS = {
    f"autoresponder-orders-{kind}"
    for kind in (
        "read-provisioned-throttle",
        "write-provisioned-throttle",
        "read-key-range-throttle",
        "write-key-range-throttle",
        "read-above-provisioned",
        "write-above-provisioned",
    )
}
ORDERS_GSI_ALARMS = {name.replace("orders-", "orders-by-customer-") for name in ORDERS_TABLE_ALARMS}
DEFAULT_LATENCY = {
    f"autoresponder-orders-latency-{op}" for op in ("GetItem", "PutItem", "Query", "UpdateItem")
}


@pytest.fixture
def account(aws):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    aws.create_table("legacy", 10, 10)
    return aws


def alarms(aws) -> dict[str, dict[str, Any]]:
    found = {}
    for page in aws.cloudwatch.get_paginator("describe_alarms").paginate():
        found.update({a["AlarmName"]: a for a in page["MetricAlarms"]})
    return found


def tags_of(aws, alarm: dict[str, Any]) -> dict[str, str]:
    answer = aws.cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])
    return {t["Key"]: t["Value"] for t in answer["Tags"]}


def hand_made_alarm(aws, name: str, table: str = "orders") -> None:
    aws.cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/DynamoDB",
        MetricName="ConsumedReadCapacityUnits",
        Dimensions=[{"Name": "TableName", "Value": table}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1000,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "team", "Value": "db"}],
    )


def run(context, event_id: str, hour: int = 15) -> dict[str, Any]:
    return lambda_handler(scheduled_event(event_id, f"2026-11-20T{hour:02d}:00:00Z"), context)


def test_schedule_onboards_a_tagged_table_once(account, context):
    result = run(context, "s1")
    assert result["action"] == "reconcile"
    assert result["counts"] == {"onboard": 1}
    found = alarms(account)
    assert set(found) == ORDERS_TABLE_ALARMS | ORDERS_GSI_ALARMS | DEFAULT_LATENCY
    alarm = found["autoresponder-orders-by-customer-write-provisioned-throttle"]
    assert alarm["MetricName"] == "WriteProvisionedThroughputThrottleEvents"
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "TableName": "orders",
        "GlobalSecondaryIndexName": "by-customer",
    }
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 60, 0.0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert tags_of(account, alarm) == {
        "autoresponder:created-by": "onboard_tables",
        "autoresponder:table": "orders",
        "autoresponder:index": "by-customer",
        "autoresponder:kind": "write-provisioned-throttle",
    }
    latency = found["autoresponder-orders-latency-GetItem"]
    assert (latency["Statistic"], latency["Threshold"], latency["EvaluationPeriods"]) == (
        "Average",
        10.0,
        5,
    )
    # pre-throttle: metric math, consumed per second over the provisioned capacity
    burst = found["autoresponder-orders-by-customer-read-above-provisioned"]
    assert "MetricName" not in burst or not burst["MetricName"]
    expression, consumed, provisioned = burst["Metrics"]
    assert expression["Expression"] == (
        "100 * consumed / PERIOD(consumed) / FILL(provisioned, REPEAT)"
    )
    assert expression["ReturnData"] is True
    index = [
        {"Name": "GlobalSecondaryIndexName", "Value": "by-customer"},
        {"Name": "TableName", "Value": "orders"},
    ]
    assert consumed["MetricStat"] == {
        "Metric": {
            "Namespace": "AWS/DynamoDB",
            "MetricName": "ConsumedReadCapacityUnits",
            "Dimensions": index,
        },
        "Period": 60,
        "Stat": "Sum",
    }
    assert provisioned["MetricStat"]["Metric"]["MetricName"] == "ProvisionedReadCapacityUnits"
    assert provisioned["MetricStat"]["Stat"] == "Maximum"
    assert (burst["Threshold"], burst["ComparisonOperator"]) == (100.0, "GreaterThanThreshold")
    assert (burst["EvaluationPeriods"], burst["DatapointsToAlarm"]) == (1, 1)
    assert burst["TreatMissingData"] == "notBreaching"
    assert tags_of(account, burst)["autoresponder:kind"] == "read-above-provisioned"
    assert not any(name.startswith("autoresponder-legacy") for name in found)
    (item,) = [i for i in account.decision_items("orders") if i["sk"]["S"].startswith("ONBOARD#")]
    assert item["action"]["S"] == "onboard"
    assert item["notified"]["BOOL"] is True
    (note,) = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "onboard"
    assert note["MessageAttributes"]["table"]["Value"] == "orders"

    # the next hour: nothing to change, nothing recorded, nobody told
    before = {n: a["AlarmConfigurationUpdatedTimestamp"] for n, a in found.items()}
    records = len(account.decision_items("orders"))
    assert run(context, "s2", hour=16)["action"] == "skip"
    after = {n: a["AlarmConfigurationUpdatedTimestamp"] for n, a in alarms(account).items()}
    assert after == before
    assert len(account.decision_items("orders")) == records
    assert account.notifications() == []


def test_gaining_a_gsi_adds_its_alarms(account, context):
    run(context, "s1")
    account.notifications()
    account.dynamodb.update_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "day", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-day",
                    "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                }
            }
        ],
    )
    result = run(context, "s2", hour=16)
    (decision,) = result["decisions"]
    assert decision["action"] == "update_alarms"
    assert set(decision["created"]) == {
        n.replace("orders-", "orders-by-day-") for n in ORDERS_TABLE_ALARMS
    }
    assert set(decision["created"]) <= set(alarms(account))
    (note,) = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "update_alarms"


def test_a_deleted_tables_alarms_go_and_hand_made_ones_survive(account, context):
    hand_made_alarm(account, "autoresponder-orders-capacity-by-hand")
    hand_made_alarm(account, "orders-read-capacity")
    run(context, "s1")
    account.notifications()
    account.dynamodb.delete_table(TableName="orders")
    result = run(context, "s2", hour=16)
    (decision,) = result["decisions"]
    assert (decision["action"], decision["rule"]) == ("offboard", "offboard.deleted")
    assert set(alarms(account)) == {
        "autoresponder-orders-capacity-by-hand",
        "orders-read-capacity",
    }
    (note,) = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "offboard"


def test_tag_change_onboards_then_offboards_one_table(account, context):
    arn = account.dynamodb.describe_table(TableName="legacy")["Table"]["TableArn"]
    account.dynamodb.tag_resource(ResourceArn=arn, Tags=[_kv(MANAGED)])
    result = lambda_handler(tag_change_event("legacy", MANAGED, event_id="t1"), context)
    assert (result["action"], result["table_name"]) == ("onboard", "legacy")
    assert {n for n in alarms(account) if n.startswith("autoresponder-legacy-")}
    assert not any(n.startswith("autoresponder-orders-") for n in alarms(account))

    account.dynamodb.untag_resource(ResourceArn=arn, TagKeys=["autoresponder:managed"])
    result = lambda_handler(tag_change_event("legacy", {}, event_id="t2"), context)
    assert result["action"] == "offboard"
    assert not any(n.startswith("autoresponder-legacy-") for n in alarms(account))
    actions = [n["MessageAttributes"]["action"]["Value"] for n in account.notifications()]
    assert actions == ["onboard", "offboard"]


def _kv(tags: dict[str, str]) -> dict[str, str]:
    ((key, value),) = tags.items()
    return {"Key": key, "Value": value}


def test_latency_alarms_follow_the_operations_the_table_serves(account, context):
    now = account.clock.now()
    account.cloudwatch.put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": "SuccessfulRequestLatency",
                "Dimensions": [
                    {"Name": "TableName", "Value": "orders"},
                    {"Name": "Operation", "Value": op},
                ],
                "Value": 4.0,
                "Timestamp": now - timedelta(minutes=10),
            }
            for op in ("Query", "BatchGetItem")
        ],
    )
    run(context, "s1")
    latency = {n for n in alarms(account) if "-latency-" in n}
    assert latency == {
        "autoresponder-orders-latency-BatchGetItem",
        "autoresponder-orders-latency-Query",
    }
    assert alarms(account)["autoresponder-orders-latency-BatchGetItem"]["Threshold"] == 100.0


def test_watch_list_table_gets_alarms_without_the_managed_tag(account, context, monkeypatch):
    monkeypatch.setenv("WATCH_TABLES", "legacy, missing")
    result = run(context, "s1")
    assert result["counts"] == {"onboard": 2}
    legacy = next(d for d in result["decisions"] if d["table_name"] == "legacy")
    assert legacy["coverage"] == "watch"
    assert "autoresponder-legacy-write-provisioned-throttle" in alarms(account)
    # watched, never raised: no pre-throttle alarm
    assert "autoresponder-legacy-write-above-provisioned" not in alarms(account)
    arn = account.dynamodb.describe_table(TableName="legacy")["Table"]["TableArn"]
    assert account.dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []


def test_dry_run_creates_nothing(account, context, monkeypatch):
    monkeypatch.setenv("DRY_RUN", "true")
    result = run(context, "s1")
    (decision,) = result["decisions"]
    assert decision["dry_run"] is True
    assert alarms(account) == {}
    (note,) = account.notifications()
    assert json.loads(note["Message"])["content"]["title"].startswith(":information_source: [DRY")


def test_malformed_event_is_rejected(account, context):
    result = lambda_handler({"source": "aws.tag", "detail-type": "Tag Change on Resource"}, context)
    assert result["action"] == "reject"
    assert alarms(account) == {}
    answer = account.dynamodb.query(
        TableName="autoresponder-decisions",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "REJECT"}},
    )
    (item,) = answer["Items"]
    assert json.loads(item["raw_event"]["S"])["source"] == "aws.tag"


def test_throttled_put_metric_alarm_raises_then_the_retry_finishes(account, context):
    calls = {"n": 0}

    def throttle_the_third(**kwargs):
        calls["n"] += 1
        if calls["n"] != 3:
            return None
        return (
            AWSResponse("https://example.invalid", 400, {}, None),
            {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
        )

    # the handler's own (cached) client, as the wiring will build it
    cloudwatch = client("cloudwatch", "us-east-1")
    cloudwatch.meta.events.register("before-call.cloudwatch.PutMetricAlarm", throttle_the_third)
    with pytest.raises(AwsThrottledError):
        run(context, "s1")
    assert len(alarms(account)) == 2
    assert account.notifications() == []
    result = run(context, "s1")  # Lambda's retry of the same event
    assert result["counts"] == {"onboard": 1}
    assert set(alarms(account)) == ORDERS_TABLE_ALARMS | ORDERS_GSI_ALARMS | DEFAULT_LATENCY
    (note,) = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "onboard"


# --------------------------------------------------------------------------------------------
# the autoresponder:managed tag on scalable targets
# --------------------------------------------------------------------------------------------
class TargetTags:
    """Application Auto Scaling ListTagsForResource/TagResource/UntagResource on the handler's
    own client (moto 5 implements none of them), over the targets moto really registered: an
    ARN moto does not know answers ResourceNotFoundException, like AWS."""

    def __init__(self, aws) -> None:
        self.aws = aws
        self.tags: dict[str, dict[str, str]] = {}
        self.calls: list[str] = []
        events = client("application-autoscaling", "us-east-1").meta.events
        for operation in ("ListTagsForResource", "TagResource", "UntagResource"):
            events.register(
                f"before-call.application-autoscaling.{operation}", self._respond(operation)
            )

    def arns(self, resource_id: str) -> list[str]:
        answer = self.aws.autoscaling.describe_scalable_targets(
            ServiceNamespace="dynamodb", ResourceIds=[resource_id]
        )
        return [t["ScalableTargetARN"] for t in answer["ScalableTargets"]]

    def of(self, resource_id: str) -> list[dict[str, str]]:
        return [self.tags.get(arn, {}) for arn in self.arns(resource_id)]

    def _respond(self, operation: str) -> Any:
        def respond(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            self.calls.append(operation)
            body = json.loads(params["body"])
            arn = body["ResourceARN"]
            known = {
                a
                for rid in ("table/orders", "table/orders/index/by-customer")
                for a in self.arns(rid)
            }
            if arn not in known:
                return (
                    AWSResponse("https://example.invalid", 400, {}, None),
                    {"Error": {"Code": "ResourceNotFoundException", "Message": arn}},
                )
            tags = self.tags.setdefault(arn, {})
            if operation == "TagResource":
                tags.update(body["Tags"])
            elif operation == "UntagResource":
                for key in body["TagKeys"]:
                    tags.pop(key, None)
            answer: dict[str, Any] = (
                {"Tags": dict(tags)} if operation == "ListTagsForResource" else {}
            )
            return AWSResponse("https://example.invalid", 200, {}, None), answer

        return respond


def autoscale(aws, resource_id: str) -> None:
    kind = "index" if "/index/" in resource_id else "table"
    for unit in ("Read", "Write"):
        aws.autoscaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=resource_id,
            ScalableDimension=f"dynamodb:{kind}:{unit}CapacityUnits",
            MinCapacity=5,
            MaxCapacity=500,
        )


@pytest.fixture
def scaled(account):
    autoscale(account, "table/orders")
    autoscale(account, "table/orders/index/by-customer")
    return TargetTags(account)


def test_onboarding_tags_the_scalable_targets_and_offboarding_untags_them(account, scaled, context):
    (decision,) = run(context, "s1")["decisions"]
    assert decision["scalable_targets_tagged"] == [
        "table/orders (dynamodb:table:ReadCapacityUnits)",
        "table/orders (dynamodb:table:WriteCapacityUnits)",
        "table/orders/index/by-customer (dynamodb:index:ReadCapacityUnits)",
        "table/orders/index/by-customer (dynamodb:index:WriteCapacityUnits)",
    ]
    assert scaled.of("table/orders") == [MANAGED, MANAGED]
    assert scaled.of("table/orders/index/by-customer") == [MANAGED, MANAGED]
    (note,) = account.notifications()
    assert "4 scalable target(s) tagged" in json.loads(note["Message"])["content"]["description"]

    assert run(context, "s2", hour=16)["action"] == "skip"  # idempotent: no tag call
    assert scaled.calls.count("TagResource") == 4
    assert account.notifications() == []

    arn = account.dynamodb.describe_table(TableName="orders")["Table"]["TableArn"]
    account.dynamodb.untag_resource(ResourceArn=arn, TagKeys=["autoresponder:managed"])
    (decision,) = run(context, "s3", hour=17)["decisions"]
    assert decision["action"] == "offboard"
    assert len(decision["scalable_targets_untagged"]) == 4
    assert scaled.of("table/orders") == [{}, {}]
    assert scaled.of("table/orders/index/by-customer") == [{}, {}]


def test_dry_run_reports_the_target_tags_and_makes_no_tag_call(
    account, scaled, context, monkeypatch
):
    monkeypatch.setenv("DRY_RUN", "true")
    (decision,) = run(context, "s1")["decisions"]
    assert decision["dry_run"] is True
    assert len(decision["scalable_targets_tagged"]) == 4
    assert "TagResource" not in scaled.calls
    assert scaled.of("table/orders") == [{}, {}]
