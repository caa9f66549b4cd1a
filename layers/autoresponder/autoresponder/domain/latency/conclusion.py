"""The report's conclusion: `latency_regression` or `no_regression`, the reason as people
read it, and the next steps the causes that held suggest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autoresponder.domain.latency.windows import window_words
from autoresponder.models.decision import Severity
from autoresponder.models.latency import (
    ComparedWindows,
    LatencyAction,
    LikelyCause,
    OperationLatency,
    Verdict,
)


@dataclass(frozen=True)
class TableLatency:
    table_name: str
    operations: tuple[OperationLatency, ...]
    causes: tuple[LikelyCause, ...] = ()

    @property
    def regressed(self) -> bool:
        return any(op.verdict is Verdict.REGRESSION for op in self.operations)

    @property
    def breached(self) -> bool:
        return any(op.verdict is Verdict.SLA_BREACH for op in self.operations)


def needs_causes(operations: Sequence[OperationLatency]) -> bool:
    return any(op.verdict in {Verdict.REGRESSION, Verdict.SLA_BREACH} for op in operations)


@dataclass(frozen=True)
class LatencyPlan:
    action: str
    rule: str
    reason: str
    severity: Severity = Severity.INFO
    next_steps: tuple[str, ...] = ()


def conclude(tables: Sequence[TableLatency], windows: ComparedWindows) -> LatencyPlan:
    """`latency_regression` when any operation regressed, else `no_regression` (with what was
    compared)."""
    compared = f"the {window_words(windows)} window ending {windows.current_end:%H:%M} UTC"
    several = len(tables) > 1
    regressed = [t for t in tables if t.regressed]
    if regressed:
        parts = [_regression_text(t) for t in regressed]
        return LatencyPlan(
            LatencyAction.LATENCY_REGRESSION,
            "regression",
            f"latency regressed in {compared}: " + "; ".join(parts),
            Severity.WARNING,
            _next_steps(regressed),
        )
    rows = [op for t in tables for op in t.operations]
    served = [op for op in rows if op.verdict is not Verdict.NO_TRAFFIC]
    breached = [op for op in rows if op.verdict is Verdict.SLA_BREACH]
    scope = (
        f"{len(tables)} tables"
        if several
        else f"table {tables[0].table_name}"
        if tables
        else "no table"
    )
    if not served:
        return LatencyPlan(
            LatencyAction.NO_REGRESSION,
            "no_traffic",
            f"no regression: {scope} served no requests in {compared} or its baselines",
        )
    summary = ", ".join(_summary(op, several) for op in served[:8])
    more = f" and {len(served) - 8} more" if len(served) > 8 else ""
    reason = (
        f"no regression: compared {compared} of {scope} with the same window 1 and 7 days "
        f"earlier for {len(served)} operation(s): {summary}{more}"
    )
    if breached:
        names = ", ".join(_label(op, several) for op in breached)
        return LatencyPlan(
            LatencyAction.NO_REGRESSION,
            "sla_breach",
            f"{reason}; over target but no slower than before: {names}",
            Severity.WARNING,
            ("Latency is over target and has been for a while: review the access patterns",),
        )
    return LatencyPlan(LatencyAction.NO_REGRESSION, "within_baselines", reason)


def _label(op: OperationLatency, several: bool) -> str:
    return f"{op.table_name}/{op.operation}" if several else op.operation


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _summary(op: OperationLatency, several: bool) -> str:
    return (
        f"{_label(op, several)} {_ms(op.now.avg_ms)} "
        f"(1 day earlier {_ms(op.baseline_1d.avg_ms)}, 7 days earlier {_ms(op.baseline_7d.avg_ms)})"
    )


def _regression_text(table: TableLatency) -> str:
    ops = []
    for op in table.operations:
        if op.verdict is not Verdict.REGRESSION:
            continue
        against = []
        if op.baseline_1d.has_traffic:
            against.append(
                f"{_ms(op.baseline_1d.avg_ms)} 1 day earlier ({op.change_1d_percent:+.0f}%)"
            )
        if op.baseline_7d.has_traffic:
            against.append(
                f"{_ms(op.baseline_7d.avg_ms)} 7 days earlier ({op.change_7d_percent:+.0f}%)"
            )
        target = (
            f", over its {op.sla_target_ms:g} ms target"
            if op.sla_target_ms is not None
            and op.now.avg_ms is not None
            and op.now.avg_ms > op.sla_target_ms
            else ""
        )
        ops.append(
            f"{op.operation} averages {_ms(op.now.avg_ms)} vs {' and '.join(against)}{target}"
        )
    held = [c.cause.replace("_", " ") for c in table.causes if c.holds]
    causes = f" [likely: {', '.join(held)}]" if held else " [none of the usual causes holds]"
    return f"table {table.table_name}: " + "; ".join(ops) + (causes if table.causes else "")


_ADVICE = {
    "throttling": "Throttling in the same window: read the scale_on_throttle decisions for "
    "this table (capacity or a hot partition)",
    "capacity_near_provisioned": "Consumed capacity is near the limit: raise capacity or "
    "enable Auto Scaling before it throttles",
    "many_items": "Queries or scans return many items: add Limit, narrow the key condition, "
    "project fewer attributes, replace Scans with Queries on an index",
    "updating": "The table or an index is UPDATING: latency often recovers when it is ACTIVE",
    "recent_change": "A recent capacity change by this responder coincides: check it in the "
    "decision table",
}


def _next_steps(tables: Sequence[TableLatency]) -> tuple[str, ...]:
    held = {c.cause for t in tables for c in t.causes if c.holds}
    steps = [_ADVICE[cause] for cause in _ADVICE if cause in held]
    steps.append("Analyze the slow operations: item counts, Scan use, item sizes, hot keys")
    return tuple(steps)
