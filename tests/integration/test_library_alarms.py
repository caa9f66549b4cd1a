"""The throttle alarms popular libraries and AWS's own guidance create, as EventBridge delivers
them (tests/fixtures/library_alarms/, built from each library's sources: see its README), through
scale_on_throttle's handler on an emulated account where DynamoDB published what the table was
doing. For each: the capacity in the account, the decision record and the notification.

The table `orders` has 100 read / 50 write units and the GSI `by-customer` 50 / 25. Unless the
case says otherwise, what DynamoDB published is the alarm's story made concrete: the writes
(reads) of the table, or of the GSI, throttled on provisioned capacity for the last 5 minutes.
What an alarm says never decides which dimension is raised: the table's own metrics do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from functions.scale_on_throttle.app import lambda_handler
from tests.builders import merged, published
from tests.conftest import DECISION_TABLE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "library_alarms"
MANAGED = {"autoresponder:managed": "true"}
GSI = "by-customer"

# what DynamoDB publishes (units or requests per second, 5 minutes)
WRITES_THROTTLED = published(consumed=50, rejected=30)  # demand 80/s: 50 → 100 (+25 %)
READS_THROTTLED = published(dimension="read", consumed=100, rejected=20)  # 120/s: 100 → 150
GSI_WRITES_THROTTLED = published(index=GSI, consumed=25, rejected=15)  # 40/s: 25 → 50
READS_QUIET = published(dimension="read", consumed=30)
WRITES_QUIET = published(consumed=20)
QUIET = merged(READS_QUIET, WRITES_QUIET, published(index=GSI, consumed=5))


@dataclass(frozen=True)
class Case:
    fixture: str
    table: Any
    """What DynamoDB published for the table and its GSI."""
    action: str
    rule: str
    table_after: tuple[int, int]
    gsi_after: tuple[int, int] = (50, 25)
    notified: bool = True


CASES = [
    # every operation summed, GetItem first: the writes are what is throttled
    Case(
        "cdk_throttled_requests_for_operations_default.json",
        merged(WRITES_THROTTLED, READS_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 100),
    ),
    # PutItem + UpdateItem throttled because the GSI lacks write capacity (back-pressure)
    Case(
        "cdk_throttled_requests_for_operations_subset.json",
        merged(GSI_WRITES_THROTTLED, READS_QUIET, WRITES_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 50),
        gsi_after=(50, 50),
    ),
    Case(
        "cdk_monitoring_constructs_read_throttles.json",
        merged(READS_THROTTLED, WRITES_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (150, 50),
    ),
    Case(
        "cdk_monitoring_constructs_write_throttles.json",
        merged(WRITES_THROTTLED, READS_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 100),
    ),
    Case(
        "cloudwatch_recommended_read_throttle.json",
        merged(READS_THROTTLED, WRITES_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (150, 50),
    ),
    Case(
        "cloudwatch_recommended_write_throttle.json",
        merged(WRITES_THROTTLED, READS_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 100),
    ),
    Case(
        "gsi_write_throttle.json",
        merged(GSI_WRITES_THROTTLED, READS_QUIET, WRITES_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 50),
        gsi_after=(50, 50),
    ),
    Case(
        "slic_watch_read_throttles.json",
        merged(READS_THROTTLED, WRITES_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (150, 50),
    ),
    Case(
        "serverless_dynamodb_alarms_plugin_write_throttles.json",
        merged(WRITES_THROTTLED, READS_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 100),
    ),
    Case(
        "resilience_hub_write_throttle.json",
        merged(WRITES_THROTTLED, READS_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 100),
    ),
    # the sum of reads and writes: only the writes are throttled
    Case(
        "metric_math_read_plus_write.json",
        merged(WRITES_THROTTLED, READS_QUIET),
        "scale_up",
        "provisioned.scale_up",
        (100, 100),
    ),
    # ALARM with no datapoint (missing data treated as breaching) and nothing throttled
    Case(
        "missing_data_breaching.json",
        QUIET,
        "skip",
        "no_throttling.missing_data",
        (100, 50),
        notified=False,
    ),
    # set-alarm-state by hand, nothing throttled
    Case(
        "set_alarm_state_test.json",
        QUIET,
        "skip",
        "no_throttling.set_alarm_state",
        (100, 50),
        notified=False,
    ),
    Case("set_alarm_state_reverted.json", QUIET, "skip", "not_alarm", (100, 50), notified=False),
    Case("ok_to_insufficient_data.json", QUIET, "skip", "not_alarm", (100, 50), notified=False),
]


def _event(fixture: str) -> dict[str, Any]:
    return json.loads((FIXTURES / fixture).read_text())


def _decision(aws: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one decision recorded: under the table, or (an alarm that names no table to act on,
    e.g. one that left ALARM) under the alarm."""
    items = aws.decision_items("orders")
    if not items and event is not None:
        items = aws.dynamodb.query(
            TableName=DECISION_TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ALARM#{event['detail']['alarmName']}"}},
        )["Items"]
    [item] = items
    return json.loads(item["decision"]["S"])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.fixture.removesuffix(".json"))
