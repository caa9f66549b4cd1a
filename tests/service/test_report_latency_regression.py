"""The report_latency_regression use case with in-memory ports (no AWS)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autoresponder.domain.latency.policy import LatencyPolicy
from autoresponder.domain.latency.windows import compared_windows, latency_series
from autoresponder.errors import (
    AccessDeniedError,
    AutoresponderError,
    AwsThrottledError,
    ResourceNotFoundError,
)
from autoresponder.models.decision import Decision
from autoresponder.models.latency import LatencyDecision
from autoresponder.models.metrics import Series
from autoresponder.models.table import Capacity
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.report_latency_regression import (
    LatencyRunbookConfig,
    ReportLatencyRegression,
)
from local.memory_decision_table import InMemoryDecisionTable
from tests.builders import alarm_event, cw_time, provisioned_table
from tests.fakes import FakeTables, FixedClock, RecordingNotifier, deliver

EVENTS = Path(__file__).resolve().parents[2] / "events"
MANAGED = {"autoresponder:managed": "true"}
STATE_TIME = datetime(2026, 11, 20, 14, 12, 41, 129000, tzinfo=UTC)
REPORT_TIME = datetime(2026, 11, 21, 7, tzinfo=UTC)
ALARM_WINDOWS = compared_windows(STATE_TIME, timedelta(minutes=15))
REPORT_WINDOWS = compared_windows(REPORT_TIME, timedelta(hours=24))


# --------------------------------------------------------------------------------------------
# fakes of the runbook's own ports
# --------------------------------------------------------------------------------------------
@dataclass
class FakeCatalog(FakeTables):
    """FakeTables that can also list the account's tables; `gone` vanish before DescribeTable."""

    gone: set[str] = field(default_factory=set)

    def list_table_names(self) -> list[str]:
        return sorted(self.tables)

    def describe(self, table_name: str):
        if table_name in self.gone or (
            table_name not in self.tables and self.describe_error is None
        ):
            raise ResourceNotFoundError("DescribeTable failed", table=table_name)
        return super().describe(table_name)


@dataclass
class FakeLatencyMetrics:
    points: dict[Series, dict[datetime, float]] = field(default_factory=dict)
    reads: list[tuple[int, datetime, datetime, timedelta]] = field(default_factory=list)
    error: AutoresponderError | None = None

    def read(
        self, wanted: Sequence[Series], start: datetime, end: datetime, period: timedelta
    ) -> Mapping[Series, Mapping[datetime, float]]:
        self.reads.append((len(wanted), start, end, period))
        if self.error is not None:
            raise self.error
        return {s: self.points.get(s, {}) for s in wanted}

    def seed(self, table: str, operation: str, windows, *stats: tuple[float, int] | None) -> None:
        """(average, samples) for now, 1 day earlier, 7 days earlier (None: no data)."""
        starts = (windows.current_start, windows.baseline_1d_start, windows.baseline_7d_start)
        avg, peak, count = latency_series(table, operation)
        for start, value in zip(starts, stats, strict=True):
            if value is not None:
                self.points.setdefault(avg, {})[start] = value[0]
                self.points.setdefault(peak, {})[start] = value[0] * 3
                self.points.setdefault(count, {})[start] = value[1]

    def put(self, series: Series, start: datetime, value: float) -> None:
        self.points.setdefault(series, {})[start] = value


@dataclass
class FakeHistory:
    decisions: dict[str, list[Decision]] = field(default_factory=dict)
    asked: list[tuple[str, datetime]] = field(default_factory=list)

    def decisions_since(self, table_name: str, since: datetime) -> list[Decision]:
        self.asked.append((table_name, since))
        return [d for d in self.decisions.get(table_name, []) if d.decided_at >= since]


@dataclass
class Runbook:
    service: ReportLatencyRegression
    tables: FakeCatalog
    metrics: FakeLatencyMetrics
    history: FakeHistory
    store: InMemoryDecisionTable
    notifier: RecordingNotifier
    recorder: DecisionRecorder
    clock: FixedClock

    def handle(self, raw: object) -> Decision:
        """Deliver `raw` as the function does (the runner the handler uses)."""
        return deliver(self.service, raw, self.recorder, self.clock)


