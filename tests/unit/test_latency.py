"""The latency comparison (domain/latency/) and its models: table-driven, no AWS."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from autoresponder.domain.latency.causes import CauseEvidence, capacity_changes, likely_causes
from autoresponder.domain.latency.comparison import compare_operation, compare_table, regressed
from autoresponder.domain.latency.conclusion import TableLatency, conclude
from autoresponder.domain.latency.graph import graph_url
from autoresponder.domain.latency.policy import LatencyPolicy
from autoresponder.domain.latency.windows import (
    OPERATIONS,
    compared_windows,
    latency_series,
    series_for_table,
    value_at,
)
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Decision
from autoresponder.models.latency import (
    TRIGGER,
    LatencyDecision,
    ScheduledEvent,
    Verdict,
    WindowStats,
)
from autoresponder.models.metrics import Series
from autoresponder.models.table import Capacity, CapacityUnit
from tests.builders import on_demand_table, provisioned_table

EVENTS = Path(__file__).resolve().parents[2] / "events"
POLICY = LatencyPolicy()
END = datetime(2026, 11, 20, 14, 12, 41, tzinfo=UTC)
WINDOWS = compared_windows(END, timedelta(minutes=15))
NONE = WindowStats()


def ws(avg: float, samples: int = 1_000, peak: float | None = None) -> WindowStats:
    return WindowStats(avg_ms=avg, max_ms=peak if peak is not None else avg * 3, samples=samples)


# --------------------------------------------------------------------------------------------
# one operation
# --------------------------------------------------------------------------------------------
COMPARISONS = [
    # (operation, now, 1 day earlier, 7 days earlier, (verdict, regressed against))
    pytest.param("GetItem", ws(4.1), ws(4.0), ws(3.9), (Verdict.OK, []), id="steady"),
    pytest.param(
        "GetItem",
        ws(31.0),
        ws(4.0),
        ws(3.9),
        (Verdict.REGRESSION, ["1d", "7d"]),
        id="regressed-and-over-target-is-a-regression",
    ),
    pytest.param(
        "PutItem",
        ws(12.0),
        ws(5.0),
        ws(5.5),
        (Verdict.REGRESSION, ["1d", "7d"]),
        id="regression-without-a-target",
    ),
    pytest.param(
        "GetItem",
        ws(9.0),
        ws(8.2),
        ws(4.0),
        (Verdict.REGRESSION, ["7d"]),
        id="gradual-drift-only-the-7-day-baseline-shows",
    ),
    pytest.param(
        "Query",
        ws(9.0),
        ws(4.0),
        ws(8.5),
        (Verdict.REGRESSION, ["1d"]),
        id="only-yesterday-was-faster",
    ),
    pytest.param(
        "GetItem",
        ws(25.0),
        NONE,
        NONE,
        (Verdict.SLA_BREACH, []),
        id="no-baseline-data-over-target",
    ),
    pytest.param(
        "PutItem", ws(25.0), NONE, NONE, (Verdict.OK, []), id="no-baseline-data-no-target"
    ),
    pytest.param(
        "GetItem", NONE, ws(4.0), ws(3.9), (Verdict.NO_TRAFFIC, []), id="zero-traffic-now"
    ),
    pytest.param(
        "GetItem",
        WindowStats(avg_ms=None, samples=0),
        NONE,
        NONE,
        (Verdict.NO_TRAFFIC, []),
        id="zero-traffic-anywhere",
    ),
    pytest.param(
        "Query",
        ws(25.0),
        ws(24.0),
        ws(25.5),
        (Verdict.SLA_BREACH, []),
        id="over-target-but-always-was",
    ),
    pytest.param("Scan", ws(2.0), ws(1.0), ws(1.0), (Verdict.OK, []), id="ratio-without-the-floor"),
    pytest.param(
        "Scan", ws(50.0), ws(40.0), ws(41.0), (Verdict.OK, []), id="floor-without-the-ratio"
    ),
    pytest.param(
        "PutItem",
        ws(30.0, samples=20),
        ws(5.0),
        ws(5.0),
        (Verdict.OK, []),
        id="too-few-samples-now",
    ),
    pytest.param(
        "PutItem",
        ws(30.0),
        ws(5.0, samples=3),
        ws(5.0, samples=3),
        (Verdict.OK, []),
        id="too-few-samples-in-the-baselines",
    ),
    pytest.param(
        "GetItem",
        ws(30.0, samples=3),
        NONE,
        NONE,
        (Verdict.OK, []),
        id="over-target-on-three-requests-is-no-breach",
    ),
    pytest.param(
        "BatchWriteItem",
        ws(120.0),
        ws(110.0),
        ws(105.0),
        (Verdict.SLA_BREACH, []),
        id="batch-target-100-ms",
    ),
]


@pytest.mark.parametrize(("operation", "now", "base_1d", "base_7d", "expected"), COMPARISONS)
def test_compare_operation(operation, now, base_1d, base_7d, expected):
    verdict, against = expected
    row = compare_operation("orders", operation, now, base_1d, base_7d, policy=POLICY)
    assert row.verdict is verdict
    assert row.regressed_against == against
    assert row.note


def test_change_percent_and_targets():
    row = compare_operation("orders", "GetItem", ws(30.0), ws(5.0), ws(4.0), policy=POLICY)
    assert row.change_1d_percent == 500.0
    assert row.change_7d_percent == 650.0
    assert row.change_percent == 650.0
    assert row.sla_target_ms == 10.0
    assert compare_operation("o", "Query", ws(1), NONE, NONE, policy=POLICY).sla_target_ms == 20
    assert compare_operation("o", "BatchGetItem", ws(1), NONE, NONE, policy=POLICY).sla_target_ms
    assert compare_operation("o", "PutItem", ws(1), NONE, NONE, policy=POLICY).sla_target_ms is None
    assert (
        compare_operation("o", "GetItem", ws(1), NONE, NONE, policy=POLICY).change_percent is None
    )


def test_targets_and_thresholds_are_configurable():
    strict = LatencyPolicy(
        regression_ratio=1.1, regression_floor_ms=0.5, sla_targets_ms={"PutItem": 3.0}
    )
    row = compare_operation("orders", "PutItem", ws(4.0), ws(3.5), NONE, policy=strict)
    assert row.verdict is Verdict.REGRESSION
    row = compare_operation("orders", "PutItem", ws(4.0), ws(3.9), NONE, policy=strict)
    assert row.verdict is Verdict.SLA_BREACH
    assert (
        compare_operation("o", "GetItem", ws(50.0), NONE, NONE, policy=strict).sla_target_ms is None
    )


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
stats = st.builds(
    WindowStats,
    avg_ms=st.one_of(st.none(), st.floats(min_value=0.1, max_value=5_000)),
    max_ms=st.none(),
    samples=st.integers(min_value=0, max_value=100_000),
)


@given(now=stats, base_1d=stats, base_7d=stats, operation=st.sampled_from(OPERATIONS))
def test_operations_without_traffic_are_never_regressions(now, base_1d, base_7d, operation):
    row = compare_operation("t", operation, now, base_1d, base_7d, policy=POLICY)
    if not now.has_traffic:
        assert row.verdict is Verdict.NO_TRAFFIC
    assert (row.verdict is Verdict.NO_TRAFFIC) == (not now.has_traffic)


@given(now=stats, base_1d=stats, base_7d=stats)
def test_a_regression_exceeds_a_baseline_by_the_ratio_and_the_floor(now, base_1d, base_7d):
    row = compare_operation("t", "GetItem", now, base_1d, base_7d, policy=POLICY)
    if row.verdict is Verdict.REGRESSION:
        assert now.avg_ms is not None and now.samples >= POLICY.min_samples
        bases = {"1d": base_1d, "7d": base_7d}
        for label in row.regressed_against:
            base = bases[label]
            assert base.avg_ms is not None and base.samples >= POLICY.min_samples
            assert now.avg_ms >= base.avg_ms * POLICY.regression_ratio
            assert now.avg_ms - base.avg_ms >= POLICY.regression_floor_ms
        assert row.regressed_against


@given(
    now=st.floats(min_value=0.1, max_value=1_000),
    slower=st.floats(min_value=0, max_value=1_000),
    base=stats,
)
def test_slower_never_looks_better(now, slower, base):
    """Raising the current average never turns a regression back into something milder."""
    rank = {Verdict.OK: 0, Verdict.SLA_BREACH: 1, Verdict.REGRESSION: 2}
    fast = compare_operation("t", "GetItem", ws(now), base, base, policy=POLICY)
    slow = compare_operation("t", "GetItem", ws(now + slower), base, base, policy=POLICY)
    assert rank[slow.verdict] >= rank[fast.verdict]


def test_regressed_needs_traffic_on_both_sides():
    assert not regressed(NONE, ws(1.0), POLICY)
    assert not regressed(ws(100.0), NONE, POLICY)
    assert regressed(ws(100.0), ws(1.0), POLICY)


# --------------------------------------------------------------------------------------------
# windows, series, points
# --------------------------------------------------------------------------------------------
def test_windows_end_at_the_minute_and_baselines_are_one_and_seven_days_earlier():
    w = compared_windows(END, timedelta(minutes=15))
    assert w.current_end == datetime(2026, 11, 20, 14, 12, tzinfo=UTC)
    assert w.current_start == datetime(2026, 11, 20, 13, 57, tzinfo=UTC)
    assert w.baseline_1d_start == datetime(2026, 11, 19, 13, 57, tzinfo=UTC)
    assert w.baseline_7d_start == datetime(2026, 11, 13, 13, 57, tzinfo=UTC)
    assert w.window_minutes == 15


@pytest.mark.parametrize(
    "length",
    [timedelta(minutes=7), timedelta(seconds=30), timedelta(hours=5), timedelta(0)],
    ids=["7-min", "30-s", "5-h", "zero"],
)
def test_windows_must_divide_a_day(length):
    with pytest.raises(ValueError, match="divide a day"):
        compared_windows(END, length)


def test_every_operation_has_three_statistics_and_the_causes_six_series():
    wanted = series_for_table("orders")
    assert len(wanted) == len(OPERATIONS) * 3 + 6 == 45
    assert len(set(wanted)) == len(wanted)
    assert Series("orders", "SuccessfulRequestLatency", "SampleCount", "GetItem") in wanted
    assert Series("orders", "ReturnedItemCount", "Average", "Scan") in wanted


def test_value_at_tolerates_half_a_window_of_misalignment():
    start = WINDOWS.current_start
    length = timedelta(minutes=15)
    points = {start + timedelta(minutes=3): 7.0, start - timedelta(days=1): 5.0}
    assert value_at(points, start, length) == 7.0
    assert value_at(points, start - timedelta(days=1), length) == 5.0
    assert value_at(points, start - timedelta(days=7), length) is None
    assert value_at({start + timedelta(minutes=8): 1.0}, start, length) is None


def window_points(table: str, operation: str, *windows: tuple[float, int] | None):
    """(average, samples) per window: now, 1 day earlier, 7 days earlier."""
    starts = (WINDOWS.current_start, WINDOWS.baseline_1d_start, WINDOWS.baseline_7d_start)
    avg, peak, count = latency_series(table, operation)
    found: dict[Series, dict[datetime, float]] = {avg: {}, peak: {}, count: {}}
    for start, window in zip(starts, windows, strict=True):
        if window is not None:
            found[avg][start] = window[0]
            found[peak][start] = window[0] * 4
            found[count][start] = window[1]
    return found


def test_a_single_slow_operation_among_fast_ones():
    points = {
        **window_points("orders", "GetItem", (3.9, 9_000), (3.8, 9_100), (3.7, 8_800)),
        **window_points("orders", "Query", (42.0, 4_000), (6.1, 4_100), (5.9, 3_900)),
        **window_points("orders", "PutItem", (6.0, 2_000), (6.2, 2_100), (5.8, 2_050)),
        **window_points("orders", "UpdateItem", (7.0, 900), (6.8, 950), None),
    }
    rows = compare_table("orders", points, WINDOWS, POLICY)
    verdicts = {row.operation: row.verdict for row in rows}
    assert verdicts == {
        "GetItem": Verdict.OK,
        "Query": Verdict.REGRESSION,
        "PutItem": Verdict.OK,
        "UpdateItem": Verdict.OK,
    }
    query = next(row for row in rows if row.operation == "Query")
    assert query.now == WindowStats(avg_ms=42.0, max_ms=168.0, samples=4_000)
    assert query.regressed_against == ["1d", "7d"]
    assert query.note.endswith("over its 20 ms target")


def test_operations_never_served_are_left_out_unless_the_alarm_names_them():
    points = window_points("orders", "GetItem", (3.9, 9_000), None, None)
    assert [row.operation for row in compare_table("orders", points, WINDOWS, POLICY)] == [
        "GetItem"
    ]
    rows = compare_table("orders", points, WINDOWS, POLICY, always=["Scan"])
    assert {row.operation: row.verdict for row in rows} == {
        "GetItem": Verdict.OK,
        "Scan": Verdict.NO_TRAFFIC,
    }


def test_an_operation_that_stopped_is_no_traffic_not_a_regression():
    points = window_points("orders", "Scan", None, (900.0, 400), (850.0, 420))
    [row] = compare_table("orders", points, WINDOWS, POLICY)
    assert row.verdict is Verdict.NO_TRAFFIC
    assert row.note == "no requests now (420 in a baseline window)"


# --------------------------------------------------------------------------------------------
# likely causes
# --------------------------------------------------------------------------------------------
NOW = WINDOWS.current_end
WINDOW = timedelta(minutes=15)
SECONDS = WINDOW.total_seconds()


def scale_up(minutes_ago: int, *, dry_run: bool = False, action: str = "scale_up") -> Decision:
    return Decision(
        runbook="scale_on_throttle",
        action=action,
        table_name="orders",
        reason="raised",
        dry_run=dry_run,
        rule="provisioned.scale_up",
        before=Capacity(read=100, write=50),
        after=Capacity(read=100, write=60),
        decided_at=NOW - timedelta(minutes=minutes_ago),
    )


CAUSES = [
    pytest.param(
        CauseEvidence("orders", WINDOW, provisioned_table(), read_throttles=12.0),
        {"throttling"},
        id="throttling",
    ),
    pytest.param(
        CauseEvidence(
            "orders", WINDOW, provisioned_table(read=100), consumed_read_units=85 * SECONDS
        ),
        {"capacity_near_provisioned"},
        id="reads-at-85-percent",
    ),
    pytest.param(
        CauseEvidence(
            "orders", WINDOW, provisioned_table(read=100), consumed_read_units=50 * SECONDS
        ),
        set(),
        id="reads-at-50-percent",
    ),
    pytest.param(
        CauseEvidence(
            "clickstream",
            WINDOW,
            on_demand_table(max_read=None, max_write=None),
            consumed_read_units=1e6,
        ),
        set(),
        id="on-demand-without-a-cap",
    ),
    pytest.param(
        CauseEvidence(
            "clickstream",
            WINDOW,
            on_demand_table(max_write=1000),
            consumed_write_units=950 * SECONDS,
        ),
        {"capacity_near_provisioned"},
        id="on-demand-near-its-cap",
    ),
    pytest.param(
        CauseEvidence(
            "orders",
            WINDOW,
            provisioned_table(),
            items_per_request={"Query": 850.0, "Scan": 3.0},
            items_per_request_1d={"Query": 40.0},
        ),
        {"many_items"},
        id="queries-return-many-items",
    ),
    pytest.param(
        CauseEvidence("orders", WINDOW, provisioned_table(status="UPDATING")),
        {"updating"},
        id="table-updating",
    ),
    pytest.param(
        CauseEvidence(
            "orders",
            WINDOW,
            provisioned_table(indexes={"by-customer": (5, 5)}, index_status="UPDATING"),
        ),
        {"updating"},
        id="index-updating",
    ),
    pytest.param(
        CauseEvidence("orders", WINDOW, provisioned_table(), recent_changes=(scale_up(40),)),
        {"recent_change"},
        id="recent-scale-up",
    ),
    pytest.param(CauseEvidence("orders", WINDOW, provisioned_table()), set(), id="none-holds"),
    pytest.param(CauseEvidence("orders", WINDOW, None), set(), id="table-not-described"),
]


@pytest.mark.parametrize(("evidence", "holding"), CAUSES)
def test_likely_causes(evidence, holding):
    causes = likely_causes(evidence, POLICY)
    assert [c.cause for c in causes] == [
        "throttling",
        "capacity_near_provisioned",
        "many_items",
        "updating",
        "recent_change",
    ]
    assert {c.cause for c in causes if c.holds} == holding
    assert all(c.detail and c.table_name == evidence.table_name for c in causes)


def test_cause_details_say_what_was_measured():
    evidence = CauseEvidence(
        "orders",
        WINDOW,
        provisioned_table(read=100, write=50),
        read_throttles=12.0,
        consumed_write_units=45 * SECONDS,
        items_per_request={"Query": 850.0},
        items_per_request_1d={"Query": 40.0},
    )
    details = {c.cause: c.detail for c in likely_causes(evidence, POLICY)}
    assert details["throttling"] == (
        "throttling in the same window: 12 read and 0 write throttle events"
    )
    assert "writes used 90% of 50 provisioned units" in details["capacity_near_provisioned"]
    assert details["many_items"] == (
        "large result sets: Query returned 850 items per request (1 day earlier 40)"
    )


def test_only_real_recent_capacity_changes_count():
    decisions = [
        scale_up(30),
        scale_up(20, dry_run=True),
        scale_up(10, action="skip"),
        scale_up(60 * 30),  # 30 hours ago
        Decision(
            runbook="flag_hot_keys",
            action="hand_off_hot_keys",
            table_name="orders",
            reason="hot",
            decided_at=NOW - timedelta(minutes=5),
        ),
    ]
    found = capacity_changes(decisions, NOW - timedelta(hours=24), NOW)
    assert [d.decided_at for d in found] == [NOW - timedelta(minutes=30)]


# --------------------------------------------------------------------------------------------
# the conclusion
# --------------------------------------------------------------------------------------------
def row(table, operation, now, base_1d, base_7d):
    return compare_operation(table, operation, now, base_1d, base_7d, policy=POLICY)


def test_a_regression_is_the_decision_with_its_causes_and_advice():
    evidence = CauseEvidence("orders", WINDOW, provisioned_table(), read_throttles=12.0)
    report = TableLatency(
        "orders",
        (
            row("orders", "GetItem", ws(31.0), ws(4.0), ws(3.9)),
            row("orders", "PutItem", ws(5.0), ws(5.1), ws(4.9)),
        ),
        tuple(likely_causes(evidence, POLICY)),
    )
    plan = conclude([report], WINDOWS)
    assert plan.action == "latency_regression"
    assert plan.rule == "regression"
    assert plan.severity == "warning"
    assert "GetItem averages 31.0 ms vs 4.0 ms 1 day earlier (+675%)" in plan.reason
    assert "over its 10 ms target" in plan.reason
    assert "[likely: throttling]" in plan.reason
    assert "PutItem" not in plan.reason
    assert plan.next_steps[0].startswith("Throttling in the same window")


@pytest.mark.parametrize(
    ("rows", "rule", "severity"),
    [
        pytest.param(
            [("orders", "GetItem", ws(4.1), ws(4.0), ws(3.9))],
            "within_baselines",
            "info",
            id="steady",
        ),
        pytest.param(
            [("orders", "Query", ws(25.0), ws(24.0), ws(25.0))],
            "sla_breach",
            "warning",
            id="over-target-as-always",
        ),
        pytest.param(
            [("orders", "GetItem", NONE, NONE, NONE)], "no_traffic", "info", id="idle-table"
        ),
    ],
)
def test_no_regression_says_what_was_compared(rows, rule, severity):
    report = TableLatency("orders", tuple(row(*r) for r in rows))
    plan = conclude([report], WINDOWS)
    assert plan.action == "no_regression"
    assert plan.rule == rule
    assert plan.severity == severity
    assert "15-minute window ending 14:12 UTC" in plan.reason
    if rule != "no_traffic":
        assert "same window 1 and 7 days earlier" in plan.reason
        assert "GetItem" in plan.reason or "Query" in plan.reason


def test_the_daily_report_names_tables():
    reports = [
        TableLatency("orders", (row("orders", "GetItem", ws(4.0), ws(4.0), ws(4.0)),)),
        TableLatency("profiles", (row("profiles", "GetItem", ws(14.5), ws(3.8), ws(3.6)),)),
    ]
    plan = conclude(reports, WINDOWS)
    assert plan.action == "latency_regression"
    assert "table profiles: GetItem averages 14.5 ms" in plan.reason
    assert "orders" not in plan.reason
    plan = conclude(reports[:1], WINDOWS)
    assert "table orders" in plan.reason


# --------------------------------------------------------------------------------------------
# the console link
# --------------------------------------------------------------------------------------------
def decode_jsurl(text: str):
    """A small reader of the console's JSURL encoding, to check what the link says."""
    pos = 0

    def value():
        nonlocal pos
        assert text[pos] == "~", text[pos:]
        pos += 1
        if text.startswith("(", pos):
            pos += 1
            if text.startswith("~", pos):  # an array
                items = []
                while text[pos] != ")":
                    items.append(value())
                pos += 1
                return items
            obj = {}
            while text[pos] != ")":
                key = re.match(r"[\w-]+", text[pos:]).group(0)
                pos += len(key)
                obj[key] = value()
                if text[pos] == "~":  # the separator before the next key
                    pos += 1
            pos += 1
            return obj
        if text.startswith("'", pos):
            raw = re.match(r"'([^~)]*)", text[pos:]).group(1)
            pos += len(raw) + 1
            return unquote(raw.replace("*", "%"))
        raw = re.match(r"[^~)]+", text[pos:]).group(0)
        pos += len(raw)
        return {"true": True, "false": False}.get(raw, raw if not raw[0].isdigit() else float(raw))

    result = value()
    assert pos == len(text)
    return result


