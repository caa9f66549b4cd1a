"""The throttle diagnosis (domain/diagnosis.py): what one GetMetricData answer says about the
table and each GSI, per dimension. Tables of cases, then properties."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoresponder.domain.diagnosis import (
    MAX_SERIES_PER_CALL,
    Trend,
    UnitDiagnosis,
    cause_metric,
    causes_of,
    consumed_metric,
    describe,
    diagnose,
    generic_metric,
    observed_series,
    resources_of,
    trend,
    units_to_request,
)
from autoresponder.domain.throttling import ThrottleCause
from autoresponder.models.metrics import Series
from autoresponder.models.table import Dimension, TableDescription
from tests.builders import (
    NOW,
    merged,
    minutes_before,
    on_demand_table,
    provisioned_table,
    published,
)

READ, WRITE = Dimension.READ, Dimension.WRITE
START = NOW - timedelta(minutes=16)
TABLE = provisioned_table(indexes={"by-customer": (50, 25)})
CLICKS = on_demand_table()
M = minutes_before(NOW, 5)
"""The five whole minutes before NOW's, oldest first (14:00 … 14:04): what `published` fills."""
P = ThrottleCause.PROVISIONED
KR = ThrottleCause.KEY_RANGE
AL = ThrottleCause.ACCOUNT_LIMIT
OD = ThrottleCause.ON_DEMAND_MAX
GEN = ThrottleCause.GENERIC


def s(metric: str, stat: str = "Sum", *, index: str | None = None, table: str = "orders"):
    return Series(table, metric, stat, index_name=index)


def per_minute(*values: float | None) -> dict[datetime, float]:
    """Values of the first minutes of M (None: CloudWatch has no datapoint for that minute)."""
    return {M[i]: v for i, v in enumerate(values) if v is not None}


def write_unit(points, table: TableDescription = TABLE, index: str | None = None):
    unit = diagnose(table, points, START, NOW).unit(index, WRITE)
    assert unit is not None
    return unit


# --------------------------------------------------------------------------------------------
# what one observation reads
# --------------------------------------------------------------------------------------------
def _metrics(series: list[Series]) -> set[tuple[str, str]]:
    return {(x.metric, x.stat) for x in series}


PROVISIONED_SERIES = {
    ("WriteThrottleEvents", "Sum"),
    ("WriteProvisionedThroughputThrottleEvents", "Sum"),
    ("WriteKeyRangeThroughputThrottleEvents", "Sum"),
    ("WriteAccountLimitThrottleEvents", "Sum"),
    ("ConsumedWriteCapacityUnits", "Sum"),
    ("ConsumedWriteCapacityUnits", "SampleCount"),
}


@pytest.mark.parametrize(
    ("table", "expected_count", "expected_write_metrics"),
    [
        pytest.param(provisioned_table(), 12, PROVISIONED_SERIES, id="provisioned-table"),
        pytest.param(TABLE, 24, PROVISIONED_SERIES, id="provisioned-with-one-gsi"),
        pytest.param(
            CLICKS,
            12,
            {
                ("WriteThrottleEvents", "Sum"),
                ("WriteMaxOnDemandThroughputThrottleEvents", "Sum"),
                ("WriteKeyRangeThroughputThrottleEvents", "Sum"),
                ("WriteAccountLimitThrottleEvents", "Sum"),
                ("ConsumedWriteCapacityUnits", "Sum"),
                ("ConsumedWriteCapacityUnits", "SampleCount"),
            },
            id="on-demand",
        ),
    ],
)
def test_observed_series_reads_every_resource_and_dimension(
    table, expected_count, expected_write_metrics
):
    wanted = observed_series(table)
    assert len(wanted) == len(set(wanted)) == expected_count
    for index_name in resources_of(table):
        mine = [x for x in wanted if x.index_name == index_name]
        assert len(mine) == 12
        assert {x.table_name for x in mine} == {table.table_name}
        assert _metrics([x for x in mine if "Write" in x.metric]) == expected_write_metrics
        assert _metrics([x for x in mine if "Read" in x.metric]) == {
            (m.replace("Write", "Read"), stat) for m, stat in expected_write_metrics
        }


