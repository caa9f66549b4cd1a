"""Table and index names from events follow DynamoDB's own rules, or the event is rejected."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.names import is_dynamodb_name
from autoresponder.models.onboarding import parse_trigger
from tests.builders import alarm_event, metric_math_event
from tests.onboarding import tag_change_event

PHISHING = "orders <https://evil.example/login|Approve>\nSubject: URGENT"


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        pytest.param("orders", True, id="plain"),
        pytest.param("Orders_2026.v2-eu", True, id="every-allowed-kind"),
        pytest.param("abc", True, id="three"),
        pytest.param("a" * 255, True, id="255"),
        pytest.param("ab", False, id="two"),
        pytest.param("a" * 256, False, id="256"),
        pytest.param("orders table", False, id="blank"),
        pytest.param("orders\n", False, id="line-break"),
        pytest.param("orders<x>", False, id="angle-brackets"),
        pytest.param("órders", False, id="non-ascii"),
        pytest.param(PHISHING, False, id="phishing"),
    ],
)
def test_dynamodb_name_rules(name, valid):
    assert is_dynamodb_name(name) is valid


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(alarm_event(table=PHISHING), id="table"),
        pytest.param(alarm_event(table="ab"), id="short-table"),
        pytest.param(
            alarm_event("ReadProvisionedThroughputThrottleEvents", index="by customer"),
            id="index",
        ),
        pytest.param(metric_math_event(table=PHISHING), id="metric-math"),
    ],
)
def test_alarm_event_with_a_name_dynamodb_would_refuse_is_invalid(raw):
    with pytest.raises(ValidationError, match="not a DynamoDB name") as caught:
        AlarmStateChangeEvent.model_validate(raw)
    # the reason names the dimension, never echoes the crafted value
    assert "evil.example" not in str(caught.value.errors()[0]["msg"])


def test_valid_names_and_other_namespaces_pass():
    event = AlarmStateChangeEvent.model_validate(
        alarm_event(table="orders_2026.v2-eu", index="by-customer.v1")
    )
    assert event.detail.configuration.metrics
    # only AWS/DynamoDB dimensions name DynamoDB resources
    other = alarm_event(table="web fleet <1>", namespace="AWS/EC2")
    assert AlarmStateChangeEvent.model_validate(other).alarm_name


def test_tag_change_for_a_table_name_dynamodb_would_refuse_is_invalid():
    event = tag_change_event("orders", {"autoresponder:managed": "true"})
    event["resources"] = [event["resources"][0].replace("table/orders", "table/or ders<x>")]
    with pytest.raises(ValidationError, match="not a DynamoDB name"):
        parse_trigger(event)
    assert parse_trigger(tag_change_event("orders.v2", {})).table_name == "orders.v2"
