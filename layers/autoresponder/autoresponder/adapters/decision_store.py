"""The decision table: decision records, capacity records, per-table locks, attempt counters.

A decision record carries its notification's own state (`notification`: `none`, `pending`,
`sent`, `failed`; `notification_attempts`): the record is the truth, the notification a step
after it. A raw event kept with a `reject` is cut to fit DynamoDB's item limit (its size and
the SHA-256 of the whole are kept); every key built from a name is bounded
(`models.decision.bounded`).

Key layout (partition key `pk`, sort key `sk`, TTL `expires_at` in epoch seconds):

| item              | pk                     | sk                                          |
|-------------------|------------------------|---------------------------------------------|
| decision record   | `DECISION#<table>`     | `ALARM#<state timestamp>#<alarm>#<runbook>` |
|                   |                        | or `RUN#<decided at>#<runbook>`             |
| rejected event    | `REJECT`               | `<decided at>#<runbook>#<event id>`         |
| latency report    | `REPORT#report_latency_regression` | `RUN#<scheduled time>`          |
| capacity record   | `SCALE`                | `<table>#<index or ->#<read/write>`         |
| (intent + history)|                        |                                             |
| table lock        | `LOCK`                 | `<table>`                                   |
| delivery attempts | `ATTEMPT`              | `<runbook>#<alarm>@<state timestamp>`       |
| idempotency       | `IDEMPOTENCY#<runbook>`| Powertools' hash of the event key           |
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.domain.scaling import IntentStatus, Limits, ScaleHistory, UnitKey
from autoresponder.models.decision import (
    Action,
    AutoScalingLimits,
    Decision,
    Recorded,
    bounded,
)
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits

_LIMITS: TypeAdapter[Limits] = TypeAdapter(Limits)
_LIMIT_KINDS: dict[str, type[Capacity] | type[AutoScalingLimits] | type[OnDemandLimits]] = {
    "Capacity": Capacity,
    "AutoScalingLimits": AutoScalingLimits,
    "OnDemandLimits": OnDemandLimits,
}
RAW_EVENT_BUDGET = 300_000
"""Bytes of a decision item (decision JSON and raw event) kept under DynamoDB's 400 KB."""
SCALE_PK = "SCALE"
LOCK_PK = "LOCK"
ATTEMPT_PK = "ATTEMPT"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": str(int(value))}


def scale_sort_key(table_name: str, index_name: str | None, dimension: Dimension) -> str:
    return f"{table_name}#{index_name or '-'}#{dimension.value}"


def history_item(history: ScaleHistory) -> dict[str, Any]:
    item = {
        "scaled_at": _s(history.scaled_at.isoformat()),
        "event_key": _s(history.event_key),
        "action": _s(str(history.action)),
        "before": _s(history.before.model_dump_json()),
        "after": _s(history.after.model_dump_json()),
        "original": _s(history.original.model_dump_json()),
        "before_kind": _s(type(history.before).__name__),
        "after_kind": _s(type(history.after).__name__),
        "original_kind": _s(type(history.original).__name__),
    }
    item["status"] = _s(history.status.value)
    optional = {
        "episode_start": history.episode_start,
        "applied_at": history.applied_at,
        "decreased_at": history.decreased_at,
        "mitigated_at": history.mitigated_at,
    }
    item.update({key: _s(value.isoformat()) for key, value in optional.items() if value})
    if history.stabilization_minutes is not None:
        item["stabilization_minutes"] = _n(history.stabilization_minutes)
    if history.rule:
        item["rule"] = _s(history.rule)
    return item


def parse_history(item: Mapping[str, Any]) -> ScaleHistory:
    def limits(key: str) -> Limits:
        # `{"read": .., "write": ..}` fits Capacity and OnDemandLimits alike: the kind decides
        # (items written before `after_kind`/`original_kind` existed: the kind of `before`).
        kind = (item.get(f"{key}_kind") or item.get("before_kind") or {}).get("S")
        model = _LIMIT_KINDS.get(kind or "")
        raw = item[key]["S"]
        return model.model_validate_json(raw) if model else _LIMITS.validate_json(raw)

    def when(key: str) -> datetime | None:
        raw = item.get(key, {}).get("S")
        return datetime.fromisoformat(raw) if raw else None

    window = item.get("stabilization_minutes", {}).get("N")
    return ScaleHistory(
        scaled_at=datetime.fromisoformat(item["scaled_at"]["S"]),
        event_key=item["event_key"]["S"],
        action=Action(item["action"]["S"]),
        before=limits("before"),
        after=limits("after"),
        original=limits("original"),
        # records written before intents existed were written once the change was made
        status=IntentStatus(item.get("status", {}).get("S", IntentStatus.APPLIED.value)),
        episode_start=when("episode_start"),
        applied_at=when("applied_at"),
        stabilization_minutes=int(window) if window else None,
        decreased_at=when("decreased_at"),
        mitigated_at=when("mitigated_at"),
        rule=item.get("rule", {}).get("S", ""),
    )