def test_resources_are_the_table_then_its_gsis_in_order():
    table = provisioned_table(indexes={"z-idx": (1, 1), "a-idx": (1, 1)})
    assert resources_of(table) == [None, "a-idx", "z-idx"]


@pytest.mark.parametrize(
    ("alarm_series", "added"),
    [
        pytest.param(
            (Series("orders", "ThrottledRequests", "Sum", operation="UpdateItem"),),
            [Series("orders", "ThrottledRequests", "Sum", operation="UpdateItem")],
            id="own-series-added",
        ),
        pytest.param(
            (
                Series("orders", "ThrottledRequests", "Sum", operation="PutItem"),
                Series("orders", "ThrottledRequests", "Sum", operation="PutItem"),
            ),
            [Series("orders", "ThrottledRequests", "Sum", operation="PutItem")],
            id="duplicate-added-once",
        ),
        pytest.param((s("WriteThrottleEvents"),), [], id="already-read"),
        pytest.param((s("ThrottledRequests", table="other"),), [], id="other-table-ignored"),
    ],
)
def test_the_alarm_series_join_the_same_call(alarm_series, added):
    wanted = observed_series(TABLE, alarm_series)
    assert wanted[: len(observed_series(TABLE))] == observed_series(TABLE)
    assert wanted[len(observed_series(TABLE)) :] == added


def test_a_table_and_40_gsis_fit_in_one_call_with_the_alarm_series_up_to_the_limit():
    table = provisioned_table(indexes={f"gsi-{i:02d}": (5, 5) for i in range(40)})
    alarm_series = tuple(
        Series("orders", "ThrottledRequests", "Sum", operation=f"Op{i}") for i in range(20)
    )
    assert len(observed_series(table)) == 41 * 12 == 492
    wanted = observed_series(table, alarm_series)
    assert len(wanted) == MAX_SERIES_PER_CALL
    assert wanted[492:] == list(alarm_series[:8])


@pytest.mark.parametrize(
    ("function", "args", "expected"),
    [
        pytest.param(generic_metric, (READ,), "ReadThrottleEvents", id="generic-read"),
        pytest.param(
            cause_metric,
            (OD, WRITE),
            "WriteMaxOnDemandThroughputThrottleEvents",
            id="cause-on-demand-write",
        ),
        pytest.param(
            cause_metric, (KR, READ), "ReadKeyRangeThroughputThrottleEvents", id="cause-key-read"
        ),
        pytest.param(consumed_metric, (WRITE,), "ConsumedWriteCapacityUnits", id="consumed"),
        pytest.param(causes_of, (CLICKS,), (OD, KR, AL), id="on-demand-causes"),
        pytest.param(causes_of, (TABLE,), (P, KR, AL), id="provisioned-causes"),
    ],
)
def test_metric_names(function, args, expected):
    assert function(*args) == expected


