"""The scale_on_throttle handler on an emulated account (moto): effects, not calls.

Every test publishes what DynamoDB would have published (`tests.builders.published`): the alarm
only names the table, the metrics decide.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoresponder.adapters.clients import client
from autoresponder.errors import AwsThrottledError, MetricsNotReadyError, TableBusyError
from functions.scale_on_throttle.app import lambda_handler
from tests.builders import NOW, alarm_event, merged, published
from tests.conftest import reset_caches

MANAGED = {"autoresponder:managed": "true"}


@pytest.fixture
def orders(aws):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    aws.create_table("legacy", 10, 10)
    return aws


@pytest.fixture
def quiet(orders):
    """orders served all it was asked: nothing throttled (a mangled event that still parses is
    answered `no_throttling`; with no datapoint at all it would be publishing lag, a defer)."""
    orders.publish(published(consumed=20))
    return orders


@pytest.fixture
def write_throttled(orders):
    """orders' writes: 50 WCU/s served (all it has), 30 requests/s rejected: demand ≈ 80."""
    orders.publish(
        merged(
            published(consumed=50, rejected=30),
            published(dimension="read", consumed=40),
        )
    )
    return orders


def _fail_next(operation: str, code: str, status: int = 400, times: int = 1, service="dynamodb"):
    """Make the responder's own client answer `operation` with an AWS error."""
    remaining = {"n": times}

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

    client(service, "us-east-1").meta.events.register(f"before-call.{service}.{operation}", answer)


def _report_updating(times: int):
    """moto never reports UPDATING: rewrite the next DescribeTable answers as UPDATING."""
    remaining = {"n": times}

    def rewrite(parsed, **kwargs):
        if remaining["n"] > 0 and "Table" in parsed:
            remaining["n"] -= 1
            parsed["Table"]["TableStatus"] = "UPDATING"

    client("dynamodb", "us-east-1").meta.events.register(
        "after-call.dynamodb.DescribeTable", rewrite
    )


def _count_calls(service: str) -> list[str]:
    seen: list[str] = []

    def count(params, model, **kwargs):
        seen.append(f"{model.name}:{params.get('TableName', '')}")

    client(service, "us-east-1").meta.events.register(f"before-parameter-build.{service}", count)
    return seen


def test_write_throttle_raises_writes_to_the_demand_and_reports(write_throttled, context):
    result = lambda_handler(alarm_event(), context)
    assert (result["action"], result["rule"]) == ("scale_up", "provisioned.scale_up")
    assert result["table_name"] == "orders"
    assert result["index_name"] is None
    assert result["dry_run"] is False
    assert write_throttled.capacity("orders") == (100, 100)  # demand 80/s + 25 % headroom
    [item] = write_throttled.decision_items("orders")
    assert item["action"]["S"] == "scale_up"
    assert item["notification"]["S"] == "sent"
    recorded = json.loads(item["decision"]["S"])
    assert recorded["before"] == {"read": 100, "write": 50}
    assert recorded["after"] == {"read": 100, "write": 100}
    [writes] = [
        d for d in recorded["diagnosis"] if d["dimension"] == "write" and not d["index_name"]
    ]
    assert writes["cause"] == "provisioned"
    assert writes["throttled_events"] == 9000  # 30/s for 5 minutes
    assert writes["estimated_demand"] == 80.0
    [note] = write_throttled.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_up"
    email = json.loads(note["Message"])
    chat = json.loads(email) if isinstance(email, str) else email
    assert chat["version"] == "1.0"
    assert "orders" in chat["content"]["title"]


def test_updating_table_defers_and_the_last_attempt_is_announced(write_throttled, context):
    _report_updating(times=3)
    event = alarm_event()
    for _attempt in range(3):  # 1 + Lambda's 2 retries
        with pytest.raises(TableBusyError):
            lambda_handler(event, context)
    assert write_throttled.capacity("orders") == (100, 50)
    [note] = write_throttled.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "defer"
    assert note["MessageAttributes"]["severity"]["Value"] == "critical"
    [item] = write_throttled.decision_items("orders")
    assert item["action"]["S"] == "defer"
    # Once the table is ACTIVE again, a replay from the failure queue scales it, once.
    assert lambda_handler(event, context)["action"] == "scale_up"
    assert write_throttled.capacity("orders") == (100, 100)