def test_graph_link_shows_the_operations_latency_over_the_baseline_week():
    url = graph_url("eu-west-1", "orders", ["GetItem", "Query"], WINDOWS)
    prefix = (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#metricsV2:graph="
    )
    assert url.startswith(prefix)
    assert "AWS*2fDynamoDB" in url
    graph = decode_jsurl(url.removeprefix(prefix))
    assert graph["metrics"] == [
        ["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", "orders", "Operation", "GetItem"],
        ["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", "orders", "Operation", "Query"],
    ]
    assert graph["stat"] == "Average"
    assert graph["region"] == "eu-west-1"
    assert graph["period"] == 900
    assert graph["start"] == "2026-11-13T13:57:00.000Z"
    assert graph["end"] == "2026-11-20T14:12:00.000Z"


def test_graph_link_escapes_odd_table_names():
    url = graph_url("us-east-1", "my table~(x)", ["GetItem"], WINDOWS)
    graph = decode_jsurl(url.split("graph=", 1)[1])
    assert graph["metrics"][0][3] == "my table~(x)"


# --------------------------------------------------------------------------------------------
# triggers and the decision model
# --------------------------------------------------------------------------------------------
def test_both_sample_events_parse_to_their_trigger():
    alarm = TRIGGER.validate_python(json.loads((EVENTS / "latency_alarm_getitem.json").read_text()))
    assert isinstance(alarm, AlarmStateChangeEvent)
    assert alarm.detail.configuration.metrics[0].metric_stat.metric.dimensions == {
        "TableName": "profiles",
        "Operation": "GetItem",
    }
    report = TRIGGER.validate_python(json.loads((EVENTS / "latency_daily_report.json").read_text()))
    assert isinstance(report, ScheduledEvent)
    assert report.time == datetime(2026, 11, 21, 7, tzinfo=UTC)
    assert report.idempotency_key.endswith("latency-report@2026-11-21T07:00:00+00:00")