# --------------------------------------------------------------------------------------------
# one resource and dimension
# --------------------------------------------------------------------------------------------
UNIT_CASES = [
    # id, points, table, index, expected fields of the write unit
    (
        "nothing-published",
        {},
        TABLE,
        None,
        {"throttled": False, "minutes": 0, "demand_peak": None, "consumed_peak": None},
    ),
    (
        "idle-traffic",
        published(consumed=20.0),
        TABLE,
        None,
        {
            "throttled": False,
            "causes": {},
            "main_cause": None,
            "consumed_peak": 20.0,
            "demand_peak": 20.0,
            "minutes": 5,
            "last_unthrottled_at": M[4],
            "first_throttled_at": None,
        },
    ),
    (
        "provisioned-capacity",
        published(consumed=40.0, rejected=10.0),
        TABLE,
        None,
        {
            "throttled_events": 3000.0,
            "causes": {P: 3000.0},
            "main_cause": P,
            "consumed_peak": 40.0,
            "units_per_request": 1.0,
            "demand_peak": 50.0,
            "demand_latest": 50.0,
            "first_throttled_at": M[0],
            "last_throttled_at": M[4],
            "last_unthrottled_at": None,
            "trend": Trend.STEADY,
            "minutes": 5,
        },
    ),
    (
        "two-units-per-request",
        published(consumed=40.0, rejected=10.0, units_per_request=2.0),
        TABLE,
        None,
        {"units_per_request": 2.0, "demand_peak": 60.0, "consumed_peak": 40.0},
    ),
    (
        "generic-only",
        published(consumed=40.0, rejected=10.0, cause=None),
        TABLE,
        None,
        {"throttled_events": 3000.0, "causes": {GEN: 3000.0}, "main_cause": GEN},
    ),
    (
        "hot-partition",
        published(consumed=40.0, rejected=1.0, cause="key_range"),
        TABLE,
        None,
        {"causes": {KR: 300.0}, "main_cause": KR},
    ),
    (
        "account-limit",
        published(consumed=40.0, rejected=1.0, cause="account_limit"),
        TABLE,
        None,
        {"causes": {AL: 300.0}, "main_cause": AL},
    ),
    (
        "gsi",
        published(index="by-customer", consumed=25.0, rejected=5.0),
        TABLE,
        "by-customer",
        {"throttled_events": 1500.0, "demand_peak": 30.0, "causes": {P: 1500.0}},
    ),
    (
        "on-demand-cap",
        published("clickstream", consumed=1000.0, rejected=100.0, cause="on_demand_max"),
        CLICKS,
        None,
        {"causes": {OD: 30_000.0}, "main_cause": OD, "demand_peak": 1100.0},
    ),
    # An on-demand table publishes no provisioned-capacity cause: it is not read, so the
    # rejected requests are unattributed.
    (
        "on-demand-ignores-provisioned-cause",
        published("clickstream", consumed=1000.0, rejected=100.0, cause="provisioned"),
        CLICKS,
        None,
        {"causes": {GEN: 30_000.0}, "main_cause": GEN},
    ),
    (
        "cause-partly-published",
        {
            s("WriteThrottleEvents"): per_minute(100, 100, 100),
            s("WriteProvisionedThroughputThrottleEvents"): per_minute(60, 60, 60),
        },
        TABLE,
        None,
        {"throttled_events": 300.0, "causes": {P: 180.0, GEN: 120.0}, "main_cause": P},
    ),
    (
        "causes-above-generic",
        {
            s("WriteThrottleEvents"): per_minute(30, 30),
            s("WriteKeyRangeThroughputThrottleEvents"): per_minute(60, 60),
        },
        TABLE,
        None,
        {"throttled_events": 120.0, "causes": {KR: 120.0}, "main_cause": KR},
    ),
    (
        "two-causes-the-larger-leads",
        {
            s("WriteThrottleEvents"): per_minute(60, 60, 60),
            s("WriteProvisionedThroughputThrottleEvents"): per_minute(20, 20, 20),
            s("WriteKeyRangeThroughputThrottleEvents"): per_minute(40, 40, 40),
        },
        TABLE,
        None,
        {"throttled_events": 180.0, "causes": {P: 60.0, KR: 120.0}, "main_cause": KR},
    ),
    (
        "named-cause-wins-a-tie-with-generic",
        {
            s("WriteThrottleEvents"): per_minute(60),
            s("WriteProvisionedThroughputThrottleEvents"): per_minute(30),
        },
        TABLE,
        None,
        {"causes": {P: 30.0, GEN: 30.0}, "main_cause": P},
    ),
    (
        "throttled-in-the-middle",
        {
            s("ConsumedWriteCapacityUnits"): per_minute(600, 3000, 3000, 600, 600),
            s("ConsumedWriteCapacityUnits", "SampleCount"): per_minute(600, 3000, 3000, 600, 600),
            s("WriteThrottleEvents"): per_minute(None, 600, 1200),
            s("WriteProvisionedThroughputThrottleEvents"): per_minute(None, 600, 1200),
        },
        TABLE,
        None,
        {
            "throttled_events": 1800.0,
            "first_throttled_at": M[1],
            "last_throttled_at": M[2],
            "last_unthrottled_at": M[4],
            "consumed_peak": 50.0,
            "demand_peak": 70.0,
            "demand_latest": 10.0,
            "minutes": 5,
        },
    ),
    (
        "rejected-without-consumption",
        {
            s("WriteThrottleEvents"): per_minute(120, 120, 120),
            s("WriteProvisionedThroughputThrottleEvents"): per_minute(120, 120, 120),
        },
        TABLE,
        None,
        {"consumed_peak": None, "units_per_request": 1.0, "demand_peak": 2.0},
    ),
    (
        "rising",
        {
            s("ConsumedWriteCapacityUnits"): per_minute(600, 600, 1200, 2400, 2400),
        },
        TABLE,
        None,
        {"trend": Trend.RISING, "demand_peak": 40.0, "demand_latest": 40.0},
    ),
    (
        "falling",
        {s("ConsumedWriteCapacityUnits"): per_minute(2400, 2400, 1200, 600, 600)},
        TABLE,
        None,
        {"trend": Trend.FALLING, "demand_peak": 40.0, "demand_latest": 10.0},
    ),
    (
        "too-short-for-a-trend",
        {s("ConsumedWriteCapacityUnits"): per_minute(600, 2400)},
        TABLE,
        None,
        {"trend": Trend.UNKNOWN, "minutes": 2},
    ),
]


