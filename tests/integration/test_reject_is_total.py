"""Reject is total: any input, of any size and shape, through each of the five handlers.

Each handler gets events built to break the decision table's limits: ~240 KB of non-ASCII
text (malformed for the runbook, and in a field of an otherwise well-formed event), an alarm
name and an event id over 1 KB, text that is JSON but not UTF-8 (lone surrogates). The
responder's own DynamoDB client enforces DynamoDB's size limits, which moto does not
(`tests/dynamodb_limits.py`): an item over 400 KB or a key over its limit is answered with
DynamoDB's ValidationException, so a record that does not fit fails the test.

Effects asserted: the handler returns; the decision is `reject` (or the runbook's own answer
to a well-formed event); a reject's record keeps the raw event cut to fit, with the size and
SHA-256 of the whole; every key in the decision table fits; nothing changed in the account.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from autoresponder.adapters.clients import client
from functions.flag_hot_keys.app import lambda_handler as flag_hot_keys
from functions.onboard_tables.app import lambda_handler as onboard_tables
from functions.report_latency_regression.app import lambda_handler as report_latency
from functions.scale_back.app import lambda_handler as scale_back
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import NOW, alarm_event
from tests.conftest import DECISION_TABLE
from tests.contributor_insights import InsightsStub
from tests.dynamodb_limits import (
    ITEM_BYTES,
    PARTITION_KEY_BYTES,
    SORT_KEY_BYTES,
    enforce_limits,
    item_size,
    value_size,
)
from tests.onboarding import tag_change_event
from tests.scale_back_fakes import scheduled_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

TEXT = "Grüße 東京 🚀 "
"""20 bytes of UTF-8 (2, 3 and 4-byte characters), 42 once JSON escapes them as ASCII."""
HUGE = TEXT * 12_000
"""240,000 bytes of non-ASCII UTF-8."""
LONG_NAME = "alarm-ü-" * 130
"""1,170 bytes: over CloudWatch's 255 characters and over DynamoDB's 1,024-byte sort key."""
LONG_ID = "événement-" * 110
"""1,320 bytes."""
LONE = "bad \ud800 text \udfff"
"""JSON may carry lone surrogates (`"\\ud800"`); UTF-8 cannot encode them."""


@dataclass(frozen=True)
class Runbook:
    name: str
    handler: Handler
    own_event: Callable[[], dict[str, Any]]
    """A well-formed event of the runbook's own kind."""


def _alarm(metric: str) -> Callable[[], dict[str, Any]]:
    return lambda: alarm_event(metric, table="orders")


RUNBOOKS = [
    Runbook(
        "scale_on_throttle",
        scale_on_throttle,
        _alarm("WriteProvisionedThroughputThrottleEvents"),
    ),
    Runbook("flag_hot_keys", flag_hot_keys, _alarm("WriteKeyRangeThroughputThrottleEvents")),
    Runbook("report_latency_regression", report_latency, _alarm("SuccessfulRequestLatency")),
    Runbook("scale_back", scale_back, lambda: scheduled_event(NOW)),
    Runbook("onboard_tables", onboard_tables, lambda: tag_change_event("orders", {})),
]


EACH = [pytest.param(r, id=r.name) for r in RUNBOOKS]


@dataclass
class Limited:
    """The emulated account, and the calls DynamoDB's limits refused."""

    aws: Any
    refused: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.aws, name)


@pytest.fixture
def account(aws) -> Limited:
    """An unmanaged table (the runbooks report on it, never change it), DynamoDB's limits on
    the responder's client, Contributor Insights (which moto lacks) answered by a stub."""
    aws.create_table("orders", 100, 50, gsi="by-customer")
    refused = enforce_limits(client("dynamodb", "us-east-1"), aws.dynamodb)
    stub = InsightsStub()
    stub.table("orders")
    stub.install()
    return Limited(aws, refused)