def test_gsi_write_throttling_raises_the_index_not_the_table(orders, context):
    # The index lacks write capacity; DynamoDB throttles the base table's writes with it.
    orders.publish(
        merged(
            published(index="by-customer", consumed=25, rejected=15),
            published(consumed=20, rejected=15, cause=None),
        )
    )
    result = lambda_handler(
        alarm_event("WriteProvisionedThroughputThrottleEvents", index="by-customer"), context
    )
    assert (result["action"], result["index_name"]) == ("scale_up", "by-customer")
    assert orders.capacity("orders", "by-customer") == (50, 50)  # demand 40/s + 25 %
    assert orders.capacity("orders") == (100, 50)
    verdicts = {
        (v["index_name"], v["dimension"]): v["verdict"] for v in result["inputs"]["verdicts"]
    }
    assert verdicts[(None, "write")] == "back_pressure"


def test_duplicate_delivery_changes_nothing_twice_and_notifies_once(write_throttled, context):
    event = alarm_event()
    first = lambda_handler(event, context)
    second = lambda_handler(json.loads(json.dumps(event)), context)
    assert second == first
    assert write_throttled.capacity("orders") == (100, 100)
    assert len(write_throttled.notifications()) == 1


def test_read_and_write_alarms_handled_concurrently_both_take_effect(orders, context):
    orders.publish(
        merged(
            published(consumed=50, rejected=10),
            published(dimension="read", consumed=100, rejected=20),
        )
    )
    events = [alarm_event("ReadProvisionedThroughputThrottleEvents"), alarm_event()]
    start = threading.Barrier(2)
    answered = threading.Event()
    outcomes: list[str] = []

    def deliver(event):
        start.wait()
        for _attempt in range(3):  # Lambda's async attempts
            try:
                outcomes.append(lambda_handler(event, context)["action"])
                answered.set()
                return
            except TableBusyError:
                outcomes.append("defer")
                # Lambda retries a minute or more later: after the lock holder has answered,
                # however slow this machine is (the clock is frozen, the lock never expires)
                answered.wait(timeout=120)

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # the first pass sees both dimensions short and raises both in one call; the second finds
    # the demand it measured within the new capacity
    assert orders.capacity("orders") == (150, 75)
    assert outcomes.count("scale_up") == 1
    assert outcomes.count("skip") == 1


def test_unmanaged_table_is_reported_not_changed(orders, context):
    result = lambda_handler(alarm_event(table="legacy"), context)
    assert (result["action"], result["rule"]) == ("skip", "not_managed")
    assert orders.capacity("legacy") == (10, 10)
    assert orders.notifications() == []
    assert len(orders.decision_items("legacy")) == 1


def test_dry_run_setting_changes_nothing(write_throttled, context, monkeypatch):
    monkeypatch.setenv("DRY_RUN", "true")
    reset_caches()
    result = lambda_handler(alarm_event(), context)
    assert (result["action"], result["dry_run"]) == ("scale_up", True)
    assert write_throttled.capacity("orders") == (100, 50)
    [note] = write_throttled.notifications()
    assert note["Subject"].startswith("[DRY RUN]")


def test_resource_in_use_defers_then_succeeds_once(write_throttled, context):
    _fail_next("UpdateTable", "ResourceInUseException")
    with pytest.raises(TableBusyError):
        lambda_handler(alarm_event(), context)
    assert write_throttled.capacity("orders") == (100, 50)
    result = lambda_handler(alarm_event(), context)
    assert result["action"] == "scale_up"
    assert write_throttled.capacity("orders") == (100, 100)
    assert len(write_throttled.notifications()) == 1


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("AccessDeniedException", "error.AccessDeniedError"),
        ("LimitExceededException", "error.LimitExceededError"),
        ("ValidationException", "error.InvalidChangeError"),
    ],
)
def test_permanent_aws_errors_are_recorded_failures(write_throttled, context, code, rule):
    _fail_next("UpdateTable", code)
    result = lambda_handler(alarm_event(), context)
    assert (result["action"], result["rule"]) == ("fail", rule)
    assert write_throttled.capacity("orders") == (100, 50)
    [note] = write_throttled.notifications()
    assert note["MessageAttributes"]["severity"]["Value"] == "critical"
    # A redelivery of the same event does not try again nor notify again.
    again = lambda_handler(alarm_event(), context)
    assert again["action"] == "fail"
    assert write_throttled.notifications() == []