@pytest.mark.parametrize(
    ("points", "table", "index", "expected"),
    [pytest.param(p, t, i, e, id=case_id) for case_id, p, t, i, e in UNIT_CASES],
)
def test_unit_diagnosis(points, table, index, expected):
    unit = write_unit(points, table, index)
    for name, value in expected.items():
        found = getattr(unit, name)
        if name == "causes":
            assert dict(found) == pytest.approx(value), name
        elif isinstance(value, float):
            assert found == pytest.approx(value), name
        else:
            assert found == value, name


def test_a_dimension_without_data_is_not_borrowed_from_the_other():
    diagnosis = diagnose(TABLE, published(dimension="read", consumed=90, rejected=3), START, NOW)
    read, write = diagnosis.unit(None, READ), diagnosis.unit(None, WRITE)
    assert read is not None and write is not None
    assert read.throttled and read.demand_peak == pytest.approx(93.0)
    assert not write.throttled and write.minutes == 0 and write.demand_peak is None
    gsi = diagnosis.unit("by-customer", READ)
    assert gsi is not None and not gsi.throttled


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([], Trend.UNKNOWN, id="empty"),
        pytest.param([5, 5], Trend.UNKNOWN, id="two-minutes"),
        pytest.param([10, 10, 10], Trend.STEADY, id="flat"),
        pytest.param([10, 11, 11.9], Trend.STEADY, id="within-20-percent"),
        pytest.param([10, 11, 12.1], Trend.RISING, id="above-20-percent"),
        pytest.param([10, 9, 7.9], Trend.FALLING, id="below-80-percent"),
        pytest.param([0, 0, 0], Trend.STEADY, id="zero"),
        pytest.param([0, 0, 1], Trend.RISING, id="from-zero"),
        pytest.param([1, 2, 3, 4, 5, 6], Trend.RISING, id="thirds"),
    ],
)
def test_trend(values, expected):
    assert trend(values) is expected


