"""Look again the moment a change lands: re-checks, their run, and the time to mitigation.

After a raise, scale_on_throttle asks EventBridge Scheduler for a one-time look at the table
when the change should have landed; that look is scale_back's run of the same pass for that
table only: it re-schedules itself in short steps while the table is UPDATING, raises again on
a measured shortfall (no cooldown), records the time to mitigation once throttling stopped,
and schedules the scale-back's look for when its window ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from autoresponder.domain.cost import Prices
from autoresponder.domain.next_look import LookPolicy
from autoresponder.domain.scale_back.policy import ScaleBackPolicy
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.errors import AwsUnavailableError
from autoresponder.models.decision import Action
from autoresponder.models.recheck import RecheckEvent, recheck_event
from autoresponder.models.table import Capacity, Dimension
from autoresponder.services.rechecks import whole_second
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.scale_back import ScaleBack, ScaleBackConfig
from autoresponder.services.scale_on_throttle import ScaleOnThrottle, ThrottleRunbookConfig
from local.memory_decision_table import InMemoryDecisionTable
from local.memory_rechecks import InMemoryRechecks
from tests.builders import NOW, STATE_TIME, alarm_event, merged, provisioned_table, published
from tests.fakes import (
    FakeAlarms,
    FakeAutoScaling,
    FakeMetrics,
    FixedClock,
    RecordingNotifier,
    deliver,
)
from tests.scale_back_fakes import BudgetedTables, FakeActiveAlarms

MANAGED = {"autoresponder:managed": "true"}
WRITE = Dimension.WRITE
SCALE_BACK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:scale-back"


@dataclass
class World:
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    tables: BudgetedTables = field(default_factory=BudgetedTables)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    rechecks: InMemoryRechecks = field(default_factory=InMemoryRechecks)
    store: InMemoryDecisionTable = field(default_factory=InMemoryDecisionTable)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    autoscaling: FakeAutoScaling = field(default_factory=FakeAutoScaling)

    def recorder(self) -> DecisionRecorder:
        return DecisionRecorder(self.store, self.notifier, "us-east-1")

    def alarm(self, event=None):
        service = ScaleOnThrottle(
            tables=self.tables,
            capacity=self.tables,
            autoscaling=self.autoscaling,
            metrics=self.metrics,
            alarms=FakeAlarms(),
            history=self.store,
            locks=self.store,
            attempts=self.store,
            recorder=self.recorder(),
            clock=self.clock,
            config=ThrottleRunbookConfig(
                policy=ScalingPolicy(), prices=Prices(), recheck_target=SCALE_BACK_ARN
            ),
            rechecks=self.rechecks,
        )
        return deliver(service, event or alarm_event(), self.recorder(), self.clock)

    def recheck(self):
        """Deliver the table's scheduled re-check at its time, as Scheduler would."""
        at, event, target = self.rechecks.scheduled.pop("orders")
        assert target == SCALE_BACK_ARN
        self.clock.current = at
        service = ScaleBack(
            tables=self.tables,
            capacity=self.tables,
            autoscaling=self.autoscaling,
            metrics=self.metrics,
            alarms=FakeActiveAlarms(),
            history=self.store,
            locks=self.store,
            recorder=self.recorder(),
            clock=self.clock,
            config=ScaleBackConfig(
                policy=ScaleBackPolicy(),
                throttle=ScalingPolicy(),
                prices=Prices(),
                recheck_target=SCALE_BACK_ARN,
            ),
            rechecks=self.rechecks,
        )
        return deliver(service, event, self.recorder(), self.clock)

    def capacity(self) -> Capacity:
        unit = self.tables.tables["orders"].table
        assert unit.provisioned is not None
        return unit.provisioned


@pytest.fixture
def world() -> World:
    found = World()
    found.tables.clock = found.clock
    found.tables.add(provisioned_table(read=100, write=50), MANAGED)
    found.tables.add(provisioned_table("other", read=10, write=10), MANAGED)
    # writes: 50 served, 30 rejected since 14:00 (demand ≈ 80/s against 50)
    found.metrics.points = published(consumed=50, rejected=30, minutes=5)
    return found


def test_a_raise_asks_for_a_look_when_it_should_have_landed(world):
    decision = world.alarm()
    assert decision.action == "scale_up"
    at, event, target = world.rechecks.scheduled["orders"]
    assert at == whole_second(NOW + LookPolicy().after_change)  # Scheduler: whole seconds
    assert decision.next_look_at == at
    assert target == SCALE_BACK_ARN
    recheck = RecheckEvent.model_validate(event)
    assert (recheck.detail.table_name, recheck.time) == ("orders", at)
    assert (recheck.account, recheck.region) == ("123456789012", "us-east-1")


def test_no_change_no_look(world):
    world.metrics.points = published(consumed=20)
    decision = world.alarm()
    assert decision.action == "skip"
    assert world.rechecks.scheduled == {}
    assert decision.next_look_at is None


