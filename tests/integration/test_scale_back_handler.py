"""The scale_back handler on an emulated account (moto): effects, not calls.

moto does not count decreases (`NumberOfDecreasesToday` is dropped after an UpdateTable, there
is no `LastDecreaseDateTime`) and stamps an alarm's state with the moment it was set: those two
answers are edited by botocore event hooks on the responder's own client, nothing else.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from botocore.awsrequest import AWSResponse

from autoresponder.adapters.clients import client
from autoresponder.adapters.decision_table.scale_history import DynamoDBScaleHistory, scale_sort_key
from autoresponder.errors import AwsThrottledError
from autoresponder.models.decision import Action, AutoScalingLimits
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits
from functions.scale_back.app import lambda_handler
from tests.builders import NOW, alarm_event, published
from tests.conftest import DECISION_TABLE, reset_caches
from tests.scale_back_fakes import raised, scheduled_event

MANAGED = {"autoresponder:managed": "true"}
WRITE = Dimension.WRITE
REGION = "us-east-1"


@pytest.fixture
def orders(aws):
    """`orders` raised by the responder from 100 to 400 write units two hours ago."""
    aws.create_table("orders", 100, 400, tags=MANAGED, gsi="by-customer")
    seed(Capacity(read=100, write=100), Capacity(read=100, write=400))
    return aws


def seed(before, after, *, hours_ago: float = 2, table: str = "orders", action=Action.SCALE_UP):
    store = DynamoDBScaleHistory(DECISION_TABLE, region=REGION)
    history = raised(before, after, at=NOW - timedelta(hours=hours_ago), action=action)
    store.save_scale_history(table, None, WRITE, history)


def scale_items(aws) -> dict[str, dict]:
    answer = aws.dynamodb.query(
        TableName=DECISION_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "SCALE"}},
    )
    return {item["sk"]["S"]: item for item in answer["Items"]}


def put_consumed(aws, units_per_second: float, table: str = "orders", rejected: float = 0) -> None:
    """The last 30 minutes of `table`'s writes, as DynamoDB publishes them."""
    aws.publish(published(table, consumed=units_per_second, rejected=rejected, minutes=30))