# --------------------------------------------------------------------------------------------
# the table and its GSIs
# --------------------------------------------------------------------------------------------
TWO_GSIS = provisioned_table(indexes={"by-customer": (50, 25), "by-day": (50, 25)})


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        pytest.param(
            merged(published(rejected=5), published(index="by-customer", rejected=5)),
            ("by-customer",),
            id="gsi-writes-throttled",
        ),
        pytest.param(
            merged(
                published(rejected=5),
                published(index="by-day", rejected=5),
                published(index="by-customer", rejected=5),
            ),
            ("by-customer", "by-day"),
            id="two-gsis-sorted",
        ),
        pytest.param(
            merged(
                published(rejected=5), published(index="by-customer", dimension="read", rejected=5)
            ),
            (),
            id="gsi-reads-do-not-back-pressure",
        ),
        pytest.param(
            merged(published(), published(index="by-customer", rejected=5)),
            (),
            id="table-not-throttled",
        ),
        pytest.param(published(rejected=5), (), id="no-gsi-throttled"),
    ],
)
def test_back_pressure_names_the_gsis_on_the_table_writes_only(points, expected):
    diagnosis = diagnose(TWO_GSIS, points, START, NOW)
    table_writes = diagnosis.unit(None, WRITE)
    assert table_writes is not None
    assert table_writes.back_pressure_from == expected
    others = [u for u in diagnosis.units if (u.index_name, u.dimension) != (None, WRITE)]
    assert all(u.back_pressure_from == () for u in others)


def test_the_diagnosis_covers_every_resource_and_dimension_once():
    diagnosis = diagnose(TWO_GSIS, {}, START, NOW)
    assert [(u.index_name, u.dimension) for u in diagnosis.units] == [
        (None, READ),
        (None, WRITE),
        ("by-customer", READ),
        ("by-customer", WRITE),
        ("by-day", READ),
        ("by-day", WRITE),
    ]
    assert diagnosis.unit("gone", WRITE) is None
    assert diagnosis.throttled == ()
    assert diagnosis.newest_datapoint is None
    assert diagnosis.as_record() == []
    assert diagnosis.minutes == 16


def test_newest_datapoint_and_the_alarm_series_as_answered():
    own = Series("orders", "ThrottledRequests", "Sum", operation="PutItem")
    silent = Series("orders", "ThrottledRequests", "Sum", operation="GetItem")
    points = merged(published(minutes=3, end=NOW - timedelta(minutes=4)), {own: {M[4]: 7.0}})
    diagnosis = diagnose(TABLE, points, START, NOW, (own, silent))
    assert diagnosis.newest_datapoint == M[4]
    assert dict(diagnosis.alarm_points) == {own: {M[4]: 7.0}, silent: {}}


def test_throttled_lists_the_throttled_units():
    points = merged(published(rejected=5), published(index="by-customer", dimension="read"))
    diagnosis = diagnose(TABLE, points, START, NOW)
    assert [(u.index_name, u.dimension) for u in diagnosis.throttled] == [(None, WRITE)]
    assert [r["index_name"] for r in diagnosis.as_record()] == [None, "by-customer"]


def test_the_record_entry_of_a_unit():
    unit = write_unit(published(consumed=40.0, rejected=10.0))
    record = unit.as_record()
    assert record == {
        "index_name": None,
        "dimension": "write",
        "cause": "provisioned",
        "causes": {"provisioned": 3000.0},
        "throttled_events": 3000.0,
        "consumed": 40.0,
        "estimated_demand": 50.0,
        "units_per_request": 1.0,
        "trend": "steady",
        "first_throttled_at": "2026-11-20T14:00:00+00:00",
        "last_throttled_at": "2026-11-20T14:04:00+00:00",
        "back_pressure_from": [],
    }
    assert json.loads(json.dumps(record)) == record


def test_the_record_entry_of_a_quiet_unit():
    record = UnitDiagnosis("by-day", Dimension.READ).as_record()
    assert record["cause"] is None
    assert record["causes"] == {}
    assert record["consumed"] is None and record["estimated_demand"] is None
    assert record["first_throttled_at"] is None


