"""The decision table: decision records, scale history, per-table locks, attempt counters.

Key layout (partition key `pk`, sort key `sk`, TTL `expires_at` in epoch seconds):

| item              | pk                     | sk                                          |
|-------------------|------------------------|---------------------------------------------|
| decision record   | `DECISION#<table>`     | `ALARM#<state timestamp>#<alarm>#<runbook>` |
|                   |                        | or `RUN#<decided at>#<runbook>`             |
| rejected event    | `REJECT`               | `<decided at>#<runbook>#<event id>`         |
| latency report    | `REPORT#report_latency_regression` | `RUN#<scheduled time>`          |
| scale history     | `SCALE`                | `<table>#<index or ->#<read/write>`         |
| table lock        | `LOCK`                 | `<table>`                                   |
| delivery attempts | `ATTEMPT`              | `<runbook>#<alarm>@<state timestamp>`       |
| idempotency       | `IDEMPOTENCY#<runbook>`| Powertools' hash of the event key           |
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.domain.scaling import Limits, ScaleHistory
from autoresponder.models.decision import Action, AutoScalingLimits, Decision
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits

_LIMITS: TypeAdapter[Limits] = TypeAdapter(Limits)
_LIMIT_KINDS: dict[str, type[Capacity] | type[AutoScalingLimits] | type[OnDemandLimits]] = {
    "Capacity": Capacity,
    "AutoScalingLimits": AutoScalingLimits,
    "OnDemandLimits": OnDemandLimits,
}
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
    if history.throttle_value is not None:
        item["throttle_value"] = {"N": repr(float(history.throttle_value))}
    return item


def parse_history(item: Mapping[str, Any]) -> ScaleHistory:
    def limits(key: str) -> Limits:
        # `{"read": .., "write": ..}` fits Capacity and OnDemandLimits alike: the kind decides
        # (items written before `after_kind`/`original_kind` existed: the kind of `before`).
        kind = (item.get(f"{key}_kind") or item.get("before_kind") or {}).get("S")
        model = _LIMIT_KINDS.get(kind or "")
        raw = item[key]["S"]
        return model.model_validate_json(raw) if model else _LIMITS.validate_json(raw)

    throttle = item.get("throttle_value")
    return ScaleHistory(
        scaled_at=datetime.fromisoformat(item["scaled_at"]["S"]),
        event_key=item["event_key"]["S"],
        action=Action(item["action"]["S"]),
        before=limits("before"),
        after=limits("after"),
        original=limits("original"),
        throttle_value=float(throttle["N"]) if throttle else None,
    )


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
            "decision": _s(decision.model_dump_json()),
            "expires_at": _n(expires.timestamp()),
        }
        if decision.index_name:
            item["index_name"] = _s(decision.index_name)
        if raw_event is not None:
            item["raw_event"] = _s(json.dumps(raw_event, default=str))
        self._call("PutItem", TableName=self.table_name, Item=item)
        return sk

    def recorded(self, decision_key: tuple[str, str]) -> tuple[Decision, bool] | None:
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
        return decision, bool(item.get("notified", {}).get("BOOL"))

    def mark_notified(self, decision_key: tuple[str, str]) -> None:
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": _s(decision_key[0]), "sk": _s(decision_key[1])},
            UpdateExpression="SET notified = :yes",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
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

    def scale_history(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> ScaleHistory | None:
        answer = self._call(
            "GetItem",
            TableName=self.table_name,
            Key={"pk": _s(SCALE_PK), "sk": _s(scale_sort_key(table_name, index_name, dimension))},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return parse_history(item) if item else None

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
            Key={"pk": _s(ATTEMPT_PK), "sk": _s(attempt_key)},
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