def test_an_earlier_look_already_due_is_kept(world):
    sooner = NOW + timedelta(seconds=30)
    world.rechecks.scheduled["orders"] = (sooner, {"kept": True}, SCALE_BACK_ARN)
    decision = world.alarm()
    assert decision.next_look_at == sooner
    assert world.rechecks.scheduled["orders"][1] == {"kept": True}


def test_a_scheduler_failure_never_fails_the_decision(world):
    world.rechecks.fail_with = AwsUnavailableError("CreateSchedule failed: 503")
    decision = world.alarm()
    assert decision.action == "scale_up"
    assert world.capacity() == Capacity(read=100, write=100)
    assert decision.next_look_at is None
    assert len(world.notifier.sent) == 1


def test_while_updating_the_recheck_looks_again_in_short_steps(world):
    world.alarm()
    world.tables.set_status("orders", "UPDATING")
    result = world.recheck()
    at, event, _ = world.rechecks.scheduled["orders"]
    assert at == world.clock.now() + LookPolicy().step
    assert dict(result.next_looks)["orders"] == at
    assert RecheckEvent.model_validate(event).detail.reason == "the table is UPDATING"
    assert world.capacity() == Capacity(read=100, write=100)  # nothing asked twice


def test_a_measured_shortfall_after_the_change_raises_again_without_cooldown(world):
    world.alarm()
    # the raise landed: 100 WCU; demand rose to 150/s (100 served, 50 rejected): short again
    world.metrics.points = merged(
        world.metrics.points,
        published(consumed=100, rejected=50, minutes=2, end=NOW + timedelta(minutes=2)),
    )
    result = world.recheck()
    raised = [d for d in result.decisions if d.action == "scale_up"]
    assert [(d.rule, d.after) for d in raised] == [
        ("follow_up.provisioned.scale_up", Capacity(read=100, write=188))
    ]
    assert raised[0].trigger == "recheck"
    assert raised[0].record_key()[1].startswith("RECHECK#")
    assert world.capacity() == Capacity(read=100, write=188)
    # and the next look is when that change should land
    at, _, _ = world.rechecks.scheduled["orders"]
    assert at == world.clock.now() + LookPolicy().after_change


def test_the_time_to_mitigation_is_recorded_once_when_throttling_stopped(world):
    world.alarm()
    _throttled_until_the_raise_landed(world)
    _due(world, NOW + timedelta(minutes=4))
    result = world.recheck()
    [episode] = [d for d in result.decisions if d.rule == "episode.mitigated"]
    first_throttled = NOW.replace(second=0, microsecond=0) - timedelta(minutes=5)
    stopped = NOW.replace(second=0, microsecond=0) + timedelta(minutes=2)  # after the last one
    assert episode.time_to_mitigation == (stopped - first_throttled).total_seconds()
    assert episode.action == Action.SKIP
    assert world.notifier.sent[-1].attributes["action"] == "scale_up"  # recorded, not notified
    record = world.store.history[("orders", None, WRITE)]
    assert record.mitigated_at == stopped
    # a later look does not report it again
    _due(world, NOW + timedelta(minutes=5))
    again = world.recheck()
    assert [d for d in again.decisions if d.rule == "episode.mitigated"] == []


def test_the_scale_back_is_looked_at_when_its_window_ends(world):
    world.alarm()
    _throttled_until_the_raise_landed(world)
    _due(world, NOW + timedelta(minutes=4))
    world.recheck()
    at, _, _ = world.rechecks.scheduled["orders"]
    # stabilizing until the raise is a window old; then its metrics are read 2 minutes later
    assert at == whole_second(NOW + ScaleBackPolicy().stabilization + LookPolicy().metrics_delay)


def test_a_recheck_of_one_table_runs_that_table_only(world):
    world.alarm()
    world.metrics.points = merged(world.metrics.points, published("other", consumed=10, rejected=5))
    world.alarm(alarm_event(table="other", timestamp=STATE_TIME))
    world.rechecks.scheduled.pop("other", None)
    result = world.recheck()
    assert result.decisions
    assert {d.table_name for d in result.decisions} == {"orders"}
    assert world.rechecks.scheduled.get("other") is None  # nothing looked at, nothing asked


def _due(world: World, at: datetime) -> None:
    """The table's re-check, moved to `at`."""
    event = recheck_event("orders", at, "test", account="123456789012", region="us-east-1")
    world.rechecks.scheduled["orders"] = (at, event, SCALE_BACK_ARN)


def _throttled_until_the_raise_landed(world: World) -> None:
    """Throttled until the raise landed (14:05, 14:06), then traffic within capacity."""
    world.metrics.points = merged(
        world.metrics.points,
        published(consumed=50, rejected=30, minutes=2, end=NOW + timedelta(minutes=2)),
        published(consumed=80, cause=None, minutes=2, end=NOW + timedelta(minutes=4)),
    )
