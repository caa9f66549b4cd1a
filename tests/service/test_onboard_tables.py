"""onboard_tables with in-memory ports: reconcile, idempotence, ownership, retries, dry run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from autoresponder.domain.alarm_plan import AlarmPolicy
from autoresponder.errors import AccessDeniedError, AwsThrottledError, AwsUnavailableError
from autoresponder.models.decision import Decision
from autoresponder.models.hot_keys import InsightsMode
from autoresponder.models.onboarding import OnboardDecision
from autoresponder.services.onboard_tables import OnboardConfig, OnboardTables
from autoresponder.services.recording import DecisionRecorder
from local.memory_decision_table import InMemoryDecisionTable
from tests.builders import on_demand_table, provisioned_table
from tests.fakes import FixedClock, RecordingNotifier, deliver
from tests.onboarding import (
    MANAGED,
    FakeAlarmRegistry,
    FakeCatalog,
    FakeInsights,
    FakeScalableTargets,
    scheduled_event,
    tag_change_event,
)

NOW = datetime(2026, 11, 20, 15, 0, 5, tzinfo=UTC)
ORDERS_ALARMS = {
    f"autoresponder-orders-{kind}"
    for kind in (
        "read-provisioned-throttle",
        "write-provisioned-throttle",
        "read-key-range-throttle",
        "write-key-range-throttle",
        "read-above-provisioned",
        "write-above-provisioned",
        "latency-GetItem",
        "latency-PutItem",
        "latency-Query",
        "latency-UpdateItem",
    )
}
PRE_THROTTLE = {
    "autoresponder-orders-read-above-provisioned",
    "autoresponder-orders-write-above-provisioned",
}


@dataclass
class World:
    catalog: FakeCatalog = field(default_factory=FakeCatalog)
    registry: FakeAlarmRegistry = field(default_factory=FakeAlarmRegistry)
    insights: FakeInsights = field(default_factory=FakeInsights)
    targets: FakeScalableTargets = field(default_factory=FakeScalableTargets)
    store: InMemoryDecisionTable = field(default_factory=InMemoryDecisionTable)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    config: OnboardConfig = field(default_factory=OnboardConfig)
    runs: int = 0

    def recorder(self) -> DecisionRecorder:
        return DecisionRecorder(self.store, self.notifier, "us-east-1")

    def service(self) -> OnboardTables:
        return OnboardTables(
            tables=self.catalog,
            alarms=self.registry,
            operations=self.registry,
            insights=self.insights,
            decisions=self.store,
            locks=self.store,
            recorder=self.recorder(),
            clock=self.clock,
            config=self.config,
            targets=self.targets,
        )

    def handle(self, raw: object) -> Decision:
        """Deliver `raw` as the function does (the runner the handler uses)."""
        return deliver(self.service(), raw, self.recorder(), self.clock)

    def hourly(self, event_id: str | None = None) -> dict:
        """One scheduled run (a new event each time, an hour later)."""
        self.runs += 1
        when = datetime(2026, 11, 20, 15, tzinfo=UTC) + timedelta(hours=self.runs)
        self.clock.current = when + timedelta(seconds=5)
        event = scheduled_event(
            event_id or f"sched-{self.runs}", when.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        return self.handle(event).as_result()

    def table_decisions(self) -> list[OnboardDecision]:
        return [d for d in self.store.decisions if isinstance(d, OnboardDecision)]

    def sent_actions(self) -> list[str]:
        return [n.attributes["action"] for n in self.notifier.sent]


@pytest.fixture
def world() -> World:
    w = World()
    w.catalog.add(provisioned_table("orders"), MANAGED)
    w.catalog.add(provisioned_table("legacy"))
    return w


# --------------------------------------------------------------------------------------------
# onboarding and idempotence
# --------------------------------------------------------------------------------------------
def test_a_tagged_table_gets_its_alarms_and_one_notification(world):
    result = world.hourly()
    assert result["action"] == "reconcile"
    assert result["counts"] == {"onboard": 1}
    assert world.registry.names == ORDERS_ALARMS
    (decision,) = world.table_decisions()
    assert decision.action == "onboard"
    assert decision.table_name == "orders"
    assert set(decision.created) == ORDERS_ALARMS
    assert world.sent_actions() == ["onboard"]
    assert world.store.records[decision.record_key()][1] is True  # marked notified


def test_reconcile_is_idempotent(world):
    world.hourly()
    puts, records, sent = (
        len(world.registry.puts),
        len(world.store.records),
        len(world.notifier.sent),
    )
    result = world.hourly()
    assert result["action"] == "skip"
    assert result["decisions"] == []
    assert len(world.registry.puts) == puts
    assert world.registry.deletes == []
    assert len(world.store.records) == records
    assert len(world.notifier.sent) == sent


def test_untagged_tables_get_nothing(world):
    world.hourly()
    assert not any("legacy" in name for name in world.registry.names)


def test_a_table_gaining_a_gsi_gets_the_index_alarms(world):
    world.hourly()
    world.catalog.add(provisioned_table("orders", indexes={"by-day": (10, 10)}), MANAGED)
    world.hourly()
    decision = world.table_decisions()[-1]
    assert decision.action == "update_alarms"
    assert set(decision.created) == {
        f"autoresponder-orders-by-day-{kind}"
        for kind in (
            "read-provisioned-throttle",
            "write-provisioned-throttle",
            "read-key-range-throttle",
            "write-key-range-throttle",
            "read-above-provisioned",
            "write-above-provisioned",
        )
    }
    assert decision.deleted == [] and decision.updated == []
    assert world.sent_actions() == ["onboard", "update_alarms"]


def test_a_deleted_tables_alarms_go_and_hand_made_alarms_survive(world):
    world.registry.human_alarm("autoresponder-orders-my-dashboard-alarm")
    world.registry.human_alarm("orders-p99")
    world.hourly()
    world.catalog.remove("orders")
    world.hourly()
    decision = world.table_decisions()[-1]
    assert decision.action == "offboard"
    assert decision.rule == "offboard.deleted"
    assert set(decision.deleted) == ORDERS_ALARMS
    assert world.registry.names == {"autoresponder-orders-my-dashboard-alarm", "orders-p99"}
    assert world.sent_actions() == ["onboard", "offboard"]


def test_a_table_that_loses_the_tag_is_offboarded(world):
    world.hourly()
    world.catalog.tags_by_table["orders"] = {"autoresponder:managed": "false"}
    world.hourly()
    decision = world.table_decisions()[-1]
    assert (decision.action, decision.rule) == ("offboard", "offboard.uncovered")
    assert world.registry.names == set()


def test_a_hand_made_alarm_with_a_wanted_name_is_left_alone(world):
    taken = "autoresponder-orders-latency-GetItem"
    world.registry.human_alarm(taken)
    world.hourly()
    (decision,) = world.table_decisions()
    assert decision.conflicts == [taken]
    assert taken not in world.registry.puts
    assert world.registry.alarms_by_name[taken].tags == {"team": "db"}
    world.hourly()  # still no takeover, and nothing new to announce
    assert taken not in world.registry.puts
    assert world.sent_actions() == ["onboard"]


def test_an_edited_alarm_is_restored(world):
    world.hourly()
    name = "autoresponder-orders-write-provisioned-throttle"
    alarm = world.registry.alarms_by_name[name]
    assert alarm.spec is not None
    world.registry.alarms_by_name[name] = alarm.model_copy(
        update={"spec": alarm.spec.model_copy(update={"threshold": 500.0})}
    )
    world.hourly()
    decision = world.table_decisions()[-1]
    assert (decision.action, decision.updated) == ("update_alarms", [name])
    assert world.registry.alarms_by_name[name].spec.threshold == 0.0


def test_operations_follow_the_latency_metrics_cloudwatch_lists(world):
    world.registry.latency = {"orders": {"Query", "BatchWriteItem"}, "legacy": {"GetItem"}}
    world.hourly()
    latency = {n for n in world.registry.names if "-latency-" in n}
    assert latency == {
        "autoresponder-orders-latency-BatchWriteItem",
        "autoresponder-orders-latency-Query",
    }


def test_an_on_demand_table_gets_on_demand_alarms(world):
    world.catalog.add(on_demand_table("clickstream"), MANAGED)
    world.hourly()
    assert "autoresponder-clickstream-write-max-on-demand-throttle" in world.registry.names
    assert "autoresponder-clickstream-write-provisioned-throttle" not in world.registry.names


def test_watch_list_tables_get_alarms_but_stay_unmanaged(world):
    world.config = OnboardConfig(watch_list=frozenset({"legacy"}), contributor_insights=True)
    world.hourly()
    legacy = [d for d in world.table_decisions() if d.table_name == "legacy"]
    assert [d.coverage for d in legacy] == ["watch"]
    assert "autoresponder-legacy-read-key-range-throttle" in world.registry.names
    # no pre-throttle alarm: a watched table is never raised
    assert not any(
        n.startswith("autoresponder-legacy-") and "above" in n for n in world.registry.names
    )
    assert world.catalog.tags_by_table["legacy"] == {}  # never tagged managed
    assert ("legacy", None, InsightsMode.THROTTLED_KEYS) not in world.insights.enabled


def test_a_custom_prefix_names_and_scopes_everything(world):
    world.config = OnboardConfig(policy=AlarmPolicy(prefix="ops-"))
    world.registry.human_alarm("autoresponder-orders-read-key-range-throttle")
    world.hourly()
    assert {n for n in world.registry.names if n.startswith("ops-")} == {
        n.replace("autoresponder-", "ops-") for n in ORDERS_ALARMS
    }
    assert "autoresponder-orders-read-key-range-throttle" in world.registry.names


# --------------------------------------------------------------------------------------------
# tag change events
# --------------------------------------------------------------------------------------------
def test_tag_change_reconciles_only_that_table(world):
    world.catalog.add(provisioned_table("profiles"), MANAGED)
    event = tag_change_event("orders", MANAGED)
    result = world.handle(event).as_result()
    assert (result["action"], result["table_name"]) == ("onboard", "orders")
    assert not any("profiles" in n for n in world.registry.names)


def test_tag_removed_event_offboards(world):
    world.hourly()
    world.catalog.tags_by_table["orders"] = {}
    result = world.handle(tag_change_event("orders", {})).as_result()
    assert result["action"] == "offboard"
    assert world.registry.names == set()


def test_tag_change_on_an_untagged_table_without_alarms_is_a_quiet_skip(world):
    result = world.handle(tag_change_event("legacy", {})).as_result()
    assert (result["action"], result["table_name"]) == ("skip", "legacy")
    assert world.notifier.sent == []
    assert world.store.records == {}


def test_duplicate_tag_change_delivery_announces_once(world):
    event = tag_change_event("orders", MANAGED)
    first = world.handle(event).as_result()
    second = world.handle(event).as_result()
    assert first["action"] == "onboard"
    assert second["action"] == "onboard"  # the recorded decision, not a second change
    assert world.sent_actions() == ["onboard"]


def test_malformed_event_is_rejected_and_recorded(world):
    result = world.handle({"source": "aws.s3", "detail": {}}).as_result()
    assert result["action"] == "reject"
    ((_, _, raw),) = world.store.records.values()
    assert raw == {"source": "aws.s3", "detail": {}}
    assert world.registry.puts == []


# --------------------------------------------------------------------------------------------
# failures and retries
# --------------------------------------------------------------------------------------------
def test_a_retryable_failure_mid_change_is_finished_and_announced_once_on_retry(world):
    world.registry.fail_put = [AwsThrottledError("PutMetricAlarm throttled")]
    world.registry.fail_put_after = 3
    event = scheduled_event("sched-x")
    with pytest.raises(AwsThrottledError):
        world.handle(event)
    assert len(world.registry.names) == 3
    assert world.notifier.sent == []
    world.handle(event)  # Lambda's retry: same event
    assert world.registry.names == ORDERS_ALARMS
    (decision,) = world.table_decisions()
    assert decision.action == "onboard"  # the whole change, as first intended
    assert set(decision.created) == ORDERS_ALARMS
    assert world.sent_actions() == ["onboard"]


def test_a_failed_notification_is_sent_by_the_retry_without_changing_anything(world):
    world.notifier.fail_next = AwsUnavailableError("SNS down")
    event = scheduled_event("sched-y")
    with pytest.raises(AwsUnavailableError):
        world.handle(event)
    puts = len(world.registry.puts)
    world.handle(event)
    assert len(world.registry.puts) == puts
    assert world.sent_actions() == ["onboard"]


def test_other_tables_are_done_before_a_retryable_failure_is_raised(world):
    world.catalog.add(provisioned_table("aaa"), MANAGED)
    world.registry.fail_put = [AwsThrottledError("throttled")]
    with pytest.raises(AwsThrottledError):
        world.hourly("sched-z")
    assert world.registry.names >= ORDERS_ALARMS


def test_a_permanent_failure_is_announced_once_a_day(world):
    world.registry.fail_put = [AccessDeniedError("PutMetricAlarm denied") for _ in range(3)]
    first = world.hourly()
    second = world.hourly()
    (failed,) = [d for d in first["decisions"] if d["action"] == "fail"]
    assert failed["severity"] == "critical"
    assert second["decisions"] == []
    assert world.sent_actions() == ["fail"]
    intent = [d for d in world.table_decisions() if d.record_sk.startswith("ONBOARD#")]
    assert [d.action for d in intent] == ["fail", "fail"]  # no record claims a change


def test_alarms_that_cannot_be_read_are_one_failure_a_day_never_a_crash(world):
    world.registry.list_error = AccessDeniedError("DescribeAlarms denied")
    first = world.hourly()
    second = world.hourly()
    assert first["action"] == "reconcile"
    ((failed),) = first["decisions"]
    assert (failed["action"], failed["table_name"]) == ("fail", None)
    assert second["action"] == "skip"
    assert world.sent_actions() == ["fail"]


def test_a_table_locked_by_another_invocation_is_left_to_it(world):
    world.store.locks["ONBOARD#orders"] = ("other-invocation", NOW.timestamp() + 7200)
    world.hourly()
    assert world.registry.names == set()
    assert world.notifier.sent == []


# --------------------------------------------------------------------------------------------
# dry run, Contributor Insights
# --------------------------------------------------------------------------------------------
def test_dry_run_changes_nothing_and_announces_the_plan_once(world):
    world.config = OnboardConfig(dry_run=True)
    first = world.hourly()
    world.hourly()
    assert world.registry.names == set()
    (decision,) = first["decisions"]
    assert decision["dry_run"] is True
    assert set(decision["created"]) == ORDERS_ALARMS
    assert world.sent_actions() == ["onboard"]


def test_contributor_insights_turned_on_for_managed_tables_when_set(world):
    world.catalog.add(provisioned_table("profiles", indexes={"gsi": (5, 5)}), MANAGED)
    world.insights.statuses[("orders", None)] = "ENABLED"
    world.config = OnboardConfig(contributor_insights=True)
    world.hourly()
    assert world.insights.enabled == [
        ("profiles", None, InsightsMode.THROTTLED_KEYS),
        ("profiles", "gsi", InsightsMode.THROTTLED_KEYS),
    ]
    profiles = next(d for d in world.table_decisions() if d.table_name == "profiles")
    assert profiles.insights_enabled == ["profiles", "profiles/gsi"]
    world.hourly()
    assert len(world.insights.enabled) == 2


def test_contributor_insights_off_by_default(world):
    world.hourly()
    assert world.insights.enabled == []


# --------------------------------------------------------------------------------------------
# the autoresponder:managed tag on the tables' scalable targets
# --------------------------------------------------------------------------------------------
ORDERS_TARGETS = [
    "table/orders (dynamodb:table:ReadCapacityUnits)",
    "table/orders (dynamodb:table:WriteCapacityUnits)",
    "table/orders/index/by-day (dynamodb:index:ReadCapacityUnits)",
    "table/orders/index/by-day (dynamodb:index:WriteCapacityUnits)",
]


@pytest.fixture
def scaled(world: World) -> World:
    """orders (managed) and legacy (not) are auto-scaled, orders' GSI too."""
    world.catalog.add(provisioned_table("orders", indexes={"by-day": (10, 10)}), MANAGED)
    world.targets.register("orders", tags={"team": "db"})
    world.targets.register("orders", "by-day")
    world.targets.register("legacy")
    return world


