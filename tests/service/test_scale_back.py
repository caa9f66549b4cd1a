"""scale_back with in-memory fakes: a simulated day, the budget over a whole day, the flow."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from autoresponder.domain.cost import Prices
from autoresponder.domain.scale_back.policy import ScaleBackPolicy
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.errors import AwsThrottledError, LimitExceededError
from autoresponder.models.decision import Action, AutoScalingLimits
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits, ScalableTarget
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.scale_back import RunResult, ScaleBack, ScaleBackConfig
from autoresponder.services.scale_on_throttle import ScaleOnThrottle, ThrottleRunbookConfig
from local.memory_decision_table import InMemoryDecisionTable
from tests.builders import alarm_event, merged, on_demand_table, provisioned_table, published
from tests.fakes import (
    FakeAlarms,
    FakeAutoScaling,
    FakeMetrics,
    FixedClock,
    RecordingNotifier,
    deliver,
)
from tests.scale_back_fakes import (
    BudgetedTables,
    FakeActiveAlarms,
    FakeActivity,
    quota_allows,
    raised,
    scheduled_event,
)

MANAGED = {"autoresponder:managed": "true"}
DAY = datetime(2026, 11, 20, tzinfo=UTC)
WRITE = Dimension.WRITE
READ = Dimension.READ


def at(hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return DAY + timedelta(hours=int(hours), minutes=int(minutes))


@dataclass
class World:
    clock: FixedClock
    tables: BudgetedTables
    autoscaling: FakeAutoScaling = field(default_factory=FakeAutoScaling)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    alarms: FakeActiveAlarms = field(default_factory=FakeActiveAlarms)
    store: InMemoryDecisionTable = field(default_factory=InMemoryDecisionTable)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    policy: ScaleBackPolicy = field(
        # the window these runs were written for (the default is 10 minutes)
        default_factory=lambda: ScaleBackPolicy(stabilization=timedelta(minutes=15))
    )
    dry_run: bool = False

    @property
    def activity(self) -> FakeActivity:
        return FakeActivity(self.metrics)

    def recorder(self) -> DecisionRecorder:
        return DecisionRecorder(self.store, self.notifier, "us-east-1")

    def handle(self, runbook: ScaleBack | ScaleOnThrottle, raw: object) -> Any:
        """Deliver `raw` as the function does (the runner the handler uses)."""
        return deliver(runbook, raw, self.recorder(), self.clock)

    def scale_back(self) -> ScaleBack:
        return ScaleBack(
            tables=self.tables,
            capacity=self.tables,
            autoscaling=self.autoscaling,
            metrics=self.metrics,
            alarms=self.alarms,
            history=self.store,
            locks=self.store,
            recorder=self.recorder(),
            clock=self.clock,
            config=ScaleBackConfig(
                policy=self.policy,
                throttle=ScalingPolicy(),
                prices=Prices(),
                dry_run=self.dry_run,
            ),
        )

    def scale_on_throttle(self) -> ScaleOnThrottle:
        return ScaleOnThrottle(
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
            config=ThrottleRunbookConfig(policy=ScalingPolicy(), prices=Prices(), back=self.policy),
        )

    def run(self, when: datetime | None = None) -> RunResult:
        if when is not None:
            self.clock.current = when
        return self.handle(self.scale_back(), scheduled_event(self.clock.now()))

    def capacity(self, table: str = "orders", index: str | None = None) -> Capacity:
        unit = self.tables.tables[table].unit(index)
        assert unit is not None and unit.provisioned is not None
        return unit.provisioned

    def decreases_today(self, table: str = "orders", index: str | None = None) -> int:
        unit = self.tables.tables[table].unit(index)
        assert unit is not None
        return unit.decreases_today

    def seed(self, history, table: str = "orders", index=None, dimension=WRITE) -> None:
        self.store.history[(table, index, dimension)] = history


@pytest.fixture
def world() -> World:
    clock = FixedClock(at("12:00"))
    tables = BudgetedTables(clock=clock)
    tables.add(provisioned_table(read=100, write=400, indexes={"by-customer": (200, 50)}), MANAGED)
    tables.add(provisioned_table("legacy", 100, 400))
    return World(clock=clock, tables=tables)


def raised_write(world: World, *, hours_ago: float = 2, to: int = 400, original: int = 100):
    before = Capacity(read=100, write=original)
    world.seed(
        raised(before, before.with_(WRITE, to), at=world.clock.now() - timedelta(hours=hours_ago))
    )


# --------------------------------------------------------------------------------------------
# a simulated day
# --------------------------------------------------------------------------------------------
# time, what happens, the alarm in ALARM, consumed (units/s, every minute of the window),
# throttled requests (the last minute), then expected: action on orders' writes, rule prefix,
# write units after, decreases today.
DAY_RUNS = [
    ("00:05", "alarm", True, 100.0, 12_000, "scale_up", "provisioned.scale_up", 375, 0),
    ("00:15", "run", True, 375.0, 7_500, "scale_up", "follow_up.provisioned.scale_up", 625, 0),
    ("00:30", "run", False, 400.0, 0, "scale_down", "provisioned.scale_down", 500, 1),
    ("00:45", "run", False, 40.0, 0, "scale_down", "provisioned.restore", 100, 2),
    ("01:00", "run", False, 40.0, 0, "skip", "nothing_to_do", 100, 2),
    ("03:00", "alarm", True, 100.0, 12_000, "scale_up", "provisioned.scale_up", 375, 2),
    ("03:15", "run", False, 300.0, 0, "hold", "hold.peak_plus_headroom", 375, 2),
    ("03:30", "run", False, 40.0, 0, "scale_down", "provisioned.restore", 100, 3),
    # throttled again 5 minutes after a decrease: the window doubles (15 → 30 min)
    ("03:35", "alarm", True, 100.0, 12_000, "scale_up", "provisioned.scale_up", 375, 3),
    ("03:45", "run", False, 40.0, 0, "hold", "hold.stabilizing", 375, 3),
    ("04:00", "run", False, 40.0, 0, "hold", "hold.stabilizing", 375, 3),
    ("04:15", "run", False, 40.0, 0, "scale_down", "provisioned.restore", 100, 4),
    ("05:00", "alarm", True, 100.0, 12_000, "scale_up", "provisioned.scale_up", 375, 4),
    ("05:15", "run", False, 40.0, 0, "hold", "hold.stabilizing", 375, 4),
    ("05:30", "run", False, 40.0, 0, "scale_down", "provisioned.restore", 100, 5),
]


def test_a_simulated_day():
    clock = FixedClock(DAY)
    tables = BudgetedTables(clock=clock)
    tables.add(provisioned_table(read=100, write=100), MANAGED)
    world = World(clock=clock, tables=tables)
    alarm_since = None
    for when, happens, in_alarm, consumed, throttled, action, rule, write, decreases in DAY_RUNS:
        clock.current = at(when)
        world.activity.set("orders", WRITE, consumed, throttled)
        if in_alarm:
            alarm_since = alarm_since or clock.current
            world.alarms.raise_alarm("orders", alarm_since, value=throttled, name="orders-write")
        else:
            alarm_since = None
            world.alarms.clear()
        if happens == "alarm":
            decision = world.handle(world.scale_on_throttle(), alarm_event(timestamp=clock.current))
        else:
            result = world.run()
            decision = result.headline
            if in_alarm:  # no decrease of any kind while the alarm is in ALARM
                assert all(d.action not in {"scale_down"} for d in result.decisions)
        assert (decision.action, when) == (action, when), decision.reason
        assert decision.rule.startswith(rule), (when, decision.rule, decision.reason)
        assert world.capacity().write == write, when
        assert world.decreases_today() == decreases, when
        # the budget, checked against the quota itself at every step
        assert quota_allows(world.tables.decreases[("orders", None)][:-1], clock.current) or (
            decision.action != "scale_down"
        )
    assert ("orders", None, WRITE) not in world.store.history  # fully restored: forgotten
    notified = [n.attributes["action"] for n in world.notifier.sent]
    assert (
        notified
        == ["scale_up", "scale_up", "scale_down", "scale_down"]
        + [
            "scale_up",
            "scale_down",
        ]
        * 3
    )


@pytest.mark.parametrize(
    ("spend_last", "expected"), [pytest.param(True, 27, id="27"), pytest.param(False, 26, id="26")]
)
def test_a_whole_day_of_spikes_never_exceeds_the_decrease_budget(spend_last, expected):
    """A raise after every decrease: the runbook wants to decrease at every 15-minute run and
    the budget alone limits it. The fake refuses any decrease the quota forbids."""
    clock = FixedClock(DAY)
    tables = BudgetedTables(clock=clock)
    tables.add(provisioned_table(read=100, write=100), MANAGED)
    world = World(
        clock=clock,
        tables=tables,
        policy=ScaleBackPolicy(stabilization=timedelta(minutes=10), spend_last_decrease=spend_last),
    )
    world.activity.set("orders", WRITE, 1.0)
    for run in range(96):
        now = DAY + timedelta(minutes=15 * run)
        if world.capacity().write == 100:  # back at the original: the next spike
            world.tables.set_provisioned("orders", None, Capacity(read=100, write=200))
            before = Capacity(read=100, write=100)
            clock.current = now - timedelta(minutes=14)
            world.seed(raised(before, Capacity(read=100, write=200), at=clock.current))
        result = world.run(now)
        assert all(d.action != "fail" for d in result.decisions), result.headline.reason
    decreases = world.tables.decreases[("orders", None)]
    assert len(decreases) == expected
    assert sum(d < DAY + timedelta(hours=1) for d in decreases) == 4
    for hour in range(1, 24):
        start = DAY + timedelta(hours=hour)
        assert sum(start <= d < start + timedelta(hours=1) for d in decreases) <= 1
    holds = {d.rule for d in world.store.decisions if d.action == "hold"}
    assert "hold.budget_exhausted" in holds
    assert ("hold.last_decrease" in holds) is not spend_last


# --------------------------------------------------------------------------------------------
# the flow
# --------------------------------------------------------------------------------------------
def test_a_scale_back_goes_straight_to_the_peak_plus_headroom(world):
    raised_write(world)
    world.activity.set("orders", WRITE, 200.0)
    result = world.run()
    decision = result.headline
    assert (decision.action, decision.rule) == ("scale_down", "provisioned.scale_down")
    assert world.capacity() == Capacity(read=100, write=250)  # peak 200/s + 25 %, one decrease
    assert decision.cost_delta_per_hour == pytest.approx(-150 * 0.00065, abs=1e-4)
    [note] = world.notifier.sent
    assert note.attributes["action"] == "scale_down"
    assert "Change: write units 400 → 250" in note.email
    history = world.store.history[("orders", None, WRITE)]
    assert history.after == Capacity(read=100, write=250)
    assert history.decreased_at == world.clock.now()
    assert history.original == Capacity(read=100, write=100)
    # the last raise's time is kept: a decrease never starts a scale-up cooldown
    assert history.scaled_at == world.clock.now() - timedelta(hours=2)
    as_result = result.as_result()
    assert as_result["runbook"] == "scale_back"
    assert as_result["counts"] == {"scale_down": 1}
    assert [d["action"] for d in as_result["decisions"]] == ["scale_down"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # a 10-minute window: the 200/s peak 20 minutes ago is over, 40/s + 25 % → original
        pytest.param(10, Capacity(read=100, write=100), id="default-window-forgets-the-peak"),
        # a doubled 30-minute window (a re-throttle soon after a decrease) still holds it
        pytest.param(30, Capacity(read=100, write=250), id="doubled-window-keeps-the-peak"),
    ],
)
def test_each_unit_reads_its_own_window_from_one_observation(window, expected):
    clock = FixedClock(at("12:00"))
    tables = BudgetedTables(clock=clock)
    tables.add(provisioned_table(read=100, write=400), MANAGED)
    world = World(clock=clock, tables=tables, policy=ScaleBackPolicy())
    before = Capacity(read=100, write=100)
    history = raised(before, before.with_(WRITE, 400), at=clock.now() - timedelta(hours=2))
    world.seed(replace(history, stabilization_minutes=window))
    world.metrics.points = merged(
        published(consumed=200, cause=None, minutes=3, end=clock.now() - timedelta(minutes=20)),
        published(consumed=40, cause=None, minutes=17, end=clock.now()),
    )
    result = world.run()
    calls = world.metrics.calls
    assert world.capacity() == expected, result.headline.reason
    assert calls == 1  # one GetMetricData for the table, whatever its units' windows


def test_a_throttle_right_after_a_step_down_is_met_at_once_and_doubles_the_window(world):
    raised_write(world)
    world.activity.set("orders", WRITE, 200.0)
    world.run()
    world.clock.current += timedelta(minutes=1)
    world.activity.set("orders", WRITE, 250.0, throttled=6_000)  # demand 350/s
    decision = world.handle(world.scale_on_throttle(), alarm_event(timestamp=world.clock.current))
    assert decision.action == "scale_up"  # not skipped as "cooldown"
    assert world.capacity().write == 438
    history = world.store.history[("orders", None, WRITE)]
    assert history.original == Capacity(read=100, write=100)
    assert history.stabilization_minutes == 30


def test_restoring_the_original_forgets_the_raise(world):
    raised_write(world, to=150)
    world.tables.set_provisioned("orders", None, Capacity(read=100, write=150))
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("scale_down", "provisioned.restore")
    assert world.capacity() == Capacity(read=100, write=100)
    assert world.store.history == {}
    assert decision.inputs["forget"] is True


@pytest.mark.parametrize(
    ("setup", "rule", "reason"),
    [
        pytest.param({"hours_ago": 0.1}, "hold.stabilizing", "stabilizing", id="stabilizing"),
        pytest.param({"peak": 400.0}, "hold.busy", "still_busy", id="busy"),
        pytest.param({"peak": 330.0}, "hold.peak_plus_headroom", "still_busy", id="needed"),
        pytest.param({"peak": 310.0}, "hold.small_cut", "budget", id="small-cut"),
        pytest.param({"decreases": 4}, "hold.budget_exhausted", "budget", id="budget"),
    ],
)
def test_holds_are_recorded_not_notified(world, setup, rule, reason):
    raised_write(world, hours_ago=setup.get("hours_ago", 2))
    world.activity.set("orders", WRITE, setup.get("peak", 10.0), setup.get("throttled", 0.0))
    if "decreases" in setup:
        world.tables._update_unit(
            "orders",
            None,
            {
                "decreases_today": setup["decreases"],
                "last_decrease_at": world.clock.now() - timedelta(minutes=5),
            },
        )
    decision = world.run().headline
    assert (decision.action, decision.rule, decision.hold_reason) == ("hold", rule, reason)
    assert world.capacity().write == 400
    assert world.notifier.sent == []
    assert world.store.decisions == [decision]


def test_one_observation_per_table_and_run(world):
    raised_write(world)
    world.seed(
        raised(Capacity(read=50, write=25), Capacity(read=50, write=40), at=at("10:00")),
        index="by-customer",
    )
    world.run()
    assert world.metrics.calls == 1


def test_throttling_in_the_window_raises_by_the_minimum_step_and_holds_the_rest(world):
    raised_write(world)
    world.activity.set("orders", WRITE, 10.0, throttled=12.0)  # within capacity: per-second
    decisions = world.run().decisions
    assert [(d.action, d.rule) for d in decisions] == [
        ("scale_up", "follow_up.provisioned.scale_up"),
        ("hold", "hold.stabilizing"),
    ]
    assert world.capacity().write == 480


def test_no_decrease_anywhere_on_a_table_while_any_of_its_throttling_alarms_is_in_alarm(world):
    raised_write(world)
    world.alarms.raise_alarm(
        "orders", world.clock.now(), "ReadKeyRangeThroughputThrottleEvents", index="by-customer"
    )
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("hold", "hold.throttling")
    assert world.capacity().write == 400


def test_follow_up_raises_while_the_alarm_stays_in_alarm(world):
    world.tables.add(provisioned_table(read=100, write=50), MANAGED)
    world.alarms.raise_alarm("orders", world.clock.now() - timedelta(minutes=20), value=90)
    world.activity.set("orders", WRITE, 50.0, throttled=3_000)  # demand 100/s
    result = world.run()
    decision = result.headline
    assert (decision.action, decision.rule) == ("scale_up", "follow_up.provisioned.scale_up")
    assert decision.alarm_name == "autoresponder-orders-WriteProvisionedThroughputThrottleEvents"
    assert world.capacity() == Capacity(read=100, write=125)
    assert world.store.history[("orders", None, WRITE)].original == Capacity(read=100, write=50)
    [note] = world.notifier.sent
    assert note.attributes == {
        "table": "orders",
        "runbook": "scale_back",
        "action": "scale_up",
        "severity": "warning",
    }


def test_follow_up_still_raises_by_the_minimum_step_when_cloudwatch_is_throttled(world):
    world.tables.add(provisioned_table(read=100, write=50), MANAGED)
    world.alarms.raise_alarm("orders", world.clock.now() - timedelta(minutes=20), value=90)
    world.metrics.fail_with = AwsThrottledError("GetMetricData failed: Throttling")
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("scale_up", "follow_up.provisioned.scale_up")
    assert world.capacity() == Capacity(read=100, write=60)


@pytest.mark.parametrize(
    ("minutes", "metric", "table", "expected"),
    [
        pytest.param(20, "WriteKeyRangeThroughputThrottleEvents", "orders", [], id="hot-keys"),
        pytest.param(20, "WriteProvisionedThroughputThrottleEvents", "legacy", [], id="unmanaged"),
        pytest.param(20, "WriteAccountLimitThrottleEvents", "orders", [], id="account-limit"),
    ],
)
def test_alarms_a_follow_up_leaves_alone(world, minutes, metric, table, expected):
    world.alarms.raise_alarm(table, world.clock.now() - timedelta(minutes=minutes), metric)
    result = world.run()
    assert list(result.decisions) == expected
    assert result.headline.rule == "nothing_to_do"
    assert world.tables.changes == []
    assert world.store.records == {}


def test_an_alarm_in_alarm_with_nothing_throttled_is_a_recorded_quiet_skip(world):
    world.alarms.raise_alarm("orders", world.clock.now() - timedelta(minutes=2))
    world.activity.set("orders", WRITE, 20.0)
    [decision] = world.run().decisions
    assert (decision.action, decision.rule) == ("skip", "follow_up.no_throttling")
    assert world.tables.changes == []
    assert world.notifier.sent == []


def test_follow_up_within_the_cooldown_of_the_last_raise_is_a_recorded_skip(world):
    before = Capacity(read=100, write=300)
    world.seed(raised(before, Capacity(read=100, write=400), at=world.clock.now()))
    world.alarms.raise_alarm("orders", world.clock.now() - timedelta(minutes=20), value=10)
    world.activity.set("orders", WRITE, 300.0, throttled=600.0)  # demand 310/s: fits 400
    result = world.run()
    follow_up = next(d for d in result.decisions if d.inputs.get("follow_up"))
    assert (follow_up.action, follow_up.rule) == ("skip", "follow_up.cooldown")
    assert world.tables.changes == []
    assert world.notifier.sent == []


def test_one_change_per_table_and_run(world):
    raised_write(world)
    before = Capacity(read=200, write=50)
    world.seed(
        raised(before, Capacity(read=800, write=50), at=world.clock.now() - timedelta(hours=2)),
        index="by-customer",
        dimension=READ,
    )
    world.tables.set_provisioned("orders", "by-customer", Capacity(read=800, write=50))
    first = world.run()
    actions = {(d.index_name, d.action, d.rule) for d in first.decisions}
    assert actions == {
        (None, "scale_down", "provisioned.restore"),  # WCU: the larger saving
        ("by-customer", "hold", "hold.one_change_per_run"),
    }
    assert len(world.tables.changes) - 1 == 1  # one set-up change, then one per run
    assert world.capacity().write == 100
    assert world.capacity("orders", "by-customer").read == 800
    world.run(world.clock.now() + timedelta(minutes=15))
    assert world.capacity("orders", "by-customer").read == 200
    assert len(world.tables.changes) - 1 == 2


def test_a_follow_up_raise_blocks_decreases_of_the_same_table_in_that_run(world):
    before = Capacity(read=200, write=50)
    world.seed(
        raised(before, Capacity(read=800, write=50), at=world.clock.now() - timedelta(hours=2)),
        index="by-customer",
        dimension=READ,
    )
    world.tables.set_provisioned("orders", "by-customer", Capacity(read=800, write=50))
    world.alarms.raise_alarm("orders", world.clock.now() - timedelta(minutes=20))
    world.activity.set("orders", WRITE, 400.0, throttled=6_000)  # demand 500/s > 400
    result = world.run()
    assert {(d.action, d.rule) for d in result.decisions} == {
        ("scale_up", "follow_up.provisioned.scale_up"),
        ("hold", "hold.throttling"),
    }
    assert world.capacity("orders", "by-customer").read == 800


def test_a_duplicated_run_changes_and_notifies_once(world):
    raised_write(world)
    world.activity.set("orders", WRITE, 200.0)
    event = scheduled_event(world.clock.now())
    first = world.handle(world.scale_back(), event)
    second = world.handle(world.scale_back(), event)
    assert [d.action for d in second.decisions] == ["scale_down"]
    assert world.capacity().write == 250
    assert len(world.notifier.sent) == 1
    assert first.headline.after == second.headline.after


def test_a_crash_after_the_change_is_replayed_not_repeated(world):
    raised_write(world)
    world.activity.set("orders", WRITE, 200.0)
    event = scheduled_event(world.clock.now())
    world.handle(world.scale_back(), event)
    world.store.stored.clear()  # as if the record was never written
    world.notifier.sent.clear()
    decision = world.handle(world.scale_back(), event).headline
    assert (decision.action, decision.rule) == ("scale_down", "already_applied")
    assert world.capacity().write == 250
    assert len(world.notifier.sent) == 1


def test_a_failed_notification_is_sent_by_the_retry_without_acting_again(world):
    raised_write(world)
    world.activity.set("orders", WRITE, 200.0)
    event = scheduled_event(world.clock.now())
    world.notifier.fail_next = AwsThrottledError("Publish failed")
    with pytest.raises(AwsThrottledError):
        world.handle(world.scale_back(), event)
    world.handle(world.scale_back(), event)
    assert world.capacity().write == 250
    assert len([c for c in world.tables.changes if c[0] == "orders"]) == 1
    assert len(world.notifier.sent) == 1


def test_a_refused_decrease_is_a_notified_failure_and_the_history_is_kept(world):
    raised_write(world)
    world.tables.fail_with = LimitExceededError("UpdateTable failed: LimitExceededException")
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("fail", "error.LimitExceededError")
    assert world.capacity().write == 400
    assert world.store.history[("orders", None, WRITE)].after == Capacity(read=100, write=400)
    assert world.notifier.sent[0].attributes["severity"] == "critical"


def test_a_transient_error_defers_to_the_next_run(world):
    raised_write(world)
    world.tables.fail_with = AwsThrottledError("UpdateTable failed: ThrottlingException")
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("defer", "retryable_error")
    assert world.notifier.sent == []
    assert world.store.history[("orders", None, WRITE)].event_key == "seeded"
    world.run(world.clock.now() + timedelta(minutes=15))
    assert world.capacity().write == 100


def test_a_locked_table_holds(world):
    raised_write(world)
    world.store.acquire_lock("orders", "scale_on_throttle", 60, world.clock.now())
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("hold", "hold.locked")
    assert world.tables.changes == []


def test_a_change_made_by_hand_is_left_alone_and_announced(world):
    raised_write(world, to=500)  # the table is at 400: someone lowered it
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("skip", "forget.changed_elsewhere")
    assert world.tables.changes == []
    assert world.store.history == {}
    assert world.notifier.sent[0].attributes["action"] == "skip"


def test_a_table_that_opted_out_is_forgotten(world):
    world.seed(
        raised(
            Capacity(read=100, write=100),
            Capacity(read=100, write=400),
            at=world.clock.now() - timedelta(hours=2),
        ),
        table="legacy",
    )
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("skip", "forget.not_managed")
    assert world.tables.changes == []
    assert world.store.history == {}


def test_a_deleted_table_is_forgotten(world):
    raised_write(world)
    world.seed(
        raised(Capacity(read=1, write=1), Capacity(read=1, write=2), at=world.clock.now()),
        table="gone",
    )
    world.seed(
        raised(Capacity(read=1, write=1), Capacity(read=2, write=1), at=world.clock.now()),
        table="gone",
        index="by-day",
        dimension=READ,
    )
    world.tables.tags_by_table["gone"] = MANAGED
    decisions = world.run().decisions
    gone = [d for d in decisions if d.table_name == "gone"]
    assert [(d.index_name, d.rule) for d in gone] == [
        (None, "forget.table_missing"),
        ("by-day", "forget.table_missing"),
    ]
    assert [key for key in world.store.history if key[0] == "gone"] == []


def test_autoscaled_table_gets_its_original_limits_back(world):
    target = ScalableTarget(
        resource_id="table/orders",
        scalable_dimension="dynamodb:table:WriteCapacityUnits",
        min_capacity=400,
        max_capacity=1000,
    )
    world.autoscaling.targets[("orders", None, WRITE)] = target
    world.seed(
        raised(
            AutoScalingLimits(min_capacity=50, max_capacity=500),
            AutoScalingLimits(min_capacity=400, max_capacity=1000),
            at=world.clock.now() - timedelta(hours=2),
            action=Action.RAISE_AUTOSCALING_MIN,
        )
    )
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("restore_autoscaling", "autoscaling.restore")
    assert world.autoscaling.registered == [("table/orders", 50, 500)]
    assert world.tables.changes == []
    assert world.store.history == {}


def test_on_demand_cap_raised_by_the_responder_is_restored(world):
    world.tables.add(on_demand_table("clickstream", max_read=2000, max_write=4000), MANAGED)
    world.seed(
        raised(
            OnDemandLimits(read=2000, write=1000),
            OnDemandLimits(read=2000, write=4000),
            at=world.clock.now() - timedelta(hours=2),
            action=Action.RAISE_ON_DEMAND_MAX,
        ),
        table="clickstream",
    )
    decision = world.run().headline
    assert (decision.action, decision.rule) == ("restore_on_demand_max", "on_demand.restore_max")
    assert world.tables.tables["clickstream"].table.on_demand_max == OnDemandLimits(
        read=2000, write=1000
    )
    assert world.store.history == {}


@pytest.mark.parametrize("source", ["setting", "tag"])
def test_dry_run_decides_and_notifies_but_changes_nothing(world, source):
    if source == "setting":
        world.dry_run = True
    else:
        world.tables.tags_by_table["orders"] = {**MANAGED, "autoresponder:dry-run": "true"}
    raised_write(world, to=150)
    world.tables.set_provisioned("orders", None, Capacity(read=100, write=150))
    changes = len(world.tables.changes)
    decision = world.run().headline
    assert (decision.action, decision.dry_run) == ("scale_down", True)
    assert len(world.tables.changes) == changes
    assert world.store.history[("orders", None, WRITE)].event_key == "seeded"
    assert world.notifier.sent[0].subject.startswith("[DRY RUN]")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(alarm_event(), id="an-alarm-event"),
        pytest.param({"source": "aws.events", "detail-type": "Scheduled Event"}, id="no-time"),
        pytest.param("not even a dict", id="string"),
    ],
)
def test_anything_but_a_scheduled_event_is_rejected_and_kept(world, raw):
    raised_write(world)
    result = world.handle(world.scale_back(), raw)
    assert result.headline.action == "reject"
    [(recorded, _, kept)] = world.store.records.values()
    assert recorded.action == "reject"
    assert kept == (raw if isinstance(raw, dict) else {"payload": repr(raw)})
    assert world.tables.changes == []


def test_a_quiet_run_records_nothing(world):
    result = world.run()
    assert (result.headline.action, result.headline.rule) == ("skip", "nothing_to_do")
    assert result.as_result()["decisions"] == []
    assert world.store.records == {}
