"""Decision records on the decision table (`DECISION#<table>`, `REJECT`, `REPORT#…`), each
with its notification's own state, and the raw event a `reject` keeps."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from autoresponder.adapters.decision_table.table import DecisionTableAdapter, n, s
from autoresponder.models.decision import Decision, Recorded

RAW_EVENT_BUDGET = 300_000
"""Bytes of a decision item (decision JSON and raw event) kept under DynamoDB's 400 KB."""


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
        "raw_event_size": n(len(encoded)),
        "raw_event_sha256": s(hashlib.sha256(encoded).hexdigest()),
    }
    if len(encoded) <= budget:
        item["raw_event"] = s(text)
        return item
    item["raw_event"] = s(encoded[: max(0, budget)].decode("utf-8", errors="ignore"))
    item["raw_event_truncated"] = {"BOOL": True}
    return item


class DynamoDBDecisions(DecisionTableAdapter):
    """Implements `DecisionRecords` and `RecentDecisions` on the decision table."""

    def __init__(
        self,
        table_name: str,
        *,
        decision_ttl: timedelta = timedelta(days=90),
        client: Any = None,
        region: str | None = None,
    ) -> None:
        self._ttl = decision_ttl
        super().__init__(table_name, client=client, region=region)

    def record(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> str:
        pk, sk = decision.record_key()
        expires = decision.decided_at + self._ttl
        item: dict[str, Any] = {
            "pk": s(pk),
            "sk": s(sk),
            "runbook": s(decision.runbook),
            "action": s(decision.action),
            "table_name": s(decision.table_name or "-"),
            "decided_at": s(decision.decided_at.isoformat()),
            "dry_run": {"BOOL": decision.dry_run},
            "notified": {"BOOL": False},
            "notification": s("pending" if decision.notify else "none"),
            "decision": s(decision.model_dump_json()),
            "expires_at": n(expires.timestamp()),
        }
        if decision.index_name:
            item["index_name"] = s(decision.index_name)
        if raw_event is not None:
            budget = RAW_EVENT_BUDGET - len(item["decision"]["S"].encode("utf-8"))
            item.update(bounded_raw_event(raw_event, budget))
        self._call("PutItem", TableName=self.table_name, Item=item)
        return sk

    def recorded(self, decision_key: tuple[str, str]) -> Recorded | None:
        answer = self._call(
            "GetItem", TableName=self.table_name, Key=_key(decision_key), ConsistentRead=True
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
            Key=_key(decision_key),
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
            Key=_key(decision_key),
            UpdateExpression="ADD notification_attempts :minus_one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":minus_one": {"N": "-1"}},
        )

    def mark_notified(self, decision_key: tuple[str, str]) -> None:
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key=_key(decision_key),
            UpdateExpression="SET notified = :yes, notification = :sent",
            ExpressionAttributeValues={":yes": {"BOOL": True}, ":sent": s("sent")},
        )

    def mark_notification_failed(self, decision_key: tuple[str, str], error: str) -> None:
        """The notification cannot be sent (KMS access denied, topic gone): the decision stays
        what was done; the record says the message never left."""
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key=_key(decision_key),
            UpdateExpression="SET notification = :failed, notification_error = :error",
            ExpressionAttributeValues={":failed": s("failed"), ":error": s(error[:1000])},
        )

    def decisions_since(self, table_name: str, since: datetime) -> list[Decision]:
        """The decisions recorded for a table whose record was written since `since`."""
        answer = self._call(
            "Query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            FilterExpression="decided_at >= :since",
            ExpressionAttributeValues={
                ":pk": s(f"DECISION#{table_name}"),
                ":since": s(since.isoformat()),
            },
        )
        return [Decision.model_validate_json(i["decision"]["S"]) for i in answer.get("Items", [])]


def _key(decision_key: tuple[str, str]) -> dict[str, dict[str, str]]:
    return {"pk": s(decision_key[0]), "sk": s(decision_key[1])}
