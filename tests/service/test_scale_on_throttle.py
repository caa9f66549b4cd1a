"""scale_on_throttle with in-memory fakes: the whole flow, failures and retries.

The fake CloudWatch answers what DynamoDB would have published (`tests.builders.published`):
orders' writes throttled on provisioned capacity, 50 WCU/s served and 30 requests/s rejected
(demand ≈ 80/s), unless a test says otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from autoresponder.domain.cost import Prices
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.errors import (
    AccessDeniedError,
    AwsThrottledError,
    LimitExceededError,
    TableBusyError,
)
from autoresponder.models.alarm import AlarmMetric, Metric, MetricStat
from autoresponder.models.decision import Decision
from autoresponder.models.table import Capacity, Dimension, ScalableTarget
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.scale_on_throttle import ScaleOnThrottle, ThrottleRunbookConfig
from local.memory_decision_table import InMemoryDecisionTable
from tests.builders import (
    NOW,
    STATE_TIME,
    alarm_event,
    composite_event,
    merged,
    provisioned_table,
    published,
)
from tests.fakes import (
    FakeAlarms,
    FakeAutoScaling,
    FakeMetrics,
    FakeTables,
    FixedClock,
    RecordingNotifier,
    deliver,
)

MANAGED = {"autoresponder:managed": "true"}


@dataclass
class World:
    tables: FakeTables
    autoscaling: FakeAutoScaling
    metrics: FakeMetrics
    alarms: FakeAlarms
    store: InMemoryDecisionTable
    notifier: RecordingNotifier
    clock: FixedClock
    dry_run: bool = False

    def recorder(self) -> DecisionRecorder:
        return DecisionRecorder(self.store, self.notifier, "us-east-1")

    def service(self) -> ScaleOnThrottle:
        return ScaleOnThrottle(
            tables=self.tables,
            capacity=self.tables,
            autoscaling=self.autoscaling,
            metrics=self.metrics,
            alarms=self.alarms,
            history=self.store,
            locks=self.store,
            attempts=self.store,
            recorder=self.recorder(),
            clock=self.clock,
            config=ThrottleRunbookConfig(
                policy=ScalingPolicy(), prices=Prices(), dry_run=self.dry_run, max_attempts=3
            ),
        )

    def handle(self, raw: object, context: object = None) -> Decision:
        """Deliver `raw` as the function does (the runner the handler uses)."""
        return deliver(self.service(), raw, self.recorder(), self.clock, context)

    def capacity(self, table="orders", index=None) -> Capacity:
        unit = self.tables.tables[table].unit(index)
        assert unit is not None
        assert unit.provisioned is not None
        return unit.provisioned


@pytest.fixture
def world() -> World:
    tables = FakeTables()
    tables.add(provisioned_table(indexes={"by-customer": (50, 25)}), MANAGED)
    tables.add(provisioned_table("legacy", 10, 10))
    tables.add(provisioned_table("inventory", 50, 50), {**MANAGED, "autoresponder:dry-run": "true"})
    return World(
        tables,
        FakeAutoScaling(),
        FakeMetrics(),
        FakeAlarms(),
        InMemoryDecisionTable(),
        RecordingNotifier(),
        FixedClock(NOW),
    )


@pytest.fixture(autouse=True)
def throttled(world):
    world.metrics.points = merged(
        published(consumed=50, rejected=30),
        published(dimension="read", consumed=40),
        published("inventory", consumed=50, rejected=10),
    )


def test_scale_up_changes_the_table_records_and_notifies(world):
    decision = world.handle(alarm_event())
    assert decision.action == "scale_up"
    assert world.capacity() == Capacity(read=100, write=100)  # demand 80/s + 25 %
    assert world.store.records[decision.record_key()][1] is True  # notified
    [note] = world.notifier.sent
    assert note.attributes == {
        "table": "orders",
        "runbook": "scale_on_throttle",
        "action": "scale_up",
        "severity": "warning",
    }
    assert "Change: write units 50 → 100" in note.email
    assert "writes of the table throttled on provisioned capacity: 9,000 requests" in note.email
    assert decision.cost_delta_per_hour == pytest.approx(50 * 0.00065, abs=1e-4)
    history = world.store.history[("orders", None, Dimension.WRITE)]
    assert history.original == Capacity(read=100, write=50)
    assert history.status == "applied"
    assert history.episode_start == NOW.replace(second=0, microsecond=0) - timedelta(minutes=5)


def test_one_observation_per_decision(world):
    world.handle(alarm_event())
    assert world.metrics.calls == 1
    [asked] = world.metrics.asked
    assert len(asked) == 2 * 2 * 6  # table + GSI, read + write, 6 series each


def test_unmanaged_tables_are_not_even_observed(world):
    world.handle(alarm_event(table="legacy"))
    assert world.metrics.calls == 0


def test_a_key_range_alarm_hands_off_when_the_metrics_show_a_hot_partition(world):
    world.metrics.points = published(consumed=30, rejected=12, cause="key_range")
    decision = world.handle(alarm_event("WriteKeyRangeThroughputThrottleEvents"))
    assert (decision.action, decision.rule) == ("hand_off_hot_keys", "key_range.hand_off")
    assert world.tables.changes == []


def test_the_metrics_not_the_alarm_name_pick_the_dimension(world):
    # a read-throttle alarm, but CloudWatch shows the writes throttled
    decision = world.handle(alarm_event("ReadThrottleEvents"))
    assert (decision.action, decision.dimension) == ("scale_up", "write")
    assert world.capacity() == Capacity(read=100, write=100)


@pytest.mark.parametrize("source", ["setting", "tag"])
def test_dry_run_decides_and_notifies_but_changes_nothing(world, source):
    world.dry_run = source == "setting"
    table = "orders" if source == "setting" else "inventory"
    before = world.capacity(table)
    decision = world.handle(alarm_event(table=table))
    assert (decision.action, decision.dry_run) == ("scale_up", True)
    assert world.capacity(table) == before
    assert world.tables.changes == []
    assert world.store.history == {}
    assert world.notifier.sent[0].subject.startswith("[DRY RUN]")


def test_routine_skips_are_recorded_not_notified(world):
    decision = world.handle(alarm_event(table="legacy"))
    assert (decision.action, decision.rule) == ("skip", "not_managed")
    assert world.store.decisions == [decision]
    assert world.notifier.sent == []


def test_malformed_event_is_rejected_and_kept(world):
    raw = {"source": "aws.cloudwatch", "detail": {"alarmName": "x"}}
    decision = world.handle(raw)
    assert decision.action == "reject"
    [(recorded, _, kept)] = world.store.records.values()
    assert recorded.action == "reject"
    assert kept == raw
    assert world.tables.changes == []


def test_composite_alarm_resolves_through_its_child(world):
    child = AlarmMetric(
        id="m1",
        metric_stat=MetricStat(
            metric=Metric(
                namespace="AWS/DynamoDB",
                name="ReadProvisionedThroughputThrottleEvents",
                dimensions={"TableName": "orders"},
            )
        ),
    )
    world.alarms.alarms["orders-read-throttle"] = [child]
    world.metrics.points = published(dimension="read", consumed=100, rejected=20)
    decision = world.handle(composite_event(["orders-read-throttle"]))
    assert (decision.action, decision.dimension) == ("scale_up", "read")
    assert world.capacity().read == 150


def test_composite_alarm_without_dynamodb_child_is_skipped(world):
    decision = world.handle(composite_event(["some-ec2-alarm"]))
    assert (decision.action, decision.rule) == ("skip", "unresolved")


def test_autoscaled_table_gets_a_higher_min_not_a_table_change(world):
    target = ScalableTarget(
        resource_id="table/orders",
        scalable_dimension="dynamodb:table:WriteCapacityUnits",
        min_capacity=50,
        max_capacity=100,
    )
    world.autoscaling.targets[("orders", None, Dimension.WRITE)] = target
    decision = world.handle(alarm_event())
    assert decision.action == "raise_autoscaling_min"
    assert world.autoscaling.registered == [("table/orders", 100, 100)]
    assert world.tables.changes == []


def test_updating_table_defers_and_the_last_attempt_is_notified(world):
    world.tables.add(provisioned_table(status="UPDATING"), MANAGED)
    event = alarm_event()
    for attempt in (1, 2):
        with pytest.raises(TableBusyError):
            world.handle(event)
        assert world.notifier.sent == [], attempt
    with pytest.raises(TableBusyError):
        world.handle(event)
    [note] = world.notifier.sent
    assert note.attributes["action"] == "defer"
    assert "gave up after 3 attempts" in note.email
    assert world.tables.changes == []


def test_an_alarm_while_its_own_raise_is_in_flight_is_a_quiet_skip(world):
    """The raise 50 → 100 was made; UpdateTable takes longer than Lambda's retries (DynamoDB
    still shows 50 and UPDATING): the next alarm's event finds its demand covered by the change
    in flight: a skip, no retry, no "gave up" page, nothing asked twice."""
    world.handle(alarm_event())
    world.tables.add(
        provisioned_table(status="UPDATING", indexes={"by-customer": (50, 25)}), MANAGED
    )
    world.tables.changes.clear()
    later = alarm_event(timestamp=STATE_TIME + timedelta(minutes=1))
    for _ in range(3):  # whatever the delivery attempt
        decision = world.handle(later)
        assert (decision.action, decision.rule) == ("skip", "updating.in_flight")
    assert world.tables.changes == []
    assert len(world.notifier.sent) == 1  # the raise's own notification only


def test_resource_in_use_defers_and_restores_the_record(world):
    world.tables.fail_with = TableBusyError("UpdateTable failed: ResourceInUseException")
    with pytest.raises(TableBusyError):
        world.handle(alarm_event())
    assert world.store.history == {}
    # Lambda's retry then succeeds, once.
    decision = world.handle(alarm_event())
    assert decision.action == "scale_up"
    assert len(world.tables.changes) == 1


@pytest.mark.parametrize(
    ("error", "rule"),
    [
        (AccessDeniedError("UpdateTable failed: AccessDeniedException"), "error.AccessDeniedError"),
        (
            LimitExceededError("UpdateTable failed: LimitExceededException"),
            "error.LimitExceededError",
        ),
    ],
)
def test_permanent_errors_become_a_notified_fail(world, error, rule):
    world.tables.fail_with = error
    decision = world.handle(alarm_event())
    assert (decision.action, decision.rule) == ("fail", rule)
    assert world.capacity() == Capacity(read=100, write=50)
    assert world.store.history == {}
    [note] = world.notifier.sent
    assert note.attributes["severity"] == "critical"


def test_control_plane_throttling_is_retried_not_doubled(world):
    world.tables.fail_with = AwsThrottledError("UpdateTable failed: ThrottlingException")
    with pytest.raises(AwsThrottledError):
        world.handle(alarm_event())
    world.handle(alarm_event())
    assert [c for _, _, c in world.tables.changes] == [Capacity(read=100, write=100)]


def test_failed_notification_is_sent_on_retry_without_acting_again(world):
    world.notifier.fail_next = AwsThrottledError("Publish failed")
    with pytest.raises(AwsThrottledError):
        world.handle(alarm_event())
    decision = world.handle(alarm_event())
    assert decision.action == "scale_up"
    assert len(world.tables.changes) == 1
    assert len(world.notifier.sent) == 1


def test_crash_between_change_and_record_is_not_applied_twice(world):
    event = alarm_event()
    world.handle(event)
    world.store.stored.clear()  # as if the record was never written
    world.notifier.sent.clear()
    decision = world.handle(event)
    assert (decision.action, decision.rule) == ("scale_up", "already_applied")
    assert len(world.tables.changes) == 1
    assert len(world.notifier.sent) == 1


def test_a_held_lock_defers(world):
    world.store.acquire_lock("orders", "someone-else", 60, world.clock.now())
    with pytest.raises(TableBusyError):
        world.handle(alarm_event())
    assert world.tables.changes == []


def test_second_alarm_within_cooldown_is_skipped(world):
    world.handle(alarm_event())
    world.clock.current += timedelta(minutes=2)
    later = alarm_event(timestamp=STATE_TIME + timedelta(minutes=2), datapoints=[900.0])
    decision = world.handle(later)
    assert (decision.action, decision.rule) == ("skip", "cooldown")
    assert len(world.tables.changes) == 1


def test_within_the_cooldown_a_measured_shortfall_raises_again(world):
    world.handle(alarm_event())
    world.clock.current += timedelta(minutes=2)
    # after the raise to 100, CloudWatch measures a demand of 150/s
    world.metrics.points = published(consumed=100, rejected=50, end=world.clock.now())
    later = alarm_event(timestamp=STATE_TIME + timedelta(minutes=2))
    decision = world.handle(later)
    assert (decision.action, decision.rule) == ("scale_up", "provisioned.scale_up")
    assert world.capacity() == Capacity(read=100, write=188)
    history = world.store.history[("orders", None, Dimension.WRITE)]
    assert history.original == Capacity(read=100, write=50)  # the episode's, kept


def test_description_errors_end_in_a_decision(world):
    world.tables.describe_error = AccessDeniedError("DescribeTable failed: AccessDenied")
    decision = world.handle(alarm_event())
    assert decision.action == "fail"
    assert world.store.locks == {}


def test_throttled_cloudwatch_still_scales_by_the_minimum_step(world):
    world.metrics.fail_with = AwsThrottledError("GetMetricData failed: Throttling")
    decision = world.handle(alarm_event())
    assert decision.action == "scale_up"
    assert world.capacity() == Capacity(read=100, write=60)
    assert decision.diagnosis is None
    assert decision.inputs["cloudwatch_read"] is False
