"""What every store over the decision table shares: its name, the DynamoDB client, and the
translation of botocore errors into the project's own (docs/style.md habit 4)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter

CONDITION_FAILED = "ConditionalCheckFailedException"


def s(value: str) -> dict[str, str]:
    """A DynamoDB string attribute."""
    return {"S": value}


def n(value: float) -> dict[str, str]:
    """A DynamoDB number attribute (whole seconds, counts)."""
    return {"N": str(int(value))}


class DecisionTableAdapter(AwsAdapter):
    """Base of the decision table's stores: one table name, the shared DynamoDB client."""

    service = "dynamodb"

    def __init__(self, table_name: str, *, client: Any = None, region: str | None = None) -> None:
        self.table_name = table_name
        super().__init__(client, region)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """`operation` (e.g. `PutItem`) on the table; a failure is the project's own error."""
        method = getattr(self.client, _snake(operation))
        try:
            return method(**kwargs)
        except AWS_ERRORS as exc:
            raise translate(exc, operation, table=self.table_name) from exc

    def _call_if(self, operation: str, what: str, table: str, **kwargs: Any) -> bool:
        """A conditional `operation` on the item of `what` for `table`: False when its condition
        failed; any other failure is the project's own error, naming `table`."""
        method = getattr(self.client, _snake(operation))
        try:
            method(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return False
            raise translate(exc, f"{operation}({what})", table=table) from exc
        except AWS_ERRORS as exc:
            raise translate(exc, f"{operation}({what})", table=table) from exc
        return True


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
