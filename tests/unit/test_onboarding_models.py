"""The two events that start onboard_tables, parsed at the edge; everything else is refused."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from autoresponder.models.onboarding import (
    OnboardDecision,
    ScheduledEvent,
    TagChangeEvent,
    parse_trigger,
)
from tests.builders import alarm_event
from tests.onboarding import scheduled_event, tag_change_event


@pytest.mark.parametrize("source", ["aws.scheduler", "aws.events"])
def test_schedule_event_parses(source):
    trigger = parse_trigger(scheduled_event(source=source))
    assert isinstance(trigger, ScheduledEvent)
    assert trigger.account == "123456789012"
    assert trigger.time.isoformat() == "2026-11-20T15:00:00+00:00"


def test_tag_change_event_names_its_table():
    trigger = parse_trigger(tag_change_event("orders", {"autoresponder:managed": "true"}))
    assert isinstance(trigger, TagChangeEvent)
    assert trigger.table_name == "orders"
    assert trigger.detail.changed_tag_keys == ["autoresponder:managed"]
    assert trigger.detail.tags == {"autoresponder:managed": "true"}


def _without(event: dict, *path: str) -> dict:
    event = copy.deepcopy(event)
    node = event
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return event


def _with(event: dict, value: object, *path: str) -> dict:
    event = copy.deepcopy(event)
    node = event
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return event


TAG = tag_change_event("orders", {"autoresponder:managed": "true"})


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(alarm_event(), id="alarm-state-change"),
        pytest.param(
            tag_change_event("i-1", {}, service="ec2", resource_type="instance"), id="ec2"
        ),
        pytest.param(_with(TAG, "index", "detail", "resource-type"), id="not-a-table"),
        pytest.param(_without(TAG, "detail", "changed-tag-keys"), id="no-changed-keys"),
        pytest.param(_with(TAG, [], "resources"), id="no-resource"),
        pytest.param(
            _with(TAG, ["arn:aws:dynamodb:us-east-1:123456789012:stream/x"], "resources"),
            id="not-a-table-arn",
        ),
        pytest.param(_with(scheduled_event(), "Other", "detail-type"), id="other-detail-type"),
        pytest.param(_without(scheduled_event(), "time"), id="schedule-without-time"),
        pytest.param(_with(scheduled_event(), "abc", "account"), id="bad-account"),
        pytest.param(scheduled_event(source="aws.s3"), id="other-source"),
        pytest.param({}, id="empty"),
        pytest.param([1, 2], id="a-list"),
        pytest.param("text", id="a-string"),
    ],
)
def test_anything_else_is_refused(raw):
    with pytest.raises((ValidationError, ValueError)):
        parse_trigger(raw)


def test_decision_record_key_is_the_triggers():
    decision = OnboardDecision(
        runbook="onboard_tables",
        action="onboard",
        table_name="orders",
        reason="r",
        record_sk="ONBOARD#2026-11-20T15:00:00+00:00#sched-1",
    )
    assert decision.record_key() == ("DECISION#orders", "ONBOARD#2026-11-20T15:00:00+00:00#sched-1")


def test_decision_notification_lists_the_alarms():
    decision = OnboardDecision(
        runbook="onboard_tables",
        action="offboard",
        table_name="orders",
        reason="r",
        deleted=["autoresponder-orders-read-key-range-throttle"],
        conflicts=["autoresponder-orders-latency-Query"],
    )
    lines = decision.detail_lines()
    assert "Alarms deleted (1):" in lines
    assert "  - autoresponder-orders-read-key-range-throttle" in lines
    assert any("not made by the responder" in line for line in lines)
    assert decision.notify


def test_decision_notification_prices_the_alarm_metrics():
    decision = OnboardDecision(
        runbook="onboard_tables",
        action="onboard",
        table_name="orders",
        reason="r",
        alarm_count=16,
        alarm_metrics=20,
        alarm_cost_per_month=2.0,
        inputs={"price_per_alarm_month": 0.1},
    )
    (line,) = [line for line in decision.detail_lines() if line.startswith("Alarm cost:")]
    assert line.startswith("Alarm cost: 16 alarm(s) now, reading 20 metric(s); ")
    assert "$0.10 a month per metric a standard-resolution alarm reads" in line
    assert line.endswith("about $2.00 a month")
