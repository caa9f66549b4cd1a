"""Capacity records on the decision table (`SCALE`, `<table>#<index or ->#<read/write>`): the
intent of a change, written before it is made, then its history (what the table started from,
when it was raised, applied, decreased, mitigated), which scale_back reads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from autoresponder.adapters.decision_table.table import DecisionTableAdapter, n, s
from autoresponder.domain.scaling.history import IntentStatus, Limits, ScaleHistory, UnitKey
from autoresponder.models.decision import Action, AutoScalingLimits
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits

SCALE_PK = "SCALE"
_LIMITS: TypeAdapter[Limits] = TypeAdapter(Limits)
_LIMIT_KINDS: dict[str, type[Capacity] | type[AutoScalingLimits] | type[OnDemandLimits]] = {
    "Capacity": Capacity,
    "AutoScalingLimits": AutoScalingLimits,
    "OnDemandLimits": OnDemandLimits,
}


def scale_sort_key(table_name: str, index_name: str | None, dimension: Dimension) -> str:
    return f"{table_name}#{index_name or '-'}#{dimension.value}"


def history_item(history: ScaleHistory) -> dict[str, Any]:
    item = {
        "scaled_at": s(history.scaled_at.isoformat()),
        "event_key": s(history.event_key),
        "action": s(str(history.action)),
        "before": s(history.before.model_dump_json()),
        "after": s(history.after.model_dump_json()),
        "original": s(history.original.model_dump_json()),
        "before_kind": s(type(history.before).__name__),
        "after_kind": s(type(history.after).__name__),
        "original_kind": s(type(history.original).__name__),
    }
    item["status"] = s(history.status.value)
    optional = {
        "episode_start": history.episode_start,
        "applied_at": history.applied_at,
        "decreased_at": history.decreased_at,
        "mitigated_at": history.mitigated_at,
    }
    item.update({key: s(value.isoformat()) for key, value in optional.items() if value})
    if history.stabilization_minutes is not None:
        item["stabilization_minutes"] = n(history.stabilization_minutes)
    if history.rule:
        item["rule"] = s(history.rule)
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


class DynamoDBScaleHistory(DecisionTableAdapter):
    """Implements `ScaleHistoryStore` on the decision table."""

    def scale_records(self, table_name: str) -> dict[UnitKey, ScaleHistory]:
        """Every capacity record of one table (its GSIs included), in one Query."""
        found: dict[UnitKey, ScaleHistory] = {}
        for item in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :table)",
            ExpressionAttributeValues={":pk": s(SCALE_PK), ":table": s(f"{table_name}#")},
        ):
            _, index, dimension = item["sk"]["S"].rsplit("#", 2)
            found[(None if index == "-" else index, Dimension(dimension))] = parse_history(item)
        return found

    def all_scale_history(self) -> dict[str, ScaleHistory]:
        """Every table/index/dimension the responder raised, by sort key."""
        return {
            item["sk"]["S"]: parse_history(item)
            for item in self._query(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": s(SCALE_PK)},
            )
        }

    def save_scale_history(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        history: ScaleHistory,
    ) -> None:
        item = {
            "pk": s(SCALE_PK),
            "sk": s(scale_sort_key(table_name, index_name, dimension)),
            "table_name": s(table_name),
            "index_name": s(index_name or "-"),
            "dimension": s(dimension.value),
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
        self._call_if(
            "UpdateItem",
            "intent",
            table_name,
            TableName=self.table_name,
            Key=_key(table_name, index_name, dimension),
            UpdateExpression="SET #s = :applied, applied_at = :at",
            ConditionExpression="event_key = :key",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":applied": s(IntentStatus.APPLIED.value),
                ":at": s(at.isoformat()),
                ":key": s(event_key),
            },
        )

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
            "DeleteItem", TableName=self.table_name, Key=_key(table_name, index_name, dimension)
        )

    def _query(self, **conditions: Any) -> list[dict[str, Any]]:
        """Every item of a strongly consistent Query, page after page."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            **conditions,
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            answer = self._call("Query", **kwargs)
            items += answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return items
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _key(table_name: str, index_name: str | None, dimension: Dimension) -> dict[str, Any]:
    return {"pk": s(SCALE_PK), "sk": s(scale_sort_key(table_name, index_name, dimension))}