def test_a_schedule_rule_event_is_a_scheduled_event_too():
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-21T07:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/latency-report"],
        "detail": {},
    }
    parsed = TRIGGER.validate_python(event)
    assert isinstance(parsed, ScheduledEvent)
    assert parsed.table_arn("orders") == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({}, id="empty"),
        pytest.param({"detail-type": "Object Created", "source": "aws.s3"}, id="other-event"),
        pytest.param(
            {
                "detail-type": "Scheduled Event",
                "source": "aws.scheduler",
                "account": "1",
                "region": "us-east-1",
                "time": "2026-11-21T07:00:00Z",
            },
            id="bad-account",
        ),
        pytest.param(
            {
                "detail-type": "Scheduled Event",
                "source": "aws.scheduler",
                "account": "123456789012",
                "region": "us-east-1",
            },
            id="no-time",
        ),
        pytest.param(
            {
                "detail-type": "Scheduled Event",
                "source": "custom.app",
                "account": "123456789012",
                "region": "us-east-1",
                "time": "2026-11-21T07:00:00Z",
            },
            id="unknown-source",
        ),
        pytest.param([1, 2], id="a-list"),
        pytest.param("ALARM", id="a-string"),
    ],
)
def test_anything_else_does_not_parse(raw):
    with pytest.raises(ValidationError):
        TRIGGER.validate_python(raw)