def test_onboarding_tags_the_scalable_targets_of_table_and_gsis(scaled):
    scaled.hourly()
    (decision,) = scaled.table_decisions()
    assert decision.action == "onboard"
    assert decision.scalable_targets_tagged == ORDERS_TARGETS
    assert scaled.targets.tags_of("table/orders") == [{"team": "db", **MANAGED}] * 2
    assert scaled.targets.tags_of("table/orders/index/by-day") == [MANAGED] * 2
    assert scaled.targets.tags_of("table/legacy") == [{}, {}]  # not managed: untouched
    assert "Scalable targets tagged autoresponder:managed=true (4):" in decision.detail_lines()


def test_scalable_target_tagging_is_idempotent(scaled):
    scaled.hourly()
    calls, records, sent = len(scaled.targets.calls), len(scaled.store.records), scaled.notifier
    result = scaled.hourly()
    assert result["action"] == "skip"
    assert len(scaled.targets.calls) == calls == 4
    assert len(scaled.store.records) == records
    assert len(sent.sent) == 1


def test_a_tag_missing_on_an_otherwise_unchanged_table_is_one_update(scaled):
    scaled.hourly()
    scaled.targets.register("orders", "by-day")  # the GSI's targets registered again, untagged
    scaled.hourly()
    decision = scaled.table_decisions()[-1]
    assert decision.action == "update_alarms"
    assert decision.created == decision.updated == decision.deleted == []
    assert decision.scalable_targets_tagged == ORDERS_TARGETS[2:]
    assert "2 scalable target(s) tagged" in decision.reason
    scaled.hourly()
    assert scaled.sent_actions() == ["onboard", "update_alarms"]