def test_control_plane_throttling_retries_without_double_scale_up(write_throttled, context):
    _fail_next("UpdateTable", "ThrottlingException")
    with pytest.raises(AwsThrottledError):
        lambda_handler(alarm_event(), context)
    lambda_handler(alarm_event(), context)
    lambda_handler(alarm_event(), context)
    assert write_throttled.capacity("orders") == (100, 100)
    assert len(write_throttled.notifications()) == 1


def test_nothing_throttled_in_cloudwatch_is_a_skip(orders, context):
    orders.publish(published(consumed=20))
    result = lambda_handler(alarm_event(), context)
    assert (result["action"], result["rule"]) == ("skip", "no_throttling")
    assert orders.capacity("orders") == (100, 50)
    assert orders.notifications() == []


def test_publishing_lag_looks_again_shortly(orders, context):
    # the alarm evaluated 14:04; CloudWatch answers nothing newer than 13:59 yet
    orders.publish(published(consumed=20, end=NOW - timedelta(minutes=5)))
    event = alarm_event()
    state = event["detail"]["state"]
    reason = json.loads(state["reasonData"])
    reason["evaluatedDatapoints"] = [{"timestamp": "2026-11-20T14:04:00.000+0000", "value": 42.0}]
    state["reasonData"] = json.dumps(reason)
    with pytest.raises(MetricsNotReadyError):
        lambda_handler(event, context)
    assert orders.capacity("orders") == (100, 50)
    [item] = orders.decision_items("orders")
    assert item["action"]["S"] == "defer"
    assert "publishing lag" in json.loads(item["decision"]["S"])["reason"]


def test_cloudwatch_unreadable_falls_back_to_the_alarm_metric_and_the_minimum_step(
    write_throttled, context
):
    _fail_next("GetMetricData", "Throttling", service="cloudwatch")
    result = lambda_handler(alarm_event(), context)
    assert result["action"] == "scale_up"
    assert write_throttled.capacity("orders") == (100, 60)  # +20 %: the minimum step
    assert "could not be read" in result["reason"]
    assert result["diagnosis"] is None


def test_a_foreign_account_event_is_skipped_without_touching_any_table(orders, context):
    event = alarm_event()
    event["account"] = "210987654321"
    calls = _count_calls("dynamodb")
    result = lambda_handler(event, context)
    assert (result["action"], result["rule"]) == ("skip", "foreign_event")
    assert "210987654321" in result["reason"]
    touched = [c for c in calls if not c.endswith(":autoresponder-decisions")]
    assert touched == []
    assert orders.capacity("orders") == (100, 50)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _mangled_events():
    base = alarm_event()
    paths = [
        ("source",),
        ("detail-type",),
        ("account",),
        ("detail",),
        ("detail", "state"),
        ("detail", "state", "value"),
        ("detail", "state", "timestamp"),
        ("detail", "alarmName"),
        ("detail", "configuration"),
        ("detail", "configuration", "metrics"),
    ]

    @st.composite
    def mangle(draw):
        event = json.loads(json.dumps(base))
        path = draw(st.sampled_from(paths))
        holder = event
        for key in path[:-1]:
            holder = holder[key]
        if draw(st.booleans()):
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = draw(json_values)
        return event

    return st.one_of(mangle(), json_values)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=_mangled_events())
def test_malformed_events_never_raise_and_never_mutate(quiet, context, event):
    result = lambda_handler(event, context)
    assert result["action"] in {"reject", "skip"}
    assert quiet.capacity("orders") == (100, 50)
