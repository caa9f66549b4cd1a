"""The pure hot-key runbook: triggers, windows, ranking, thresholds, recommendations, texts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoresponder.adapters.contributor_insights import parse_report, parse_status
from autoresponder.domain.hot_keys.decision import decide_hot_keys
from autoresponder.domain.hot_keys.insights import InsightsPrices, enable_command, insights_off
from autoresponder.domain.hot_keys.loads import measure_keys
from autoresponder.domain.hot_keys.policy import HotKeyThresholds, partition_limit
from autoresponder.domain.hot_keys.ranking import is_hot, rank_hot_keys
from autoresponder.domain.hot_keys.recommendation import suffix_count
from autoresponder.domain.hot_keys.trigger import (
    HotKeyTrigger,
    TriggerKind,
    Unrelated,
    candidate_resources,
    insight_rule_names,
    resolve_trigger,
    rule_kind,
    triage,
)
from autoresponder.domain.hot_keys.window import ReportWindow, report_window
from autoresponder.domain.notification import build_notification
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Decision
from autoresponder.models.hot_keys import (
    MASK,
    ExaminedRule,
    HotKeyAction,
    HotKeyDecision,
    InsightsStatus,
    KeyLevel,
    RecommendationKind,
    RuleKind,
)
from autoresponder.models.table import Dimension
from tests.builders import STATE_TIME, alarm_event, metric_math_event
from tests.contributor_insights import (
    WINDOW_END,
    WINDOW_START,
    insight_rule_alarm_event,
    report,
    rule_name,
)

DEFAULTS = HotKeyThresholds()
WRITE_TRIGGER = HotKeyTrigger(
    TriggerKind.KEY_RANGE, "WriteKeyRangeThroughputThrottleEvents", Dimension.WRITE, "orders"
)
READ_TRIGGER = HotKeyTrigger(
    TriggerKind.KEY_RANGE, "ReadKeyRangeThroughputThrottleEvents", Dimension.READ, "orders"
)
GENERIC_TRIGGER = HotKeyTrigger(
    TriggerKind.GENERIC, "WriteThrottleEvents", Dimension.WRITE, "orders"
)


def detail(event: dict) -> AlarmStateChangeEvent:
    return AlarmStateChangeEvent.model_validate(event)


def window() -> ReportWindow:
    return ReportWindow(WINDOW_START, WINDOW_END)


# ------------------------------------------------------------------------------------------
# rule names
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "DynamoDBContributorInsights-PKC-orders-1763600000000", RuleKind.PKC, id="pkc"
        ),
        pytest.param(
            "DynamoDBContributorInsights-PKT-orders-1763600000000", RuleKind.PKT, id="pkt"
        ),
        pytest.param(
            "DynamoDBContributorInsights-SKC-orders-by-customer-1763600000000",
            RuleKind.SKC,
            id="skc-on-gsi",
        ),
        pytest.param("DynamoDBContributorInsights-SKT-a-b-c-17", RuleKind.SKT, id="skt-dashes"),
        pytest.param("DynamoDBContributorInsights-XYZ-orders-17", None, id="unknown-kind"),
        pytest.param("DynamoDBContributorInsights-PKC-orders", None, id="no-timestamp"),
        pytest.param("errors-by-service", None, id="log-rule"),
    ],
)
def test_rule_kind(name, expected):
    assert rule_kind(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(rule_name("PKC"), [("orders", None)], id="table"),
        pytest.param(
            rule_name("PKT", "orders-by-customer"),
            [("orders-by-customer", None), ("orders-by", "customer"), ("orders", "by-customer")],
            id="table-or-index-splits",
        ),
        pytest.param(rule_name("PKC", "ab-cd"), [("ab-cd", None)], id="names-too-short-to-split"),
        pytest.param("not-a-dynamodb-rule", [], id="other-rule"),
    ],
)
def test_candidate_resources(name, expected):
    assert candidate_resources(name) == expected


def test_candidate_resources_are_bounded():
    assert len(candidate_resources(rule_name("PKC", "-".join(["part"] * 20)))) == 5


@pytest.mark.parametrize(
    ("expressions", "expected"),
    [
        pytest.param(["INSIGHT_RULE_METRIC('r1', 'Sum')"], ["r1"], id="single-quotes"),
        pytest.param(['INSIGHT_RULE_METRIC("r1", "MaxContributorValue")'], ["r1"], id="double"),
        pytest.param(
            ["IF(INSIGHT_RULE_METRIC( 'r1' , 'Sum') > 0, 1, 0)", None, "m1 + m2"],
            ["r1"],
            id="nested-and-others",
        ),
        pytest.param(["m1 / (m1 + m2)"], [], id="plain-math"),
    ],
)
def test_insight_rule_names(expressions, expected):
    assert insight_rule_names(expressions) == expected


# ------------------------------------------------------------------------------------------
# triggers
# ------------------------------------------------------------------------------------------
TRIGGER_CASES = [
    pytest.param(
        alarm_event("WriteKeyRangeThroughputThrottleEvents"),
        (TriggerKind.KEY_RANGE, "orders", None, Dimension.WRITE),
        id="key-range-write-table",
    ),
    pytest.param(
        alarm_event("ReadKeyRangeThroughputThrottleEvents", index="by-customer"),
        (TriggerKind.KEY_RANGE, "orders", "by-customer", Dimension.READ),
        id="key-range-read-gsi",
    ),
    pytest.param(
        alarm_event("WriteThrottleEvents"),
        (TriggerKind.GENERIC, "orders", None, Dimension.WRITE),
        id="generic-write",
    ),
    pytest.param(
        alarm_event("ThrottledRequests", operation="Query"),
        (TriggerKind.GENERIC, "orders", None, Dimension.READ),
        id="throttled-requests-query",
    ),
    pytest.param(
        alarm_event("ThrottledRequests", operation="ExecuteTransaction"),
        (TriggerKind.GENERIC, "orders", None, None),
        id="throttled-requests-unknown-operation",
    ),
    pytest.param(
        metric_math_event(),
        (TriggerKind.GENERIC, "orders", None, Dimension.READ),
        id="metric-math-on-generic-throttle",
    ),
    pytest.param(
        insight_rule_alarm_event(rule_name("PKC", "orders-by-customer")),
        (TriggerKind.INSIGHT_RULE, None, None, None),
        id="insight-rule-alarm",
    ),
]


@pytest.mark.parametrize(("event", "expected"), TRIGGER_CASES)
def test_resolve_trigger(event, expected):
    trigger = resolve_trigger(detail(event).detail)
    assert isinstance(trigger, HotKeyTrigger)
    assert (trigger.kind, trigger.table_name, trigger.index_name, trigger.dimension) == expected
    assert trigger.expects_hot_key is (trigger.kind is not TriggerKind.GENERIC)


def test_insight_rule_trigger_keeps_the_rule_name():
    rule = rule_name("PKT")
    trigger = resolve_trigger(detail(insight_rule_alarm_event(rule)).detail)
    assert isinstance(trigger, HotKeyTrigger)
    assert trigger.rule_name == rule


UNRELATED_CASES = [
    pytest.param(alarm_event(), "not_hot_key_metric", id="provisioned-throttle"),
    pytest.param(
        alarm_event("WriteMaxOnDemandThroughputThrottleEvents"), "not_hot_key_metric", id="od-max"
    ),
    pytest.param(alarm_event("SuccessfulRequestLatency"), "not_hot_key_metric", id="latency"),
    pytest.param(
        alarm_event("CPUUtilization", namespace="AWS/EC2"), "unresolved", id="other-namespace"
    ),
    pytest.param(
        insight_rule_alarm_event("errors-by-service"), "not_dynamodb_rule", id="log-insight-rule"
    ),
]


@pytest.mark.parametrize(("event", "rule"), UNRELATED_CASES)
def test_unrelated_alarms(event, rule):
    outcome = resolve_trigger(detail(event).detail)
    assert isinstance(outcome, Unrelated)
    assert outcome.rule == rule


@pytest.mark.parametrize(
    ("event", "rule"),
    [
        pytest.param(
            alarm_event("WriteKeyRangeThroughputThrottleEvents", state="OK"), "not_alarm", id="ok"
        ),
        pytest.param(
            alarm_event(
                "WriteKeyRangeThroughputThrottleEvents",
                alarm_name="TargetTracking-table/orders-AlarmHigh-1",
            ),
            "autoscaling_alarm",
            id="target-tracking",
        ),
    ],
)
def test_triage(event, rule):
    outcome = triage(detail(event).detail)
    assert outcome is not None
    assert outcome.rule == rule


def test_triage_lets_alarms_through():
    assert triage(detail(alarm_event("WriteKeyRangeThroughputThrottleEvents")).detail) is None


# ------------------------------------------------------------------------------------------
# the report window
# ------------------------------------------------------------------------------------------
def _with_reason(event: dict, reason: dict) -> dict:
    event["detail"]["state"]["reasonData"] = json.dumps(reason)
    return event


@pytest.mark.parametrize(
    ("reason", "minimum", "expected_minutes"),
    [
        pytest.param({"startDate": "2026-11-20T13:50:00.000+0000"}, 5, 15.2, id="start-date-wider"),
        pytest.param({"startDate": "2026-11-20T14:04:00.000+0000"}, 5, 5, id="start-date-narrower"),
        pytest.param({"recentDatapoints": [1, 2, 3, 4, 5, 6, 7, 8]}, 5, 8, id="datapoints"),
        pytest.param({"startDate": "garbage"}, 1, 1, id="unreadable-start"),
        pytest.param({}, 1, 1, id="nothing"),
    ],
)
def test_report_window(reason, minimum, expected_minutes):
    event = _with_reason(alarm_event("WriteKeyRangeThroughputThrottleEvents"), reason)
    found = report_window(detail(event).detail, timedelta(minutes=minimum))
    assert found.end == STATE_TIME
    assert (found.end - found.start).total_seconds() / 60 == pytest.approx(
        expected_minutes, abs=0.01
    )
    assert found.period_seconds == 60


# ------------------------------------------------------------------------------------------
# thresholds, ranking, recommendations
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rate", "limit", "headroom", "expected"),
    [
        pytest.param(1500, 1000, 50, 3, id="1.5x-with-50pct"),
        pytest.param(1000, 1000, 0, 2, id="at-limit-min-2"),
        pytest.param(2000, 1000, 0, 2, id="exactly-2x"),
        pytest.param(2001, 1000, 0, 3, id="just-over-2x"),
        pytest.param(4000, 1000, 50, 6, id="4x"),
        pytest.param(9000, 3000, 25, 4, id="reads-3x"),
        pytest.param(10, 1000, 50, 2, id="tiny-still-min"),
    ],
)
def test_suffix_count(rate, limit, headroom, expected):
    assert suffix_count(rate, limit, headroom) == expected


@pytest.mark.parametrize(
    ("dimension", "limit"),
    [(Dimension.READ, 3000), (Dimension.WRITE, 1000), (None, 1000)],
    ids=["read", "write", "unknown-is-the-lower"],
)
def test_partition_limit(dimension, limit):
    assert partition_limit(dimension) == limit


def test_no_contributors_no_hot_keys():
    reports = [report("PKC", {}), report("PKT", {})]
    assert rank_hot_keys(reports, Dimension.WRITE, DEFAULTS) == []
    plan = decide_hot_keys(WRITE_TRIGGER, reports, window(), DEFAULTS)
    assert plan.action is HotKeyAction.NO_HOT_KEYS
    assert "0 keys in 2 Contributor Insights reports (PKC, PKT)" in plan.reason


def test_one_dominant_key_is_sharded():
    # 450,000 units in 5 minutes, 90,000 in the busiest minute: 1,500 units/s at the peak
    reports = [
        report(
            "PKC",
            [("user#1", 450_000.0, 90_000.0), ("user#2", 30_000.0, 6_000.0)],
            total=500_000.0,
        ),
        report("PKT", {"user#1": 4_000.0}, total=4_100.0),
    ]
    [key] = rank_hot_keys(reports, Dimension.WRITE, DEFAULTS)
    assert key.key_values == ["user#1"]
    assert key.key_names == ["pk"]
    assert key.level is KeyLevel.PARTITION
    assert key.rate_per_second == 1500.0
    assert key.share == 0.9
    assert key.throttled == 4000
    assert key.throttle_share == pytest.approx(0.9756, abs=1e-4)
    assert key.recommendation.kind is RecommendationKind.WRITE_SHARDING
    assert key.recommendation.suffix_count == 3  # ceil(1500 / 1000 × 1.5)
    assert len(key.rules) == 2


def test_many_small_keys_are_not_hot():
    contributors = {f"user#{i}": 1_000.0 for i in range(40)}
    reports = [report("PKC", contributors, total=60_000.0)]
    assert rank_hot_keys(reports, Dimension.WRITE, DEFAULTS) == []
    plan = decide_hot_keys(GENERIC_TRIGGER, reports, window(), DEFAULTS)
    assert plan.action is HotKeyAction.NO_HOT_KEYS
    assert "40 keys" in plan.reason
    assert "the busiest key had 2% of the traffic" in plan.reason


def test_hot_reads_are_cached():
    reports = [report("PKC", [("config", 720_000.0, 150_000.0)], total=800_000.0)]
    [key] = rank_hot_keys(reports, Dimension.READ, DEFAULTS)
    assert key.partition_limit == 3000
    assert key.rate_per_second == 2500.0
    assert key.recommendation.kind is RecommendationKind.CACHING
    assert key.recommendation.suffix_count is None


def test_skew_below_the_limit_is_a_key_redesign():
    reports = [report("PKC", {"tenant#big": 30_000.0, "tenant#small": 30_000.0}, total=90_000.0)]
    keys = rank_hot_keys(reports, Dimension.WRITE, DEFAULTS)
    assert [k.key_values for k in keys] == [["tenant#big"], ["tenant#small"]]
    assert {k.recommendation.kind for k in keys} == {RecommendationKind.KEY_REDESIGN}
    assert keys[0].rate_per_second == 100.0  # 30,000 units over 5 minutes, no datapoints


@pytest.mark.parametrize(
    ("trigger", "kind", "shards"),
    [
        pytest.param(WRITE_TRIGGER, RecommendationKind.WRITE_SHARDING, 2, id="key-range"),
        pytest.param(GENERIC_TRIGGER, RecommendationKind.KEY_REDESIGN, None, id="generic"),
    ],
)
def test_a_throttled_key_below_the_nominal_limit(trigger, kind, shards):
    # a small provisioned table: 45 units/s is all its partition serves, and it throttles
    reports = [
        report("PKC", [("cust#42", 13_500.0, 2_700.0)], total=21_000.0),
        report("PKT", {"cust#42": 290.0, "cust#7": 20.0}),
    ]
    plan = decide_hot_keys(trigger, reports, window(), DEFAULTS)
    [key] = plan.hot_keys
    assert (key.rate_per_second, key.share) == (45.0, 0.6429)
    assert key.recommendation.kind is kind
    assert key.recommendation.suffix_count == shards
    if shards:
        assert "its partition throttles at 45 units/s" in key.recommendation.summary


def test_only_a_hot_partition_is_said_to_need_no_capacity():
    skewed = [report("PKC", {"tenant#big": 30_000.0, "tenant#small": 1_000.0}, total=40_000.0)]
    plan = decide_hot_keys(GENERIC_TRIGGER, skewed, window(), DEFAULTS)
    assert plan.action is HotKeyAction.FLAG_HOT_KEYS
    assert "key redesign" in plan.reason
    assert "More capacity does not help" not in plan.reason


def test_rate_alone_makes_a_key_hot():
    # 10 % of the traffic, but 600 units/s: above half the write partition limit
    reports = [report("PKC", [("k", 180_000.0, 36_000.0)], total=1_800_000.0)]
    [key] = rank_hot_keys(reports, Dimension.WRITE, DEFAULTS)
    assert key.share == 0.1
    assert key.recommendation.kind is RecommendationKind.WRITE_SHARDING
    assert key.recommendation.suffix_count == 2


def test_unknown_dimension_shards_with_a_caching_note():
    reports = [report("PKC", [("k", 600_000.0, 120_000.0)], total=700_000.0)]
    [key] = rank_hot_keys(reports, None, DEFAULTS)
    assert key.recommendation.kind is RecommendationKind.WRITE_SHARDING
    assert key.recommendation.suffix_count == 3
    assert "if this traffic is reads, cache it instead" in key.recommendation.summary


def test_item_level_keys_come_from_sort_key_rules():
    reports = [
        report("PKC", [("user#1", 450_000.0, 90_000.0)], total=500_000.0),
        report("SKC", [(("user#1", "counter"), 440_000.0, 88_000.0)], total=500_000.0),
        report("SKT", {("user#1", "counter"): 3_000.0}, total=3_000.0),
    ]
    keys = rank_hot_keys(reports, Dimension.WRITE, DEFAULTS)
    assert [(k.level, k.key_values) for k in keys] == [
        (KeyLevel.PARTITION, ["user#1"]),
        (KeyLevel.ITEM, ["user#1", "counter"]),
    ]
    item = keys[1]
    assert item.key_names == ["pk", "sk"]
    assert item.throttled == 3000
    assert "split the item into 3 shards" in item.recommendation.summary


def test_table_without_sort_key_ranks_partition_keys_only():
    reports = [
        report("PKC", [("device#9", 400_000.0, 80_000.0)], total=420_000.0),
        report("PKT", {"device#9": 900.0}),
    ]
    keys = rank_hot_keys(reports, Dimension.WRITE, DEFAULTS)
    assert [(k.level, k.key_values) for k in keys] == [(KeyLevel.PARTITION, ["device#9"])]


def test_throttled_keys_mode_estimates_the_rate():
    # no accessed-keys report: the throttled partition served ~1,000/s and refused 2/s more
    reports = [report("PKT", {"user#1": 600.0, "user#2": 20.0}, total=620.0)]
    [key] = rank_hot_keys(reports, Dimension.WRITE, DEFAULTS)
    assert key.key_values == ["user#1"]
    assert key.share is None
    assert key.rate_estimated is True
    assert key.rate_per_second == 1002.0
    assert key.recommendation.suffix_count == 2
    assert "≈" in key.recommendation.summary


def test_labels_fall_back_when_missing():
    reports = [report("SKC", [(("a", "b"), 10.0, None)], labels=())]
    [load] = measure_keys(reports)
    assert load.names == ("partition key", "sort key")


def test_ranking_puts_the_hottest_first_and_caps_the_list():
    contributors = [(f"k{i}", 60_000.0 * (i + 1), 12_000.0 * (i + 1)) for i in range(15)]
    reports = [report("PKC", contributors, total=sum(c[1] for c in contributors))]
    keys = rank_hot_keys(reports, Dimension.WRITE, HotKeyThresholds(max_listed=4))
    assert [k.key_values[0] for k in keys] == ["k14", "k13", "k12", "k11"]
    assert [k.rank for k in keys] == [1, 2, 3, 4]


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------
contributor_lists = st.lists(
    st.tuples(
        st.text(alphabet="0123456789#", min_size=1, max_size=6),
        st.floats(min_value=0, max_value=2_000_000, allow_nan=False),
        st.one_of(st.none(), st.floats(min_value=0, max_value=500_000, allow_nan=False)),
    ),
    max_size=12,
    unique_by=lambda c: c[0],
)
thresholds = st.builds(
    HotKeyThresholds,
    min_share=st.floats(min_value=0.01, max_value=1),
    min_partition_fraction=st.floats(min_value=0.05, max_value=2),
    headroom_percent=st.floats(min_value=0, max_value=200),
    max_listed=st.integers(min_value=1, max_value=20),
)
dimensions = st.sampled_from([Dimension.READ, Dimension.WRITE, None])


@given(contributor_lists, contributor_lists, dimensions, thresholds)
def test_every_listed_key_is_hot_and_no_hot_key_is_left_out(accessed, throttled, dim, policy):
    reports = [report("PKC", accessed), report("PKT", [(k, v, None) for k, v, _ in throttled])]
    keys = rank_hot_keys(reports, dim, policy)
    limit = partition_limit(dim)
    loads = measure_keys(reports)
    hot = {load.keys for load in loads if is_hot(load, limit, policy)}
    assert [k.rank for k in keys] == list(range(1, len(keys) + 1))
    assert len(keys) == min(len(hot), policy.max_listed)
    assert {tuple(k.key_values) for k in keys} <= hot
    for key in keys:
        for share in (key.share, key.throttle_share):
            assert share is None or 0 <= share <= 1


@given(contributor_lists, dimensions, thresholds)
def test_suggested_shards_cover_the_rate(accessed, dim, policy):
    keys = rank_hot_keys([report("PKC", accessed)], dim, policy)
    for key in keys:
        count = key.recommendation.suffix_count
        if key.recommendation.kind is RecommendationKind.WRITE_SHARDING:
            assert count is not None
            assert count >= policy.min_suffix_count
            assert count * key.partition_limit >= (key.rate_per_second or 0) - 0.1
        else:
            assert count is None


@given(contributor_lists, dimensions)
def test_ranking_is_ordered_by_demand(accessed, dim):
    keys = rank_hot_keys([report("PKC", accessed)], dim, HotKeyThresholds(max_listed=20))
    rates = [k.rate_per_second or 0.0 for k in keys]
    assert rates == sorted(rates, reverse=True)


@given(
    st.floats(min_value=0.001, max_value=1e7, allow_nan=False),
    st.sampled_from([1000, 3000]),
    st.floats(min_value=0, max_value=300),
)
def test_suffix_count_property(rate, limit, headroom):
    count = suffix_count(rate, limit, headroom)
    assert count >= 2
    assert count * limit >= rate * (1 + headroom / 100) * (1 - 1e-9)
    assert count == 2 or (count - 1) * limit < rate * (1 + headroom / 100)


# ------------------------------------------------------------------------------------------
# the decision, its texts, and masking
# ------------------------------------------------------------------------------------------
SECRET = "alice@example.com"


def _flagged(show: bool):
    reports = [
        report("PKC", [(SECRET, 450_000.0, 90_000.0)], total=500_000.0),
        report("PKT", {SECRET: 4_000.0}),
    ]
    return decide_hot_keys(WRITE_TRIGGER, reports, window(), DEFAULTS, show_key_values=show)


def _decision(plan, *, mask: bool, announce: bool = True) -> HotKeyDecision:
    return HotKeyDecision(
        runbook="flag_hot_keys",
        action=plan.action,
        table_name="orders",
        reason=plan.reason,
        rule=plan.rule,
        severity=plan.severity,
        next_steps=list(plan.next_steps),
        hot_keys=list(plan.hot_keys),
        mask_key_values=mask,
        announce_no_hot_keys=announce,
        alarm_name="autoresponder-orders-write-key-range-throttle",
        state_timestamp=STATE_TIME,
    )


def test_flag_hot_keys_plan():
    plan = _flagged(show=False)
    assert plan.action is HotKeyAction.FLAG_HOT_KEYS
    assert plan.rule == "key_range.flag"
    assert "1 hot key on table orders" in plan.reason
    assert "1,500.0 units/s (150% of the partition limit)" in plan.reason
    assert "More capacity does not help" in plan.reason
    assert SECRET not in plan.reason
    [step] = plan.next_steps
    assert step.startswith(f"#1 pk={MASK}: shard writes")


def test_notifications_mask_key_values_by_default_and_the_record_keeps_them():
    decision = _decision(_flagged(show=False), mask=True)
    note = build_notification(decision, "us-east-1")
    assert SECRET not in note.email
    assert SECRET not in json.dumps(note.chat)
    assert f"pk={MASK}" in note.email
    assert "SHOW_KEY_VALUES=true" in note.email
    assert decision.hot_keys[0].key_values == [SECRET]
    assert SECRET in decision.model_dump_json()


def test_show_key_values_puts_them_in_the_notification():
    decision = _decision(_flagged(show=True), mask=False)
    note = build_notification(decision, "us-east-1")
    assert f"pk={SECRET}" in note.email
    assert f"pk={SECRET}" in json.dumps(note.chat)


@pytest.mark.parametrize("show", [False, True], ids=["masked", "shown-in-notifications"])
def test_the_return_value_masks_key_values_whatever_the_setting(show):
    decision = _decision(_flagged(show=show), mask=not show)
    result = decision.as_result()
    assert SECRET not in json.dumps(result)
    assert [k["key_values"] for k in result["hot_keys"]] == [[MASK]]
    assert result["next_steps"][0].startswith(f"#1 pk={MASK}: shard writes")
    # the record (model_dump_json, what the decision store writes) keeps them
    assert decision.hot_keys[0].key_values == [SECRET]
    assert SECRET in decision.model_dump_json()


def test_no_hot_keys_is_announced_only_when_a_hot_key_was_expected():
    plan = decide_hot_keys(WRITE_TRIGGER, [report("PKC", {})], window(), DEFAULTS)
    assert _decision(plan, mask=True, announce=True).notify is True
    assert _decision(plan, mask=True, announce=False).notify is False
    assert _decision(_flagged(show=False), mask=True, announce=False).notify is True


def test_resumed_record_parses_back_into_the_hot_key_decision():
    decision = _decision(_flagged(show=False), mask=True, announce=False)
    base = Decision.model_validate_json(decision.model_dump_json())
    again = HotKeyDecision.model_validate(base.model_dump())
    assert again.hot_keys == decision.hot_keys
    assert again.as_result() == decision.as_result()


def test_detail_lines_list_what_was_examined():
    examined = ExaminedRule(
        rule_name=rule_name("PKC"), kind=RuleKind.PKC, contributors=1, total=5e5
    )
    decision = _decision(_flagged(show=False), mask=True).model_copy(
        update={"examined": [examined]}
    )
    lines = "\n".join(decision.detail_lines())
    assert "#1 partition pk=‹masked›" in lines
    assert "150% of the 1,000/s partition limit" in lines
    assert f"PKC {rule_name('PKC')}: 1 keys listed, total 500,000" in lines


# ------------------------------------------------------------------------------------------
# Contributor Insights off
# ------------------------------------------------------------------------------------------
def _off(status: str = "DISABLED", index: str | None = None) -> InsightsStatus:
    return InsightsStatus(table_name="orders", index_name=index, status=status)


@pytest.mark.parametrize(
    ("has_sort_key", "expected"),
    [
        pytest.param(True, "2 rules × $0.50/month = $1.00/month", id="sort-key"),
        pytest.param(False, "1 rule × $0.50/month = $0.50/month", id="no-sort-key"),
        pytest.param(None, "up to 2 rules × $0.50/month = $1.00/month", id="index-unknown"),
    ],
)
def test_disabled_reports_cost_and_the_command(has_sort_key, expected):
    plan = insights_off(
        WRITE_TRIGGER, _off(), "us-east-1", InsightsPrices(), has_sort_key=has_sort_key
    )
    assert plan.action is HotKeyAction.CONTRIBUTOR_INSIGHTS_DISABLED
    assert plan.rule == "contributor_insights.disabled"
    assert expected in plan.reason
    assert "$0.03 per million throttled requests" in plan.reason
    assert plan.next_steps[0] == (
        "Enable it: aws dynamodb update-contributor-insights --table-name orders "
        "--contributor-insights-action ENABLE --contributor-insights-mode THROTTLED_KEYS "
        "--region us-east-1"
    )
    assert plan.cost_delta_per_hour is None  # nothing changed


def test_enable_command_for_an_index():
    assert "--table-name orders --index-name by-customer " in enable_command(
        "orders", "by-customer", "eu-west-1"
    )


def test_enabled_now_reports_the_cost_change():
    plan = insights_off(
        WRITE_TRIGGER, _off(), "us-east-1", InsightsPrices(), has_sort_key=True, enabled_now=True
    )
    assert plan.rule == "contributor_insights.enabled_now"
    assert plan.cost_delta_per_hour == round(1.0 / 730, 4)
    assert "the responder enabled it in THROTTLED_KEYS mode" in plan.reason


def test_enabling_is_not_a_report_yet():
    plan = insights_off(
        WRITE_TRIGGER, _off("ENABLING"), "us-east-1", InsightsPrices(), has_sort_key=True
    )
    assert plan.rule == "contributor_insights.enabling"


# ------------------------------------------------------------------------------------------
# parsing the AWS answers (adapter)
# ------------------------------------------------------------------------------------------
def test_parse_report_tolerates_sparse_answers():
    raw = {
        "KeyLabels": ["pk"],
        "Contributors": [
            {"Keys": ["a"], "ApproximateAggregateValue": 120.0, "Datapoints": []},
            {"Keys": ["b"], "ApproximateAggregateValue": -1.0},
            {
                "Keys": ["c"],
                "ApproximateAggregateValue": 60.0,
                "Datapoints": [{"ApproximateValue": 50.0}, {"ApproximateValue": -3.0}, {}],
            },
        ],
    }
    parsed = parse_report(
        raw, rule_name("PKC"), RuleKind.PKC, start=WINDOW_START, end=WINDOW_END, period_seconds=60
    )
    assert [(c.keys, c.value, c.peak) for c in parsed.contributors] == [
        (("a",), 120.0, None),
        (("b",), 0.0, None),
        (("c",), 60.0, 50.0),
    ]
    assert parsed.aggregate_value is None
    assert parsed.total == 180.0


@pytest.mark.parametrize(
    ("raw", "enabled", "mode"),
    [
        pytest.param(
            {
                "ContributorInsightsStatus": "ENABLED",
                "ContributorInsightsRuleList": [rule_name("PKT")],
                "ContributorInsightsMode": "THROTTLED_KEYS",
            },
            True,
            "THROTTLED_KEYS",
            id="enabled",
        ),
        pytest.param(
            {"ContributorInsightsStatus": "ENABLED", "ContributorInsightsRuleList": []},
            False,
            None,
            id="enabled-without-rules",
        ),
        pytest.param(
            {
                "ContributorInsightsStatus": "FAILED",
                "FailureException": {"ExceptionName": "LimitExceededException"},
                "ContributorInsightsMode": "SOMETHING_NEW",
            },
            False,
            None,
            id="failed-unknown-mode",
        ),
        pytest.param({}, False, None, id="empty"),
    ],
)
def test_parse_status(raw, enabled, mode):
    status = parse_status(raw, "orders", None)
    assert status.enabled is enabled
    assert status.mode == mode
    assert status.table_name == "orders"


def test_the_decision_event_masks_key_values_as_notifications_do():
    decision = _decision(_flagged(show=False), mask=True)
    detail = decision.as_event_detail()
    assert SECRET not in json.dumps(detail)
    assert detail["hot_keys"][0]["key_values"] == [MASK]
    assert decision.hot_keys[0].key_values == [SECRET]  # the record keeps them
    assert {k: v for k, v in detail.items() if k != "hot_keys"} == {
        k: v for k, v in decision.as_result().items() if k != "hot_keys"
    }


def test_show_key_values_puts_them_in_the_decision_event():
    decision = _decision(_flagged(show=True), mask=False)
    assert decision.as_event_detail() == decision.as_result()
