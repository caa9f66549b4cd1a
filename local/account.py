"""What the demo reads back from the account: capacity, the notification inbox, the records."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UnitCapacity:
    """The capacity of one table or index, as DescribeTable and Auto Scaling report it."""

    table: str
    index: str | None
    on_demand: bool
    read: int | None
    """Provisioned read units, or the on-demand MaxReadRequestUnits (None: no cap)."""
    write: int | None
    autoscaling: dict[str, tuple[int, int]] = field(default_factory=dict)
    """"read"/"write" → (MinCapacity, MaxCapacity) of its scalable targets."""

    @property
    def key(self) -> str:
        return f"{self.table}/{self.index}" if self.index else self.table


def capacity_snapshot(
    dynamodb: Any, autoscaling: Any, tables: Iterable[str]
) -> dict[str, UnitCapacity]:
    """Every table and GSI of `tables`, keyed `table` or `table/index`."""
    targets = _scalable_targets(autoscaling)
    snapshot: dict[str, UnitCapacity] = {}
    for name in tables:
        raw = dynamodb.describe_table(TableName=name)["Table"]
        on_demand = (raw.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST"
        units = [(None, raw)] + [(g["IndexName"], g) for g in raw.get("GlobalSecondaryIndexes", [])]
        for index, description in units:
            read, write = _units(description, on_demand)
            resource = f"table/{name}" if index is None else f"table/{name}/index/{index}"
            unit = UnitCapacity(name, index, on_demand, read, write, targets.get(resource, {}))
            snapshot[unit.key] = unit
    return snapshot


def _units(description: dict[str, Any], on_demand: bool) -> tuple[int | None, int | None]:
    if on_demand:
        caps = description.get("OnDemandThroughput") or {}
        read, write = caps.get("MaxReadRequestUnits"), caps.get("MaxWriteRequestUnits")
        return (
            read if isinstance(read, int) and read > 0 else None,
            write if isinstance(write, int) and write > 0 else None,
        )
    throughput = description.get("ProvisionedThroughput") or {}
    return throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")


def _scalable_targets(autoscaling: Any) -> dict[str, dict[str, tuple[int, int]]]:
    """Resource id → "read"/"write" → (MinCapacity, MaxCapacity), for every DynamoDB target."""
    targets: dict[str, dict[str, tuple[int, int]]] = {}
    pages = autoscaling.get_paginator("describe_scalable_targets").paginate(
        ServiceNamespace="dynamodb"
    )
    for page in pages:
        for target in page.get("ScalableTargets", []):
            reads = target["ScalableDimension"].endswith("ReadCapacityUnits")
            dimension = "read" if reads else "write"
            targets.setdefault(target["ResourceId"], {})[dimension] = (
                int(target["MinCapacity"]),
                int(target["MaxCapacity"]),
            )
    return targets


@dataclass(frozen=True)
class InboxMessage:
    """One notification as the SQS subscriber of the topic received it."""

    message_id: str
    subject: str | None
    attributes: dict[str, str]
    message: str
    """The `default` variant (what SQS subscribers get): the AWS Chatbot custom notification."""
    email: str | None = None
    """The `email` variant, when the emulator could tell it."""

    @property
    def chat(self) -> dict[str, Any] | None:
        try:
            card = json.loads(self.message)
        except ValueError:
            return None
        return card if isinstance(card, dict) else None


def drain_inbox(
    sqs: Any, queue_url: str, email_of: Callable[[str], str | None] | None = None
) -> list[InboxMessage]:
    """Receive and delete everything in the inbox queue (SNS delivers in its envelope)."""
    received: list[InboxMessage] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=30
        )
        messages = answer.get("Messages", [])
        if not messages:
            return received
        for message in messages:
            envelope = json.loads(message["Body"])
            message_id = envelope.get("MessageId", message["MessageId"])
            received.append(
                InboxMessage(
                    message_id=message_id,
                    subject=envelope.get("Subject"),
                    attributes={
                        name: str(value.get("Value"))
                        for name, value in (envelope.get("MessageAttributes") or {}).items()
                    },
                    message=envelope.get("Message", ""),
                    email=email_of(message_id) if email_of else None,
                )
            )
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


RECORD_KINDS = {
    "DECISION": "decision records",
    "REJECT": "rejected events",
    "ALARM": "decision records on alarms that name no table",
    "SCALE": "scale-history items",
    "IDEMPOTENCY": "idempotency records",
    "ATTEMPT": "delivery-attempt counters",
    "LOCK": "table locks",
}


def decision_table_items(dynamodb: Any, table_name: str) -> tuple[Counter[str], Counter[str]]:
    """Items of the decision table by kind (the prefix of their partition key), and the
    decision records among them by action."""
    kinds: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        ProjectionExpression="pk, #a",
        ExpressionAttributeNames={"#a": "action"},
    ):
        for item in page.get("Items", []):
            kind = item["pk"]["S"].split("#", 1)[0]
            kinds[kind] += 1
            if kind in {"DECISION", "REJECT", "ALARM"} and "action" in item:
                actions[item["action"]["S"]] += 1
    return kinds, actions
