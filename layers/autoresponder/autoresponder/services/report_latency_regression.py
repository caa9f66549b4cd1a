"""report_latency_regression: read → compare → look for causes → record → notify.

Two triggers: an alarm on `SuccessfulRequestLatency` entering ALARM (one table), and the daily
schedule (one report over every managed table, so regressions that never crossed an alarm
threshold still surface). The runbook changes nothing: it reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple, override

from autoresponder.domain.alarm_target import DYNAMODB_NAMESPACE, Unresolved, resolve_target
from autoresponder.domain.latency.causes import capacity_changes, cause_evidence, likely_causes
from autoresponder.domain.latency.comparison import compare_table
from autoresponder.domain.latency.conclusion import (
    LatencyPlan,
    TableLatency,
    conclude,
    needs_causes,
)
from autoresponder.domain.latency.graph import graph_url
from autoresponder.domain.latency.policy import LatencyPolicy
from autoresponder.domain.latency.windows import (
    LATENCY_METRIC,
    compared_windows,
    series_for_table,
    window_length,
)
from autoresponder.errors import PermanentError, ResourceNotFoundError
from autoresponder.models.alarm import AlarmStateChangeEvent, AlarmStateValue
from autoresponder.models.decision import Action, Decision, Severity, decision_key
from autoresponder.models.latency import (
    RUNBOOK,
    TRIGGER,
    ComparedWindows,
    LatencyAction,
    LatencyDecision,
    OperationLatency,
    ScheduledEvent,
    Verdict,
    report_key,
)
from autoresponder.models.metrics import Points
from autoresponder.models.table import TableDescription, TablePolicy
from autoresponder.observability import logger
from autoresponder.services.decisions import Outcome, build_decision
from autoresponder.services.ports import (
    Clock,
    LatencyMetricsReader,
    RecentDecisions,
    TableCatalog,
)
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import Origin
from autoresponder.services.runbook import Runbook


@dataclass(frozen=True)
class LatencyRunbookConfig:
    policy: LatencyPolicy
    alarm_window: timedelta = timedelta(minutes=15)
    report_window: timedelta = timedelta(hours=24)
    dry_run: bool = False


EXPECTED_EVENTS = "a well-formed CloudWatch alarm state change or scheduled event"


class Compared(NamedTuple):
    """What the comparison read: each table's operations and causes, over which windows."""

    tables: tuple[TableLatency, ...] = ()
    windows: ComparedWindows | None = None


LatencyOutcome = Outcome[LatencyPlan, Compared]