@pytest.fixture
def runbook() -> Runbook:
    tables = FakeCatalog()
    tables.add(provisioned_table("profiles", 200, 100), MANAGED)
    tables.add(provisioned_table("orders", 100, 50), MANAGED)
    tables.add(provisioned_table("legacy", 10, 10))
    metrics = FakeLatencyMetrics()
    history = FakeHistory()
    store = InMemoryDecisionTable()
    notifier = RecordingNotifier()
    clock = FixedClock(STATE_TIME + timedelta(seconds=3))
    recorder = DecisionRecorder(store, notifier, "us-east-1")
    service = ReportLatencyRegression(
        tables=tables,
        metrics=metrics,
        history=history,
        recorder=recorder,
        clock=clock,
        config=LatencyRunbookConfig(policy=LatencyPolicy()),
    )
    return Runbook(service, tables, metrics, history, store, notifier, recorder, clock)


def latency_alarm(table: str = "profiles", operation: str = "GetItem", state: str = "ALARM"):
    event = alarm_event(
        "SuccessfulRequestLatency",
        table,
        operation=operation,
        state=state,
        alarm_name=f"autoresponder-{table}-latency-{operation}",
        datapoints=[14.4, 14.8],
    )
    event["detail"]["state"]["timestamp"] = cw_time(STATE_TIME)
    return event


def daily_report() -> dict:
    return json.loads((EVENTS / "latency_daily_report.json").read_text())


# --------------------------------------------------------------------------------------------
# the alarm
# --------------------------------------------------------------------------------------------
def test_alarm_on_a_regressed_operation_reports_it_with_causes_and_a_graph(runbook):
    runbook.metrics.seed("profiles", "GetItem", ALARM_WINDOWS, (14.5, 21_000), (3.8, 20_500),
                         (3.6, 19_800))  # fmt: skip
    runbook.metrics.seed("profiles", "PutItem", ALARM_WINDOWS, (6.0, 3_000), (6.1, 3_100),
                         (5.9, 2_900))  # fmt: skip
    runbook.metrics.put(
        Series("profiles", "ConsumedWriteCapacityUnits", "Sum"),
        ALARM_WINDOWS.current_start,
        95 * 900,  # 95 of 100 write units per second
    )
    decision = runbook.handle(latency_alarm())

    assert isinstance(decision, LatencyDecision)
    assert decision.action == "latency_regression"
    assert decision.table_name == "profiles"
    verdicts = {op.operation: op.verdict for op in decision.operations}
    assert verdicts == {"GetItem": "regression", "PutItem": "ok"}
    held = {c.cause for c in decision.causes if c.holds}
    assert held == {"capacity_near_provisioned"}
    assert "GetItem averages 14.5 ms vs 3.8 ms 1 day earlier (+282%)" in decision.reason
    # one read: 45 series from the 7-day baseline to the end of the window, period = window
    assert runbook.metrics.reads == [
        (45, ALARM_WINDOWS.baseline_7d_start, ALARM_WINDOWS.current_end, timedelta(minutes=15))
    ]
    [note] = runbook.notifier.sent
    assert note.subject == "latency regression: profiles"
    assert "Compared: the 15-minute window 2026-11-20 13:57–14:12 UTC" in note.email
    assert "GetItem: REGRESSION  now 14.5 / 43.5 (21000)" in note.email
    assert "[holds] profiles: consumed capacity near provisioned" in note.email
    assert "Latency graph of profiles: https://us-east-1.console.aws.amazon.com/cloudwatch/" in (
        note.email
    )
    assert any("metricsV2:graph=" in step for step in note.chat["content"]["nextSteps"])
    [(recorded, notified, _)] = runbook.store.records.values()
    assert notified is True
    assert recorded.record_key()[1].startswith("ALARM#2026-11-20T14:12:41.129000+00:00#")


def test_alarm_without_a_regression_is_recorded_not_announced(runbook):
    runbook.metrics.seed("profiles", "GetItem", ALARM_WINDOWS, (4.0, 21_000), (3.8, 20_500),
                         (3.6, 19_800))  # fmt: skip
    decision = runbook.handle(latency_alarm())
    assert decision.action == "no_regression"
    assert decision.rule == "within_baselines"
    assert "compared the 15-minute window ending 14:12 UTC of table profiles" in decision.reason
    assert "GetItem 4.0 ms (1 day earlier 3.8 ms, 7 days earlier 3.6 ms)" in decision.reason
    assert runbook.notifier.sent == []
    [(_, notified, _)] = runbook.store.records.values()
    assert notified is False
    # the alarm fired: the causes are checked even without a regression
    assert len(decision.causes) == 5


