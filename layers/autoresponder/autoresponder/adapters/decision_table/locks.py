"""Per-table locks on the decision table (`LOCK`, `<table>`): one change of a table's capacity
at a time across invocations; a lock expires by itself (`lock_expires`)."""

from __future__ import annotations

from datetime import datetime

from autoresponder.adapters.decision_table.table import DecisionTableAdapter, n, s

LOCK_PK = "LOCK"


class DynamoDBTableLocks(DecisionTableAdapter):
    """Implements `TableLocks` on the decision table."""

    def acquire_lock(self, table_name: str, owner: str, seconds: int, now: datetime) -> bool:
        return self._call_if(
            "PutItem",
            "lock",
            table_name,
            TableName=self.table_name,
            Item={
                "pk": s(LOCK_PK),
                "sk": s(table_name),
                "owner": s(owner),
                "lock_expires": n(now.timestamp() + seconds),
                "expires_at": n(now.timestamp() + seconds + 3600),
            },
            ConditionExpression="attribute_not_exists(pk) OR lock_expires < :now OR #o = :me",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":now": n(now.timestamp()), ":me": s(owner)},
        )

    def release_lock(self, table_name: str, owner: str) -> None:
        """Release the lock if `owner` still holds it (else it expired and is someone else's)."""
        self._call_if(
            "DeleteItem",
            "lock",
            table_name,
            TableName=self.table_name,
            Key={"pk": s(LOCK_PK), "sk": s(table_name)},
            ConditionExpression="#o = :me",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":me": s(owner)},
        )
