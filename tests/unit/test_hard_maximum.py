"""The stack's hard maximum per dimension: tags and defaults may only lower the ceiling."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoresponder.domain.diagnosis import diagnose
from autoresponder.domain.scaling.case import ThrottleCase
from autoresponder.domain.scaling.runbook import plan_throttle
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.models.decision import Action
from autoresponder.models.table import Dimension, ScalableTarget, TablePolicy
from autoresponder.settings import Settings
from tests.builders import NOW, on_demand_table, provisioned_table, published

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


MILLION = {
    "autoresponder:managed": "true",
    "autoresponder:max-read-units": "1000000",
    "autoresponder:max-write-units": "1000000",
}


def _case(table, dimension, *, demand, cause="provisioned", scalable=None, tags=None):
    """CloudWatch measuring `demand` units/s (all rejected but what the table serves)."""
    points = published(
        table.table_name, dimension=dimension, consumed=0.0, rejected=demand, cause=cause
    )
    start, end = NOW - timedelta(minutes=16), NOW + timedelta(minutes=1)
    return ThrottleCase(
        table=table,
        table_policy=TablePolicy.from_tags(tags or MILLION),
        now=NOW,
        diagnosis=diagnose(table, points, start, end),
        scalable_targets={(None, Dimension(dimension)): scalable} if scalable else {},
        event_key="burst@1",
    )


@pytest.mark.parametrize(
    ("case", "field"),
    [
        pytest.param(
            _case(provisioned_table(write=1_900), "write", demand=50_000.0),
            "write",
            id="provisioned",
        ),
        pytest.param(
            _case(
                provisioned_table(write=1_900),
                "write",
                demand=50_000.0,
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
                on_demand_table("orders", max_read=2_500),
                "read",
                demand=90_000.0,
                cause="on_demand_max",
            ),
            "read",
            id="on-demand-cap",
        ),
    ],
)
def test_a_tag_of_a_million_stops_at_the_hard_maximum(case, field):
    plan = plan_throttle(case, HARD)
    assert plan.action in {
        Action.SCALE_UP,
        Action.RAISE_AUTOSCALING_MIN,
        Action.RAISE_ON_DEMAND_MAX,
    }
    assert plan.after is not None
    hard = HARD.hard_max_read_units if field == "read" else HARD.hard_max_write_units
    assert getattr(plan.after, field) == hard


def test_at_the_hard_maximum_nothing_is_raised():
    plan = plan_throttle(_case(provisioned_table(write=2_000), "write", demand=50_000.0), HARD)
    assert plan.action == Action.SKIP
    assert plan.rule == "at_ceiling"


@given(
    current=st.integers(1, 100_000),
    demand=st.floats(0.1, 10_000_000, allow_nan=False),
    tag=st.integers(1, 10_000_000),
    hard=st.integers(1, 100_000),
)
def test_never_above_the_hard_maximum_whatever_the_tag_and_the_demand(current, demand, tag, hard):
    tags = {"autoresponder:managed": "true", "autoresponder:max-write-units": str(tag)}
    the_case = _case(provisioned_table(write=current), "write", demand=demand, tags=tags)
    plan = plan_throttle(the_case, replace(HARD, hard_max_write_units=hard))
    if plan.action == Action.SCALE_UP:
        assert plan.after is not None
        # a raise stops at the hard maximum (and at the tag, when lower)
        assert current < plan.after.write <= min(tag, hard)