# --------------------------------------------------------------------------------------------
# one line a person understands
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "capacity", "window", "on_demand", "expected"),
    [
        pytest.param(
            UnitDiagnosis(
                "by-user", WRITE, throttled_events=1820.0, causes={P: 1820.0}, demand_peak=640.0
            ),
            400,
            15,
            False,
            "writes of index by-user throttled on provisioned capacity: 1,820 requests rejected "
            "in the last 15 min, demand ≈ 640 WCU/s against 400",
            id="the-issue-example",
        ),
        pytest.param(
            UnitDiagnosis(None, READ, consumed_peak=12.0, demand_peak=12.0),
            100,
            15,
            False,
            "reads of the table: no throttling in the last 15 min, demand ≈ 12 RCU/s against 100",
            id="not-throttled",
        ),
        pytest.param(
            UnitDiagnosis(
                None, WRITE, throttled_events=60.0, causes={OD: 60.0}, demand_peak=1200.0
            ),
            1000,
            5,
            True,
            "writes of the table throttled on the table's own on-demand maximum: 60 requests "
            "rejected in the last 5 min, demand ≈ 1,200 WRU/s against 1,000",
            id="on-demand",
        ),
        pytest.param(
            UnitDiagnosis(None, WRITE, throttled_events=3.0, causes={GEN: 3.0}),
            None,
            15,
            False,
            "writes of the table throttled (cause not published): 3 requests rejected in the "
            "last 15 min",
            id="no-demand-no-capacity",
        ),
        pytest.param(
            UnitDiagnosis(None, READ, throttled_events=9.0, causes={KR: 9.0}, demand_peak=80.0),
            None,
            15,
            False,
            "reads of the table throttled on a hot partition (key range): 9 requests rejected "
            "in the last 15 min, demand ≈ 80 RCU/s",
            id="hot-partition-capacity-unknown",
        ),
        pytest.param(
            UnitDiagnosis(
                None,
                WRITE,
                throttled_events=30.0,
                causes={AL: 30.0},
                demand_peak=45.0,
                back_pressure_from=("a", "b"),
            ),
            50,
            15,
            False,
            "writes of the table throttled on the account's throughput quota: 30 requests "
            "rejected in the last 15 min, demand ≈ 45 WCU/s against 50 (index a, b also "
            "throttled writes)",
            id="back-pressure",
        ),
    ],
)
def test_describe(unit, capacity, window, on_demand, expected):
    assert describe(unit, capacity, window, on_demand=on_demand) == expected


@pytest.mark.parametrize(
    ("demand", "headroom", "expected"),
    [
        pytest.param(100.0, 25.0, 125, id="exact"),
        pytest.param(100.1, 25.0, 126, id="rounds-up"),
        pytest.param(80.0, 25.0, 100, id="no-float-noise"),
        pytest.param(0.0, 25.0, 0, id="zero"),
    ],
)
def test_units_to_request(demand, headroom, expected):
    assert units_to_request(demand, headroom) == expected


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
counts = st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)
requests = st.none() | st.integers(min_value=0, max_value=10**6).map(float)
"""A SampleCount counts requests: a whole number."""


@st.composite
def observations(draw):
    def put(metric: str, stat: str = "Sum") -> tuple[Series, dict[datetime, float]]:
        values = draw(
            st.lists(
                requests if stat == "SampleCount" else counts, min_size=len(M), max_size=len(M)
            )
        )
        return s(metric, stat), {M[i]: v for i, v in enumerate(values) if v is not None}

    return dict(
        [
            put("WriteThrottleEvents"),
            put("WriteProvisionedThroughputThrottleEvents"),
            put("WriteKeyRangeThroughputThrottleEvents"),
            put("ConsumedWriteCapacityUnits"),
            put("ConsumedWriteCapacityUnits", "SampleCount"),
        ]
    )


@given(observations())
def test_throttled_events_are_per_minute_the_larger_of_generic_and_the_causes(points):
    unit = write_unit(points)
    generic = points[s("WriteThrottleEvents")]
    causes = [
        points[s("WriteProvisionedThroughputThrottleEvents")],
        points[s("WriteKeyRangeThroughputThrottleEvents")],
    ]
    expected = sum(max(generic.get(t, 0.0), sum(c.get(t, 0.0) for c in causes)) for t in M)
    assert unit.throttled_events == pytest.approx(expected)
    assert unit.throttled is (expected > 0)
    assert (unit.main_cause is None) is (not unit.throttled)
    assert all(v > 0 for v in unit.causes.values())
    # what is attributed never exceeds what was rejected
    assert sum(unit.causes.values()) <= unit.throttled_events * (1 + 1e-9) + 1e-9


