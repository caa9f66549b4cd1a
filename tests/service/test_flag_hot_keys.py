"""flag_hot_keys with in-memory fakes: the whole flow, failures, redeliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from autoresponder.errors import (
    AccessDeniedError,
    AwsCallError,
    AwsThrottledError,
    AwsUnavailableError,
)
from autoresponder.models.hot_keys import MASK, HotKeyDecision, InsightsMode, RecommendationKind
from autoresponder.services.flag_hot_keys import FlagHotKeys, HotKeyRunbookConfig
from autoresponder.services.recording import DecisionRecorder
from local.memory_decision_table import InMemoryDecisionTable
from tests.builders import STATE_TIME, alarm_event, provisioned_table
from tests.contributor_insights import (
    FakeInsights,
    insight_rule_alarm_event,
    report,
    rule_name,
    rule_names,
)
from tests.fakes import FakeTables, FixedClock, RecordingNotifier, deliver

MANAGED = {"autoresponder:managed": "true"}
KEY_RANGE = "WriteKeyRangeThroughputThrottleEvents"
DOMINANT = [
    report("PKC", [("user#1", 450_000.0, 90_000.0), ("user#2", 9_000.0, 2_000.0)], total=5e5),
    report("PKT", {"user#1": 4_000.0}),
    report("SKC", [(("user#1", "cart"), 440_000.0, 88_000.0)], total=5e5),
    report("SKT", {("user#1", "cart"): 3_900.0}),
]


@dataclass
class World:
    insights: FakeInsights = field(default_factory=FakeInsights)
    tables: FakeTables = field(default_factory=FakeTables)
    store: InMemoryDecisionTable = field(default_factory=InMemoryDecisionTable)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    clock: FixedClock = field(
        default_factory=lambda: FixedClock(STATE_TIME + timedelta(seconds=30))
    )
    config: HotKeyRunbookConfig = field(default_factory=HotKeyRunbookConfig)

    def respond(self, raw: dict) -> HotKeyDecision:
        """Deliver `raw` as the function does (the runner the handler uses)."""
        recorder = DecisionRecorder(self.store, self.notifier, "us-east-1")
        service = FlagHotKeys(
            insights=self.insights,
            tables=self.tables,
            recorder=recorder,
            clock=self.clock,
            config=self.config,
        )
        decision = deliver(service, raw, recorder, self.clock)
        assert isinstance(decision, HotKeyDecision)
        return decision


@pytest.fixture
def world() -> World:
    world = World()
    world.tables.add(provisioned_table(), MANAGED)
    world.tables.add(provisioned_table("legacy"))
    world.insights.add("orders", reports=DOMINANT)
    return world


def test_one_dominant_key_is_flagged_recorded_and_notified(world):
    decision = world.respond(alarm_event(KEY_RANGE))
    assert (decision.action, decision.rule) == ("flag_hot_keys", "key_range.flag")
    assert [k.key_values for k in decision.hot_keys] == [["user#1"], ["user#1", "cart"]]
    assert decision.hot_keys[0].recommendation.kind is RecommendationKind.WRITE_SHARDING
    assert decision.hot_keys[0].recommendation.suffix_count == 3
    # one GetInsightRuleReport per rule, in the table's own order, nothing more
    assert world.insights.report_calls() == rule_names("orders")
    assert [e.kind.value for e in decision.examined] == ["PKC", "PKT", "SKC", "SKT"]
    recorded, notified, _ = world.store.records[decision.record_key()]
    assert notified is True
    assert isinstance(recorded, HotKeyDecision)
    assert recorded.hot_keys[0].key_values == ["user#1"]  # the record keeps the values
    [note] = world.notifier.sent
    assert "user#1" not in note.email
    assert f"pk={MASK}" in note.email
    assert note.attributes["action"] == "flag_hot_keys"
    assert decision.inputs["window_end"] == STATE_TIME.isoformat()


def test_show_key_values_setting(world):
    world.config = HotKeyRunbookConfig(show_key_values=True)
    world.respond(alarm_event(KEY_RANGE))
    [note] = world.notifier.sent
    assert "pk=user#1, sk=cart" in note.email


def test_no_contributors(world):
    world.insights.add("orders")  # rules without traffic
    decision = world.respond(alarm_event(KEY_RANGE))
    assert (decision.action, decision.rule) == ("no_hot_keys", "no_hot_keys")
    assert "0 keys in 4 Contributor Insights reports" in decision.reason
    assert len(world.notifier.sent) == 1  # a key-range alarm expected a hot key


def test_many_small_keys_after_a_generic_alarm_are_recorded_not_announced(world):
    small = {f"user#{i}": 1_000.0 for i in range(30)}
    world.insights.add("orders", reports=[report("PKC", small, total=40_000.0)])
    decision = world.respond(alarm_event("WriteThrottleEvents"))
    assert decision.action == "no_hot_keys"
    assert decision.severity == "info"
    assert world.store.decisions == [decision]
    assert world.notifier.sent == []


def test_gsi_rule(world):
    gsi = "orders-by-customer"
    world.insights.add(
        "orders",
        "by-customer",
        rules=rule_names(gsi, sort_key=False),
        reports=[report("PKC", [("cust#7", 800_000.0, 160_000.0)], total=9e5, resource=gsi)],
    )
    decision = world.respond(
        alarm_event("ReadKeyRangeThroughputThrottleEvents", index="by-customer")
    )
    assert (decision.table_name, decision.index_name) == ("orders", "by-customer")
    assert ("describe", "orders", "by-customer") in world.insights.calls
    assert world.insights.report_calls() == rule_names(gsi, sort_key=False)
    [key] = decision.hot_keys
    assert key.partition_limit == 3000
    assert key.recommendation.kind is RecommendationKind.CACHING


def test_table_without_sort_key(world):
    world.insights.add(
        "devices",
        rules=rule_names("devices", sort_key=False),
        reports=[report("PKC", [("device#9", 400_000.0, 80_000.0)], total=4e5, resource="devices")],
    )
    decision = world.respond(alarm_event(KEY_RANGE, table="devices"))
    assert len(world.insights.report_calls()) == 2
    assert [k.key_values for k in decision.hot_keys] == [["device#9"]]


def test_throttled_keys_mode_reads_the_throttled_rules_only(world):
    world.insights.add(
        "orders",
        mode=InsightsMode.THROTTLED_KEYS,
        reports=[report("PKT", {"user#1": 600.0, "user#2": 10.0})],
    )
    decision = world.respond(alarm_event(KEY_RANGE))
    assert world.insights.report_calls() == [rule_name("PKT"), rule_name("SKT")]
    assert decision.hot_keys[0].rate_estimated is True


def test_rules_that_are_not_key_rules_are_not_queried(world):
    world.insights.add("orders", rules=[rule_name("PKC"), "some-other-rule"])
    world.respond(alarm_event(KEY_RANGE))
    assert world.insights.report_calls() == [rule_name("PKC")]


@pytest.mark.parametrize(
    ("error", "rule"),
    [
        pytest.param(
            AwsUnavailableError("GetInsightRuleReport did not answer"),
            "error.AwsUnavailableError",
            id="timeout",
        ),
        pytest.param(
            AccessDeniedError("GetInsightRuleReport failed: AccessDeniedException"),
            "error.AccessDeniedError",
            id="denied",
        ),
    ],
)
def test_failed_report_is_one_notified_fail_never_raised(world, error, rule):
    world.insights.reports[rule_name("PKT")] = error
    decision = world.respond(alarm_event(KEY_RANGE))  # returns: nothing raised
    assert (decision.action, decision.rule) == ("fail", rule)
    assert decision.hot_keys == []
    [note] = world.notifier.sent
    assert note.attributes["action"] == "fail"
    calls = len(world.insights.calls)
    # a redelivery finds the recorded decision: no new report, no second notification
    again = world.respond(alarm_event(KEY_RANGE))
    assert again.action == "fail"
    assert len(world.insights.calls) == calls
    assert len(world.notifier.sent) == 1


def test_describe_denied_is_a_fail(world):
    world.insights.describe_error = AccessDeniedError("DescribeContributorInsights failed")
    decision = world.respond(alarm_event(KEY_RANGE))
    assert decision.action == "fail"
    assert "dynamodb:DescribeContributorInsights" in decision.next_steps[0]


def test_missing_table_is_a_skip(world):
    decision = world.respond(alarm_event(KEY_RANGE, table="gone"))
    assert (decision.action, decision.rule) == ("skip", "not_found")
    assert world.notifier.sent == []


def test_redelivery_after_a_lost_notification_announces_the_full_decision(world):
    world.notifier.fail_next = AwsThrottledError("Publish throttled")
    with pytest.raises(AwsThrottledError):
        world.respond(alarm_event(KEY_RANGE))
    world.respond(alarm_event(KEY_RANGE))
    [note] = world.notifier.sent
    assert "Hot keys, hottest first" in note.email  # the resumed record is a HotKeyDecision
    assert len(world.insights.report_calls()) == 4  # the reports were read once


# ------------------------------------------------------------------------------------------
# Contributor Insights off
# ------------------------------------------------------------------------------------------
def test_disabled_reports_cost_and_command_and_changes_nothing(world):
    world.insights.add("orders", status="DISABLED")
    decision = world.respond(alarm_event(KEY_RANGE))
    assert (decision.action, decision.rule) == (
        "contributor_insights_disabled",
        "contributor_insights.disabled",
    )
    assert "2 rules × $0.50/month = $1.00/month" in decision.reason  # orders has a sort key
    assert decision.next_steps[0].startswith(
        "Enable it: aws dynamodb update-contributor-insights --table-name orders"
    )
    assert world.insights.enabled == []
    assert world.insights.report_calls() == []
    assert len(world.notifier.sent) == 1


def test_enabling_is_opt_in_per_setting_and_per_table(world):
    world.config = HotKeyRunbookConfig(enable_insights=True)
    world.insights.add("orders", status="DISABLED")
    world.insights.add("legacy", status="DISABLED")
    enabled = world.respond(alarm_event(KEY_RANGE))
    refused = world.respond(alarm_event(KEY_RANGE, table="legacy"))
    assert enabled.rule == "contributor_insights.enabled_now"
    assert enabled.cost_delta_per_hour == pytest.approx(1.0 / 730, abs=1e-4)
    assert refused.rule == "contributor_insights.disabled"
    assert refused.inputs["managed"] is False
    assert world.insights.enabled == [("orders", None, InsightsMode.THROTTLED_KEYS)]


@pytest.mark.parametrize("source", ["setting", "tag"])
def test_enabling_respects_dry_run(world, source):
    world.config = HotKeyRunbookConfig(enable_insights=True, dry_run=source == "setting")
    if source == "tag":
        world.tables.add(provisioned_table(), {**MANAGED, "autoresponder:dry-run": "true"})
    world.insights.add("orders", status="DISABLED")
    decision = world.respond(alarm_event(KEY_RANGE))
    assert (decision.rule, decision.dry_run) == ("contributor_insights.dry_run", True)
    assert world.insights.enabled == []


def test_enable_denied_is_a_fail(world):
    world.config = HotKeyRunbookConfig(enable_insights=True)
    world.insights.add("orders", status="DISABLED")
    world.insights.enable_error = AccessDeniedError("UpdateContributorInsights failed")
    decision = world.respond(alarm_event(KEY_RANGE))
    assert decision.action == "fail"


# ------------------------------------------------------------------------------------------
# insight-rule alarms
# ------------------------------------------------------------------------------------------
def test_insight_rule_alarm_finds_its_index_through_the_rule_lists(world):
    gsi = "orders-by-customer"
    rules = rule_names(gsi)
    world.insights.add(
        "orders",
        "by-customer",
        rules=rules,
        reports=[report("PKC", [("cust#7", 500_000.0, 100_000.0)], total=6e5, resource=gsi)],
    )
    decision = world.respond(insight_rule_alarm_event(rules[0]))
    assert (decision.table_name, decision.index_name) == ("orders", "by-customer")
    assert decision.inputs["alarm_rule"] == rules[0]
    assert decision.rule == "insight_rule.flag"
    describes = [c for c in world.insights.calls if c[0] == "describe"]
    assert describes == [
        ("describe", "orders-by-customer", ""),
        ("describe", "orders-by", "customer"),
        ("describe", "orders", "by-customer"),
    ]
    assert world.insights.report_calls() == rules  # the located status is not read twice


def test_insight_rule_alarm_for_an_unknown_rule_is_a_skip(world):
    decision = world.respond(insight_rule_alarm_event(rule_name("PKC", "nowhere")))
    assert (decision.action, decision.rule) == ("skip", "rule_not_found")
    assert world.notifier.sent == []


def test_insight_rule_alarm_with_describe_denied_is_a_fail(world):
    world.insights.describe_error = AwsCallError("DescribeContributorInsights failed")
    decision = world.respond(insight_rule_alarm_event(rule_name("PKC")))
    assert decision.action == "fail"
    assert decision.table_name is None
    assert len(world.notifier.sent) == 1


@pytest.mark.parametrize(
    ("event", "rule"),
    [
        pytest.param(alarm_event(KEY_RANGE, state="OK"), "not_alarm", id="ok"),
        pytest.param(alarm_event(), "not_hot_key_metric", id="provisioned-throttle"),
        pytest.param(
            alarm_event("CPUUtilization", namespace="AWS/EC2"), "unresolved", id="unrelated"
        ),
    ],
)
def test_skips_are_recorded_not_announced_and_read_nothing(world, event, rule):
    decision = world.respond(event)
    assert (decision.action, decision.rule) == ("skip", rule)
    assert world.insights.calls == []
    assert world.notifier.sent == []
