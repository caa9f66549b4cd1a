"""Delivery attempts of an event on the decision table (`ATTEMPT`,
`<runbook>#<alarm>@<state timestamp>`): how many times Lambda has tried it, kept two days."""

from __future__ import annotations

from datetime import datetime, timedelta

from autoresponder.adapters.decision_table.table import DecisionTableAdapter, n, s
from autoresponder.models.decision import bounded

ATTEMPT_PK = "ATTEMPT"


class DynamoDBDeliveryAttempts(DecisionTableAdapter):
    """Implements `DeliveryAttempts` on the decision table."""

    def count_attempt(self, attempt_key: str, now: datetime) -> int:
        answer = self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": s(ATTEMPT_PK), "sk": s(bounded(attempt_key))},
            UpdateExpression="ADD attempts :one SET expires_at = :exp",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":exp": n((now + timedelta(days=2)).timestamp()),
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["attempts"]["N"])
