"""Every decision is also an event on the default bus (docs/architecture.md contract), on
moto: the event reaches an SQS queue through a rule matching source `dynamodb-autoresponder`,
and a PutEvents failure neither repeats the action nor loses the decision."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from autoresponder.adapters.clients import client
from autoresponder.adapters.event_bus import DETAIL_TYPE, NOT_PUT_METRIC, SOURCE
from functions.scale_on_throttle.app import lambda_handler
from tests.builders import REGION, alarm_event, published
from tests.conftest import FakeLambdaContext

MANAGED = {"autoresponder:managed": "true"}


@pytest.fixture
def decisions_queue(aws) -> str:
    """A queue behind a rule on the default bus that matches the responder's decisions."""
    events = client("events", REGION)
    url = aws.sqs.create_queue(QueueName="decisions")["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="decisions", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="decisions", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def received(aws, url: str) -> list[dict[str, Any]]:
    answer = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_the_decision_reaches_a_queue_through_a_rule_on_the_default_bus(
    aws, decisions_queue, context
):
    aws.create_table("orders", 100, 50, tags=MANAGED)
    aws.publish(published(consumed=50, rejected=10))  # writes: demand 60/s against 50
    result = lambda_handler(alarm_event(), context)
    assert result["action"] == "scale_up"
    (event,) = received(aws, decisions_queue)
    assert event["source"] == SOURCE
    assert event["detail-type"] == DETAIL_TYPE
    assert event["region"] == REGION  # (moto's rule targets drop the `account` field)
    assert event["detail"] == result  # the handler's decision dict, as is

    # a duplicate delivery changes nothing, and puts nothing a second time
    assert lambda_handler(alarm_event(), context)["action"] == "scale_up"
    assert received(aws, decisions_queue) == []


def test_a_rejected_event_is_a_decision_on_the_bus_too(aws, decisions_queue, context):
    result = lambda_handler({"detail-type": "not an alarm"}, context)
    assert result["action"] == "reject"
    (event,) = received(aws, decisions_queue)
    assert event["detail"] == result
    assert "detail-type" not in json.dumps(event["detail"].get("inputs", {}))  # no raw event


@pytest.fixture(params=["denied", "entry-refused"])
def put_events_fails(request, aws) -> str:
    """The responder's events client: PutEvents raises (AccessDenied) or refuses the entry.
    Returns the error code the warning should name."""

    def answer(**_: Any) -> Any:
        if request.param == "denied":
            return (
                AWSResponse("https://example.invalid", 400, {}, None),
                {
                    "Error": {"Code": "AccessDeniedException", "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
            )
        return (
            AWSResponse("https://example.invalid", 200, {}, None),
            {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}],
                "ResponseMetadata": {"HTTPStatusCode": 200},
            },
        )

    client("events", REGION).meta.events.register("before-call.events.PutEvents", answer)
    return "AccessDeniedException" if request.param == "denied" else "InternalFailure"


def test_a_put_events_failure_loses_no_decision_and_repeats_no_action(
    aws, decisions_queue, put_events_fails, caplog, capsys
):
    context = FakeLambdaContext()
    aws.create_table("orders", 100, 50, tags=MANAGED)
    aws.publish(published(consumed=50, rejected=10))  # writes: demand 60/s against 50
    result = lambda_handler(alarm_event(), context)  # does not raise
    assert result["action"] == "scale_up"
    assert aws.capacity("orders") == (100, 75)
    (item,) = aws.decision_items("orders")
    assert item["action"]["S"] == "scale_up"
    assert item["notified"]["BOOL"] is True
    (note,) = aws.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "scale_up"
    assert received(aws, decisions_queue) == []
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage() == "decision event not put on the event bus"
    assert getattr(warning, "error_code", None) == put_events_fails
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m[NOT_PUT_METRIC] for m in emf if NOT_PUT_METRIC in m] == [[1.0]]

    # the retry Lambda would make (or a duplicate delivery) does not scale again
    lambda_handler(alarm_event(), context)
    assert aws.capacity("orders") == (100, 75)
    assert aws.notifications() == []