def throttling_alarm(aws, table: str = "orders", name: str = "orders-write-throttle") -> str:
    aws.cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/DynamoDB",
        MetricName="WriteProvisionedThroughputThrottleEvents",
        Dimensions=[{"Name": "TableName", "Value": table}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    aws.cloudwatch.set_alarm_state(
        AlarmName=name,
        StateValue="ALARM",
        StateReason="Threshold Crossed",
        StateReasonData=json.dumps({"recentDatapoints": [25.0]}),
    )
    return name


def hook(service: str, event: str, handler) -> None:
    client(service, REGION).meta.events.register(event, handler)


def decreases_reported(count: int, last: datetime):
    """What DynamoDB reports and moto does not: the decreases spent today."""

    def edit(parsed, **kwargs):
        throughput = parsed.get("Table", {}).get("ProvisionedThroughput")
        if throughput is not None:
            throughput["NumberOfDecreasesToday"] = count
            throughput["LastDecreaseDateTime"] = last

    return edit


def in_alarm_since(since: datetime):
    def edit(parsed, **kwargs):
        for alarm in parsed.get("MetricAlarms", []):
            alarm["StateUpdatedTimestamp"] = since

    return edit


def fail_next(operation: str, code: str, status: int = 400):
    remaining = {"n": 1}

    def answer(**kwargs):
        if remaining["n"] <= 0:
            return None
        remaining["n"] -= 1
        return (
            AWSResponse("https://example.invalid", status, {}, None),
            {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
        )

    return answer


def run(context, **overrides):
    return lambda_handler(scheduled_event(NOW, **overrides), context)


def test_a_quiet_table_is_scaled_back_to_its_peak_recorded_and_announced(orders, context):
    put_consumed(orders, 200.0)
    result = run(context)
    assert (result["action"], result["rule"]) == ("scale_down", "provisioned.scale_down")
    assert (result["runbook"], result["table_name"], result["index_name"]) == (
        "scale_back",
        "orders",
        None,
    )
    assert result["dry_run"] is False
    assert orders.capacity("orders") == (100, 250)  # peak 200/s + 25 %, in one decrease
    [item] = orders.decision_items("orders")
    assert item["action"]["S"] == "scale_down"
    assert item["notified"]["BOOL"] is True
    recorded = json.loads(item["decision"]["S"])
    assert recorded["before"] == {"read": 100, "write": 400}
    assert recorded["after"] == {"read": 100, "write": 250}
    assert recorded["inputs"]["consumed_peak_per_second"] == pytest.approx(200.0)
    [note] = orders.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_down"
    assert note["MessageAttributes"]["runbook"]["Value"] == "scale_back"
    history = scale_items(orders)[scale_sort_key("orders", None, WRITE)]
    assert json.loads(history["after"]["S"]) == {"read": 100, "write": 250}
    assert json.loads(history["original"]["S"]) == {"read": 100, "write": 100}
    assert history["action"]["S"] == "scale_down"
    assert history["status"]["S"] == "applied"


def test_the_last_step_restores_the_original_and_forgets_the_raise(orders, context):
    orders.dynamodb.update_table(
        TableName="orders",
        ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 150},
    )
    seed(Capacity(read=100, write=100), Capacity(read=100, write=150))
    result = run(context)
    assert (result["action"], result["rule"]) == ("scale_down", "provisioned.restore")
    assert orders.capacity("orders") == (100, 100)
    assert scale_items(orders) == {}


def test_busy_table_holds_without_notifying(orders, context):
    put_consumed(orders, 400.0)
    result = run(context)
    assert (result["action"], result["rule"], result["hold_reason"]) == (
        "hold",
        "hold.busy",
        "still_busy",
    )
    assert orders.capacity("orders") == (100, 400)
    [item] = orders.decision_items("orders")
    assert item["notified"]["BOOL"] is False
    assert orders.notifications() == []


def test_the_decrease_budget_comes_from_describe_table(orders, context):
    hook(
        "dynamodb",
        "after-call.dynamodb.DescribeTable",
        decreases_reported(4, NOW - timedelta(minutes=10)),
    )
    result = run(context)
    assert (result["action"], result["rule"], result["hold_reason"]) == (
        "hold",
        "hold.budget_exhausted",
        "budget",
    )
    assert result["inputs"]["decreases_today"] == 4
    assert orders.capacity("orders") == (100, 400)
    assert orders.notifications() == []


def test_no_decrease_while_a_throttling_alarm_of_the_table_is_in_alarm(orders, context):
    name = throttling_alarm(orders)
    result = run(context)  # the alarm is fresh: scale_on_throttle's, no follow-up yet
    assert (result["action"], result["rule"]) == ("hold", "hold.throttling")
    assert name in result["reason"]
    assert orders.capacity("orders") == (100, 400)


def test_an_alarm_still_in_alarm_with_a_measured_shortfall_is_followed_up(orders, context):
    throttling_alarm(orders)
    hook(
        "cloudwatch",
        "after-call.cloudwatch.DescribeAlarms",
        in_alarm_since(NOW - timedelta(minutes=20)),
    )
    put_consumed(orders, 400.0, rejected=50.0)  # demand 450/s against 400
    result = run(context)
    assert (result["action"], result["rule"]) == ("scale_up", "follow_up.provisioned.scale_up")
    assert result["alarm_name"] == "orders-write-throttle"
    assert orders.capacity("orders") == (100, 563)
    assert result["counts"] == {"scale_up": 1, "hold": 1}
    [note] = orders.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_up"
    history = scale_items(orders)[scale_sort_key("orders", None, WRITE)]
    assert json.loads(history["original"]["S"]) == {"read": 100, "write": 100}


def test_an_autoscaled_table_gets_its_original_limits_back(aws, context):
    aws.create_table("orders", 100, 400, tags=MANAGED)
    aws.autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension="dynamodb:table:WriteCapacityUnits",
        MinCapacity=400,
        MaxCapacity=1000,
    )
    seed(
        AutoScalingLimits(min_capacity=50, max_capacity=500),
        AutoScalingLimits(min_capacity=400, max_capacity=1000),
        action=Action.RAISE_AUTOSCALING_MIN,
    )
    result = run(context)
    assert (result["action"], result["rule"]) == ("restore_autoscaling", "autoscaling.restore")
    [target] = aws.autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (50, 500)
    assert aws.capacity("orders") == (100, 400)  # the table is Auto Scaling's to resize
    assert scale_items(aws) == {}