def decision(action: str, **fields) -> LatencyDecision:
    return LatencyDecision(
        runbook="report_latency_regression",
        action=action,
        table_name=fields.pop("table_name", "orders"),
        reason="r",
        decided_at=NOW,
        **fields,
    )


@pytest.mark.parametrize(
    ("action", "notified"),
    [
        ("latency_regression", True),
        ("no_regression", False),
        ("fail", True),
        ("skip", False),
    ],
)
def test_only_regressions_and_failures_are_announced(action, notified):
    assert decision(action).notify is notified


def test_record_keys_of_an_alarm_and_of_a_daily_report():
    alarm = decision("no_regression", alarm_name="a", state_timestamp=NOW)
    assert alarm.record_key() == (
        "DECISION#orders",
        f"ALARM#{NOW.isoformat()}#a#report_latency_regression",
    )
    report = decision(
        "latency_regression",
        table_name=None,
        trigger="schedule",
        report_at=NOW,
        tables=["orders", "profiles"],
    )
    assert report.record_key() == ("REPORT#report_latency_regression", f"RUN#{NOW.isoformat()}")


def test_detail_lines_list_the_table_of_operations():
    rows = [
        row("orders", "GetItem", ws(31.0, peak=90.0), ws(4.0), ws(3.9)),
        row("orders", "Scan", NONE, ws(100.0), NONE),
    ]
    lines = decision(
        "latency_regression", operations=rows, windows=WINDOWS, tables=["orders"]
    ).detail_lines()
    text = "\n".join(lines)
    assert "Compared: the 15-minute window 2026-11-20 13:57–14:12 UTC" in text
    assert (
        "  - GetItem: REGRESSION  now 31.0 / 90.0 (1000); 1 day earlier 4.0 / 12.0 (1000) "
        "[+675%]; 7 days earlier 3.9 / 11.7 (1000) [+695%], target 10 ms"
    ) in lines
    assert "No traffic now: Scan" in lines


def test_the_decision_survives_the_decision_table_round_trip():
    original = decision(
        "latency_regression",
        operations=[row("orders", "GetItem", ws(31.0), ws(4.0), ws(3.9))],
        windows=WINDOWS,
        tables=["orders"],
    )
    stored = Decision.model_validate_json(original.model_dump_json())
    back = LatencyDecision.model_validate(stored.model_dump())
    assert back == original
    assert back.as_result()["operations"][0]["verdict"] == "regression"
    assert back.as_result()["operations"][0]["change_percent"] == 694.9


def test_unit_status_builder_sanity():
    # The causes above rely on the builders' index status reaching the model.
    table = provisioned_table(indexes={"i": (1, 1)}, index_status="UPDATING")
    assert table.indexes["i"] == CapacityUnit(
        index_name="i", status="UPDATING", provisioned=Capacity(read=1, write=1)
    )
