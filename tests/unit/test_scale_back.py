"""The scale-back decision: a table of cases, then properties (never below the original, never
a decrease while throttled, never more decreases than the budget)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from autoresponder.domain.cost import Prices
from autoresponder.domain.decrease_budget import decrease_budget
from autoresponder.domain.scale_back import (
    BackPlan,
    HoldReason,
    ScaleBackCase,
    ScaleBackPolicy,
    decide_scale_back,
    follow_ups,
    pick_change,
    precheck,
    throttling_alarms,
    value_of,
)
from autoresponder.models.decision import Action, AutoScalingLimits
from autoresponder.models.scale_back import WindowActivity
from autoresponder.models.table import (
    Capacity,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TablePolicy,
)
from tests.builders import on_demand_table, provisioned_table
from tests.scale_back_fakes import FakeActiveAlarms, quota_allows, raised

NOW = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
POLICY = ScaleBackPolicy()
MANAGED = TablePolicy(managed=True)
WRITE = Dimension.WRITE
RUN = "scale_back@2026-11-20T14:00:00+00:00"
WRITE_TARGET = ScalableTarget(
    resource_id="table/orders",
    scalable_dimension="dynamodb:table:WriteCapacityUnits",
    min_capacity=150,
    max_capacity=200,
)


def case(
    *,
    current: int = 400,
    raised_to: int | None = None,
    original: int = 100,
    peak: float | None = 10.0,
    throttled: float = 0.0,
    minutes_ago: int = 120,
    alarms: tuple[str, ...] = (),
    decreases: int = 0,
    last_decrease: datetime | None = None,
    status: str = "ACTIVE",
    policy: TablePolicy = MANAGED,
    index: str | None = None,
    scalable: ScalableTarget | None = None,
    activity: bool = True,
) -> ScaleBackCase:
    indexes = {"by-customer": (50, current)} if index else {}
    table = provisioned_table(
        read=100, write=current if index is None else 50, status=status, indexes=indexes
    )
    unit = table.unit(index)
    assert unit is not None
    unit = unit.model_copy(update={"decreases_today": decreases, "last_decrease_at": last_decrease})
    if index is None:
        table = table.model_copy(update={"table": unit})
    else:
        table = table.model_copy(update={"indexes": {index: unit}})
    base = Capacity(read=100 if index is None else 50, write=original)
    history = raised(
        base,
        base.with_(WRITE, raised_to or current),
        at=NOW - timedelta(minutes=minutes_ago),
    )
    return ScaleBackCase(
        table=table,
        index_name=index,
        dimension=WRITE,
        history=history,
        table_policy=policy,
        now=NOW,
        scalable_target=scalable,
        activity=WindowActivity(consumed_peak=peak, throttle_events=throttled)
        if activity
        else None,
        alarms_in_alarm=alarms,
        run_key=RUN,
    )


def autoscaled(peak: float = 10.0, target: ScalableTarget = WRITE_TARGET) -> ScaleBackCase:
    base = case(current=150, peak=peak, scalable=target)
    history = raised(
        AutoScalingLimits(min_capacity=50, max_capacity=200),
        AutoScalingLimits(min_capacity=150, max_capacity=200),
        at=NOW - timedelta(hours=2),
        action=Action.RAISE_AUTOSCALING_MIN,
    )
    return replace(base, history=history)


def on_demand(peak: float = 10.0) -> ScaleBackCase:
    table = on_demand_table("clickstream", max_read=2000, max_write=4000)
    history = raised(
        OnDemandLimits(read=2000, write=1000),
        OnDemandLimits(read=2000, write=4000),
        at=NOW - timedelta(hours=2),
        action=Action.RAISE_ON_DEMAND_MAX,
    )
    return ScaleBackCase(
        table=table,
        index_name=None,
        dimension=WRITE,
        history=history,
        table_policy=MANAGED,
        now=NOW,
        activity=WindowActivity(consumed_peak=peak),
        run_key=RUN,
    )


CASES = [
    ("stabilizing", case(minutes_ago=30), Action.HOLD, "hold.stabilizing", None),
    ("alarm-in-alarm", case(alarms=("orders-gsi-throttle",)), Action.HOLD, "hold.throttling", None),
    ("throttled-in-window", case(throttled=3), Action.HOLD, "hold.throttled_recently", None),
    ("still-busy", case(peak=250), Action.HOLD, "hold.busy", None),
    ("updating", case(status="UPDATING"), Action.HOLD, "hold.updating", None),
    # While UPDATING, DescribeTable still shows the value before the raise: not "restored".
    (
        "updating-shows-old-value",
        case(status="UPDATING", current=100, raised_to=400),
        Action.HOLD,
        "hold.updating",
        None,
    ),
    (
        "updating-not-changed-elsewhere",
        case(status="UPDATING", current=300, raised_to=400),
        Action.HOLD,
        "hold.updating",
        None,
    ),
    ("half-step", case(peak=10), Action.SCALE_DOWN, "provisioned.scale_down", 200),
    ("last-step-restores", case(current=150), Action.SCALE_DOWN, "provisioned.restore", 100),
    ("peak-plus-headroom", case(peak=180), Action.SCALE_DOWN, "provisioned.scale_down", 225),
    ("no-datapoints-is-idle", case(peak=None), Action.SCALE_DOWN, "provisioned.scale_down", 200),
    ("small-final-cut", case(current=105), Action.SCALE_DOWN, "provisioned.restore", 100),
    (
        "budget-spent-this-hour",
        case(decreases=4, last_decrease=NOW - timedelta(minutes=10)),
        Action.HOLD,
        "hold.budget_exhausted",
        None,
    ),
    (
        "hourly-decrease",
        case(decreases=4, last_decrease=NOW - timedelta(minutes=61)),
        Action.SCALE_DOWN,
        "provisioned.scale_down",
        200,
    ),
    (
        "last-decrease-kept",
        case(decreases=26, last_decrease=NOW - timedelta(hours=2)),
        Action.HOLD,
        "hold.last_decrease",
        None,
    ),
    ("gsi", case(index="by-customer"), Action.SCALE_DOWN, "provisioned.scale_down", 200),
    ("not-managed", case(policy=TablePolicy()), Action.SKIP, "forget.not_managed", None),
    ("changed-elsewhere", case(raised_to=500), Action.SKIP, "forget.changed_elsewhere", None),
    ("already-original", case(current=100), Action.SKIP, "forget.restored", None),
    (
        "now-autoscaled",
        case(scalable=WRITE_TARGET),
        Action.SKIP,
        "forget.management_changed",
        None,
    ),
    ("autoscaling-restore", autoscaled(), Action.RESTORE_AUTOSCALING, "autoscaling.restore", 50),
    ("autoscaling-lower", autoscaled(60), Action.RESTORE_AUTOSCALING, "autoscaling.lower_min", 75),
    (
        "autoscaling-target-changed",
        autoscaled(target=WRITE_TARGET.model_copy(update={"max_capacity": 300})),
        Action.SKIP,
        "forget.changed_elsewhere",
        None,
    ),
    ("on-demand-restore", on_demand(), Action.RESTORE_ON_DEMAND_MAX, "on_demand.restore_max", 1000),
    ("on-demand-busy", on_demand(2500), Action.HOLD, "hold.busy", None),
    ("on-demand-lower", on_demand(1900), Action.RESTORE_ON_DEMAND_MAX, "on_demand.lower_max", 2375),
]


@pytest.mark.parametrize(
    ("given_case", "action", "rule", "new_value"),
    [pytest.param(c, a, r, v, id=i) for i, c, a, r, v in CASES],
)
def test_scale_back_decision(given_case, action, rule, new_value):
    plan = decide_scale_back(given_case, POLICY)
    assert (plan.action, plan.rule) == (action, rule), plan.reason
    if new_value is not None:
        assert plan.after is not None
        assert value_of(plan.after, WRITE) == new_value
    assert plan.forget is rule.startswith("forget.")


def test_hold_reasons_are_the_three_the_issue_names():
    reasons = {
        decide_scale_back(c, POLICY).hold_reason
        for _, c, action, _, _ in CASES
        if action is Action.HOLD
    }
    assert reasons == set(HoldReason)


def test_a_small_cut_is_not_worth_a_decrease():
    # Reachable when the busy fraction is high: the peak keeps the target close to current.
    eager = replace(POLICY, busy_percent=95)
    plan = decide_scale_back(case(current=110, peak=85), eager)
    assert (plan.action, plan.rule, plan.hold_reason) == (
        Action.HOLD,
        "hold.small_cut",
        HoldReason.BUDGET,
    )
    assert decide_scale_back(case(current=110, peak=70), eager).action is Action.SCALE_DOWN


def test_restores_keep_the_other_dimension_and_say_so():
    plan = decide_scale_back(case(current=150), POLICY)
    assert plan.after == Capacity(read=100, write=100)
    assert plan.restores_original
    assert "(the original)" in plan.reason
    assert plan.removed_units == 50


def test_autoscaling_restore_gives_back_min_and_max():
    plan = decide_scale_back(autoscaled(), POLICY)
    assert plan.before == AutoScalingLimits(min_capacity=150, max_capacity=200)
    assert plan.after == AutoScalingLimits(min_capacity=50, max_capacity=200)
    assert plan.restores_original
    assert not plan.spends_decrease


def test_the_last_decrease_can_be_spent_when_configured():
    given_case = case(decreases=26, last_decrease=NOW - timedelta(hours=2))
    plan = decide_scale_back(given_case, replace(POLICY, spend_last_decrease=True))
    assert plan.action is Action.SCALE_DOWN


def test_a_retry_replays_the_change_of_its_own_run():
    history = raised(
        Capacity(read=100, write=400),
        Capacity(read=100, write=200),
        at=NOW - timedelta(hours=2),
        original=Capacity(read=100, write=100),
        action=Action.SCALE_DOWN,
        key=RUN,
    )
    plan = decide_scale_back(replace(case(current=200), history=history), POLICY)
    assert (plan.action, plan.rule) == (Action.SCALE_DOWN, "already_applied")
    assert plan.after == Capacity(read=100, write=200)


def test_precheck_needs_no_metrics_for_early_answers():
    assert precheck(case(minutes_ago=5, activity=False), POLICY) is not None
    assert precheck(case(activity=False), POLICY) is None


def test_one_change_per_table_prefers_free_changes_then_the_larger_saving():
    small = BackPlan(Action.SCALE_DOWN, "r", "", Dimension.READ, removed_units=100)
    big = BackPlan(Action.SCALE_DOWN, "r", "", WRITE, removed_units=100)  # WCU cost more
    free = BackPlan(Action.RESTORE_AUTOSCALING, "r", "", WRITE)
    hold = BackPlan(Action.HOLD, "r", "", WRITE)
    assert pick_change([small, big], Prices()) == 1
    assert pick_change([small, free, big], Prices()) == 1
    assert pick_change([hold], Prices()) is None


def test_follow_ups_pick_capacity_causes_past_the_cooldown_one_per_dimension():
    alarms = FakeActiveAlarms()
    old = NOW - timedelta(minutes=20)
    alarms.raise_alarm("orders", old, value=5, name="a-generic", metric="WriteThrottleEvents")
    alarms.raise_alarm("orders", old, value=50, name="b-provisioned")
    alarms.raise_alarm("orders", NOW - timedelta(minutes=1), "ReadThrottleEvents", name="fresh")
    alarms.raise_alarm("orders", old, "WriteKeyRangeThroughputThrottleEvents", name="hot")
    alarms.raise_alarm("orders", old, "ConsumedWriteCapacityUnits", name="not-throttle")
    alarms.raise_alarm("orders", old, name="TargetTracking-table/orders-AlarmHigh-x")
    found = throttling_alarms(alarms.alarms_in_alarm())
    assert {a.alarm.alarm_name for a in found} == {"a-generic", "b-provisioned", "fresh", "hot"}
    due = follow_ups(found, NOW, timedelta(minutes=5))
    assert [a.alarm.alarm_name for a in due] == ["b-provisioned"]


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
@st.composite
def cases(draw):
    original = draw(st.integers(min_value=1, max_value=5_000))
    current = draw(st.integers(min_value=1, max_value=20_000))
    last = draw(st.none() | st.integers(min_value=0, max_value=26 * 60))
    given_case = case(
        current=current,
        original=original,
        peak=draw(st.none() | st.floats(min_value=0, max_value=25_000, allow_nan=False)),
        throttled=draw(st.sampled_from([0.0, 0.0, 1.0, 500.0])),
        minutes_ago=draw(st.integers(min_value=0, max_value=600)),
        alarms=draw(st.sampled_from([(), (), ("orders-write-throttle",)])),
        decreases=draw(st.integers(min_value=0, max_value=27)),
        last_decrease=None if last is None else NOW - timedelta(minutes=last),
        status=draw(st.sampled_from(["ACTIVE", "ACTIVE", "UPDATING"])),
        index=draw(st.sampled_from([None, "by-customer"])),
    )
    policy = ScaleBackPolicy(
        busy_percent=draw(st.floats(min_value=1, max_value=100)),
        headroom_percent=draw(st.floats(min_value=0, max_value=100)),
        max_step_percent=draw(st.floats(min_value=1, max_value=100)),
        min_cut_percent=draw(st.floats(min_value=0, max_value=50)),
        spend_last_decrease=draw(st.booleans()),
    )
    return given_case, policy


@settings(max_examples=150, deadline=None)
@given(cases())
def test_never_below_the_original_nor_the_peak_plus_headroom(drawn):
    given_case, policy = drawn
    plan = decide_scale_back(given_case, policy)
    if plan.mutates:
        assert plan.after is not None
        new = value_of(plan.after, WRITE)
        original = value_of(given_case.history.original, WRITE)
        assert new is not None and original is not None
        assert new >= original
        peak = given_case.activity.consumed_peak if given_case.activity else None
        assert new >= (peak or 0) * (1 + policy.headroom_percent / 100) - 1e-9
        assert new < value_of(plan.before, WRITE)  # a scale-back only ever lowers


@settings(max_examples=150, deadline=None)
@given(cases())
def test_never_a_decrease_while_throttled_updating_or_stabilizing(drawn):
    given_case, policy = drawn
    plan = decide_scale_back(given_case, policy)
    activity = given_case.activity
    unsafe = (
        bool(given_case.alarms_in_alarm)
        or (activity is not None and activity.throttle_events > 0)
        or given_case.table.status == "UPDATING"
        or given_case.now - given_case.history.scaled_at < policy.stabilization
    )
    if unsafe:
        assert not plan.mutates, plan.reason


@settings(max_examples=150, deadline=None)
@given(cases())
def test_never_a_decrease_the_budget_does_not_allow(drawn):
    given_case, policy = drawn
    plan = decide_scale_back(given_case, policy)
    if plan.spends_decrease:
        unit = given_case.table.unit(given_case.index_name)
        assert unit is not None
        budget = decrease_budget(unit.decreases_today, unit.last_decrease_at, NOW)
        assert budget.allowed_now
        assert policy.spend_last_decrease or not budget.is_last_of_day
        earlier = [unit.last_decrease_at] * unit.decreases_today if unit.last_decrease_at else []
        assert quota_allows(earlier, NOW)


def test_the_generator_reaches_decreases():
    # The properties above are only worth something if the generator reaches both sides.
    found = find(
        cases(),
        lambda d: decide_scale_back(*d).spends_decrease,
        settings=settings(max_examples=1_000, database=None, phases=[Phase.generate]),
    )
    assert decide_scale_back(*found).action is Action.SCALE_DOWN
