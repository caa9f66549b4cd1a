"""The local AWS's Contributor Insights (local/contributor_insights.py), and flag_hot_keys run on
it with the demo account and the sample events, as `make demo` and `make invoke` do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from autoresponder.adapters.contributor_insights import ContributorInsights
from autoresponder.errors import ResourceNotFoundError
from autoresponder.models.hot_keys import MASK, RuleKind
from local import EVENTS
from local.contributor_insights import RULE_STAMP
from local.emulator import LocalAccount, local_aws, registered_extensions
from local.runtime import LocalLambdaContext, function_environment, invoke
from local.seed import DemoAccount, seed_demo_account

END = datetime(2026, 11, 20, 14, 14, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def local() -> Iterator[tuple[LocalAccount, DemoAccount]]:
    with local_aws() as aws:
        yield aws, seed_demo_account(aws.session())


def rules(resource: str, kinds: str = "PKC PKT SKC SKT") -> list[str]:
    return [f"DynamoDBContributorInsights-{k}-{resource}-{RULE_STAMP}" for k in kinds.split()]


def test_the_extensions_are_registered_through_the_emulator():
    found = registered_extensions()
    assert "DynamoDBContributorInsights" in found["dynamodb"]
    assert "CloudWatchInsightRuleReports" in found["cloudwatch"]


@pytest.mark.parametrize(
    ("table", "index", "status", "expected"),
    [
        pytest.param("orders", None, "ENABLED", rules("orders"), id="table-with-sort-key"),
        pytest.param("orders", "by-customer", "ENABLED", rules("orders-by-customer"), id="index"),
        pytest.param("profiles", None, "DISABLED", [], id="not-enabled"),
    ],
)
def test_describe(local, table, index, status, expected):
    aws, _ = local
    kwargs: dict[str, Any] = {"TableName": table} | ({"IndexName": index} if index else {})
    answer = aws.client("dynamodb").describe_contributor_insights(**kwargs)
    assert answer["ContributorInsightsStatus"] == status
    assert answer["ContributorInsightsRuleList"] == expected
    assert answer.get("IndexName") == index


@pytest.mark.parametrize(
    "kwargs",
    [{"TableName": "missing"}, {"TableName": "orders", "IndexName": "missing"}],
    ids=["table", "index"],
)
def test_describe_unknown_resource(local, kwargs):
    aws, _ = local
    with pytest.raises(ClientError) as caught:
        aws.client("dynamodb").describe_contributor_insights(**kwargs)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_report_through_the_shipped_adapter(local):
    aws, _ = local
    adapter = ContributorInsights(aws.client("dynamodb"), aws.client("cloudwatch"))
    report = adapter.report(
        rules("orders")[0],
        RuleKind.PKC,
        start=END - timedelta(minutes=5),
        end=END,
        period_seconds=60,
        max_contributors=2,
    )
    assert report.key_labels == ("customer_id",)
    assert [c.keys for c in report.contributors] == [("cust#0042",), ("cust#0007",)]
    hottest = report.contributors[0]
    assert hottest.peak == 122.0 * 60  # the busiest minute, the last one
    assert report.unique_contributors is not None and report.unique_contributors > 1000
    assert hottest.value / report.total == pytest.approx(122 / 190, abs=0.01)


def test_report_of_an_unknown_rule(local):
    aws, _ = local
    adapter = ContributorInsights(aws.client("dynamodb"), aws.client("cloudwatch"))
    with pytest.raises(ResourceNotFoundError):
        adapter.report(
            rules("nowhere")[0],
            RuleKind.PKC,
            start=END - timedelta(minutes=5),
            end=END,
            period_seconds=60,
            max_contributors=10,
        )


def test_enabling_in_throttled_keys_mode(local):
    aws, _ = local
    dynamodb = aws.client("dynamodb")
    answer = dynamodb.update_contributor_insights(
        TableName="inventory",
        ContributorInsightsAction="ENABLE",
        ContributorInsightsMode="THROTTLED_KEYS",
    )
    assert answer["ContributorInsightsStatus"] == "ENABLING"
    described = dynamodb.describe_contributor_insights(TableName="inventory")
    assert described["ContributorInsightsMode"] == "THROTTLED_KEYS"
    assert described["ContributorInsightsRuleList"] == rules("inventory", "PKT")  # no sort key


def _run(local, event_file: str) -> dict[str, Any]:
    aws, account = local
    event = json.loads((EVENTS / event_file).read_text())
    with function_environment(account.function_environment(), isolated=True):
        run = invoke(
            "flag_hot_keys",
            event,
            LocalLambdaContext(function_name="flag_hot_keys", region=aws.region),
        )
    assert run.error is None, run.error
    assert run.result is not None
    return run.result


def test_key_range_sample_names_the_hot_customer(local):
    aws, account = local
    result = _run(local, "key_range_throttle.json")
    assert result["action"] == "flag_hot_keys"
    # the return value masks the key values; the decision record keeps them
    keys = [(k["level"], k["key_values"]) for k in result["hot_keys"]]
    assert keys == [("partition", [MASK]), ("item", [MASK, MASK])]
    items = aws.client("dynamodb").query(
        TableName=account.decision_table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "DECISION#orders"}},
    )["Items"]
    [record] = [
        json.loads(i["decision"]["S"]) for i in items if i["runbook"]["S"] == "flag_hot_keys"
    ]
    keys = [(k["level"], k["key_values"]) for k in record["hot_keys"]]
    assert keys == [("partition", ["cust#0042"]), ("item", ["cust#0042", "order#open"])]
    top = result["hot_keys"][0]
    assert top["recommendation"]["kind"] == "write_sharding"
    assert top["recommendation"]["suffix_count"] == 2
    assert [e["kind"] for e in result["examined"]] == ["PKC", "PKT", "SKC", "SKT"]


def test_insight_rule_sample_finds_the_index(local):
    result = _run(local, "insight_rule_alarm.json")
    assert (result["action"], result["table_name"], result["index_name"]) == (
        "flag_hot_keys",
        "orders",
        "by-customer",
    )
    [key] = result["hot_keys"]
    assert (key["share"], key["recommendation"]["kind"]) == (0.7, "key_redesign")


def test_insights_off_sample(local):
    result = _run(local, "key_range_throttle_insights_off.json")
    assert (result["action"], result["table_name"]) == ("contributor_insights_disabled", "profiles")
    assert "1 rule × $0.50/month" in result["reason"]  # profiles has no sort key
