"""DynamoDB's size limits, which moto does not enforce everywhere, enforced on a client.

`enforce_limits(client, reader)` makes `client` answer a write whose item would exceed 400 KB,
or any call whose key exceeds DynamoDB's key limits, with the `ValidationException` DynamoDB
itself answers. A test that lets the responder loose on it sees every item it could not store.

Item size is computed as DynamoDB documents it ("Item sizes and formats"): the UTF-8 length of
every attribute name plus the size of its value (strings: UTF-8 length; numbers: about one
byte per two significant digits, plus one; binary: its length; booleans and null: 1 byte;
lists and maps: 3 bytes plus 1 byte per element, plus the elements).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from botocore.awsrequest import AWSResponse

ITEM_BYTES = 400 * 1024
PARTITION_KEY_BYTES = 2048
SORT_KEY_BYTES = 1024
KEY_NAMES = ("pk", "sk")
"""The decision table's key attributes (tests/conftest.py)."""


def _utf8(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").split("e")[0].split("E")[0]
    return (max(len(digits), 1) + 1) // 2 + 1


def _binary_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    return len(base64.b64decode(value))


def value_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value (`{"S": ...}`, `{"M": ...}`, ...)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return _utf8(inner)
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return _binary_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(v) for v in inner)
    if kind == "NS":
        return sum(_number_size(v) for v in inner)
    if kind == "BS":
        return sum(_binary_size(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """The size DynamoDB counts for an item: attribute names and values."""
    return sum(_utf8(name) + value_size(value) for name, value in item.items())


def key_problem(key: Mapping[str, Mapping[str, Any]]) -> str | None:
    """DynamoDB's answer to a key over its limits (None when it fits)."""
    pk, sk = (key.get(name) for name in KEY_NAMES)
    if pk is not None and value_size(pk) > PARTITION_KEY_BYTES:
        return (
            "One or more parameter values were invalid: Size of hashkey has exceeded the "
            f"maximum size limit of {PARTITION_KEY_BYTES} bytes"
        )
    if sk is not None and value_size(sk) > SORT_KEY_BYTES:
        return (
            "One or more parameter values were invalid: Aggregated size of all range keys has "
            f"exceeded the size limit of {SORT_KEY_BYTES} bytes"
        )
    return None


def _update_bound(params: Mapping[str, Any], reader: Any) -> int:
    """An upper bound of the item an UpdateItem leaves: the item now, plus every name and value
    the update carries."""
    found = reader.get_item(TableName=params["TableName"], Key=params["Key"]).get("Item", {})
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    return (
        item_size(found or params["Key"])
        + sum(_utf8(n) for n in names.values())
        + sum(value_size(v) for v in values.values())
    )


def problem(operation: str, params: Mapping[str, Any], reader: Any) -> str | None:
    """What DynamoDB would answer to this call, when it breaks a size limit."""
    if operation == "PutItem":
        item = params["Item"]
        found = key_problem(item)
        if found is None and item_size(item) > ITEM_BYTES:
            found = "Item size has exceeded the maximum allowed size"
        return found
    if "Key" in params:
        found = key_problem(params["Key"])
        if (
            found is None
            and operation == "UpdateItem"
            and _update_bound(params, reader) > ITEM_BYTES
        ):
            found = "Item size to update has exceeded the maximum allowed size"
        return found
    return None


def enforce_limits(client: Any, reader: Any) -> list[str]:
    """Make `client` answer as DynamoDB does to a call over its size limits; `reader` (another
    client on the same account) reads items for UpdateItem's bound. Returns the problems seen
    (a test asserts it stays empty)."""
    seen: list[str] = []

    def check(model: Any, params: Mapping[str, Any], **kwargs: Any) -> Any:
        # `before-call` sees the request as serialized: the JSON body DynamoDB would receive
        found = problem(model.name, json.loads(params["body"] or b"{}"), reader)
        if found is None:
            return None
        seen.append(f"{model.name}: {found}")
        return (
            AWSResponse("https://dynamodb.invalid", 400, {}, None),
            {
                "Error": {"Code": "ValidationException", "Message": found},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
        )

    client.meta.events.register("before-call.dynamodb", check)
    return seen
