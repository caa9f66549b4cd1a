"""The throttle runbook's decisions: a table of cases, then properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoresponder.domain.alarm_target import AlarmTarget
from autoresponder.domain.scaling import (
    ScaleHistory,
    ScalingPolicy,
    ThrottleCase,
    decide_throttle,
    sized_to_demand,
)
from autoresponder.domain.throttling import classify
from autoresponder.models.decision import Action, AutoScalingLimits
from autoresponder.models.table import Capacity, OnDemandLimits, ScalableTarget, TablePolicy
from tests.builders import STATE_TIME, on_demand_table, provisioned_table

POLICY = ScalingPolicy(
    min_step_percent=20,
    headroom_percent=25,
    max_multiple=4,
    default_max_read_units=10_000,
    default_max_write_units=10_000,
    cooldown=timedelta(minutes=5),
)
MANAGED = TablePolicy(managed=True)
NOW = STATE_TIME + timedelta(seconds=30)


def case(
    metric="WriteProvisionedThroughputThrottleEvents",
    *,
    index=None,
    operation=None,
    table=None,
    policy=MANAGED,
    peak=None,
    scalable=None,
    history=None,
    throttle=42.0,
    table_name="orders",
):
    return ThrottleCase(
        target=AlarmTarget(table_name, index, metric, operation),
        signal=classify(metric, operation),
        table=table or provisioned_table(indexes={"by-customer": (50, 25)}),
        table_policy=policy,
        now=NOW,
        scalable_target=scalable,
        consumed_peak=peak,
        throttle_value=throttle,
        history=history,
        event_key="orders-alarm@now",
    )


def history(minutes_ago, throttle=42.0, key="earlier@then"):
    return ScaleHistory(
        scaled_at=NOW - timedelta(minutes=minutes_ago),
        event_key=key,
        action=Action.SCALE_UP,
        before=Capacity(read=100, write=40),
        after=Capacity(read=100, write=50),
        original=Capacity(read=100, write=40),
        throttle_value=throttle,
    )


WRITE_TARGET = ScalableTarget(
    resource_id="table/orders",
    scalable_dimension="dynamodb:table:WriteCapacityUnits",
    min_capacity=50,
    max_capacity=200,
)

CASES = [
    # id, case, action, rule, after
    (
        "write-throttle-step",
        case(),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=100, write=60),
    ),
    (
        "read-throttle-step",
        case("ReadProvisionedThroughputThrottleEvents"),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=120, write=50),
    ),
    (
        "sized-to-peak",
        case(peak=120.0),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=100, write=150),
    ),
    (
        "capped-by-multiple",
        case(peak=10_000.0),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=100, write=200),
    ),
    (
        "capped-by-tag-ceiling",
        case(peak=500.0, policy=TablePolicy(managed=True, max_write_units=80)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=100, write=80),
    ),
    (
        "at-ceiling",
        case(policy=TablePolicy(managed=True, max_write_units=50)),
        Action.SKIP,
        "at_ceiling",
        None,
    ),
    (
        "gsi-targets-index",
        case(index="by-customer"),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=50, write=30),
    ),
    (
        "operation-dimension",
        case("ThrottledRequests", operation="UpdateItem"),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=100, write=60),
    ),
    (
        "generic-read",
        case("ReadThrottleEvents"),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=120, write=50),
    ),
    (
        "unknown-operation",
        case("ThrottledRequests", operation="ExecuteTransaction"),
        Action.SKIP,
        "dimension_unknown",
        None,
    ),
    (
        "key-range",
        case("WriteKeyRangeThroughputThrottleEvents"),
        Action.HAND_OFF_HOT_KEYS,
        "key_range.hand_off",
        None,
    ),
    (
        "key-range-unmanaged",
        case("ReadKeyRangeThroughputThrottleEvents", policy=TablePolicy()),
        Action.HAND_OFF_HOT_KEYS,
        "key_range.hand_off",
        None,
    ),
    ("unmanaged", case(policy=TablePolicy()), Action.SKIP, "not_managed", None),
    ("not-throttle", case("ConsumedWriteCapacityUnits"), Action.SKIP, "not_throttle", None),
    (
        "table-updating",
        case(table=provisioned_table(status="UPDATING")),
        Action.DEFER,
        "updating.defer",
        None,
    ),
    (
        "index-updating",
        case(
            index="by-customer",
            table=provisioned_table(indexes={"by-customer": (50, 25)}, index_status="UPDATING"),
        ),
        Action.DEFER,
        "updating.defer",
        None,
    ),
    ("index-missing", case(index="gone"), Action.SKIP, "index_missing", None),
    (
        "account-limit",
        case("WriteAccountLimitThrottleEvents"),
        Action.SKIP,
        "account_limit.advise",
        None,
    ),
    ("cooldown", case(history=history(2)), Action.SKIP, "cooldown", None),
    (
        "cooldown-but-worse",
        case(history=history(2, throttle=10.0)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=100, write=60),
    ),
    (
        "after-cooldown",
        case(history=history(6)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        Capacity(read=100, write=60),
    ),
    (
        "same-event-replayed",
        case(history=history(1, key="orders-alarm@now")),
        Action.SCALE_UP,
        "already_applied",
        Capacity(read=100, write=50),
    ),
    (
        "autoscaling-min",
        case(scalable=WRITE_TARGET),
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        AutoScalingLimits(min_capacity=60, max_capacity=200),
    ),
    (
        "autoscaling-max-raised",
        case(scalable=WRITE_TARGET, peak=400.0),
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        AutoScalingLimits(min_capacity=200, max_capacity=200),
    ),
    (
        "on-demand-max",
        case(
            "ReadMaxOnDemandThroughputThrottleEvents",
            table=on_demand_table(),
            table_name="clickstream",
            peak=2500.0,
        ),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        OnDemandLimits(read=3125, write=1000),
    ),
    (
        "on-demand-generic-with-cap",
        case("WriteThrottleEvents", table=on_demand_table(), table_name="clickstream"),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        OnDemandLimits(read=2000, write=1200),
    ),
    (
        "on-demand-no-cap",
        case(
            "WriteThrottleEvents", table=on_demand_table(max_write=None), table_name="clickstream"
        ),
        Action.SKIP,
        "on_demand.no_cap",
        None,
    ),
    (
        "on-demand-account-limit",
        case("ReadAccountLimitThrottleEvents", table=on_demand_table(), table_name="clickstream"),
        Action.SKIP,
        "account_limit.advise",
        None,
    ),
    (
        "provisioned-metric-on-demand-table",
        case(table=on_demand_table(), table_name="clickstream"),
        Action.SKIP,
        "mode_mismatch",
        None,
    ),
    (
        "on-demand-metric-provisioned-table",
        case("ReadMaxOnDemandThroughputThrottleEvents"),
        Action.SKIP,
        "mode_mismatch",
        None,
    ),
]


@pytest.mark.parametrize(
    ("the_case", "action", "rule", "after"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_decide_throttle(the_case, action, rule, after):
    plan = decide_throttle(the_case, POLICY)
    assert (plan.action, plan.rule) == (action, rule), plan.reason
    assert plan.after == after
    assert plan.reason


def test_the_autoscaling_path_records_the_original_limits():
    plan = decide_throttle(case(scalable=WRITE_TARGET), POLICY)
    assert plan.before == AutoScalingLimits(min_capacity=50, max_capacity=200)


def test_cost_of_a_scale_up_counts_only_added_units():
    plan = decide_throttle(case(peak=120.0), POLICY)
    assert plan.added_units == 100


# -- properties ----------------------------------------------------------------------------

units = st.integers(min_value=1, max_value=40_000)
peaks = st.one_of(st.none(), st.floats(min_value=0, max_value=200_000, allow_nan=False))
policies = st.builds(
    ScalingPolicy,
    min_step_percent=st.floats(min_value=1, max_value=300),
    headroom_percent=st.floats(min_value=0, max_value=300),
    max_multiple=st.floats(min_value=1.1, max_value=10),
)


@given(current=units, peak=peaks, ceiling=units, policy=policies)
def test_sizing_never_decreases_and_never_passes_the_ceiling(current, peak, ceiling, policy):
    new = sized_to_demand(current, peak, ceiling, policy)
    assert new >= current
    assert new <= max(ceiling, current)
    assert new <= max(current + 1, int(current * policy.max_multiple))


@given(
    read=units,
    write=units,
    peak=peaks,
    ceiling=units,
    metric=st.sampled_from(
        [
            "ReadProvisionedThroughputThrottleEvents",
            "WriteProvisionedThroughputThrottleEvents",
            "ReadThrottleEvents",
            "WriteThrottleEvents",
        ]
    ),
)
def test_only_the_throttled_dimension_changes_and_never_down(read, write, peak, ceiling, metric):
    the_case = case(
        metric,
        table=provisioned_table(read=read, write=write),
        peak=peak,
        policy=TablePolicy(managed=True, max_read_units=ceiling, max_write_units=ceiling),
    )
    plan = decide_throttle(the_case, POLICY)
    if plan.action is Action.SCALE_UP:
        assert isinstance(plan.after, Capacity)
        changed = {"read": plan.after.read != read, "write": plan.after.write != write}
        assert changed == {"read": metric.startswith("Read"), "write": metric.startswith("Write")}
        assert plan.after.read >= read
        assert plan.after.write >= write
        assert max(plan.after.read - read, plan.after.write - write) > 0
        assert plan.after.of(plan.dimension) <= ceiling
    else:
        assert plan.action is Action.SKIP
        assert plan.rule == "at_ceiling"


@given(minutes=st.floats(min_value=0, max_value=4.9), throttle=st.floats(0, 1000))
def test_within_cooldown_a_second_scale_up_needs_worse_throttling(minutes, throttle):
    earlier = replace(history(0, throttle=throttle), scaled_at=NOW - timedelta(minutes=minutes))
    plan = decide_throttle(case(history=earlier, throttle=throttle), POLICY)
    assert plan.action is Action.SKIP
    assert plan.rule == "cooldown"