def test_offboarding_removes_only_the_managed_tag(scaled):
    scaled.hourly()
    scaled.catalog.tags_by_table["orders"] = {}
    scaled.hourly()
    decision = scaled.table_decisions()[-1]
    assert decision.action == "offboard"
    assert decision.scalable_targets_untagged == ORDERS_TARGETS
    assert scaled.targets.tags_of("table/orders") == [{"team": "db"}] * 2
    assert scaled.targets.tags_of("table/orders/index/by-day") == [{}, {}]
    assert scaled.targets.calls[-4:] == [("untag", label) for label in ORDERS_TARGETS]
    scaled.hourly()
    assert len(scaled.targets.calls) == 8
    assert scaled.sent_actions() == ["onboard", "offboard"]


def test_a_managed_table_moved_to_the_watch_list_loses_the_target_tag(scaled):
    scaled.hourly()
    scaled.config = OnboardConfig(watch_list=frozenset({"orders"}))
    scaled.catalog.tags_by_table["orders"] = {}
    scaled.hourly()
    decision = scaled.table_decisions()[-1]
    assert (decision.action, decision.coverage) == ("update_alarms", "watch")
    assert decision.scalable_targets_untagged == ORDERS_TARGETS
    # a watched table is never raised: its pre-throttle alarms go, the others stay
    assert decision.deleted == sorted(
        f"autoresponder-orders{where}-{dimension}-above-provisioned"
        for where in ("", "-by-day")
        for dimension in ("read", "write")
    )
    assert decision.updated == [] and decision.created == []


def test_dry_run_plans_the_target_tags_and_makes_no_call(scaled):
    scaled.config = OnboardConfig(dry_run=True)
    scaled.hourly()
    scaled.hourly()
    (decision,) = scaled.table_decisions()
    assert decision.dry_run is True
    assert decision.scalable_targets_tagged == ORDERS_TARGETS
    assert scaled.targets.calls == []
    assert scaled.targets.tags_of("table/orders/index/by-day") == [{}, {}]
    assert scaled.sent_actions() == ["onboard"]


def test_a_denied_tag_change_is_a_failure(scaled):
    scaled.targets.error = AccessDeniedError("TagResource failed")
    scaled.hourly()
    decision = scaled.table_decisions()[-1]
    assert decision.action == "fail"
    assert any("application-autoscaling" in step for step in decision.next_steps)