def test_a_refused_decrease_is_a_notified_failure(orders, context):
    hook(
        "dynamodb",
        "before-call.dynamodb.UpdateTable",
        fail_next("UpdateTable", "LimitExceededException"),
    )
    result = run(context)
    assert (result["action"], result["rule"]) == ("fail", "error.LimitExceededError")
    assert orders.capacity("orders") == (100, 400)
    [note] = orders.notifications()
    assert note["MessageAttributes"]["severity"]["Value"] == "critical"
    history = scale_items(orders)[scale_sort_key("orders", None, WRITE)]
    assert json.loads(history["after"]["S"]) == {"read": 100, "write": 400}


def test_a_failed_announcement_retries_the_run_without_acting_twice(orders, context):
    hook("sns", "before-call.sns.Publish", fail_next("Publish", "Throttling"))
    put_consumed(orders, 200.0)
    event = scheduled_event(NOW)
    with pytest.raises(AwsThrottledError):
        lambda_handler(event, context)
    again = lambda_handler(event, context)  # Lambda's async retry of the same event
    assert again["action"] == "scale_down"
    assert orders.capacity("orders") == (100, 250)
    assert len(orders.notifications()) == 1


def test_a_duplicate_delivery_changes_nothing_twice_and_notifies_once(orders, context):
    put_consumed(orders, 200.0)
    event = scheduled_event(NOW)
    first = lambda_handler(event, context)
    second = lambda_handler(json.loads(json.dumps(event)), context)
    assert first["action"] == second["action"] == "scale_down"
    assert orders.capacity("orders") == (100, 250)
    assert len(orders.notifications()) == 1


def test_nothing_to_do_records_nothing(aws, context):
    aws.create_table("orders", 100, 50, tags=MANAGED)
    result = run(context)
    assert (result["action"], result["rule"]) == ("skip", "nothing_to_do")
    assert result["decisions"] == []
    assert aws.decision_items("orders") == []
    assert aws.notifications() == []


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(alarm_event(), id="an-alarm-state-change"),
        pytest.param(scheduled_event(NOW, source="aws.s3"), id="other-source"),
        pytest.param({"detail-type": "Scheduled Event"}, id="half-an-event"),
    ],
)
def test_anything_but_a_scheduled_event_is_rejected_and_kept(orders, context, event):
    result = lambda_handler(event, context)
    assert result["action"] == "reject"
    assert orders.capacity("orders") == (100, 400)
    answer = orders.dynamodb.query(
        TableName=DECISION_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "REJECT"}},
    )
    [item] = answer["Items"]
    assert json.loads(item["raw_event"]["S"]) == event


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(Capacity(read=100, write=50), Capacity(read=100, write=88), id="units"),
        pytest.param(
            AutoScalingLimits(min_capacity=50, max_capacity=200),
            AutoScalingLimits(min_capacity=175, max_capacity=200),
            id="autoscaling",
        ),
        pytest.param(
            OnDemandLimits(read=2000, write=1000),
            OnDemandLimits(read=3125, write=1000),
            id="on-demand-caps",
        ),
    ],
)
def test_the_scale_history_keeps_the_kind_of_what_was_raised(aws, before, after):
    # {"read": .., "write": ..} reads as units or as on-demand caps: the stored kind decides
    seed(before, after, table="clickstream")
    store = DynamoDBScaleHistory(DECISION_TABLE, region=REGION)
    history = store.all_scale_history()["clickstream#-#write"]
    assert (history.before, history.after, history.original) == (before, after, before)
    assert type(history.after) is type(after)


def test_dry_run_setting_decides_and_announces_but_changes_nothing(orders, context, monkeypatch):
    monkeypatch.setenv("DRY_RUN", "true")
    reset_caches()
    result = run(context)
    assert (result["action"], result["dry_run"]) == ("scale_down", True)
    assert orders.capacity("orders") == (100, 400)
    history = scale_items(orders)[scale_sort_key("orders", None, WRITE)]
    assert json.loads(history["after"]["S"]) == {"read": 100, "write": 400}
    [note] = orders.notifications()
    assert note["Subject"].startswith("[DRY RUN]")