def bounded_raw_event(raw_event: Mapping[str, Any], budget: int) -> dict[str, dict[str, Any]]:
    """The raw event as stored: whole when it fits `budget` bytes, else cut, with its size and
    the SHA-256 of the whole, so a reject never fails on the size of what it keeps.

    The event is kept as UTF-8 JSON, non-ASCII text as it came (JSON's ASCII escapes took 6 to
    12 bytes a character, and left less of a non-ASCII event within the budget); a lone
    surrogate, which JSON may carry and UTF-8 cannot encode, stays a JSON escape (`\\ud800`).
    """
    encoded = json.dumps(raw_event, ensure_ascii=False, default=str).encode(
        "utf-8", errors="backslashreplace"
    )
    text = encoded.decode("utf-8")
    item: dict[str, dict[str, Any]] = {
        "raw_event_size": _n(len(encoded)),
        "raw_event_sha256": _s(hashlib.sha256(encoded).hexdigest()),
    }
    if len(encoded) <= budget:
        item["raw_event"] = _s(text)
        return item
    item["raw_event"] = _s(encoded[: max(0, budget)].decode("utf-8", errors="ignore"))
    item["raw_event_truncated"] = {"BOOL": True}
    return item


class DynamoDBDecisionStore(AwsAdapter):
    """Implements `DecisionStore` on the decision table."""

    service = "dynamodb"

    def __init__(
        self,
        table_name: str,
        *,
        decision_ttl: timedelta = timedelta(days=90),
        client: Any = None,
        region: str | None = None,
    ) -> None:
        self.table_name = table_name
        self._ttl = decision_ttl
        super().__init__(client, region)

    # -- decisions ---------------------------------------------------------------------------

    def record(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> str:
        pk, sk = decision.record_key()
        expires = decision.decided_at + self._ttl
        item: dict[str, Any] = {
            "pk": _s(pk),
            "sk": _s(sk),
            "runbook": _s(decision.runbook),
            "action": _s(decision.action),
            "table_name": _s(decision.table_name or "-"),
            "decided_at": _s(decision.decided_at.isoformat()),
            "dry_run": {"BOOL": decision.dry_run},
            "notified": {"BOOL": False},
            "notification": _s("pending" if decision.notify else "none"),
            "decision": _s(decision.model_dump_json()),
            "expires_at": _n(expires.timestamp()),
        }
        if decision.index_name:
            item["index_name"] = _s(decision.index_name)
        if raw_event is not None:
            budget = RAW_EVENT_BUDGET - len(item["decision"]["S"].encode("utf-8"))
            item.update(bounded_raw_event(raw_event, budget))
        self._call("PutItem", TableName=self.table_name, Item=item)
        return sk

    def recorded(self, decision_key: tuple[str, str]) -> Recorded | None:
        answer = self._call(
            "GetItem",
            TableName=self.table_name,
            Key={"pk": _s(decision_key[0]), "sk": _s(decision_key[1])},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        if not item:
            return None
        decision = Decision.model_validate_json(item["decision"]["S"])
        notified = bool(item.get("notified", {}).get("BOOL"))
        state = item.get("notification", {}).get("S") or ("sent" if notified else "pending")
        attempts = int(item.get("notification_attempts", {}).get("N", "0"))
        return Recorded(decision, notified, state, attempts)

    def begin_notification(self, decision_key: tuple[str, str]) -> int:
        """Count one more Publish attempt of the record's notification; return the count."""
        answer = self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": _s(decision_key[0]), "sk": _s(decision_key[1])},
            UpdateExpression="ADD notification_attempts :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["notification_attempts"]["N"])

    def refused_notification(self, decision_key: tuple[str, str]) -> None:
        """SNS refused the Publish attempt just counted (the message never left): uncount it."""
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": _s(decision_key[0]), "sk": _s(decision_key[1])},
            UpdateExpression="ADD notification_attempts :minus_one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":minus_one": {"N": "-1"}},
        )

    def mark_notified(self, decision_key: tuple[str, str]) -> None:
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": _s(decision_key[0]), "sk": _s(decision_key[1])},
            UpdateExpression="SET notified = :yes, notification = :sent",
            ExpressionAttributeValues={":yes": {"BOOL": True}, ":sent": _s("sent")},
        )

    def mark_notification_failed(self, decision_key: tuple[str, str], error: str) -> None:
        """The notification cannot be sent (KMS access denied, topic gone): the decision stays
        what was done; the record says the message never left."""
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": _s(decision_key[0]), "sk": _s(decision_key[1])},
            UpdateExpression="SET notification = :failed, notification_error = :error",
            ExpressionAttributeValues={":failed": _s("failed"), ":error": _s(error[:1000])},
        )

    def decisions_since(self, table_name: str, since: datetime) -> list[Decision]:
        """The decisions recorded for a table whose record was written since `since`."""
        answer = self._call(
            "Query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            FilterExpression="decided_at >= :since",
            ExpressionAttributeValues={
                ":pk": _s(f"DECISION#{table_name}"),
                ":since": _s(since.isoformat()),
            },
        )
        return [Decision.model_validate_json(i["decision"]["S"]) for i in answer.get("Items", [])]

    # -- scale history -----------------------------------------------------------------------

    def scale_records(self, table_name: str) -> dict[UnitKey, ScaleHistory]:
        """Every capacity record of one table (its GSIs included), in one Query."""
        found: dict[UnitKey, ScaleHistory] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :table)",
            "ExpressionAttributeValues": {":pk": _s(SCALE_PK), ":table": _s(f"{table_name}#")},
            "ConsistentRead": True,
        }
        while True:
            answer = self._call("Query", **kwargs)
            for item in answer.get("Items", []):
                _, index, dimension = item["sk"]["S"].rsplit("#", 2)
                key = (None if index == "-" else index, Dimension(dimension))
                found[key] = parse_history(item)
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def all_scale_history(self) -> dict[str, ScaleHistory]:
        """Every table/index/dimension the responder raised, by sort key."""
        items: dict[str, ScaleHistory] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(SCALE_PK)},
            "ConsistentRead": True,
        }
        while True:
            answer = self._call("Query", **kwargs)
            items.update({i["sk"]["S"]: parse_history(i) for i in answer.get("Items", [])})
            if "LastEvaluatedKey" not in answer:
                return items
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def save_scale_history(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        history: ScaleHistory,
    ) -> None:
        item = {
            "pk": _s(SCALE_PK),
            "sk": _s(scale_sort_key(table_name, index_name, dimension)),
            "table_name": _s(table_name),
            "index_name": _s(index_name or "-"),
            "dimension": _s(dimension.value),
            **history_item(history),
        }
        self._call("PutItem", TableName=self.table_name, Item=item)

    def mark_applied(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        event_key: str,
        at: datetime,
    ) -> None:
        """The intent `event_key` wrote was made (AWS accepted it, or the table shows it)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={
                    "pk": _s(SCALE_PK),
                    "sk": _s(scale_sort_key(table_name, index_name, dimension)),
                },
                UpdateExpression="SET #s = :applied, applied_at = :at",
                ConditionExpression="event_key = :key",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":applied": _s(IntentStatus.APPLIED.value),
                    ":at": _s(at.isoformat()),
                    ":key": _s(event_key),
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise translate(exc, "UpdateItem(intent)", table=table_name) from exc
        except AWS_ERRORS as exc:
            raise translate(exc, "UpdateItem(intent)", table=table_name) from exc

    def restore_scale_history(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        previous: ScaleHistory | None,
    ) -> None:
        if previous is not None:
            self.save_scale_history(table_name, index_name, dimension, previous)
            return
        self.delete_scale_history(table_name, index_name, dimension)

    def delete_scale_history(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> None:
        self._call(
            "DeleteItem",
            TableName=self.table_name,
            Key={"pk": _s(SCALE_PK), "sk": _s(scale_sort_key(table_name, index_name, dimension))},
        )

    # -- locks and attempts ------------------------------------------------------------------

    def acquire_lock(self, table_name: str, owner: str, seconds: int, now: datetime) -> bool:
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "pk": _s(LOCK_PK),
                    "sk": _s(table_name),
                    "owner": _s(owner),
                    "lock_expires": _n(now.timestamp() + seconds),
                    "expires_at": _n(now.timestamp() + seconds + 3600),
                },
                ConditionExpression="attribute_not_exists(pk) OR lock_expires < :now OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": _n(now.timestamp()), ":me": _s(owner)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise translate(exc, "PutItem(lock)", table=table_name) from exc
        except AWS_ERRORS as exc:
            raise translate(exc, "PutItem(lock)", table=table_name) from exc
        return True

    def release_lock(self, table_name: str, owner: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={"pk": _s(LOCK_PK), "sk": _s(table_name)},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": _s(owner)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise translate(exc, "DeleteItem(lock)", table=table_name) from exc
        except AWS_ERRORS as exc:
            raise translate(exc, "DeleteItem(lock)", table=table_name) from exc

    def count_attempt(self, attempt_key: str, now: datetime) -> int:
        answer = self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": _s(ATTEMPT_PK), "sk": _s(bounded(attempt_key))},
            UpdateExpression="ADD attempts :one SET expires_at = :exp",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":exp": _n((now + timedelta(days=2)).timestamp()),
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["attempts"]["N"])

    def _call(self, operation: str, **kwargs: Any) -> Any:
        method = getattr(self.client, _snake(operation))
        try:
            return method(**kwargs)
        except AWS_ERRORS as exc:
            raise translate(exc, operation, table=self.table_name) from exc


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
