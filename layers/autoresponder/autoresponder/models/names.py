"""DynamoDB's own rules for table and index names, as annotated types for the edge models.

CreateTable's `TableName` and `IndexName`: 3 to 255 characters of `A-Z a-z 0-9 _ . -`. A name
that breaks them cannot belong to a DynamoDB table, so an event that carries one is not a real
DynamoDB alarm (or was crafted): the event models reject it before any runbook sees it, and the
name never reaches a DynamoDB call, a log line or a notification.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

NAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,255}$"
"""DynamoDB `TableName` / `IndexName` (botocore's model: pattern `[a-zA-Z0-9_.-]+`, 3..255)."""
_NAME = re.compile(NAME_PATTERN)

TableName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
IndexName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]

TABLE_DIMENSION = "TableName"
INDEX_DIMENSION = "GlobalSecondaryIndexName"
NAMED_DIMENSIONS = (TABLE_DIMENSION, INDEX_DIMENSION)
"""The AWS/DynamoDB metric dimensions that name a table or an index."""


def is_dynamodb_name(value: str) -> bool:
    return bool(_NAME.fullmatch(value))


def name_problem(dimension: str, value: str) -> str | None:
    """Why `value` cannot be the DynamoDB name a `dimension` names (None when it can)."""
    if is_dynamodb_name(value):
        return None
    return (
        f"dimension {dimension} is not a DynamoDB name "
        f"(3-255 characters of A-Z a-z 0-9 _ . -; got {len(value)} characters)"
    )
