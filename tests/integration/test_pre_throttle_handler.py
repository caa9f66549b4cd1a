"""Act before throttling, on an emulated account (moto): onboard_tables makes a managed table's
pre-throttle alarms (consumed above provisioned for a minute), and their state change reaches
scale_on_throttle, which raises only where the table's metrics show demand above provisioned.

The events are built from the alarms' own definitions (`tests.onboarding.state_change_event`),
the alarms onboarding just created in the account.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from autoresponder.domain.alarm_plan import AlarmPolicy, desired_alarms
from autoresponder.models.onboarding import AlarmDefinition
from functions.onboard_tables.app import lambda_handler as onboard
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import merged, provisioned_table, published
from tests.onboarding import MANAGED, scheduled_event, state_change_event


@pytest.fixture
def orders(aws, context):
    """orders (100 RCU / 50 WCU, GSI by-customer 50 / 25), managed and onboarded."""
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    result = onboard(scheduled_event("s1", "2026-11-20T13:00:00Z"), context)
    assert result["counts"] == {"onboard": 1}
    aws.notifications()  # the onboarding notification is not what these tests are about
    return aws


def pre_throttle_alarm(name: str) -> AlarmDefinition:
    """The definition onboarding gives `name` (the same table as the `orders` fixture)."""
    table = provisioned_table("orders", 100, 50, indexes={"by-customer": (50, 25)})
    (alarm,) = [a for a in desired_alarms(table, (), AlarmPolicy()) if a.name == name]
    return alarm


def created(aws, name: str) -> dict[str, Any]:
    (alarm,) = aws.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm


def test_burst_being_spent_raises_the_writes_before_any_throttling(orders, context):
    name = "autoresponder-orders-write-above-provisioned"
    assert created(orders, name)["Metrics"]  # onboarding made it: metric math
    # 60 write units/s against 50 provisioned for 5 minutes, served from burst: not one
    # request throttled yet
    orders.publish(merged(published(consumed=60), published(dimension="read", consumed=40)))
    result = scale_on_throttle(state_change_event(pre_throttle_alarm(name)), context)
    assert (result["action"], result["rule"]) == ("scale_up", "provisioned.scale_up")
    assert (result["table_name"], result["index_name"], result["dimension"]) == (
        "orders",
        None,
        "write",
    )
    assert orders.capacity("orders") == (100, 75)  # demand 60/s + 25 % headroom, in one step
    assert orders.capacity("orders", "by-customer") == (50, 25)  # the index is untouched
    [item] = [i for i in orders.decision_items("orders") if i["action"]["S"] == "scale_up"]
    recorded = json.loads(item["decision"]["S"])
    [writes] = [
        d for d in recorded["diagnosis"] if d["dimension"] == "write" and not d["index_name"]
    ]
    assert writes["throttled_events"] == 0  # acted before throttling
    assert writes["estimated_demand"] == 60.0
    [note] = orders.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_up"


def test_a_gsi_spending_its_burst_is_raised_not_the_table(orders, context):
    name = "autoresponder-orders-by-customer-read-above-provisioned"
    orders.publish(published(index="by-customer", dimension="read", consumed=70))
    result = scale_on_throttle(state_change_event(pre_throttle_alarm(name)), context)
    assert (result["action"], result["index_name"], result["dimension"]) == (
        "scale_up",
        "by-customer",
        "read",
    )
    assert orders.capacity("orders", "by-customer") == (88, 25)  # 70/s + 25 %, rounded up
    assert orders.capacity("orders") == (100, 50)


def test_consumed_back_below_provisioned_is_a_skip_and_changes_nothing(orders, context):
    # the alarm fired on a minute of burst the metrics no longer show: demand fits the capacity
    name = "autoresponder-orders-write-above-provisioned"
    orders.publish(merged(published(consumed=40), published(dimension="read", consumed=40)))
    result = scale_on_throttle(state_change_event(pre_throttle_alarm(name)), context)
    assert (result["action"], result["rule"]) == ("skip", "no_throttling")
    assert orders.capacity("orders") == (100, 50)
    assert orders.capacity("orders", "by-customer") == (50, 25)
    assert orders.notifications() == []
    [item] = [i for i in orders.decision_items("orders") if i["action"]["S"] == "skip"]
    recorded = json.loads(item["decision"]["S"])
    assert recorded["alarm_name"] == name
    assert "within the provisioned capacity" in recorded["reason"]
