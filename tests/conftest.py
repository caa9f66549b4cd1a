"""Shared fixtures: an emulated AWS account (moto) with the responder's own resources.

No test reads the wall clock. The emulated account runs at a fixed instant (`tests.builders.NOW`,
30 s after the sample alarms' state change): `aws.clock` moves it. `--wall-clock ISO` moves the
real clock of the whole run (the gate runs the suite at 00:05 UTC, and the tests on the real
clock again at 23:58 UTC with `--only-real-clock`, to prove that nothing depends on the time of
day).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from moto import mock_aws

from autoresponder import wiring
from autoresponder.adapters import clients
from autoresponder.observability import metrics
from autoresponder.settings import get_settings
from tests.builders import NOW, put_published
from tests.chatbot import assert_custom_notification, assert_sns_subject

REGION = "us-east-1"
DECISION_TABLE = "autoresponder-decisions"
_SESSION = boto3.session.Session()
"""The tests' own clients come from one session: it parses the SDK's service models once (a
session per emulated account parsed them again for every test). moto's mock reaches every
session's clients."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--wall-clock",
        default=None,
        help="run the whole suite with the real clock moved to this ISO instant (it ticks)",
    )
    parser.addoption(
        "--only-real-clock",
        action="store_true",
        help="leave out the tests that run inside the emulated account (the `aws` fixture): "
        "they run at its fixed instant whatever the wall clock, so a second --wall-clock pass "
        "has nothing to learn from them",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--only-real-clock"):
        return
    fixed = [item for item in items if "aws" in getattr(item, "fixturenames", ())]
    if fixed:
        config.hook.pytest_deselected(items=fixed)
        items[:] = [item for item in items if "aws" not in getattr(item, "fixturenames", ())]


def pytest_configure(config: pytest.Config) -> None:
    wall_clock = config.getoption("--wall-clock")
    if wall_clock:
        traveller = time_machine.travel(datetime.fromisoformat(wall_clock), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


@dataclass
class Clock:
    """The emulated account's clock: fixed, moved by the test."""

    coordinates: Any

    def now(self) -> datetime:
        return datetime.now(NOW.tzinfo)

    def move_to(self, when: datetime) -> None:
        self.coordinates.move_to(when)

    def shift(self, delta: timedelta) -> None:
        self.coordinates.shift(delta)


def reset_caches() -> None:
    """Forget clients, settings and wiring built for a previous emulated account.

    Every cached factory in `autoresponder.wiring.*` is cleared, so new runbooks need no entry.
    The responder's boto3 session is kept: it holds no account state (every emulated account
    has the same credentials and region), only the SDK's parsed service models, which a new
    session parsed again (~0.3 s a test).
    """
    clients.client.cache_clear()
    get_settings.cache_clear()
    for info in pkgutil.iter_modules(wiring.__path__):
        module = importlib.import_module(f"{wiring.__name__}.{info.name}")
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    """No metric, dimension or metadata left over from another test.

    In Lambda the handlers' `log_metrics` flushes (and so clears) the metrics once per
    invocation; a test that calls a service or the recorder directly flushes nothing.
    """
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@dataclass
class Account:
    """Handles on the emulated account, created after the mock started."""

    dynamodb: Any
    sqs: Any
    sns: Any
    cloudwatch: Any
    autoscaling: Any
    topic_arn: str
    inbox_url: str
    clock: Clock

    def capacity(self, table: str, index: str | None = None) -> tuple[int, int]:
        raw = self.dynamodb.describe_table(TableName=table)["Table"]
        if index is not None:
            raw = next(g for g in raw["GlobalSecondaryIndexes"] if g["IndexName"] == index)
        throughput = raw["ProvisionedThroughput"]
        return throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]

    def notifications(self) -> list[dict[str, Any]]:
        """Messages that reached the queue subscribed to the topic (drained).

        Each one is checked as it is drained: its chat message conforms to AWS Chatbot's
        documented custom-notification format, its Subject to SNS's constraints."""
        found = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                body = json.loads(message["Body"])
                assert_custom_notification(json.loads(body["Message"]))
                assert_sns_subject(body.get("Subject"))
                found.append(body)
                self.sqs.delete_message(
                    QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def publish(self, points: Any) -> None:
        """Publish what DynamoDB would have (`tests.builders.published`)."""
        put_published(self.cloudwatch, points)

    def decision_items(self, table: str) -> list[dict[str, Any]]:
        answer = self.dynamodb.query(
            TableName=DECISION_TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"DECISION#{table}"}},
        )
        return answer["Items"]

    def create_table(
        self,
        name: str,
        read: int = 100,
        write: int = 50,
        *,
        tags: dict[str, str] | None = None,
        gsi: str | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {}
        attributes = [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ]
        if gsi:
            attributes.append({"AttributeName": "gsi_pk", "AttributeType": "S"})
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": gsi,
                    "KeySchema": [{"AttributeName": "gsi_pk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 50, "WriteCapacityUnits": 25},
                }
            ]
        self.dynamodb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=attributes,
            ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write},
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
            **kwargs,
        )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """An emulated account with the decision table, the topic and a subscribed queue."""
    with emulated_account(monkeypatch) as account:
        yield account


@contextmanager
def emulated_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """The `aws` fixture as a context manager (for a module-scoped setup of its own)."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_MAX_ATTEMPTS": "1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "dynamodb-autoresponder",
        "POWERTOOLS_METRICS_NAMESPACE": "DynamoDBAutoResponder",
        "DECISION_TABLE_NAME": DECISION_TABLE,
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    with time_machine.travel(NOW, tick=False) as coordinates, mock_aws():
        reset_caches()
        dynamodb = _SESSION.client("dynamodb", region_name=REGION)
        sns = _SESSION.client("sns", region_name=REGION)
        sqs = _SESSION.client("sqs", region_name=REGION)
        dynamodb.create_table(
            TableName=DECISION_TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        topic_arn = sns.create_topic(Name="autoresponder-notifications")["TopicArn"]
        inbox_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)
        monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", topic_arn)
        yield Account(
            dynamodb=dynamodb,
            sqs=sqs,
            sns=sns,
            cloudwatch=_SESSION.client("cloudwatch", region_name=REGION),
            autoscaling=_SESSION.client("application-autoscaling", region_name=REGION),
            topic_arn=topic_arn,
            inbox_url=inbox_url,
            clock=Clock(coordinates),
        )
        reset_caches()


@dataclass
class FakeLambdaContext:
    function_name: str = "scale-on-throttle"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:scale-on-throttle"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def context() -> FakeLambdaContext:
    return FakeLambdaContext()