def whole_json(event: Any) -> bytes:
    """The event as the decision table keeps it: JSON, UTF-8."""
    return json.dumps(event, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace")


def decision_table(aws: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": DECISION_TABLE}
    while True:
        answer = aws.dynamodb.scan(**kwargs)
        items += answer["Items"]
        if "LastEvaluatedKey" not in answer:
            return items
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def rejects(aws: Any) -> list[dict[str, Any]]:
    return [i for i in decision_table(aws) if i["pk"]["S"] == "REJECT"]


def assert_everything_fits(aws: Any) -> None:
    assert aws.refused == []  # no call was answered with DynamoDB's ValidationException
    for item in decision_table(aws):
        assert value_size(item["pk"]) <= PARTITION_KEY_BYTES
        assert value_size(item["sk"]) <= SORT_KEY_BYTES
        assert item_size(item) <= ITEM_BYTES


def assert_nothing_changed(aws: Any, *, announced: bool = False) -> None:
    """The table, its alarms and tags as they were; no message (rejects and skips are recorded,
    not announced), or the one the runbook's answer announces (checked as it is drained)."""
    assert aws.capacity("orders") == (100, 50)
    assert aws.capacity("orders", "by-customer") == (50, 25)
    assert aws.cloudwatch.describe_alarms()["MetricAlarms"] == []
    arn = aws.dynamodb.describe_table(TableName="orders")["Table"]["TableArn"]
    assert aws.dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    assert len(aws.notifications()) == (1 if announced else 0)


def assert_rejected_and_kept(aws: Any, runbook: Runbook, event: Any, result: Any) -> None:
    assert result["action"] == "reject", result
    assert result["runbook"] == runbook.name
    [item] = rejects(aws)
    whole = whole_json(event)
    assert int(item["raw_event_size"]["N"]) == len(whole)
    assert item["raw_event_sha256"]["S"] == hashlib.sha256(whole).hexdigest()
    kept = item["raw_event"]["S"].encode("utf-8", "backslashreplace")
    assert whole.startswith(kept)
    assert item.get("raw_event_truncated", {}).get("BOOL", False) is (len(kept) < len(whole))
    assert_everything_fits(aws)
    assert_nothing_changed(aws)


# --------------------------------------------------------------------------------------------
# (a) ~240 KB of non-ASCII text
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "cut"),
    [
        pytest.param(HUGE, False, id="240-kb-kept-whole"),
        # beyond EventBridge's 256 KB, not beyond a direct invocation's 6 MB
        pytest.param(HUGE * 4, True, id="960-kb-cut"),
    ],
)
@pytest.mark.parametrize("runbook", EACH)
def test_a_huge_malformed_event_is_a_reject_that_fits(
    account, context, runbook: Runbook, text: str, cut: bool
):
    event = runbook.own_event()
    event["detail-type"] = f"Not what {runbook.name} expects"
    event["note"] = text
    result = runbook.handler(event, context)
    assert_rejected_and_kept(account, runbook, event, result)
    [item] = rejects(account)
    assert int(item["raw_event_size"]["N"]) > len(text.encode())
    assert item.get("raw_event_truncated", {}).get("BOOL", False) is cut


@pytest.mark.parametrize("runbook", EACH)
def test_a_huge_non_ascii_payload_in_place_of_the_detail_is_a_reject(
    account, context, runbook: Runbook
):
    event = runbook.own_event()
    event["detail"] = HUGE
    result = runbook.handler(event, context)
    assert_rejected_and_kept(account, runbook, event, result)


ANSWERS = {
    "scale_on_throttle": ("skip", "not_managed"),
    "flag_hot_keys": ("no_hot_keys", "no_hot_keys"),
    "report_latency_regression": ("no_regression", "no_traffic"),
    "scale_back": ("skip", "nothing_to_do"),
    "onboard_tables": ("skip", "reconcile.unchanged"),
}
"""Each runbook's answer to a well-formed event on the unmanaged table and a quiet account."""
ANNOUNCED = {("no_hot_keys", "no_hot_keys")}
"""flag_hot_keys reports on any table a key-range alarm names, managed or not."""
HUGE_FIELDS = {
    "scale_on_throttle": ("detail", "state", "reason"),
    "flag_hot_keys": ("detail", "configuration", "description"),
    "report_latency_regression": ("detail", "alarmTags", "team"),
    "scale_back": ("detail", "note"),
    "onboard_tables": ("detail", "tags", "note"),
}


@pytest.mark.parametrize("text", [HUGE, HUGE * 4], ids=["240-kb", "960-kb"])
@pytest.mark.parametrize("runbook", EACH)
def test_a_well_formed_event_with_a_huge_field_gets_the_runbooks_answer(
    account, context, runbook: Runbook, text: str
):
    event = runbook.own_event()
    *path, last = HUGE_FIELDS[runbook.name]
    holder = event
    for key in path:
        holder = holder.setdefault(key, {})
    holder[last] = text
    result = runbook.handler(event, context)
    assert (result["action"], result["rule"]) == ANSWERS[runbook.name]
    assert_everything_fits(account)
    assert_nothing_changed(account, announced=ANSWERS[runbook.name] in ANNOUNCED)