def test_a_library_alarm_raises_what_the_table_shows_short(aws, context, case: Case):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi=GSI)
    aws.publish(case.table)
    event = _event(case.fixture)

    result = lambda_handler(event, context)

    assert (result["action"], result["rule"]) == (case.action, case.rule), result["reason"]
    # the table and its GSI in the emulated account
    assert aws.capacity("orders") == case.table_after
    assert aws.capacity("orders", GSI) == case.gsi_after
    # the decision record says what was done, about this alarm
    decision = _decision(aws, event)
    assert (decision["action"], decision["rule"]) == (case.action, case.rule)
    assert decision["alarm_name"] == event["detail"]["alarmName"]
    if case.action == "scale_up":
        raised = case.gsi_after if case.gsi_after != (50, 25) else case.table_after
        assert (decision["after"]["read"], decision["after"]["write"]) == raised
        assert decision["diagnosis"], decision  # the observation it acted on
    # the message that reached the queue subscribed to the topic
    notes = aws.notifications()
    if case.notified:
        [note] = notes
        assert note["MessageAttributes"]["action"]["Value"] == case.action
        assert "orders" in note["Subject"]
    else:
        assert notes == []


def test_a_library_alarm_forwarded_from_another_account_touches_nothing(aws, context):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi=GSI)
    aws.publish(merged(WRITES_THROTTLED, READS_QUIET))  # the local table of the same name
    event = _event("cross_account_forwarded.json")

    result = lambda_handler(event, context)

    assert result["action"] == "skip"
    assert "210987654321" in result["reason"]
    assert aws.capacity("orders") == (100, 50)  # the local namesake is not the alarm's table
    assert aws.capacity("orders", GSI) == (50, 25)
    assert aws.notifications() == []
    decision = _decision(aws, event)  # recorded, for the person who wonders why
    assert (decision["action"], decision["account"]) == ("skip", "210987654321")


def test_an_index_dimension_the_library_misnamed_never_raises_the_base_table(aws, context):
    """SLIC Watch names the GSI dimension `GlobalSecondaryIndex` (DynamoDB's is
    `GlobalSecondaryIndexName`): the alarm is about the index, never about the table."""
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi=GSI)
    aws.publish(merged(GSI_WRITES_THROTTLED, READS_QUIET, WRITES_QUIET))

    result = lambda_handler(_event("slic_watch_gsi_write_throttles.json"), context)

    # the diagnosis covers the table and every GSI: the index is what is short
    assert (result["action"], result["rule"]) == ("scale_up", "provisioned.scale_up")
    assert aws.capacity("orders") == (100, 50)
    assert aws.capacity("orders", GSI) == (50, 50)
    decision = _decision(aws)
    assert decision["index_name"] == GSI
    [note] = aws.notifications()
    assert "orders/by-customer" in note["Subject"]