@given(observations())
def test_demand_is_consumption_plus_rejections_in_units(points):
    unit = write_unit(points)
    if unit.minutes == 0:
        assert unit.demand_peak is None
        return
    assert unit.demand_peak is not None and unit.demand_latest is not None
    assert unit.demand_latest <= unit.demand_peak * (1 + 1e-9)
    if unit.consumed_peak is not None:
        assert unit.demand_peak >= unit.consumed_peak * (1 - 1e-9)
    assert unit.units_per_request >= 0
    if unit.throttled:
        assert unit.first_throttled_at is not None and unit.last_throttled_at is not None
        assert unit.first_throttled_at <= unit.last_throttled_at
    json.dumps(unit.as_record())


@given(observations())
def test_the_diagnosis_of_a_dimension_ignores_the_other(points):
    only_writes = diagnose(TABLE, points, START, NOW)
    reads = published(dimension="read", consumed=70, rejected=2)
    both = diagnose(TABLE, merged(points, reads), START, NOW)
    assert both.unit(None, WRITE) == only_writes.unit(None, WRITE)


# --------------------------------------------------------------------------------------------
# questionable behaviour (see the report)
# --------------------------------------------------------------------------------------------
def test_the_causes_add_up_to_the_throttled_events():
    points = {
        s("WriteThrottleEvents"): per_minute(60),
        s("WriteProvisionedThroughputThrottleEvents"): per_minute(None, 60),
    }
    unit = write_unit(points)
    assert unit.throttled_events == 120.0
    assert sum(unit.causes.values()) == pytest.approx(unit.throttled_events)


def test_traffic_that_stopped_reads_as_falling():
    points = merged(
        published(dimension="read", consumed=30.0, minutes=15),
        published(dimension="write", consumed=40.0, minutes=5, end=NOW - timedelta(minutes=10)),
    )
    diagnosis = diagnose(TABLE, points, START, NOW)
    writes = diagnosis.unit(None, WRITE)
    assert writes is not None
    assert diagnosis.newest_datapoint == M[4]
    assert writes.trend is Trend.FALLING


def test_rejected_requests_always_add_to_the_demand():
    points = {
        s("ConsumedWriteCapacityUnits"): per_minute(0.0, 0.0, 0.0),
        s("ConsumedWriteCapacityUnits", "SampleCount"): per_minute(60, 60, 60),
        s("WriteThrottleEvents"): per_minute(600, 600, 600),
        s("WriteProvisionedThroughputThrottleEvents"): per_minute(600, 600, 600),
    }
    unit = write_unit(points)
    assert unit.throttled
    assert unit.demand_peak is not None and unit.demand_peak >= 10.0


def test_one_read_narrowed_to_a_shorter_window_forgets_what_came_before_it():
    """A 30-minute read serves the scale-back's 10-minute window: a peak 20 minutes ago and
    the throttling with it are not in the last 10 minutes."""
    end = NOW.replace(second=0, microsecond=0) + timedelta(minutes=1)
    points = merged(
        published(consumed=50, rejected=150, end=NOW - timedelta(minutes=15), minutes=5),
        published(consumed=40, end=NOW, minutes=15, cause=None),
    )
    wide = diagnose(TABLE, points, end - timedelta(minutes=31), end)
    narrow = wide.over_last(timedelta(minutes=10))
    writes, recent = wide.unit(None, WRITE), narrow.unit(None, WRITE)
    assert writes is not None and recent is not None
    assert writes.throttled and writes.demand_peak == pytest.approx(200.0)
    assert not recent.throttled
    assert recent.demand_peak == pytest.approx(40.0)
    assert narrow.start == end - timedelta(minutes=11)
    assert narrow.end == wide.end
    # a window as long as the read (or longer) is the read itself
    assert wide.over_last(timedelta(minutes=30)) is wide
    assert wide.over_last(timedelta(hours=2)) is wide
