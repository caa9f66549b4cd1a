"""What onboarding costs, said where people read it: the onboard_tables handler on moto, and the
message that reached the queue subscribed to the topic (the AWS Chatbot `default` variant)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.onboard_tables.app import lambda_handler
from tests.onboarding import MANAGED, scheduled_event

# orders (provisioned) with GSI by-customer: 4 throttle alarms (1 metric) and 2 pre-throttle
# alarms (metric math over 2 metrics) each, and 4 latency alarms (GetItem, PutItem, Query,
# UpdateItem: no latency metric listed yet). CloudWatch bills each metric an alarm reads.
ORDERS_ALARMS = 16
ORDERS_ALARM_METRICS = 2 * (4 + 2 * 2) + 4


@pytest.fixture
def account(aws):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    return aws


def _chat(note: dict[str, Any]) -> dict[str, Any]:
    return json.loads(note["Message"])


def test_onboarding_says_how_many_alarms_and_what_they_cost(account, context):
    result = lambda_handler(scheduled_event("s1", "2026-11-20T15:00:00Z"), context)
    (decision,) = result["decisions"]
    assert (decision["alarm_count"], decision["alarm_metrics"]) == (
        ORDERS_ALARMS,
        ORDERS_ALARM_METRICS,
    )
    assert decision["alarm_cost_per_month"] == 2.0
    alarms = account.cloudwatch.describe_alarms(AlarmNamePrefix="autoresponder-orders")
    created = alarms["MetricAlarms"]
    assert len(created) == ORDERS_ALARMS  # the count is what was created
    # ... and the metrics are what they read: one each, or the metrics of their metric math
    read = sum(
        sum(1 for q in a["Metrics"] if "MetricStat" in q) if a.get("Metrics") else 1
        for a in created
    )
    assert read == ORDERS_ALARM_METRICS == 20
    (note,) = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "onboard"
    assert (
        "16 alarms (20 alarm metrics), about $2.00 a month" in _chat(note)["content"]["description"]
    )
    (item,) = [i for i in account.decision_items("orders") if i["sk"]["S"].startswith("ONBOARD#")]
    assert json.loads(item["decision"]["S"])["alarm_cost_per_month"] == 2.0


def test_the_alarm_price_is_a_setting(account, context, monkeypatch):
    monkeypatch.setenv("PRICE_PER_ALARM_MONTH", "0.3")
    lambda_handler(scheduled_event("s1", "2026-11-20T15:00:00Z"), context)
    (note,) = account.notifications()
    assert (
        "16 alarms (20 alarm metrics), about $6.00 a month" in _chat(note)["content"]["description"]
    )


def test_offboarding_says_what_it_saves(account, context):
    lambda_handler(scheduled_event("s1", "2026-11-20T15:00:00Z"), context)
    account.notifications()
    account.dynamodb.delete_table(TableName="orders")
    result = lambda_handler(scheduled_event("s2", "2026-11-20T16:00:00Z"), context)
    (decision,) = result["decisions"]
    assert (decision["action"], decision["alarm_count"]) == ("offboard", 0)
    (note,) = account.notifications()
    assert (
        "16 alarms (20 alarm metrics) fewer, about $2.00 a month less"
        in _chat(note)["content"]["description"]
    )