# --------------------------------------------------------------------------------------------
# (b) names and ids over 1 KB
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("runbook", EACH)
def test_an_alarm_name_and_an_id_over_1_kb_are_a_reject_that_fits(
    account, context, runbook: Runbook
):
    event = alarm_event(alarm_name=LONG_NAME)
    event["id"] = LONG_ID
    result = runbook.handler(event, context)
    assert_rejected_and_kept(account, runbook, event, result)
    [item] = rejects(account)
    assert json.loads(item["decision"]["S"])["event_id"] == LONG_ID[:128]


@pytest.mark.parametrize("runbook", EACH)
def test_an_id_over_1_kb_on_a_well_formed_event_gets_the_runbooks_answer(
    account, context, runbook: Runbook
):
    event = runbook.own_event()
    event["id"] = LONG_ID
    result = runbook.handler(event, context)
    assert (result["action"], result["rule"]) == ANSWERS[runbook.name]
    assert_everything_fits(account)
    assert_nothing_changed(account, announced=ANSWERS[runbook.name] in ANNOUNCED)


@pytest.mark.parametrize("text", [LONG_NAME, LONE], ids=["over-1-kb", "lone-surrogates"])
@pytest.mark.parametrize("runbook", EACH)
def test_a_foreign_event_with_such_names_is_a_skip_that_fits(
    account, context, runbook: Runbook, text: str
):
    event = alarm_event(alarm_name=text)
    event.update(id=text, account=f"{'2' * 12}{text}", region=text)
    result = runbook.handler(event, context)
    assert (result["action"], result["rule"]) == ("skip", "foreign_event")
    assert_everything_fits(account)
    assert_nothing_changed(account)
    [item] = [i for i in decision_table(account) if i["pk"]["S"].startswith("ALARM#")]
    assert json.loads(item["decision"]["S"])["action"] == "skip"


# --------------------------------------------------------------------------------------------
# (c) JSON that is not UTF-8
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("runbook", EACH)
def test_lone_surrogates_anywhere_are_a_reject_that_fits(account, context, runbook: Runbook):
    event = alarm_event(alarm_name=LONE)
    event.update(id=LONE, version=LONE)
    event["detail"]["state"]["value"] = LONE
    event["detail"]["alarmTags"] = {LONE: LONE}
    result = runbook.handler(event, context)
    assert_rejected_and_kept(account, runbook, event, result)
    [item] = rejects(account)
    assert json.loads(item["decision"]["S"])["event_id"] == "bad \\ud800 text \\udfff"
    assert json.loads(item["raw_event"]["S"]) == event  # the escapes keep it whole


def test_the_limits_guard_refuses_what_dynamodb_would(account):
    """The guard the tests above rely on is live: a write over 400 KB and a key over 2 KB are
    answered with DynamoDB's ValidationException on the responder's client, and counted."""
    dynamodb = client("dynamodb", "us-east-1")
    key = {"pk": {"S": "DECISION#orders"}, "sk": {"S": "guard"}}
    too_big = {**key, "raw": {"S": "é" * (ITEM_BYTES // 2)}}  # 2 bytes each in UTF-8
    with pytest.raises(dynamodb.exceptions.ClientError, match="Item size has exceeded"):
        dynamodb.put_item(TableName=DECISION_TABLE, Item=too_big)
    long_key = {"pk": {"S": "x" * (PARTITION_KEY_BYTES + 1)}, "sk": {"S": "guard"}}
    with pytest.raises(dynamodb.exceptions.ClientError, match="Size of hashkey"):
        dynamodb.get_item(TableName=DECISION_TABLE, Key=long_key)
    assert len(account.refused) == 2
    # what fits goes through
    dynamodb.put_item(TableName=DECISION_TABLE, Item={**key, "raw": {"S": "é" * 1000}})
    assert len(account.refused) == 2


def test_sizes_count_as_dynamodb_documents():
    assert value_size({"S": "abc"}) == 3
    assert value_size({"S": "é€"}) == 5  # UTF-8 bytes, not characters
    assert value_size({"N": "12345"}) == 4  # one byte per two significant digits, plus one
    assert value_size({"BOOL": True}) == 1
    assert value_size({"L": [{"S": "ab"}]}) == 3 + 1 + 2
    assert item_size({"pk": {"S": "a"}, "n": {"N": "7"}}) == 2 + 1 + 1 + 2
