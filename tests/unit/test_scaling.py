"""The throttle runbook's plan (domain/scaling/): it acts on the diagnosis of the table and
every GSI. Tables of cases, then properties (ceiling, never down, only what throttled or ran
short changes, the alarm's own words never size a raise nor lift a cooldown)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from autoresponder.domain.alarm_target import AlarmTarget
from autoresponder.domain.cost import Prices
from autoresponder.domain.diagnosis import diagnose
from autoresponder.domain.scaling.case import AlarmEvidence, ThrottleCase
from autoresponder.domain.scaling.history import IntentStatus, Limits, ScaleHistory, UnitKey
from autoresponder.domain.scaling.plan import ALREADY_APPLIED, Change, Plan
from autoresponder.domain.scaling.runbook import plan_throttle
from autoresponder.domain.scaling.sizing import ScalingPolicy, min_step, sized_to_demand
from autoresponder.domain.scaling.triage import gate, triage_alarm
from autoresponder.domain.scaling.verdicts import VerdictKind
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Action, AutoScalingLimits, Severity
from autoresponder.models.metrics import Series
from autoresponder.models.table import (
    Capacity,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
    TablePolicy,
)
from tests.builders import (
    NOW,
    Points,
    alarm_event,
    merged,
    minutes_before,
    on_demand_table,
    provisioned_table,
    published,
)

READ, WRITE = Dimension.READ, Dimension.WRITE
POLICY = ScalingPolicy()
MANAGED = TablePolicy(managed=True)
START = NOW - timedelta(minutes=16)
GSI = "by-customer"
TABLE = provisioned_table(indexes={GSI: (50, 25)})
"""Table: 100 read / 50 write units; its GSI: 50 read / 25 write units."""
CLICKS = on_demand_table()
"""On-demand: its own caps are 2,000 reads / 1,000 writes per second."""
M = minutes_before(NOW, 5)
LATEST = M[-1]
EVENT_KEY = "orders-alarm@now"
TABLE_WRITES = ScalableTarget(
    resource_id="table/orders",
    scalable_dimension="dynamodb:table:WriteCapacityUnits",
    min_capacity=50,
    max_capacity=200,
)
TABLE_READS = ScalableTarget(
    resource_id="table/orders",
    scalable_dimension="dynamodb:table:ReadCapacityUnits",
    min_capacity=100,
    max_capacity=400,
)

# --------------------------------------------------------------------------------------------
# what the tests build
# --------------------------------------------------------------------------------------------
# What DynamoDB publishes (units/s consumed, requests/s rejected, over the last 5 minutes).
WRITES_SHORT = published(consumed=45.0, rejected=15.0)  # demand 60 against 50
WRITES_WITHIN = published(consumed=40.0, rejected=5.0)  # demand 45 within 50
# what a GSI's back-pressure shows on the base table: generic write throttle events that no
# per-cause metric of the table explains
WRITES_HELD_BACK = published(consumed=40.0, rejected=5.0, cause=None)
READS_SHORT = published(dimension="read", consumed=90.0, rejected=30.0)  # 120 against 100
GSI_SHORT = published(index=GSI, consumed=25.0, rejected=5.0)  # 30 against 25
GSI_VERY_SHORT = published(index=GSI, consumed=25.0, rejected=25.0)  # 50 against 25
GSI_WITHIN = published(index=GSI, consumed=20.0, rejected=2.0)  # 22 within 25
QUIET = published(consumed=20.0)
WAS, RAISED = Capacity(read=100, write=40), Capacity(read=100, write=50)


def clicks(consumed: float, rejected: float, cause: str | None = "on_demand_max"):
    return published("clickstream", consumed=consumed, rejected=rejected, cause=cause)


def raised(
    minutes_ago: float,
    *,
    index: str | None = None,
    action: Action = Action.SCALE_UP,
    before: Limits = WAS,
    after: Limits = RAISED,
) -> ScaleHistory:
    """The capacity record of a change the responder made `minutes_ago` (applied at once)."""
    at = NOW - timedelta(minutes=minutes_ago)
    return ScaleHistory(
        scaled_at=at,
        event_key="earlier@then",
        action=action,
        before=before,
        after=after,
        original=before,
        applied_at=at + timedelta(seconds=5),
    )


def evidence(
    metric: str = "WriteProvisionedThroughputThrottleEvents",
    *,
    table: str = "orders",
    index: str | None = None,
    operation: str | None = None,
    datapoints: tuple[float, ...] = (42.0,),
    evaluated_at: datetime | None = LATEST,
    manual: bool = False,
    composite: bool = False,
    sweep: bool = False,
    also: tuple[AlarmTarget, ...] = (),
) -> AlarmEvidence:
    return AlarmEvidence(
        alarm_name=f"autoresponder-{table}-{metric}",
        recent_datapoints=datapoints,
        manual=manual,
        reason="Threshold Crossed" if not manual else "initializing",
        evaluated_at=evaluated_at,
        targets=(AlarmTarget(table, index, metric, operation), *also),
        composite=composite,
        sweep=sweep,
    )


def case(
    points: Points | None = None,
    *,
    unreadable: bool = False,
    table: TableDescription = TABLE,
    policy: TablePolicy = MANAGED,
    records: dict[UnitKey, ScaleHistory] | None = None,
    targets: dict[UnitKey, ScalableTarget] | None = None,
    alarm: AlarmEvidence | None = None,
) -> ThrottleCase:
    """One pass over `table`: CloudWatch answered `points` (or, `unreadable`, nothing)."""
    return ThrottleCase(
        table=table,
        table_policy=policy,
        now=NOW,
        diagnosis=None if unreadable else diagnose(table, points or {}, START, NOW),
        evidence=alarm,
        scalable_targets=targets or {},
        records=records or {},
        event_key=EVENT_KEY,
    )


def plan_of(the_case: ThrottleCase, policy: ScalingPolicy = POLICY) -> Plan:
    return plan_throttle(the_case, policy)


def capped(**units: int) -> TablePolicy:
    return TablePolicy(
        managed=True,
        max_read_units=units.get("read"),
        max_write_units=units.get("write"),
    )


# --------------------------------------------------------------------------------------------
# sizing
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "demand", "ceiling", "expected"),
    [
        pytest.param(50, None, 10_000, 60, id="guess-min-step"),
        pytest.param(1, None, 10_000, 2, id="guess-at-least-one-unit"),
        pytest.param(50, 45.0, 10_000, 60, id="demand-within-min-step"),
        pytest.param(50, 60.0, 10_000, 75, id="demand-plus-headroom"),
        pytest.param(50, 80.0, 10_000, 100, id="headroom-without-float-noise"),
        pytest.param(50, 10_000.0, 100_000, 800, id="measured-bound-16x"),
        pytest.param(50, 10_000.0, 500, 500, id="ceiling"),
        pytest.param(50, 60.0, 50, 50, id="at-ceiling-stays"),
        pytest.param(80, 60.0, 50, 80, id="above-ceiling-never-lowered"),
    ],
)
def test_sized_to_demand(current, demand, ceiling, expected):
    assert sized_to_demand(current, demand, ceiling, POLICY) == expected


def test_a_guess_moves_at_most_max_multiple():
    policy = ScalingPolicy(min_step_percent=500.0, max_multiple=4.0)
    assert sized_to_demand(50, None, 10_000, policy) == 200
    assert sized_to_demand(50, 600.0, 10_000, policy) == 750  # measured: 16x allows it


@pytest.mark.parametrize(
    ("current", "expected"),
    [pytest.param(0, 1, id="zero"), pytest.param(4, 5, id="small"), pytest.param(50, 60, id="20%")],
)
def test_min_step(current, expected):
    assert min_step(current, POLICY) == expected


# --------------------------------------------------------------------------------------------
# the plan: a table of cases
# --------------------------------------------------------------------------------------------
PLAN_CASES = [
    # id, case, action, rule, index, after
    # -- provisioned capacity
    (
        "writes-short",
        case(WRITES_SHORT),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=75),
    ),
    (
        "writes-throttled-within-capacity-min-step",
        case(WRITES_WITHIN),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=60),
    ),
    (
        "reads-short",
        case(READS_SHORT),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=150, write=50),
    ),
    (
        "burst-spent-without-throttling",
        case(published(consumed=60.0)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=75),
    ),
    (
        "two-units-per-request",
        case(published(consumed=40.0, rejected=10.0, units_per_request=2.0)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=75),  # demand (40 + 10 x 2) = 60
    ),
    (
        "measured-bound",
        case(published(consumed=45.0, rejected=10_000.0)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=800),
    ),
    (
        "default-ceiling",
        case(published(consumed=45.0, rejected=10_000.0), table=provisioned_table(write=1000)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=10_000),
    ),
    (
        "tag-ceiling",
        case(WRITES_SHORT, policy=capped(write=70)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=70),
    ),
    (
        "at-ceiling",
        case(WRITES_SHORT, policy=capped(write=50)),
        Action.SKIP,
        "at_ceiling",
        None,
        None,
    ),
    (
        "gsi-writes",
        case(GSI_SHORT),
        Action.SCALE_UP,
        "provisioned.scale_up",
        GSI,
        Capacity(read=50, write=38),
    ),
    (
        "both-dimensions-one-change",
        case(merged(WRITES_SHORT, READS_SHORT)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=150, write=75),
    ),
    (
        "the-resource-short-by-most-first",
        case(merged(WRITES_SHORT, GSI_VERY_SHORT)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        GSI,
        Capacity(read=50, write=63),
    ),
    (
        "a-measured-shortfall-before-a-guess",
        case(merged(published(dimension="read", consumed=80.0, rejected=5.0), GSI_SHORT)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        GSI,
        Capacity(read=50, write=38),
    ),
    (
        "gsi-back-pressure-raises-the-index",
        case(merged(WRITES_HELD_BACK, GSI_SHORT)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        GSI,
        Capacity(read=50, write=38),
    ),
    (
        "back-pressure-while-the-index-cools-down",
        case(merged(WRITES_HELD_BACK, GSI_WITHIN), records={(GSI, WRITE): raised(2, index=GSI)}),
        Action.SKIP,
        "gsi_back_pressure",
        None,
        None,
    ),
    # -- Application Auto Scaling
    (
        "autoscaling-min",
        case(WRITES_SHORT, targets={(None, WRITE): TABLE_WRITES}),
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        None,
        AutoScalingLimits(min_capacity=75, max_capacity=200),
    ),
    (
        "autoscaling-min-step",
        case(WRITES_WITHIN, targets={(None, WRITE): TABLE_WRITES}),
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        None,
        AutoScalingLimits(min_capacity=60, max_capacity=200),
    ),
    (
        "autoscaling-max-follows-the-min",
        case(published(consumed=45.0, rejected=355.0), targets={(None, WRITE): TABLE_WRITES}),
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        None,
        AutoScalingLimits(min_capacity=500, max_capacity=500),
    ),
    (
        "autoscaling-one-dimension-per-pass",
        case(
            merged(WRITES_SHORT, published(dimension="read", consumed=90.0, rejected=90.0)),
            targets={(None, WRITE): TABLE_WRITES, (None, READ): TABLE_READS},
        ),
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        None,
        AutoScalingLimits(min_capacity=225, max_capacity=400),
    ),
    # -- other causes
    (
        "hot-partition",
        case(published(consumed=40.0, rejected=5.0, cause="key_range")),
        Action.HAND_OFF_HOT_KEYS,
        "key_range.hand_off",
        None,
        None,
    ),
    (
        "account-limit",
        case(published(consumed=40.0, rejected=5.0, cause="account_limit")),
        Action.SKIP,
        "account_limit.advise",
        None,
        None,
    ),
    (
        "a-raise-goes-before-a-hand-off",
        case(
            merged(
                WRITES_SHORT, published(index=GSI, dimension="read", rejected=1, cause="key_range")
            )
        ),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=75),
    ),
    (
        "a-hand-off-goes-before-advice",
        case(
            merged(
                published(consumed=10.0, rejected=1.0, cause="account_limit"),
                published(dimension="read", consumed=10.0, rejected=1.0, cause="key_range"),
            )
        ),
        Action.HAND_OFF_HOT_KEYS,
        "key_range.hand_off",
        None,
        None,
    ),
    # -- changes in flight
    (
        "table-updating",
        case(WRITES_SHORT, table=provisioned_table(status="UPDATING")),
        Action.DEFER,
        "updating.defer",
        None,
        None,
    ),
    (
        "index-updating",
        case(GSI_SHORT, table=provisioned_table(indexes={GSI: (50, 25)}, index_status="UPDATING")),
        Action.DEFER,
        "updating.defer",
        GSI,
        None,
    ),
    (
        # the responder's own raise 50 → 80 is in flight (DescribeTable shows 50 until it lands)
        # and covers the demand of 60 measured now: a retry would find the same; no defer, no
        # page (62 in flight would do too: not short once landed, as _verdict judges it)
        "own-raise-in-flight-covers",
        case(
            WRITES_SHORT,
            table=provisioned_table(status="UPDATING"),
            records={(None, WRITE): raised(1, before=RAISED, after=Capacity(read=100, write=80))},
        ),
        Action.SKIP,
        "updating.in_flight",
        None,
        None,
    ),
    (
        # 50 → 58 in flight, demand 60: still short once it lands
        "own-raise-in-flight-too-small",
        case(
            WRITES_SHORT,
            table=provisioned_table(status="UPDATING"),
            records={(None, WRITE): raised(1, before=RAISED, after=Capacity(read=100, write=58))},
        ),
        Action.DEFER,
        "updating.defer",
        None,
        None,
    ),
    (
        "own-raise-intent-not-made",
        case(
            WRITES_SHORT,
            table=provisioned_table(status="UPDATING"),
            records={
                (None, WRITE): replace(
                    raised(1, before=RAISED, after=Capacity(read=100, write=80)),
                    status=IntentStatus.PENDING,
                )
            },
        ),
        Action.DEFER,
        "updating.defer",
        None,
        None,
    ),
    (
        # someone else's update in flight: the table no longer shows the raise's start
        "updating-elsewhere-after-own-raise",
        case(
            WRITES_SHORT,
            table=provisioned_table(status="UPDATING"),
            records={(None, WRITE): raised(30, before=WAS, after=Capacity(read=100, write=80))},
        ),
        Action.DEFER,
        "updating.defer",
        None,
        None,
    ),
    # -- the cooldown
    (
        "cooldown",
        case(WRITES_WITHIN, records={(None, WRITE): raised(2)}),
        Action.SKIP,
        "cooldown",
        None,
        None,
    ),
    (
        "cooldown-lifted-by-a-measured-shortfall",
        case(WRITES_SHORT, records={(None, WRITE): raised(2)}),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=75),
    ),
    (
        "after-the-cooldown",
        case(WRITES_WITHIN, records={(None, WRITE): raised(6)}),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=60),
    ),
    (
        "a-decrease-starts-no-cooldown",
        case(WRITES_WITHIN, records={(None, WRITE): raised(2, action=Action.SCALE_DOWN)}),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=60),
    ),
    (
        "the-cooldown-is-per-unit",
        case(WRITES_WITHIN, records={(GSI, WRITE): raised(2, index=GSI)}),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=60),
    ),
    (
        "autoscaling-cooldown",
        case(
            WRITES_WITHIN,
            targets={(None, WRITE): TABLE_WRITES},
            records={(None, WRITE): raised(2, action=Action.RAISE_AUTOSCALING_MIN)},
        ),
        Action.SKIP,
        "cooldown",
        None,
        None,
    ),
    # -- on-demand
    (
        "on-demand-cap-short",
        case(clicks(1000.0, 100.0), table=CLICKS),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        None,
        OnDemandLimits(read=2000, write=1375),
    ),
    (
        "on-demand-cap-per-second-peaks",
        case(clicks(800.0, 10.0), table=CLICKS),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        None,
        OnDemandLimits(read=2000, write=1200),
    ),
    (
        "on-demand-generic-near-the-cap",
        case(clicks(900.0, 10.0, cause=None), table=CLICKS),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        None,
        OnDemandLimits(read=2000, write=1200),
    ),
    (
        "on-demand-generic-below-the-cap",
        case(clicks(500.0, 10.0, cause=None), table=CLICKS),
        Action.SKIP,
        "on_demand.below_cap",
        None,
        None,
    ),
    (
        "on-demand-no-cap",
        case(clicks(500.0, 10.0), table=on_demand_table(max_write=None)),
        Action.SKIP,
        "on_demand.no_cap",
        None,
        None,
    ),
    (
        "on-demand-account-limit",
        case(clicks(500.0, 10.0, cause="account_limit"), table=CLICKS),
        Action.SKIP,
        "account_limit.advise",
        None,
        None,
    ),
    (
        "on-demand-hot-partition",
        case(clicks(500.0, 10.0, cause="key_range"), table=CLICKS),
        Action.HAND_OFF_HOT_KEYS,
        "key_range.hand_off",
        None,
        None,
    ),
    (
        "on-demand-at-ceiling",
        case(clicks(1000.0, 100.0), table=CLICKS, policy=capped(write=1000)),
        Action.SKIP,
        "at_ceiling",
        None,
        None,
    ),
    (
        "on-demand-cooldown",
        case(
            clicks(800.0, 10.0),
            table=CLICKS,
            records={(None, WRITE): raised(2, action=Action.RAISE_ON_DEMAND_MAX)},
        ),
        Action.SKIP,
        "cooldown",
        None,
        None,
    ),
    (
        "on-demand-cooldown-lifted-by-a-measured-shortfall",
        case(
            clicks(1000.0, 100.0),
            table=CLICKS,
            records={(None, WRITE): raised(2, action=Action.RAISE_ON_DEMAND_MAX)},
        ),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        None,
        OnDemandLimits(read=2000, write=1375),
    ),
    # -- not managed
    (
        "not-managed",
        case(WRITES_SHORT, policy=TablePolicy()),
        Action.SKIP,
        "not_managed",
        None,
        None,
    ),
    # -- CloudWatch answered: nothing throttled
    ("nothing-throttled-recheck", case(QUIET), Action.SKIP, "no_throttling", None, None),
    (
        "nothing-throttled-alarm-metric-not-a-throttle-now",
        case(QUIET, alarm=evidence()),
        Action.SKIP,
        "no_throttling",
        None,
        None,
    ),
    (
        "set-alarm-state",
        case(QUIET, alarm=evidence(datapoints=(), evaluated_at=None, manual=True)),
        Action.SKIP,
        "no_throttling.set_alarm_state",
        None,
        None,
    ),
    (
        "missing-data-as-breaching",
        case(QUIET, alarm=evidence(datapoints=())),
        Action.SKIP,
        "no_throttling.missing_data",
        None,
        None,
    ),
    (
        "composite-alarm",
        case(QUIET, alarm=evidence(datapoints=(), composite=True)),
        Action.SKIP,
        "no_throttling",
        None,
        None,
    ),
    (
        "scheduled-sweep-old-datapoints-are-no-lag",
        case(QUIET, alarm=evidence(evaluated_at=LATEST + timedelta(minutes=1), sweep=True)),
        Action.SKIP,
        "no_throttling",
        None,
        None,
    ),
    (
        "publishing-lag",
        case(QUIET, alarm=evidence(evaluated_at=LATEST + timedelta(minutes=1))),
        Action.DEFER,
        "metrics_lag",
        None,
        None,
    ),
    (
        "publishing-lag-nothing-answered",
        case({}, alarm=evidence(evaluated_at=None)),
        Action.DEFER,
        "metrics_lag",
        None,
        None,
    ),
    (
        "no-lag-without-a-breaching-datapoint",
        case(QUIET, alarm=evidence(datapoints=(0.0,), evaluated_at=LATEST + timedelta(minutes=1))),
        Action.SKIP,
        "no_throttling",
        None,
        None,
    ),
    (
        "no-lag-when-the-evaluation-time-is-unknown",
        case(QUIET, alarm=evidence(evaluated_at=None)),
        Action.SKIP,
        "no_throttling",
        None,
        None,
    ),
    # -- CloudWatch unreadable: the alarm's own metric, the minimum step
    (
        "fallback-min-step",
        case(unreadable=True, alarm=evidence()),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=60),
    ),
    (
        "fallback-scheduled-sweep",
        case(unreadable=True, alarm=evidence(sweep=True)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=60),
    ),
    (
        "fallback-generic-reads",
        case(unreadable=True, alarm=evidence("ReadThrottleEvents")),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=120, write=50),
    ),
    (
        "fallback-operation",
        case(unreadable=True, alarm=evidence("ThrottledRequests", operation="UpdateItem")),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=100, write=60),
    ),
    (
        "fallback-gsi",
        case(unreadable=True, alarm=evidence(index=GSI)),
        Action.SCALE_UP,
        "provisioned.scale_up",
        GSI,
        Capacity(read=50, write=30),
    ),
    (
        "fallback-autoscaling",
        case(unreadable=True, alarm=evidence(), targets={(None, WRITE): TABLE_WRITES}),
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        None,
        AutoScalingLimits(min_capacity=60, max_capacity=200),
    ),
    (
        "fallback-hot-partition",
        case(unreadable=True, alarm=evidence("WriteKeyRangeThroughputThrottleEvents")),
        Action.HAND_OFF_HOT_KEYS,
        "key_range.hand_off",
        None,
        None,
    ),
    (
        "fallback-account-limit",
        case(unreadable=True, alarm=evidence("ReadAccountLimitThrottleEvents")),
        Action.SKIP,
        "account_limit.advise",
        None,
        None,
    ),
    (
        "fallback-on-demand-metric-on-provisioned",
        case(unreadable=True, alarm=evidence("WriteMaxOnDemandThroughputThrottleEvents")),
        Action.SKIP,
        "mode_mismatch",
        None,
        None,
    ),
    (
        "fallback-reads-and-writes",
        case(
            unreadable=True,
            alarm=evidence(
                "ReadThrottleEvents", also=(AlarmTarget("orders", None, "WriteThrottleEvents"),)
            ),
        ),
        Action.DEFER,
        "metrics_unavailable",
        None,
        None,
    ),
    (
        "fallback-metric-math-one-throttle",
        case(
            unreadable=True,
            alarm=evidence(
                "ReadThrottleEvents",
                also=(AlarmTarget("orders", None, "ConsumedReadCapacityUnits"),),
            ),
        ),
        Action.SCALE_UP,
        "provisioned.scale_up",
        None,
        Capacity(read=120, write=50),
    ),
    (
        "fallback-unknown-operation",
        case(unreadable=True, alarm=evidence("ThrottledRequests", operation="ExecuteTransaction")),
        Action.DEFER,
        "metrics_unavailable",
        None,
        None,
    ),
    (
        "fallback-not-a-throttle",
        case(unreadable=True, alarm=evidence("ConsumedWriteCapacityUnits")),
        Action.DEFER,
        "metrics_unavailable",
        None,
        None,
    ),
    ("fallback-recheck", case(unreadable=True), Action.DEFER, "metrics_unavailable", None, None),
    (
        "fallback-index-gone",
        case(unreadable=True, alarm=evidence(index="gone")),
        Action.SKIP,
        "index_missing",
        None,
        None,
    ),
    (
        "fallback-cooldown",
        case(unreadable=True, alarm=evidence(), records={(None, WRITE): raised(2)}),
        Action.SKIP,
        "cooldown",
        None,
        None,
    ),
    (
        "fallback-at-ceiling",
        case(unreadable=True, alarm=evidence(), policy=capped(write=50)),
        Action.SKIP,
        "at_ceiling",
        None,
        None,
    ),
    (
        "fallback-updating",
        case(unreadable=True, alarm=evidence(), table=provisioned_table(status="UPDATING")),
        Action.DEFER,
        "updating.defer",
        None,
        None,
    ),
    (
        "fallback-on-demand-generic",
        case(
            unreadable=True,
            alarm=evidence("WriteThrottleEvents", table="clickstream"),
            table=CLICKS,
        ),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        None,
        OnDemandLimits(read=2000, write=1200),
    ),
    (
        "fallback-on-demand-cap",
        case(
            unreadable=True,
            alarm=evidence("ReadMaxOnDemandThroughputThrottleEvents", table="clickstream"),
            table=CLICKS,
        ),
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        None,
        OnDemandLimits(read=2400, write=1000),
    ),
    (
        "fallback-on-demand-no-cap",
        case(
            unreadable=True,
            alarm=evidence("WriteThrottleEvents", table="clickstream"),
            table=on_demand_table(max_write=None),
        ),
        Action.SKIP,
        "on_demand.no_cap",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("the_case", "action", "rule", "index", "after"),
    [pytest.param(*c[1:], id=c[0]) for c in PLAN_CASES],
)
def test_plan_throttle(the_case, action, rule, index, after):
    plan = plan_of(the_case)
    assert (plan.action, plan.rule) == (action, rule), plan.reason
    assert plan.after == after
    assert plan.reason
    if plan.mutates:
        assert plan.change is not None and plan.to_apply
        assert plan.index_name == index
        assert plan.change.index_name == index
        assert plan.change.after == after
        assert plan.severity is Severity.WARNING
    else:
        assert plan.change is None and not plan.to_apply
    if action is Action.DEFER and rule == "updating.defer":
        assert plan.index_name == index


# --------------------------------------------------------------------------------------------
# the plan: what it says and carries
# --------------------------------------------------------------------------------------------
def test_one_change_carries_both_dimensions_of_a_provisioned_resource():
    plan = plan_of(case(merged(WRITES_SHORT, READS_SHORT)))
    change = plan.change
    assert change is not None
    assert change.dimensions == (READ, WRITE)
    assert change.dimension is None and plan.dimension is None
    assert change.before == Capacity(read=100, write=50)
    assert dict(change.added_units) == {READ: 50, WRITE: 25}
    assert plan.added_units == 75
    assert change.cost_per_hour(Prices()) == pytest.approx(50 * 0.00013 + 25 * 0.00065, abs=1e-4)
    assert [v.kind for v in plan.verdicts] == [VerdictKind.RAISE, VerdictKind.RAISE]
    assert "read units 100 → 150" in plan.reason and "write units 50 → 75" in plan.reason


def test_the_other_raises_wait_for_the_next_look():
    plan = plan_of(case(merged(WRITES_SHORT, GSI_VERY_SHORT)))
    by_unit = {v.key: v for v in plan.verdicts}
    assert by_unit[(GSI, WRITE)].kind is VerdictKind.RAISE
    waiting = by_unit[(None, WRITE)]
    assert (waiting.kind, waiting.rule) == (VerdictKind.WAITS, "waits_for_next_look")
    assert (waiting.current, waiting.wanted) == (50, 75)
    assert "this pass changes index by-customer first" in waiting.text
    assert "waits for the next look" in plan.reason


def test_back_pressure_says_the_index_is_raised_not_the_table():
    plan = plan_of(case(merged(WRITES_HELD_BACK, GSI_SHORT)))
    by_unit = {v.key: v for v in plan.verdicts}
    table = by_unit[(None, WRITE)]
    assert (table.kind, table.rule) == (VerdictKind.BACK_PRESSURE, "gsi_back_pressure")
    assert "index by-customer could not keep up" in table.text
    assert plan.change is not None and plan.change.index_name == GSI


def test_autoscaling_changes_one_dimension_and_the_other_waits():
    plan = plan_of(
        case(
            merged(WRITES_SHORT, published(dimension="read", consumed=90.0, rejected=90.0)),
            targets={(None, WRITE): TABLE_WRITES, (None, READ): TABLE_READS},
        )
    )
    change = plan.change
    assert change is not None
    assert change.dimensions == (READ,) and plan.dimension is READ
    assert change.scalable_target == TABLE_READS
    assert change.before == AutoScalingLimits(min_capacity=100, max_capacity=400)
    assert dict(change.added_units) == {READ: 125}
    assert {v.key: v.kind for v in plan.verdicts}[(None, WRITE)] is VerdictKind.WAITS
    assert "Auto Scaling MinCapacity 100 → 225" in plan.reason


def test_the_diagnosis_lines_name_what_throttled_or_ran_short():
    plan = plan_of(case(merged(WRITES_SHORT, published(index=GSI, dimension="read", consumed=60))))
    assert plan.lines == (
        "writes of the table throttled on provisioned capacity: 4,500 requests rejected in the "
        "last 15 min, demand ≈ 60 WCU/s against 50",
        "reads of index by-customer: no throttling in the last 15 min, demand ≈ 60 RCU/s "
        "against 50",
    )


def test_nothing_throttled_says_what_cloudwatch_showed():
    plan = plan_of(case(QUIET, alarm=evidence(datapoints=(3.0, 7.5))))
    assert "CloudWatch shows no throttling of table orders and its 1 GSI(s)" in plan.reason
    assert "reported 3, 7.5" in plan.reason
    missing = plan_of(case(QUIET, alarm=evidence(datapoints=())))
    assert any("TreatMissingData" in step for step in missing.next_steps)


def test_publishing_lag_says_what_the_alarm_saw_and_what_cloudwatch_has():
    ahead = LATEST + timedelta(minutes=1)
    behind = plan_of(case(QUIET, alarm=evidence(evaluated_at=ahead)))
    assert (
        f"evaluated 42 at {ahead:%H:%M} UTC and CloudWatch's newest is {LATEST:%H:%M} UTC"
        in behind.reason
    )
    nothing = plan_of(case({}, alarm=evidence(evaluated_at=None)))
    assert "evaluated 42 and CloudWatch returned no datapoint yet: publishing lag" in nothing.reason
    assert "none" not in nothing.reason


def test_the_fallback_says_cloudwatch_could_not_be_read():
    plan = plan_of(case(unreadable=True, alarm=evidence()))
    assert "CloudWatch could not be read" in plan.reason
    assert plan.lines == (
        "CloudWatch could not be read: the alarm's own metric decided, by the minimum step",
    )


@pytest.mark.parametrize(
    ("rule", "action", "has_change", "to_apply"),
    [
        pytest.param("provisioned.scale_up", Action.SCALE_UP, True, True, id="a-raise"),
        pytest.param(ALREADY_APPLIED, Action.SCALE_UP, True, False, id="a-replay"),
        pytest.param("provisioned.scale_up", Action.SCALE_UP, False, False, id="no-change"),
        pytest.param("cooldown", Action.SKIP, False, False, id="a-skip"),
    ],
)
def test_to_apply(rule, action, has_change, to_apply):
    change = Change(
        None,
        (WRITE,),
        Action.SCALE_UP,
        Capacity(read=1, write=1),
        Capacity(read=1, write=2),
    )
    plan = Plan(action, rule, "r", change=change if has_change else None)
    assert plan.to_apply is to_apply


@pytest.mark.parametrize(
    ("event", "rule"),
    [
        pytest.param(alarm_event(state="OK"), "not_alarm", id="ok"),
        pytest.param(alarm_event(state="INSUFFICIENT_DATA"), "not_alarm", id="insufficient"),
        pytest.param(
            alarm_event(alarm_name="TargetTracking-table/orders-AlarmLow-1"),
            "autoscaling_alarm",
            id="target-tracking",
        ),
        pytest.param(alarm_event(), None, id="throttle-alarm"),
    ],
)
def test_triage_alarm(event, rule):
    plan = triage_alarm(AlarmStateChangeEvent.model_validate(event).detail)
    assert (plan.rule if plan else None) == rule
    if plan is not None:
        assert plan.action is Action.SKIP


def test_gate():
    assert gate("orders", MANAGED) is None
    refused = gate("orders", TablePolicy(dry_run=True))
    assert refused is not None and refused.rule == "not_managed"
    assert "autoresponder:managed=true" in refused.reason


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
units = st.integers(min_value=1, max_value=40_000)
demands = st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)
policies = st.builds(
    ScalingPolicy,
    min_step_percent=st.floats(min_value=1, max_value=300),
    headroom_percent=st.floats(min_value=0, max_value=300),
    max_multiple=st.floats(min_value=1.1, max_value=10),
    max_measured_multiple=st.floats(min_value=1.1, max_value=32),
)


@given(current=units, demand=demands, ceiling=units, policy=policies)
def test_sizing_never_down_never_past_the_ceiling_nor_the_bound(current, demand, ceiling, policy):
    new = sized_to_demand(current, demand, ceiling, policy)
    assert new >= current
    assert new <= max(ceiling, current)
    multiple = policy.max_multiple if demand is None else policy.max_measured_multiple
    assert new <= max(current + 1, int(current * multiple))
    if ceiling > current:
        assert new > current  # a raise always moves
    if demand is not None:  # a measured demand is covered, unless a bound says otherwise
        wanted = demand * (1 + policy.headroom_percent / 100)
        assert new >= min(wanted - 1e-6, ceiling, current * policy.max_measured_multiple - 1)


CAUSES = st.sampled_from(["provisioned", "provisioned", None, "key_range", "account_limit"])


@st.composite
def throttle_cases(draw):
    """A provisioned table with one GSI, any traffic on any unit, any ceiling, cooldowns and
    scalable targets."""
    caps = [draw(st.integers(min_value=1, max_value=3_000)) for _ in range(4)]
    table = provisioned_table(
        read=caps[0],
        write=caps[1],
        indexes={GSI: (caps[2], caps[3])},
        status=draw(st.sampled_from(["ACTIVE", "ACTIVE", "ACTIVE", "UPDATING"])),
    )
    parts = []
    for index in (None, GSI):
        for dimension in ("read", "write"):
            if draw(st.booleans()):
                parts.append(
                    published(
                        index=index,
                        dimension=dimension,
                        consumed=draw(st.floats(min_value=0, max_value=5_000)),
                        rejected=draw(st.sampled_from([0.0, 0.0, 0.5, 10.0, 2_000.0])),
                        cause=draw(CAUSES),
                        units_per_request=draw(st.sampled_from([0.5, 1.0, 4.0])),
                    )
                )
    records = {}
    for key in [(None, READ), (None, WRITE), (GSI, READ), (GSI, WRITE)]:
        if draw(st.integers(0, 3)) == 0:
            records[key] = raised(draw(st.floats(min_value=0, max_value=30)), index=key[0])
    targets = {}
    if draw(st.booleans()):
        low = draw(st.integers(min_value=1, max_value=3_000))
        targets[(None, WRITE)] = TABLE_WRITES.model_copy(
            update={"min_capacity": low, "max_capacity": low + draw(st.integers(0, 5_000))}
        )
    policy = TablePolicy(
        managed=True,
        max_read_units=draw(st.none() | st.integers(min_value=1, max_value=20_000)),
        max_write_units=draw(st.none() | st.integers(min_value=1, max_value=20_000)),
    )
    return case(merged(*parts), table=table, policy=policy, records=records, targets=targets)


def _ceiling(the_case: ThrottleCase, dimension: Dimension) -> int:
    return the_case.table_policy.ceiling(
        dimension, POLICY.default_max_read_units, POLICY.default_max_write_units
    )


@settings(max_examples=300, deadline=None)
@given(throttle_cases())
def test_a_change_raises_only_what_throttled_or_ran_short_within_the_ceiling(the_case):
    plan = plan_of(the_case)
    change = plan.change
    if change is None:
        assert not plan.mutates and plan.after is None
        return
    assert plan.mutates and plan.after == change.after
    assert the_case.table.status != "UPDATING"
    unit = the_case.table.unit(change.index_name)
    assert unit is not None and unit.provisioned is not None
    assert the_case.diagnosis is not None
    for dimension in Dimension:
        current = unit.provisioned.of(dimension)
        diagnosis = the_case.diagnosis.unit(change.index_name, dimension)
        assert diagnosis is not None
        if isinstance(change.after, AutoScalingLimits):
            assert isinstance(change.before, AutoScalingLimits)
            if dimension not in change.dimensions:
                continue
            new = change.after.min_capacity
            assert new > change.before.min_capacity
            assert change.after.max_capacity >= max(new, change.before.max_capacity)
        else:
            assert isinstance(change.after, Capacity)
            new = change.after.of(dimension)
            if dimension not in change.dimensions:
                assert new == current  # the other dimension is carried as it is
                continue
            assert new > current
        assert new <= max(_ceiling(the_case, dimension), current)
        short = diagnosis.demand_peak is not None and diagnosis.demand_peak > current
        assert diagnosis.throttled or short


@settings(max_examples=200, deadline=None)
@given(throttle_cases())
def test_a_raise_never_goes_below_the_current_value(the_case):
    plan = plan_of(the_case)
    for verdict in plan.verdicts:
        if verdict.kind is VerdictKind.RAISE:
            assert verdict.wanted is not None and verdict.current is not None
            assert verdict.wanted > verdict.current


@settings(max_examples=200, deadline=None)
@given(throttle_cases())
def test_an_unmanaged_table_is_never_changed(the_case):
    plan = plan_of(replace(the_case, table_policy=TablePolicy(dry_run=True)))
    assert not plan.mutates and plan.change is None


@pytest.mark.parametrize(
    "reached",
    [
        pytest.param(lambda plan: plan.change is not None, id="a-change"),
        pytest.param(
            lambda plan: any(v.kind is VerdictKind.COOLDOWN for v in plan.verdicts), id="a-cooldown"
        ),
        pytest.param(
            lambda plan: isinstance(plan.after, AutoScalingLimits), id="an-autoscaling-change"
        ),
    ],
)
def test_the_generator_reaches(reached):
    # The properties above are only worth something if the generator reaches these plans.
    found = find(
        throttle_cases(),
        lambda c: reached(plan_of(c)),
        settings=settings(max_examples=2_000, database=None, phases=[Phase.generate]),
    )
    assert reached(plan_of(found))


crafted = st.builds(
    AlarmEvidence,
    alarm_name=st.just("crafted"),
    recent_datapoints=st.lists(st.floats(allow_nan=False), max_size=5).map(tuple),
    manual=st.booleans(),
    reason=st.text(max_size=20),
    evaluated_at=st.none() | st.sampled_from([*M, NOW + timedelta(minutes=30)]),
    composite=st.booleans(),
    sweep=st.booleans(),
)


def _substance(plan: Plan) -> tuple:
    return (
        plan.change,
        plan.mutates,
        [(v.key, v.kind, v.wanted) for v in plan.verdicts],
    )


@settings(max_examples=200, deadline=None)
@given(the_case=throttle_cases(), alarm=crafted)
def test_the_alarm_event_never_sizes_a_raise_nor_lifts_a_cooldown(the_case, alarm):
    without = plan_of(the_case)
    with_alarm = plan_of(replace(the_case, evidence=alarm))
    assert _substance(with_alarm) == _substance(without)


@settings(max_examples=100, deadline=None)
@given(
    datapoints=st.lists(st.floats(allow_nan=False), max_size=5).map(tuple),
    minutes_ago=st.floats(min_value=0, max_value=4.9),
)
def test_the_fallback_ignores_the_alarm_datapoints_and_keeps_the_cooldown(datapoints, minutes_ago):
    cooling = case(
        unreadable=True,
        alarm=evidence(datapoints=datapoints),
        records={(None, WRITE): raised(minutes_ago)},
    )
    assert (plan_of(cooling).action, plan_of(cooling).rule) == (Action.SKIP, "cooldown")
    fresh = case(unreadable=True, alarm=evidence(datapoints=datapoints))
    assert plan_of(fresh).after == Capacity(read=100, write=60)


# --------------------------------------------------------------------------------------------
# questionable behaviour (see the report)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cause", ["key_range", "account_limit"])
def test_rejections_capacity_cannot_serve_never_size_a_raise(cause):
    # 40 units/s served of 50; 30 requests/s rejected by a hot partition / the account quota.
    plan = plan_of(case(published(consumed=40.0, rejected=30.0, cause=cause)))
    assert plan.change is None
    assert plan.action in {Action.HAND_OFF_HOT_KEYS, Action.SKIP}


def test_provisioned_throttling_is_answered_even_when_a_hot_partition_throttles_more():
    points = {
        Series("orders", "WriteThrottleEvents", "Sum"): dict.fromkeys(M, 60.0),
        Series("orders", "WriteProvisionedThroughputThrottleEvents", "Sum"): dict.fromkeys(M, 20.0),
        Series("orders", "WriteKeyRangeThroughputThrottleEvents", "Sum"): dict.fromkeys(M, 40.0),
        Series("orders", "ConsumedWriteCapacityUnits", "Sum"): dict.fromkeys(M, 2_400.0),
        Series("orders", "ConsumedWriteCapacityUnits", "SampleCount"): dict.fromkeys(M, 2_400.0),
    }
    plan = plan_of(case(points))
    assert plan.action is Action.SCALE_UP


def test_throttling_that_ended_before_the_raise_does_not_raise_again():
    # Raised 50 -> 88 at 13:59:42 (6 min ago, past the cooldown): throttled until 13:58, then
    # 70 units/s served without throttling against the 88 now provisioned.
    before_raise = published(
        consumed=50.0, rejected=20.0, minutes=9, end=NOW - timedelta(minutes=6)
    )
    since = published(consumed=70.0, minutes=6)
    record = raised(6, before=Capacity(read=100, write=50), after=Capacity(read=100, write=88))
    the_case = case(
        merged(before_raise, since),
        table=provisioned_table(write=88),
        records={(None, WRITE): record},
    )
    unit = the_case.diagnosis.unit(None, WRITE) if the_case.diagnosis else None
    assert unit is not None and unit.last_throttled_at is not None
    assert unit.last_throttled_at + timedelta(minutes=1) <= record.scaled_at
    assert plan_of(the_case).change is None


def test_a_min_capacity_that_covers_the_demand_is_not_raised_again():
    target = TABLE_WRITES.model_copy(update={"min_capacity": 400, "max_capacity": 1000})
    the_case = case(
        published(consumed=50.0, rejected=100.0),  # demand 150 against 50 provisioned
        targets={(None, WRITE): target},
    )
    assert plan_of(the_case).change is None


def test_an_unmanaged_table_is_reported_as_not_managed_whatever_throttles():
    # by design: the service does not even read CloudWatch for a table it may not change (the
    # hot-key report is flag_hot_keys' own, routed to it by the same alarm)
    plan = plan_of(
        case(published(consumed=40.0, rejected=5.0, cause="key_range"), policy=TablePolicy())
    )
    assert (plan.action, plan.rule) == (Action.SKIP, "not_managed")
    assert plan.change is None


def test_fallback_provisioned_metric_on_an_on_demand_table_is_a_mode_mismatch():
    the_case = case(
        unreadable=True,
        alarm=evidence("WriteProvisionedThroughputThrottleEvents", table="clickstream"),
        table=CLICKS,
    )
    plan = plan_of(the_case)
    assert (plan.action, plan.rule) == (Action.SKIP, "mode_mismatch")


def test_what_cloudwatch_answered_for_the_alarm_series_is_not_contradicted():
    own = Series("orders", "ThrottledRequests", "Sum", operation="PutItem")
    diagnosis = diagnose(TABLE, merged(QUIET, {own: {LATEST: 42.0}}), START, NOW, (own,))
    assert diagnosis.alarm_points[own] == {LATEST: 42.0}
    the_case = replace(
        case(QUIET, alarm=evidence("ThrottledRequests", operation="PutItem")),
        diagnosis=diagnosis,
    )
    assert plan_of(the_case).rule != "no_throttling"