def test_alarm_operation_without_traffic_is_no_traffic(runbook):
    decision = runbook.handle(latency_alarm(operation="Scan"))
    assert decision.action == "no_regression"
    assert decision.rule == "no_traffic"
    assert [(op.operation, op.verdict) for op in decision.operations] == [("Scan", "no_traffic")]


def test_a_gradual_drift_only_the_week_shows_is_a_regression(runbook):
    runbook.metrics.seed("profiles", "Query", ALARM_WINDOWS, (9.5, 8_000), (8.9, 8_100),
                         (4.2, 7_900))  # fmt: skip
    decision = runbook.handle(latency_alarm(operation="Query"))
    assert decision.action == "latency_regression"
    [op] = decision.operations
    assert op.regressed_against == ["7d"]
    assert "4.2 ms 7 days earlier (+126%)" in decision.reason


def test_a_recent_scale_up_by_the_responder_is_a_likely_cause(runbook):
    runbook.metrics.seed("profiles", "GetItem", ALARM_WINDOWS, (14.5, 21_000), (3.8, 20_500),
                         None)  # fmt: skip
    scaled = Decision(
        runbook="scale_on_throttle",
        action="scale_up",
        table_name="profiles",
        reason="r",
        rule="provisioned.scale_up",
        before=Capacity(read=200, write=80),
        after=Capacity(read=200, write=100),
        decided_at=STATE_TIME - timedelta(hours=2),
    )
    runbook.history.decisions["profiles"] = [scaled]
    decision = runbook.handle(latency_alarm())
    [recent] = [c for c in decision.causes if c.cause == "recent_change"]
    assert recent.holds
    assert "scale_up at 2026-11-20 12:12 UTC" in recent.detail
    assert runbook.history.asked == [("profiles", ALARM_WINDOWS.current_end - timedelta(hours=24))]


@pytest.mark.parametrize(
    ("event", "rule"),
    [
        pytest.param(latency_alarm(state="OK"), "not_alarm", id="back-to-ok"),
        pytest.param(alarm_event("ReadThrottleEvents", "profiles"), "not_latency", id="throttle"),
        pytest.param(latency_alarm(table="dropped"), "not_found", id="table-gone"),
    ],
)
def test_alarms_with_nothing_to_compare_are_skipped(runbook, event, rule):
    decision = runbook.handle(event)
    assert decision.action == "skip"
    assert decision.rule == rule
    assert runbook.notifier.sent == []


def test_permanent_errors_are_a_notified_failure(runbook):
    runbook.metrics.error = AccessDeniedError("GetMetricData failed: AccessDenied")
    decision = runbook.handle(latency_alarm())
    assert decision.action == "fail"
    assert decision.rule == "error.AccessDeniedError"
    assert decision.severity == "critical"
    assert len(runbook.notifier.sent) == 1


def test_transient_errors_propagate_so_lambda_retries(runbook):
    runbook.metrics.error = AwsThrottledError("GetMetricData failed: Throttling")
    with pytest.raises(AwsThrottledError):
        runbook.handle(latency_alarm())
    assert runbook.store.records == {}


def test_a_retry_after_a_failed_notification_announces_once_without_reading_again(runbook):
    runbook.metrics.seed("profiles", "GetItem", ALARM_WINDOWS, (14.5, 21_000), (3.8, 20_500),
                         None)  # fmt: skip
    runbook.notifier.fail_next = AwsThrottledError("Publish failed")
    with pytest.raises(AwsThrottledError):
        runbook.handle(latency_alarm())
    again = runbook.handle(latency_alarm())
    assert again.action == "latency_regression"
    assert isinstance(again, LatencyDecision)
    assert len(runbook.metrics.reads) == 1
    [note] = runbook.notifier.sent
    assert "GetItem: REGRESSION" in note.email
    [(_, notified, _)] = runbook.store.records.values()
    assert notified is True


def test_a_resumed_no_regression_is_not_announced(runbook):
    first = runbook.handle(latency_alarm())
    assert first.action == "no_regression"
    again = runbook.handle(latency_alarm())
    assert again.action == "no_regression"
    assert runbook.notifier.sent == []


