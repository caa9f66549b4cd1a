"""The stack's hard maximum per dimension: tags and defaults may only lower the ceiling."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoresponder.domain.alarm_target import AlarmTarget
from autoresponder.domain.scaling import ScalingPolicy, ThrottleCase, decide_throttle
from autoresponder.domain.throttling import classify
from autoresponder.models.decision import Action
from autoresponder.models.table import Dimension, ScalableTarget, TablePolicy
from autoresponder.settings import Settings
from tests.builders import STATE_TIME, on_demand_table, provisioned_table

HARD = ScalingPolicy(
    default_max_read_units=10_000,
    default_max_write_units=10_000,
    hard_max_read_units=3_000,
    hard_max_write_units=2_000,
)


@pytest.mark.parametrize(
    ("tags", "dimension", "expected"),
    [
        pytest.param({}, Dimension.WRITE, 2_000, id="default-above-hard"),
        pytest.param(
            {"autoresponder:max-write-units": "1000000"}, Dimension.WRITE, 2_000, id="tag"
        ),
        pytest.param({"autoresponder:max-read-units": "1000000"}, Dimension.READ, 3_000, id="read"),
        pytest.param({"autoresponder:max-write-units": "500"}, Dimension.WRITE, 500, id="lowered"),
    ],
)
def test_a_tag_lowers_the_ceiling_never_raises_it(tags, dimension, expected):
    policy = TablePolicy.from_tags(tags)
    assert policy.ceiling(dimension, 10_000, 10_000, 3_000, 2_000) == expected


def test_without_a_hard_maximum_the_tag_or_default_applies():
    policy = TablePolicy.from_tags({"autoresponder:max-write-units": "1000000"})
    assert policy.ceiling(Dimension.WRITE, 10, 10) == 1_000_000


def test_settings_documented_defaults():
    fields = Settings.model_fields
    assert fields["hard_max_read_units"].default == 40_000
    assert fields["hard_max_write_units"].default == 40_000
    assert ScalingPolicy().hard_max_write_units == fields["hard_max_write_units"].default


def _case(table, metric, *, peak, scalable=None):
    return ThrottleCase(
        target=AlarmTarget(table.table_name, None, metric),
        signal=classify(metric, None),
        table=table,
        table_policy=TablePolicy.from_tags(
            {
                "autoresponder:managed": "true",
                "autoresponder:max-read-units": "1000000",
                "autoresponder:max-write-units": "1000000",
            }
        ),
        now=STATE_TIME,
        scalable_target=scalable,
        consumed_peak=peak,
        throttle_value=1_000.0,
        event_key="burst@1",
    )


@pytest.mark.parametrize(
    ("case", "field"),
    [
        pytest.param(
            _case(
                provisioned_table(write=1_900),
                "WriteProvisionedThroughputThrottleEvents",
                peak=50_000.0,
            ),
            "write",
            id="provisioned",
        ),
        pytest.param(
            _case(
                provisioned_table(write=1_900),
                "WriteProvisionedThroughputThrottleEvents",
                peak=50_000.0,
                scalable=ScalableTarget(
                    resource_id="table/orders",
                    scalable_dimension="dynamodb:table:WriteCapacityUnits",
                    min_capacity=1_900,
                    max_capacity=1_900,
                ),
            ),
            "min_capacity",
            id="auto-scaling-minimum",
        ),
        pytest.param(
            _case(
                on_demand_table(max_read=2_500),
                "ReadMaxOnDemandThroughputThrottleEvents",
                peak=90_000.0,
            ),
            "read",
            id="on-demand-cap",
        ),
    ],
)
def test_a_tag_of_a_million_stops_at_the_hard_maximum(case, field):
    plan = decide_throttle(case, HARD)
    assert plan.action in {
        Action.SCALE_UP,
        Action.RAISE_AUTOSCALING_MIN,
        Action.RAISE_ON_DEMAND_MAX,
    }
    assert plan.after is not None
    hard = HARD.hard_max_read_units if field == "read" else HARD.hard_max_write_units
    assert getattr(plan.after, field) == hard


def test_at_the_hard_maximum_nothing_is_raised():
    case = _case(
        provisioned_table(write=2_000), "WriteProvisionedThroughputThrottleEvents", peak=50_000.0
    )
    plan = decide_throttle(case, HARD)
    assert plan.action == Action.SKIP
    assert plan.rule == "at_ceiling"


@given(
    current=st.integers(1, 100_000),
    peak=st.floats(0, 10_000_000, allow_nan=False),
    tag=st.integers(1, 10_000_000),
    hard=st.integers(1, 100_000),
)
def test_never_above_the_hard_maximum_whatever_the_tag_and_the_demand(current, peak, tag, hard):
    table = provisioned_table(write=current)
    case = replace(
        _case(table, "WriteProvisionedThroughputThrottleEvents", peak=peak),
        table_policy=TablePolicy.from_tags(
            {"autoresponder:managed": "true", "autoresponder:max-write-units": str(tag)}
        ),
    )
    plan = decide_throttle(case, replace(HARD, hard_max_write_units=hard))
    if plan.action == Action.SCALE_UP:
        assert plan.after is not None
        # a raise stops at the hard maximum (and at the tag, when lower)
        assert current < plan.after.write <= min(tag, hard)
