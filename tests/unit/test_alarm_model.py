"""Parsing the EventBridge alarm event at the edge."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autoresponder.domain.alarm_target import AlarmTarget, Unresolved, resolve_target
from autoresponder.models.alarm import AlarmStateChangeEvent, AlarmStateValue
from tests.builders import STATE_TIME, alarm_event, composite_event, metric_math_event


def test_real_timestamp_and_reason_data_string_are_parsed():
    event = AlarmStateChangeEvent.model_validate(alarm_event(datapoints=[12.0, 40.0]))
    assert event.detail.state.timestamp == STATE_TIME
    assert event.detail.state.value is AlarmStateValue.ALARM
    assert event.detail.state.recent_datapoints == [12.0, 40.0]
    assert event.idempotency_key.endswith("2026-11-20T14:05:12.347000+00:00")


def test_unreadable_reason_data_is_kept_not_fatal():
    raw = alarm_event()
    raw["detail"]["state"]["reasonData"] = "{not json"
    event = AlarmStateChangeEvent.model_validate(raw)
    assert event.detail.state.reason_data == {"unparsed": "{not json"}
    assert event.detail.state.recent_datapoints == []


def test_composite_alarm_names_its_triggering_children():
    event = AlarmStateChangeEvent.model_validate(composite_event(["a-child", "b-child"]))
    assert event.detail.configuration.is_composite
    assert event.detail.state.triggering_alarm_names == ["a-child", "b-child"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        pytest.param(lambda e: e.pop("detail"), "detail", id="no-detail"),
        pytest.param(lambda e: e.update(source="aws.ec2"), "source", id="other-source"),
        pytest.param(lambda e: e["detail"]["state"].pop("timestamp"), "timestamp", id="no-ts"),
        pytest.param(lambda e: e["detail"]["state"].update(value="BROKEN"), "value", id="state"),
        pytest.param(lambda e: e.update(account="me"), "account", id="bad-account"),
        pytest.param(lambda e: e["detail"].update(alarmName=""), "alarmName", id="empty-name"),
    ],
)
def test_malformed_events_fail_validation(mutate, field):
    raw = alarm_event()
    mutate(raw)
    with pytest.raises(ValidationError, match=field):
        AlarmStateChangeEvent.model_validate(raw)


def _metrics(raw):
    return AlarmStateChangeEvent.model_validate(raw).detail.configuration.metrics


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            alarm_event(),
            AlarmTarget("orders", None, "WriteProvisionedThroughputThrottleEvents"),
            id="table",
        ),
        pytest.param(
            alarm_event("ReadProvisionedThroughputThrottleEvents", index="by-customer"),
            AlarmTarget("orders", "by-customer", "ReadProvisionedThroughputThrottleEvents"),
            id="gsi",
        ),
        pytest.param(
            alarm_event("ThrottledRequests", operation="PutItem"),
            AlarmTarget("orders", None, "ThrottledRequests", "PutItem"),
            id="operation",
        ),
        pytest.param(
            metric_math_event(), AlarmTarget("orders", None, "ReadThrottleEvents"), id="metric-math"
        ),
    ],
)
def test_resolves_the_watched_table(raw, expected):
    assert resolve_target(_metrics(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        pytest.param(alarm_event("CPUUtilization", namespace="AWS/EC2"), "AWS/EC2", id="ec2"),
        pytest.param(metric_math_event(other_table="users"), "several tables", id="two-tables"),
        pytest.param(composite_event(["x"]), "no metric", id="composite-unresolved"),
    ],
)
def test_unresolvable_alarms_say_why(raw, why):
    result = resolve_target(_metrics(raw))
    assert isinstance(result, Unresolved)
    assert why in result.reason
