"""The scale_on_throttle handler on an emulated account (moto): effects, not calls."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoresponder.adapters.clients import client
from autoresponder.errors import AwsThrottledError, TableBusyError
from functions.scale_on_throttle.app import lambda_handler
from tests.builders import alarm_event
from tests.conftest import reset_caches

MANAGED = {"autoresponder:managed": "true"}


@pytest.fixture
def orders(aws):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    aws.create_table("legacy", 10, 10)
    return aws


def _fail_next(operation: str, code: str, status: int = 400, times: int = 1):
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

    client("dynamodb", "us-east-1").meta.events.register(
        f"before-call.dynamodb.{operation}", answer
    )


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


def test_updating_table_defers_and_the_last_attempt_is_announced(orders, context):
    _report_updating(times=3)
    event = alarm_event()
    for _attempt in range(3):  # 1 + Lambda's 2 retries
        with pytest.raises(TableBusyError):
            lambda_handler(event, context)
    assert orders.capacity("orders") == (100, 50)
    [note] = orders.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "defer"
    assert note["MessageAttributes"]["severity"]["Value"] == "critical"
    [item] = orders.decision_items("orders")
    assert item["action"]["S"] == "defer"
    # Once the table is ACTIVE again, a replay from the failure queue scales it, once.
    assert lambda_handler(event, context)["action"] == "scale_up"
    assert orders.capacity("orders") == (100, 60)


def test_write_throttle_raises_write_capacity_and_reports(orders, context):
    result = lambda_handler(alarm_event(), context)
    assert result["action"] == "scale_up"
    assert result["table_name"] == "orders"
    assert result["index_name"] is None
    assert result["dry_run"] is False
    assert orders.capacity("orders") == (100, 60)
    [item] = orders.decision_items("orders")
    assert item["action"]["S"] == "scale_up"
    assert item["notified"]["BOOL"] is True
    recorded = json.loads(item["decision"]["S"])
    assert recorded["before"] == {"read": 100, "write": 50}
    assert recorded["after"] == {"read": 100, "write": 60}
    [note] = orders.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_up"
    assert note["MessageAttributes"]["table"]["Value"] == "orders"
    chat = json.loads(note["Message"])
    assert chat["version"] == "1.0"
    assert chat["source"] == "custom"
    assert "orders" in chat["content"]["title"]


def test_gsi_alarm_changes_the_index_only(orders, context):
    lambda_handler(
        alarm_event("ReadProvisionedThroughputThrottleEvents", index="by-customer"), context
    )
    assert orders.capacity("orders", "by-customer") == (60, 25)
    assert orders.capacity("orders") == (100, 50)


def test_sizing_reads_consumed_capacity_from_cloudwatch(orders, context):
    now = datetime.now(UTC)
    orders.cloudwatch.put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": "ConsumedWriteCapacityUnits",
                "Dimensions": [{"Name": "TableName", "Value": "orders"}],
                "Timestamp": now - timedelta(minutes=m),
                "Value": 6000.0,
                "Unit": "Count",
            }
            for m in range(1, 6)
        ],
    )
    lambda_handler(alarm_event(), context)
    assert orders.capacity("orders") == (100, 125)  # 100/s peak + 25 % headroom


def test_duplicate_delivery_changes_nothing_twice_and_notifies_once(orders, context):
    event = alarm_event()
    first = lambda_handler(event, context)
    second = lambda_handler(json.loads(json.dumps(event)), context)
    assert second == first
    assert orders.capacity("orders") == (100, 60)
    assert len(orders.notifications()) == 1


def test_read_and_write_alarms_handled_concurrently_both_take_effect(orders, context):
    events = [alarm_event("ReadProvisionedThroughputThrottleEvents"), alarm_event()]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def deliver(event):
        start.wait()
        for attempt in range(3):  # Lambda's async attempts, with a (shortened) back-off
            try:
                outcomes.append(lambda_handler(event, context)["action"])
                return
            except TableBusyError:
                outcomes.append("defer")
                time.sleep(0.5 * (attempt + 1))

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert orders.capacity("orders") == (120, 60)
    assert outcomes.count("scale_up") == 2


def test_unmanaged_table_is_reported_not_changed(orders, context):
    result = lambda_handler(alarm_event(table="legacy"), context)
    assert (result["action"], result["rule"]) == ("skip", "not_managed")
    assert orders.capacity("legacy") == (10, 10)
    assert orders.notifications() == []
    assert len(orders.decision_items("legacy")) == 1


def test_dry_run_setting_changes_nothing(orders, context, monkeypatch):
    monkeypatch.setenv("DRY_RUN", "true")
    reset_caches()
    result = lambda_handler(alarm_event(), context)
    assert (result["action"], result["dry_run"]) == ("scale_up", True)
    assert orders.capacity("orders") == (100, 50)
    [note] = orders.notifications()
    assert note["Subject"].startswith("[DRY RUN]")


def test_resource_in_use_defers_then_succeeds_once(orders, context):
    _fail_next("UpdateTable", "ResourceInUseException")
    with pytest.raises(TableBusyError):
        lambda_handler(alarm_event(), context)
    assert orders.capacity("orders") == (100, 50)
    result = lambda_handler(alarm_event(), context)
    assert result["action"] == "scale_up"
    assert orders.capacity("orders") == (100, 60)
    assert len(orders.notifications()) == 1


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("AccessDeniedException", "error.AccessDeniedError"),
        ("LimitExceededException", "error.LimitExceededError"),
        ("ValidationException", "error.InvalidChangeError"),
    ],
)
def test_permanent_aws_errors_are_recorded_failures(orders, context, code, rule):
    _fail_next("UpdateTable", code)
    result = lambda_handler(alarm_event(), context)
    assert (result["action"], result["rule"]) == ("fail", rule)
    assert orders.capacity("orders") == (100, 50)
    [note] = orders.notifications()
    assert note["MessageAttributes"]["severity"]["Value"] == "critical"
    # A redelivery of the same event does not try again nor notify again.
    again = lambda_handler(alarm_event(), context)
    assert again["action"] == "fail"
    assert orders.notifications() == []


def test_control_plane_throttling_retries_without_double_scale_up(orders, context):
    _fail_next("UpdateTable", "ThrottlingException")
    with pytest.raises(AwsThrottledError):
        lambda_handler(alarm_event(), context)
    lambda_handler(alarm_event(), context)
    lambda_handler(alarm_event(), context)
    assert orders.capacity("orders") == (100, 60)
    assert len(orders.notifications()) == 1


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
def test_malformed_events_never_raise_and_never_mutate(orders, context, event):
    result = lambda_handler(event, context)
    assert result["action"] in {"reject", "skip"}
    assert orders.capacity("orders") == (100, 50)