def test_malformed_input_is_a_recorded_reject(runbook):
    decision = runbook.handle({"detail-type": "Scheduled Event", "source": "aws.events"})
    assert decision.action == "reject"
    assert "not a well-formed CloudWatch alarm state change or scheduled event" in decision.reason
    [(_, _, raw)] = runbook.store.records.values()
    assert raw == {"detail-type": "Scheduled Event", "source": "aws.events"}


# --------------------------------------------------------------------------------------------
# the daily report
# --------------------------------------------------------------------------------------------
def test_daily_report_covers_every_managed_table_in_one_decision(runbook):
    m = runbook.metrics
    m.seed("profiles", "GetItem", REPORT_WINDOWS, (9.0, 2_000_000), (3.9, 1_900_000),
           (3.7, 1_950_000))  # fmt: skip
    m.seed("orders", "Query", REPORT_WINDOWS, (12.0, 500_000), (11.8, 510_000),
           (12.1, 490_000))  # fmt: skip
    m.seed("legacy", "GetItem", REPORT_WINDOWS, (90.0, 1_000), (3.0, 1_000), None)
    m.put(Series("profiles", "ReadThrottleEvents", "Sum"), REPORT_WINDOWS.current_start, 310)

    decision = runbook.handle(daily_report())

    assert isinstance(decision, LatencyDecision)
    assert decision.action == "latency_regression"
    assert decision.trigger == "schedule"
    assert decision.table_name is None
    assert decision.tables == ["orders", "profiles"]  # legacy is not managed
    assert {(op.table_name, op.operation, op.verdict) for op in decision.operations} == {
        ("profiles", "GetItem", "regression"),
        ("orders", "Query", "ok"),
    }
    # causes only for the table that regressed
    assert {c.table_name for c in decision.causes} == {"profiles"}
    assert [c.cause for c in decision.causes if c.holds] == ["throttling"]
    assert "table profiles: GetItem averages 9.0 ms" in decision.reason
    # one read for every table: 2 x 45 series over 24-hour periods
    assert runbook.metrics.reads == [
        (90, REPORT_WINDOWS.baseline_7d_start, REPORT_WINDOWS.current_end, timedelta(hours=24))
    ]
    [note] = runbook.notifier.sent
    assert note.subject == "latency regression: daily report, 2 managed tables (profiles)"
    assert "Compared: the 24-hour window 2026-11-20 07:00–2026-11-21 07:00 UTC" in note.email
    assert "profiles/GetItem: REGRESSION" in note.email
    assert "orders/Query: OK" in note.email
    assert "Latency graph of profiles" in note.email
    assert "Latency graph of orders" not in note.email
    [(key, (_, notified, _))] = runbook.store.records.items()
    assert key == ("REPORT#report_latency_regression", "RUN#2026-11-21T07:00:00+00:00")
    assert notified is True


def test_daily_report_without_regressions_is_routine(runbook):
    runbook.metrics.seed("orders", "Query", REPORT_WINDOWS, (12.0, 500_000), (11.8, 510_000),
                         (12.1, 490_000))  # fmt: skip
    decision = runbook.handle(daily_report())
    assert decision.action == "no_regression"
    assert "of 2 tables with the same window 1 and 7 days earlier" in decision.reason
    assert "orders/Query 12.0 ms" in decision.reason
    assert runbook.notifier.sent == []
    assert decision.causes == []


def test_daily_report_leaves_out_tables_deleted_meanwhile(runbook):
    runbook.tables.gone.add("orders")
    decision = runbook.handle(daily_report())
    assert decision.tables == ["profiles"]


def test_daily_report_without_managed_tables(runbook):
    runbook.tables.tags_by_table = {}
    decision = runbook.handle(daily_report())
    assert decision.action == "no_regression"
    assert decision.rule == "no_managed_tables"
    assert runbook.metrics.reads == []


def test_the_same_scheduled_run_twice_reports_once(runbook):
    runbook.metrics.seed("profiles", "GetItem", REPORT_WINDOWS, (9.0, 2_000_000), (3.9, 1_900_000),
                         None)  # fmt: skip
    first = runbook.handle(daily_report())
    second = runbook.handle(daily_report())
    assert second == first
    assert len(runbook.notifier.sent) == 1
    assert len(runbook.metrics.reads) == 1
