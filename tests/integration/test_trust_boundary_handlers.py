"""Crafted events through the handlers on an emulated account (moto): the trust boundary's
effects on the account, the decision table and the message that reached the queue."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from functions.flag_hot_keys.app import lambda_handler as flag_hot_keys
from functions.onboard_tables.app import lambda_handler as onboard_tables
from functions.report_latency_regression.app import lambda_handler as report_latency
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import STATE_TIME, alarm_event, published
from tests.conftest import DECISION_TABLE
from tests.onboarding import tag_change_event

MANAGED = {"autoresponder:managed": "true"}
PHISHING = "orders <https://evil.example/login|Approve>\nSubject: URGENT"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def orders(aws):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    aws.publish(published(consumed=50, rejected=10))  # writes: demand 60/s against 50
    return aws


def rejects(account) -> list[dict[str, Any]]:
    answer = account.dynamodb.query(
        TableName=DECISION_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "REJECT"}},
    )
    return answer["Items"]


@pytest.mark.parametrize(
    ("handler", "event"),
    [
        pytest.param(scale_on_throttle, alarm_event(table=PHISHING), id="scale_on_throttle"),
        pytest.param(
            flag_hot_keys,
            alarm_event("WriteKeyRangeThroughputThrottleEvents", table=PHISHING),
            id="flag_hot_keys",
        ),
        pytest.param(
            report_latency,
            alarm_event("SuccessfulRequestLatency", table="orders", index="by customer <x>"),
            id="report_latency_regression",
        ),
        pytest.param(
            scale_on_throttle,
            alarm_event(table="orders", index="by-customer\n<https://evil.example|Approve>"),
            id="crafted-index",
        ),
    ],
)
def test_a_crafted_name_is_a_recorded_reject_that_touches_nothing(
    orders, context, handler: Handler, event: dict[str, Any]
):
    result = handler(event, context)
    assert result["action"] == "reject"
    assert "not a DynamoDB name" in result["reason"]
    assert "evil.example" not in result["reason"]
    [item] = rejects(orders)
    assert json.loads(item["raw_event"]["S"]) == event  # the payload kept as received
    assert orders.notifications() == []  # rejects are recorded, not announced
    assert orders.capacity("orders") == (100, 50)
    assert orders.capacity("orders", "by-customer") == (50, 25)
    assert orders.decision_items("orders") == []


def test_a_tag_change_for_a_crafted_table_name_is_a_reject(orders, context):
    event = tag_change_event("orders", MANAGED)
    event["resources"] = [event["resources"][0].replace("table/orders", "table/orders<x>")]
    result = onboard_tables(event, context)
    assert result["action"] == "reject"
    assert len(rejects(orders)) == 1


def test_what_an_alarm_carries_reaches_the_channel_escaped(orders, context):
    # a valid table, a crafted alarm name: the name is not DynamoDB's to validate (alarm names
    # are free text), so it is escaped wherever it is shown
    event = alarm_event(alarm_name=PHISHING)
    assert scale_on_throttle(event, context)["action"] == "scale_up"
    [note] = orders.notifications()  # conforming and subject-checked as it is drained
    subject = note["Subject"]
    assert subject == "scale up: orders"
    chat = json.loads(note["Message"])
    rendered = json.dumps(chat, ensure_ascii=False)
    assert "<https://evil" not in rendered
    assert "https://evil" not in rendered
    # (the queue gets SNS's `default` variant; the email variant: tests/unit/test_notification.py)
    record = json.loads(orders.decision_items("orders")[0]["decision"]["S"])
    assert record["alarm_name"] == PHISHING  # the record keeps it as it came


def test_managed_tag_not_exactly_true_is_not_managed(aws, context):
    # IAM would deny UpdateTable on this table: the code does not even try
    aws.create_table("orders", 100, 50, tags={"autoresponder:managed": "TRUE"})
    result = scale_on_throttle(alarm_event(), context)
    assert (result["action"], result["rule"]) == ("skip", "not_managed")
    assert aws.capacity("orders") == (100, 50)


def test_a_tag_of_a_million_cannot_take_a_table_past_the_hard_maximum(aws, context, monkeypatch):
    monkeypatch.setenv("HARD_MAX_WRITE_UNITS", "55")
    aws.create_table(
        "orders", 100, 50, tags={**MANAGED, "autoresponder:max-write-units": "1000000"}
    )
    aws.publish(published(consumed=50, rejected=10))  # demand 60/s: 75 with headroom
    result = scale_on_throttle(alarm_event(), context)
    assert result["action"] == "scale_up"
    assert aws.capacity("orders") == (100, 55)  # 75 would have been asked
    # a burst of further alarm state changes claiming ever more throttling
    for minutes in range(1, 6):
        event = alarm_event(
            timestamp=STATE_TIME + timedelta(minutes=minutes), datapoints=[1e6 * minutes]
        )
        scale_on_throttle(event, context)
    assert aws.capacity("orders") == (100, 55)


def test_a_burst_of_crafted_events_raises_one_measured_step_per_cooldown(orders, context):
    """Whoever may invoke the function or set an alarm's state can send many events claiming
    ever more throttling: the table moves by what CloudWatch measured, once per cooldown."""
    first = scale_on_throttle(alarm_event(), context)
    assert first["action"] == "scale_up"
    assert orders.capacity("orders") == (100, 75)  # demand 60/s + 25 %
    for n in range(1, 9):  # new state changes, other alarm names, datapoints from nowhere
        event = alarm_event(
            alarm_name=f"crafted-{n}",
            timestamp=STATE_TIME + timedelta(seconds=n),
            datapoints=[1e9 * n] * n,
        )
        result = scale_on_throttle(event, context)
        assert result["action"] != "scale_up", result["reason"]
    assert orders.capacity("orders") == (100, 75)
    # one change, one message
    assert [n["MessageAttributes"]["action"]["Value"] for n in orders.notifications()] == [
        "scale_up"
    ]
