"""A failed Publish never rewrites history: scale_on_throttle on an emulated account (moto).

The table is raised, then the notification fails in one of the ways SNS fails: a permanent
error (the topic's KMS key denies the publisher), a retryable one (SNS throttling in an alarm
storm), or a failure after the Publish (marking the record, releasing the table's lock). The
decision record stays what was done; the notification has its own state; nobody gets a
message twice. Errors are injected with botocore `before-call` hooks on the responder's own
clients; everything else reaches moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from autoresponder.adapters.clients import client
from autoresponder.errors import AwsThrottledError, AwsUnavailableError
from functions.scale_on_throttle.app import lambda_handler
from tests.builders import alarm_event, published

MANAGED = {"autoresponder:managed": "true"}
REGION = "us-east-1"
Matches = Callable[[dict[str, Any]], bool]


@pytest.fixture
def throttled(aws):
    """orders' writes: 50 WCU/s served (all it has), 30 requests/s rejected: demand 80/s, so a
    scale-up to 100 write units."""
    aws.create_table("orders", 100, 50, tags=MANAGED)
    aws.publish(published(consumed=50, rejected=30))
    return aws


def fail(
    service: str,
    operation: str,
    code: str,
    status: int,
    *,
    times: int = 1,
    when: Matches = lambda body: True,
) -> list[dict[str, Any]]:
    """Answer the next `times` calls of `operation` (those `when` picks) with an AWS error, on
    the responder's own client; returns the request bodies it answered."""
    answered: list[dict[str, Any]] = []

    def answer(params: dict[str, Any], **kwargs: Any) -> Any:
        body = json.loads(params["body"] or b"{}") if service == "dynamodb" else {}
        if len(answered) >= times or not when(body):
            return None
        answered.append(body)
        return (
            AWSResponse("https://example.invalid", status, {}, None),
            {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
        )

    client(service, REGION).meta.events.register(f"before-call.{service}.{operation}", answer)
    return answered


def count_calls(service: str, operation: str) -> list[str]:
    """Every call of `operation` the responder's client makes (including refused ones)."""
    seen: list[str] = []
    client(service, REGION).meta.events.register(
        f"before-parameter-build.{service}.{operation}", lambda **kwargs: seen.append(operation)
    )
    return seen


def record(aws) -> dict[str, Any]:
    [item] = [
        i
        for i in aws.decision_items("orders")
        if json.loads(i["decision"]["S"])["action"] != "defer"
    ]
    return item


def emf_records(printed: str) -> list[dict[str, Any]]:
    found = []
    for line in printed.splitlines():
        try:
            parsed: Any = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "_aws" in parsed:
            found.append(parsed)
    return found


def notification_failed_metrics(printed: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emf_records(printed)
        for directive in r["_aws"]["CloudWatchMetrics"]
        if any(m["Name"] == "NotificationFailed" for m in directive["Metrics"])
    ]


# --------------------------------------------------------------------------------------------
# a permanent Publish error: KMS access denied on the topic's key
# --------------------------------------------------------------------------------------------
def test_kms_access_denied_leaves_the_scale_up_as_done_and_says_the_message_failed(
    throttled, context, capsys
):
    publishes = count_calls("sns", "Publish")
    fail("sns", "Publish", "KMSAccessDenied", 400, times=10)
    event = alarm_event()
    result = lambda_handler(event, context)

    # the table was raised, and the handler says so
    assert throttled.capacity("orders") == (100, 100)
    assert (result["action"], result["rule"]) == ("scale_up", "provisioned.scale_up")
    assert "KMSAccessDenied" in result["notification_failed"]
    # the record is what was done, the notification has its own state
    item = record(throttled)
    decision = json.loads(item["decision"]["S"])
    assert decision["action"] == "scale_up"
    assert (decision["before"], decision["after"]) == (
        {"read": 100, "write": 50},
        {"read": 100, "write": 100},
    )
    assert item["notification"]["S"] == "failed"
    assert "KMSAccessDenied" in item["notification_error"]["S"]
    assert item["notified"]["BOOL"] is False
    # one NotificationFailed metric, its own dimension set (service only), for one alarm
    [metric] = notification_failed_metrics(capsys.readouterr().out)
    [directive] = metric["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "DynamoDBAutoResponder"
    assert directive["Dimensions"] == [["service"]]
    assert metric["service"] == "dynamodb-autoresponder"
    assert metric["NotificationFailed"] in (1, 1.0, [1.0])
    assert throttled.notifications() == []
    assert len(publishes) == 1

    # a redelivery (Powertools' idempotency record), and one after that record expired
    # (the decision record answers): nothing changes, nothing is sent, no new failure
    for wait in (timedelta(0), timedelta(hours=4)):
        throttled.clock.shift(wait)
        again = lambda_handler(json.loads(json.dumps(event)), context)
        assert again["action"] == "scale_up"
        assert again["notification_failed"]
        assert throttled.capacity("orders") == (100, 100)
        assert throttled.notifications() == []
        assert notification_failed_metrics(capsys.readouterr().out) == []
    assert len(publishes) == 1
    assert record(throttled)["notification"]["S"] == "failed"


# --------------------------------------------------------------------------------------------
# a retryable Publish error: SNS or KMS throttling (HTTP 429, 400), an SNS server error
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "status", "repeat"),
    [
        # a refusal: the message never left, the retry's is the first
        pytest.param("Throttled", 429, False, id="sns-throttled"),
        pytest.param("KMSThrottling", 400, False, id="kms-throttled"),
        # SNS failed without saying whether it published: the retry's may be a repeat, and says so
        pytest.param("InternalError", 500, True, id="sns-5xx"),
    ],
)
def test_a_retryable_publish_error_raises_and_the_retry_announces_the_recorded_scale_up_once(
    throttled, context, capsys, code: str, status: int, *, repeat: bool
):
    updates = count_calls("dynamodb", "UpdateTable")
    fail("sns", "Publish", code, status)
    event = alarm_event()
    with pytest.raises(AwsThrottledError if not repeat else AwsUnavailableError):
        lambda_handler(event, context)  # Lambda retries the delivery

    assert throttled.capacity("orders") == (100, 100)
    item = record(throttled)
    assert json.loads(item["decision"]["S"])["action"] == "scale_up"  # not defer, not fail
    assert item["notification"]["S"] == "pending"
    assert throttled.notifications() == []
    assert notification_failed_metrics(capsys.readouterr().out) == []

    throttled.clock.shift(timedelta(minutes=1))  # Lambda's back-off
    result = lambda_handler(json.loads(json.dumps(event)), context)
    assert result["action"] == "scale_up"
    assert result.get("notification_failed") is None
    [note] = throttled.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_up"
    assert note["Subject"].startswith("(repeat)") is repeat
    item = record(throttled)
    assert (item["notification"]["S"], item["notified"]["BOOL"]) == ("sent", True)
    assert throttled.capacity("orders") == (100, 100)
    assert len(updates) == 1  # raised once, by the first attempt

    # and a further redelivery sends nothing more
    lambda_handler(json.loads(json.dumps(event)), context)
    assert throttled.notifications() == []