class ReportLatencyRegression(Runbook[AlarmStateChangeEvent | ScheduledEvent]):
    """The latency runbook's use case. Ports are passed in; the handler builds the real ones."""

    name = RUNBOOK
    expected = EXPECTED_EVENTS

    def __init__(
        self,
        *,
        tables: TableCatalog,
        metrics: LatencyMetricsReader,
        history: RecentDecisions,
        recorder: DecisionRecorder,
        clock: Clock,
        config: LatencyRunbookConfig,
    ) -> None:
        self._tables = tables
        self._metrics = metrics
        self._history = history
        self._recorder = recorder
        self._clock = clock
        self._config = config

    @staticmethod
    def parse(raw: object) -> AlarmStateChangeEvent | ScheduledEvent:
        """Either trigger: an alarm state change or the daily schedule."""
        return TRIGGER.validate_python(raw)

    @override
    def respond(self, event: AlarmStateChangeEvent | ScheduledEvent, origin: Origin) -> Decision:
        if isinstance(event, ScheduledEvent):
            return self.report(event)
        return self.on_alarm(event)

    # -- the alarm ---------------------------------------------------------------------------

    def on_alarm(self, event: AlarmStateChangeEvent) -> Decision:
        detail = event.detail
        if detail.state.value is not AlarmStateValue.ALARM:
            plan = _skip("not_alarm", f"alarm {detail.alarm_name} went to {detail.state.value}")
            return self._finish_alarm(event, None, Outcome(plan))
        latency = [
            m.metric_stat.metric
            for m in detail.configuration.metrics
            if m.metric_stat is not None
            and m.metric_stat.metric.namespace == DYNAMODB_NAMESPACE
            and m.metric_stat.metric.name == LATENCY_METRIC
        ]
        if not latency:
            plan = _skip("not_latency", f"the alarm does not watch {LATENCY_METRIC}")
            return self._finish_alarm(event, None, Outcome(plan))
        target = resolve_target(detail.configuration.metrics)
        if isinstance(target, Unresolved):
            return self._finish_alarm(event, None, Outcome(_skip("unresolved", target.reason)))
        table_name = target.table_name
        key = decision_key(table_name, RUNBOOK, event.alarm_name, detail.state.timestamp)
        if key is not None:
            previous = self._recorder.resume(key, LatencyDecision)
            if previous is not None:
                return previous
        operations = sorted(
            {m.dimensions["Operation"] for m in latency if "Operation" in m.dimensions}
        )
        try:
            table = self._tables.describe(table_name)
            windows = compared_windows(detail.state.timestamp, self._config.alarm_window)
            points = self._read(windows, [table_name])
            report = self._table_report(
                table_name, table, points, windows, always=operations, with_causes=True
            )
        except ResourceNotFoundError as exc:
            plan = _skip("not_found", f"table {table_name} does not exist ({exc})")
            return self._finish_alarm(event, table_name, Outcome(plan))
        except PermanentError as exc:
            return self._finish_alarm(event, table_name, Outcome(_fail(table_name, exc)))
        outcome = Outcome(conclude([report], windows), Compared((report,), windows))
        return self._finish_alarm(event, table_name, outcome)

    # -- the daily report --------------------------------------------------------------------

    def report(self, event: ScheduledEvent) -> Decision:
        previous = self._recorder.resume(report_key(event.time), LatencyDecision)
        if previous is not None:
            return previous
        try:
            managed = self._managed_tables(event)
            windows = compared_windows(event.time, self._config.report_window)
            points = self._read(windows, list(managed))
            reports = tuple(
                self._table_report(name, table, points, windows) for name, table in managed.items()
            )
        except PermanentError as exc:
            return self._finish_report(event, Outcome(_fail(None, exc)))
        if not reports:
            plan = LatencyPlan(
                LatencyAction.NO_REGRESSION,
                "no_managed_tables",
                "no table is tagged autoresponder:managed=true: nothing to report on",
            )
            return self._finish_report(event, Outcome(plan, Compared(windows=windows)))
        outcome = Outcome(conclude(reports, windows), Compared(reports, windows))
        return self._finish_report(event, outcome)

    def _managed_tables(self, event: ScheduledEvent) -> dict[str, TableDescription]:
        """Tables tagged `autoresponder:managed=true`, described (tables deleted meanwhile are
        left out)."""
        managed: dict[str, TableDescription] = {}
        for name in sorted(self._tables.list_table_names()):
            try:
                tags = self._tables.tags(event.table_arn(name))
                if TablePolicy.from_tags(tags).managed:
                    managed[name] = self._tables.describe(name)
            except ResourceNotFoundError:
                logger.info("table gone before the report read it", table=name)
        return managed

    # -- shared steps ------------------------------------------------------------------------

    def _read(self, windows: ComparedWindows, tables: Sequence[str]) -> Points:
        wanted = [s for name in tables for s in series_for_table(name)]
        if not wanted:
            return {}
        points = self._metrics.read(
            wanted, windows.baseline_7d_start, windows.current_end, window_length(windows)
        )
        logger.info("latency metrics read", tables=len(tables), series=len(wanted))
        return points

    def _table_report(
        self,
        table_name: str,
        table: TableDescription,
        points: Points,
        windows: ComparedWindows,
        *,
        always: Sequence[str] = (),
        with_causes: bool = False,
    ) -> TableLatency:
        policy = self._config.policy
        operations = compare_table(table_name, points, windows, policy, always)
        if not (with_causes or needs_causes(operations)):
            return TableLatency(table_name, tuple(operations))
        # A change made while the alarm was firing (up to a window after it) counts too.
        since = windows.current_end - max(policy.recent_change, window_length(windows))
        until = windows.current_end + window_length(windows)
        recent = capacity_changes(self._history.decisions_since(table_name, since), since, until)
        evidence = cause_evidence(table_name, points, windows, table, recent)
        return TableLatency(table_name, tuple(operations), tuple(likely_causes(evidence, policy)))

    def _fields(self, outcome: LatencyOutcome, region: str) -> dict[str, Any]:
        """The decision fields both triggers share, beside the plan's and the delivery's."""
        tables, windows = outcome.found or Compared()
        urls = {
            t.table_name: graph_url(region, t.table_name, _graphed(t.operations), windows)
            for t in tables
            if windows is not None
        }
        # The notification links the graph of every table it is about: the alarm's table, or
        # the tables of the daily report that regressed or breached a target.
        linked = [t.table_name for t in tables if len(tables) == 1 or t.regressed or t.breached]
        return {
            "dry_run": self._config.dry_run,
            "operations": [op for t in tables for op in t.operations],
            "causes": [c for t in tables for c in t.causes],
            "windows": windows,
            "tables": [t.table_name for t in tables],
            "graph_urls": urls,
            "graph_links": linked,
            "inputs": _inputs(tables, windows, self._config.policy),
            "decided_at": self._clock.now(),
        }

    def _finish_alarm(
        self, event: AlarmStateChangeEvent, table_name: str | None, outcome: LatencyOutcome
    ) -> Decision:
        decision = build_decision(
            LatencyDecision,
            RUNBOOK,
            event,
            outcome.plan,
            table_name=table_name,
            trigger="alarm",
            **self._fields(outcome, event.region),
        )
        return self._recorder.finish(decision)

    def _finish_report(self, event: ScheduledEvent, outcome: LatencyOutcome) -> Decision:
        decision = build_decision(
            LatencyDecision,
            RUNBOOK,
            event,
            outcome.plan,
            table_name=None,
            trigger="schedule",
            report_at=event.time,
            **self._fields(outcome, event.region),
        )
        return self._recorder.finish(decision)


