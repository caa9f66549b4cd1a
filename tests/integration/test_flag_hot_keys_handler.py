"""The flag_hot_keys handler on an emulated account (moto): effects, not calls.

moto implements neither DescribeContributorInsights nor GetInsightRuleReport: `InsightsStub`
answers them on the handler's own clients (botocore event hooks); every other call (the
decision table, the topic, the queue, DescribeTable, the tags) reaches moto.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoresponder.models.hot_keys import MASK
from functions.flag_hot_keys.app import lambda_handler
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import alarm_event, published
from tests.conftest import DECISION_TABLE, reset_caches
from tests.contributor_insights import InsightsStub, rule_names

EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY_RANGE = "WriteKeyRangeThroughputThrottleEvents"
MANAGED = {"autoresponder:managed": "true"}
CUSTOMER = "cust#alice@example.com"
LABELS = ["customer_id"]


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def account(aws):
    aws.create_table("orders", 100, 50, tags=MANAGED, gsi="by-customer")
    aws.create_table("legacy", 10, 10)
    aws.dynamodb.create_table(
        TableName="devices",
        KeySchema=[{"AttributeName": "device_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "device_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "autoresponder:managed", "Value": "true"}],
    )
    return aws


@pytest.fixture
def insights(account) -> InsightsStub:
    stub = InsightsStub()
    pkc, pkt, skc, skt = stub.table("orders")
    stub.report(
        pkc,
        [(CUSTOMER, 420_000.0, [84_000.0, 90_000.0]), ("cust#bob", 20_000.0, [4_000.0])],
        total=470_000.0,
        unique=312,
        labels=LABELS,
    )
    stub.report(pkt, [(CUSTOMER, 3_100.0, [600.0])], labels=LABELS)
    stub.report(skc, [((CUSTOMER, "order#1"), 30_000.0, [6_000.0])], total=470_000.0)
    stub.report(skt, [])
    return stub.install()


def decision_record(account, table: str = "orders") -> dict:
    [item] = account.decision_items(table)
    return json.loads(item["decision"]["S"])


def test_key_range_alarm_flags_the_hot_key(account, insights, context):
    result = lambda_handler(sample("key_range_throttle.json"), context)
    assert (result["runbook"], result["action"]) == ("flag_hot_keys", "flag_hot_keys")
    assert (result["table_name"], result["index_name"], result["dry_run"]) == (
        "orders",
        None,
        False,
    )
    [hottest] = [k for k in result["hot_keys"] if k["rank"] == 1]
    # whoever invokes the function reads the return value: key values masked
    assert hottest["key_values"] == [MASK]
    assert CUSTOMER not in json.dumps(result)
    assert hottest["key_names"] == LABELS
    assert hottest["rate_per_second"] == 1500.0  # the busiest minute: 90,000 units
    assert hottest["throttled"] == 3100
    assert hottest["recommendation"] == {
        "kind": "write_sharding",
        "suffix_count": 3,
        "summary": hottest["recommendation"]["summary"],
    }
    # one report per rule the table lists, nothing more
    assert insights.count("GetInsightRuleReport") == 4
    asked = [p["RuleName"] for op, p in insights.calls if op == "GetInsightRuleReport"]
    assert asked == rule_names("orders")
    # the record keeps the key values; the notification masks them
    record = decision_record(account)
    assert record["hot_keys"][0]["key_values"] == [CUSTOMER]
    [item] = account.decision_items("orders")
    assert item["notified"]["BOOL"] is True
    [note] = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "flag_hot_keys"
    assert CUSTOMER not in json.dumps(note)
    chat = json.loads(note["Message"])
    assert any(step.startswith(f"#1 customer_id={MASK}") for step in chat["content"]["nextSteps"])


def test_report_covers_the_alarm_window(account, insights, context):
    lambda_handler(sample("key_range_throttle.json"), context)
    params = next(p for op, p in insights.calls if op == "GetInsightRuleReport")
    assert params["EndTime"].startswith("2026-11-20 14:14:08")
    assert params["StartTime"].startswith("2026-11-20 14:09:08")  # 5 minutes at least
    assert (params["Period"], params["MaxContributorCount"], params["OrderBy"]) == (60, 10, "Sum")


def test_duplicate_delivery_reads_and_notifies_once(account, insights, context):
    event = sample("key_range_throttle.json")
    first = lambda_handler(event, context)
    second = lambda_handler(json.loads(json.dumps(event)), context)
    assert second == first
    assert insights.count("GetInsightRuleReport") == 4
    assert len(account.notifications()) == 1
    assert len(account.decision_items("orders")) == 1


def test_same_key_range_event_reaches_both_runbooks(account, insights, context):
    account.publish(published(consumed=30, rejected=10, cause="key_range"))
    event = sample("key_range_throttle.json")
    handed_off = scale_on_throttle(event, context)
    flagged = lambda_handler(event, context)
    assert handed_off["action"] == "hand_off_hot_keys"
    assert flagged["action"] == "flag_hot_keys"
    assert account.capacity("orders") == (100, 50)  # no capacity for a hot partition
    runbooks = {
        json.loads(item["decision"]["S"])["runbook"] for item in account.decision_items("orders")
    }
    assert runbooks == {"scale_on_throttle", "flag_hot_keys"}


def test_no_contributors(account, insights, context):
    for rule in rule_names("orders"):
        insights.report(rule, [])
    result = lambda_handler(alarm_event(KEY_RANGE), context)
    assert result["action"] == "no_hot_keys"
    assert result["hot_keys"] == []
    assert "0 keys in 4 Contributor Insights reports" in result["reason"]
    assert len(account.notifications()) == 1


def test_many_small_keys(account, insights, context):
    pkc = rule_names("orders")[0]
    insights.report(pkc, [(f"cust#{i}", 2_000.0, [400.0]) for i in range(40)], total=90_000.0)
    insights.report(rule_names("orders")[1], [])
    insights.report(rule_names("orders")[2], [])
    result = lambda_handler(alarm_event("WriteThrottleEvents"), context)
    assert result["action"] == "no_hot_keys"
    assert result["severity"] == "info"
    assert account.notifications() == []  # a generic throttle: scale_on_throttle reports
    assert decision_record(account)["action"] == "no_hot_keys"


def test_gsi_rule(account, insights, context):
    pkc, pkt, skc, skt = insights.table("orders", "by-customer")
    insights.report(pkc, [(CUSTOMER, 800_000.0, [160_000.0])], total=900_000.0)
    result = lambda_handler(
        alarm_event("ReadKeyRangeThroughputThrottleEvents", index="by-customer"), context
    )
    assert (result["table_name"], result["index_name"]) == ("orders", "by-customer")
    described = [p for op, p in insights.calls if op == "DescribeContributorInsights"]
    assert described == [{"TableName": "orders", "IndexName": "by-customer"}]
    asked = [p["RuleName"] for op, p in insights.calls if op == "GetInsightRuleReport"]
    assert asked == [pkc, pkt, skc, skt]
    [key] = result["hot_keys"]
    assert (key["partition_limit"], key["recommendation"]["kind"]) == (3000, "caching")


def test_table_without_sort_key(account, insights, context):
    pkc, _ = insights.table("devices", sort_key=False)
    insights.report(pkc, [("device#9", 360_000.0, [72_000.0])], labels=["device_id"])
    result = lambda_handler(alarm_event(KEY_RANGE, table="devices"), context)
    assert insights.count("GetInsightRuleReport") == 2
    [key] = result["hot_keys"]
    assert (key["key_names"], key["level"]) == (["device_id"], "partition")


@pytest.mark.parametrize(
    ("failure", "rule"),
    [
        pytest.param("timeout", "error.AwsUnavailableError", id="timed-out"),
        pytest.param("AccessDeniedException", "error.AccessDeniedError", id="denied"),
    ],
)
def test_failed_report_is_a_notified_fail_raised_never(account, insights, context, failure, rule):
    insights.fail("GetInsightRuleReport", failure)
    event = sample("key_range_throttle.json")
    result = lambda_handler(event, context)  # returns: Lambda does not retry it
    assert (result["action"], result["rule"]) == ("fail", rule)
    assert insights.count("GetInsightRuleReport") == 1  # stopped at the failing report
    [note] = account.notifications()
    assert note["MessageAttributes"]["action"]["Value"] == "fail"
    again = lambda_handler(json.loads(json.dumps(event)), context)
    assert again == result
    assert account.notifications() == []
    assert insights.count("GetInsightRuleReport") == 1


def test_disabled_contributor_insights(account, insights, context):
    insights.table("devices", status="DISABLED")
    result = lambda_handler(alarm_event(KEY_RANGE, table="devices"), context)
    assert result["action"] == "contributor_insights_disabled"
    assert "1 rule × $0.50/month = $0.50/month" in result["reason"]  # no sort key (moto)
    assert result["next_steps"][0] == (
        "Enable it: aws dynamodb update-contributor-insights --table-name devices "
        "--contributor-insights-action ENABLE --contributor-insights-mode THROTTLED_KEYS "
        "--region us-east-1"
    )
    assert insights.count("UpdateContributorInsights") == 0
    assert len(account.notifications()) == 1


def test_enabling_on_an_opted_in_table(account, insights, context, monkeypatch):
    monkeypatch.setenv("ENABLE_CONTRIBUTOR_INSIGHTS", "true")
    reset_caches()
    insights.install()
    insights.table("devices", status="DISABLED")
    insights.table("legacy", status="DISABLED")
    enabled = lambda_handler(alarm_event(KEY_RANGE, table="devices"), context)
    left = lambda_handler(alarm_event(KEY_RANGE, table="legacy"), context)
    assert enabled["rule"] == "contributor_insights.enabled_now"
    assert left["rule"] == "contributor_insights.disabled"
    updates = [p for op, p in insights.calls if op == "UpdateContributorInsights"]
    assert updates == [
        {
            "TableName": "devices",
            "ContributorInsightsAction": "ENABLE",
            "ContributorInsightsMode": "THROTTLED_KEYS",
        }
    ]


def test_insight_rule_alarm_on_an_index(account, insights, context):
    pkc, *_ = insights.table("orders", "by-customer")
    insights.report(pkc, [(CUSTOMER, 21_000.0, [4_200.0]), ("cust#bob", 3_000.0, [600.0])])
    result = lambda_handler(sample("insight_rule_alarm.json"), context)
    assert (result["action"], result["rule"]) == ("flag_hot_keys", "insight_rule.flag")
    assert (result["table_name"], result["index_name"]) == ("orders", "by-customer")
    assert result["inputs"]["alarm_rule"] == pkc
    # the rule name says where to look; the index's own rule list confirms it
    described = [p for op, p in insights.calls if op == "DescribeContributorInsights"]
    assert described[-1] == {"TableName": "orders", "IndexName": "by-customer"}
    assert insights.count("GetInsightRuleReport") == 4
    [key] = result["hot_keys"]
    assert (key["share"], key["recommendation"]["kind"]) == (0.875, "key_redesign")


def test_unrelated_alarm_is_skipped_without_reading(account, insights, context):
    result = lambda_handler(alarm_event(), context)  # provisioned throttle
    assert (result["action"], result["rule"]) == ("skip", "not_hot_key_metric")
    assert insights.calls == []
    assert account.notifications() == []


def test_malformed_event_is_rejected_and_kept(account, insights, context):
    result = lambda_handler({"source": "aws.cloudwatch", "detail": "nope"}, context)
    assert result["action"] == "reject"
    rejected = account.dynamodb.query(
        TableName=DECISION_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "REJECT"}},
    )["Items"]
    assert json.loads(rejected[0]["raw_event"]["S"])["detail"] == "nope"