# --------------------------------------------------------------------------------------------
# failures around a successful Publish: its `notified` mark (after it), the release of the
# table's lock (in this runbook, just before it)
# --------------------------------------------------------------------------------------------
def _marks_notified(body: dict[str, Any]) -> bool:
    return body.get("Key", {}).get("pk", {}).get("S", "").startswith("DECISION#") and (
        "notified" in body.get("UpdateExpression", "")
    )


def _releases_the_lock(body: dict[str, Any]) -> bool:
    return body.get("Key", {}).get("pk", {}).get("S") == "LOCK"


AFTER_PUBLISH = [
    pytest.param(("UpdateItem", "InternalServerError", 500, _marks_notified), id="mark-5xx"),
    pytest.param(
        ("UpdateItem", "ProvisionedThroughputExceededException", 400, _marks_notified),
        id="mark-throttled",
    ),
    pytest.param(("DeleteItem", "InternalServerError", 500, _releases_the_lock), id="lock-5xx"),
    pytest.param(
        ("DeleteItem", "AccessDeniedException", 400, _releases_the_lock), id="lock-denied"
    ),
]


@pytest.mark.parametrize("fault", AFTER_PUBLISH)
def test_a_failure_around_a_successful_publish_announces_once_and_returns(
    throttled, context, fault: tuple[str, str, int, Matches]
):
    operation, code, status, when = fault
    answered = fail("dynamodb", operation, code, status, when=when)
    event = alarm_event()
    result = lambda_handler(event, context)

    assert len(answered) == 1  # the fault was injected
    assert (result["action"], result["rule"]) == ("scale_up", "provisioned.scale_up")
    assert result.get("notification_failed") is None
    assert throttled.capacity("orders") == (100, 100)
    [note] = throttled.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_up"
    item = record(throttled)
    assert json.loads(item["decision"]["S"])["action"] == "scale_up"
    # the record says what is known: sent, or (its mark failed) one attempt begun, not marked
    marked = operation != "UpdateItem"
    assert item["notification"]["S"] == ("sent" if marked else "pending")
    assert item["notification_attempts"]["N"] == "1"
    # a redelivery sends nothing more
    assert lambda_handler(json.loads(json.dumps(event)), context)["action"] == "scale_up"
    assert throttled.notifications() == []
    assert throttled.capacity("orders") == (100, 100)