def _graphed(operations: Sequence[OperationLatency]) -> list[str]:
    """Regressed operations first, then the others that had traffic now."""
    order = {Verdict.REGRESSION: 0, Verdict.SLA_BREACH: 1, Verdict.OK: 2}
    served = [op for op in operations if op.verdict in order]
    return [op.operation for op in sorted(served, key=lambda op: order[op.verdict])]


def _skip(rule: str, reason: str) -> LatencyPlan:
    return LatencyPlan(Action.SKIP, rule, f"{reason}: nothing to compare")


def _fail(table_name: str | None, error: PermanentError) -> LatencyPlan:
    where = f"table {table_name}" if table_name else "the managed tables"
    return LatencyPlan(
        Action.FAIL,
        f"error.{type(error).__name__}",
        f"could not read the latency of {where}: {error}",
        Severity.CRITICAL,
        (
            "Check the function role allows cloudwatch:GetMetricData, dynamodb:ListTables, "
            "DescribeTable and ListTagsOfResource",
        ),
    )


def _inputs(
    tables: Sequence[TableLatency], windows: ComparedWindows | None, policy: LatencyPolicy
) -> dict[str, Any]:
    return {
        "window_minutes": windows.window_minutes if windows else None,
        "regression_ratio": policy.regression_ratio,
        "regression_floor_ms": policy.regression_floor_ms,
        "min_samples": policy.min_samples,
        "sla_targets_ms": dict(policy.sla_targets_ms),
        "tables_compared": len(tables),
        "operations_compared": sum(
            1 for t in tables for op in t.operations if op.verdict is not Verdict.NO_TRAFFIC
        ),
    }
