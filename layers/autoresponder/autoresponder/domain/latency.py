"""Where latency gets judged: the pure comparison of the report_latency_regression runbook.

Per operation of a table, the current window's `SuccessfulRequestLatency` average is compared
with the same window one day and seven days earlier (a regression needs a ratio AND an absolute
floor, with enough samples on both sides) and with the operation's SLA target. For tables that
regressed, the usual causes are checked against the same window: throttling, consumed capacity
near provisioned, queries and scans returning many items, an UPDATING table or index, and a
recent capacity change by this responder.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.models.latency import (
    BaselineLabel,
    ComparedWindows,
    LatencyAction,
    LikelyCause,
    OperationLatency,
    Verdict,
    WindowStats,
)
from autoresponder.models.metrics import NAMESPACE, Points, Series
from autoresponder.models.table import TableDescription

LATENCY_METRIC = "SuccessfulRequestLatency"
DAY = timedelta(days=1)
WEEK = timedelta(days=7)

OPERATIONS = (
    "GetItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
)
"""Operations DynamoDB publishes `SuccessfulRequestLatency` for (`Operation` dimension)."""

ITEM_COUNT_OPERATIONS = ("Query", "Scan")
"""`ReturnedItemCount` is published for these."""

DEFAULT_SLA_MS: Mapping[str, float] = {
    "GetItem": 10.0,
    "Query": 20.0,
    "BatchGetItem": 100.0,
    "BatchWriteItem": 100.0,
}
"""Average latency targets of the performance guide this product grew out of."""


@dataclass(frozen=True)
class LatencyPolicy:
    regression_ratio: float = 1.5
    """A regression: the current average is at least this multiple of a baseline's ..."""
    regression_floor_ms: float = 3.0
    """... and at least this many milliseconds above it."""
    min_samples: int = 50
    """Requests needed in the current window and in a baseline to compare them."""
    sla_min_samples: int = 10
    """Requests needed in the current window to call an average over target a breach."""
    sla_targets_ms: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_MS))
    capacity_near_percent: float = 80.0
    """Consumed capacity at or above this share of provisioned counts as near."""
    many_items_per_request: float = 100.0
    """A Query or Scan returning at least this many items per request on average."""
    recent_change: timedelta = timedelta(hours=24)
    """How far back a capacity change by this responder counts as recent."""


# --------------------------------------------------------------------------------------------
# windows and series
# --------------------------------------------------------------------------------------------
def compared_windows(end: datetime, length: timedelta) -> ComparedWindows:
    """The current window ending at `end` (to the minute) and its 1-day and 7-day baselines.

    `length` must divide a day, so that all three windows fall on buckets of one GetMetricData
    query whose period is the window and whose range starts at the 7-day baseline.
    """
    if length < timedelta(minutes=1) or DAY % length:
        raise ValueError(f"the window ({length}) must be whole minutes that divide a day")
    end = end.replace(second=0, microsecond=0)
    start = end - length
    return ComparedWindows(
        window_minutes=int(length.total_seconds() // 60),
        current_start=start,
        current_end=end,
        baseline_1d_start=start - DAY,
        baseline_7d_start=start - WEEK,
    )


def window_length(windows: ComparedWindows) -> timedelta:
    return timedelta(minutes=windows.window_minutes)


def window_words(windows: ComparedWindows) -> str:
    """`15-minute`, `24-hour`."""
    minutes = windows.window_minutes
    return f"{minutes // 60}-hour" if minutes >= 60 and not minutes % 60 else f"{minutes}-minute"


def latency_series(table_name: str, operation: str) -> tuple[Series, Series, Series]:
    return (
        Series(table_name, LATENCY_METRIC, "Average", operation),
        Series(table_name, LATENCY_METRIC, "Maximum", operation),
        Series(table_name, LATENCY_METRIC, "SampleCount", operation),
    )


def cause_series(table_name: str) -> list[Series]:
    return [
        Series(table_name, "ReadThrottleEvents", "Sum"),
        Series(table_name, "WriteThrottleEvents", "Sum"),
        Series(table_name, "ConsumedReadCapacityUnits", "Sum"),
        Series(table_name, "ConsumedWriteCapacityUnits", "Sum"),
        *(Series(table_name, "ReturnedItemCount", "Average", op) for op in ITEM_COUNT_OPERATIONS),
    ]


def series_for_table(table_name: str) -> list[Series]:
    """Everything one table's report reads (45 series: 13 operations x 3 statistics + 6)."""
    found = [s for op in OPERATIONS for s in latency_series(table_name, op)]
    return found + cause_series(table_name)


def value_at(points: Mapping[datetime, float], start: datetime, length: timedelta) -> float | None:
    """The value of the period starting at `start` (within half a window, for alignment)."""
    for timestamp, value in points.items():
        if abs(timestamp - start) < length / 2:
            return value
    return None


def _stats(
    points: Points, table: str, operation: str, start: datetime, length: timedelta
) -> WindowStats:
    avg, peak, count = (
        value_at(points.get(s, {}), start, length) for s in latency_series(table, operation)
    )
    samples = int(count or 0)
    return WindowStats(
        avg_ms=avg if samples else None, max_ms=peak if samples else None, samples=samples
    )


# --------------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------------
def change_percent(now: WindowStats, base: WindowStats) -> float | None:
    if not (now.has_traffic and base.has_traffic) or not base.avg_ms:
        return None
    assert now.avg_ms is not None
    return round((now.avg_ms - base.avg_ms) / base.avg_ms * 100, 1)


def regressed(now: WindowStats, base: WindowStats, policy: LatencyPolicy) -> bool:
    """Slower by the ratio AND the floor, with enough samples on both sides."""
    if not (now.has_traffic and base.has_traffic):
        return False
    if now.samples < policy.min_samples or base.samples < policy.min_samples:
        return False
    assert now.avg_ms is not None and base.avg_ms is not None
    return (
        now.avg_ms >= base.avg_ms * policy.regression_ratio
        and now.avg_ms - base.avg_ms >= policy.regression_floor_ms
    )


def compare_operation(
    table_name: str,
    operation: str,
    now: WindowStats,
    baseline_1d: WindowStats,
    baseline_7d: WindowStats,
    *,
    policy: LatencyPolicy,
) -> OperationLatency:
    """The verdict for one operation: regression > sla_breach > ok; no_traffic without requests.

    An operation that both regressed and breached its target is a `regression`.
    """
    target = policy.sla_targets_ms.get(operation)
    baselines: tuple[tuple[BaselineLabel, WindowStats], ...] = (
        ("1d", baseline_1d),
        ("7d", baseline_7d),
    )
    against = [label for label, base in baselines if regressed(now, base, policy)]
    verdict, note = _verdict(
        now, baseline_1d, baseline_7d, target=target, against=against, policy=policy
    )
    return OperationLatency(
        table_name=table_name,
        operation=operation,
        now=now,
        baseline_1d=baseline_1d,
        baseline_7d=baseline_7d,
        change_1d_percent=change_percent(now, baseline_1d),
        change_7d_percent=change_percent(now, baseline_7d),
        sla_target_ms=target,
        verdict=verdict,
        regressed_against=against,
        note=note,
    )


def _verdict(
    now: WindowStats,
    baseline_1d: WindowStats,
    baseline_7d: WindowStats,
    *,
    target: float | None,
    against: Sequence[str],
    policy: LatencyPolicy,
) -> tuple[Verdict, str]:
    if not now.has_traffic:
        before = max(baseline_1d.samples, baseline_7d.samples)
        return Verdict.NO_TRAFFIC, (
            f"no requests now ({before} in a baseline window)" if before else "no requests"
        )
    assert now.avg_ms is not None
    over = target is not None and now.avg_ms > target and now.samples >= policy.sla_min_samples
    breach = f"; over its {target:g} ms target" if over and target is not None else ""
    if against:
        labels = " and ".join("1 day" if a == "1d" else "7 days" for a in against)
        return Verdict.REGRESSION, f"slower than {labels} earlier{breach}"
    if over:
        return Verdict.SLA_BREACH, f"over its {target:g} ms target, no slower than the baselines"
    if not (baseline_1d.has_traffic or baseline_7d.has_traffic):
        return Verdict.OK, "no baseline data to compare with"
    if now.samples < policy.min_samples:
        return Verdict.OK, f"too few samples to compare ({now.samples} < {policy.min_samples})"
    return Verdict.OK, "within the baselines"


def compare_table(
    table_name: str,
    points: Points,
    windows: ComparedWindows,
    policy: LatencyPolicy,
    always: Collection[str] = (),
) -> list[OperationLatency]:
    """Every operation the table served in any of the three windows (and those in `always`,
    such as the alarm's own operation, even without traffic)."""
    length = window_length(windows)
    rows = []
    for operation in OPERATIONS + tuple(op for op in always if op not in OPERATIONS):
        now = _stats(points, table_name, operation, windows.current_start, length)
        base_1d = _stats(points, table_name, operation, windows.baseline_1d_start, length)
        base_7d = _stats(points, table_name, operation, windows.baseline_7d_start, length)
        served = now.has_traffic or base_1d.has_traffic or base_7d.has_traffic
        if served or operation in always:
            rows.append(
                compare_operation(table_name, operation, now, base_1d, base_7d, policy=policy)
            )
    return rows


# --------------------------------------------------------------------------------------------
# likely causes
# --------------------------------------------------------------------------------------------
UPDATING = "UPDATING"
SCALING_ACTIONS_IGNORED = frozenset({Action.SKIP, Action.DEFER, Action.FAIL, Action.REJECT})


def capacity_changes(
    decisions: Sequence[Decision], since: datetime, until: datetime
) -> list[Decision]:
    """This responder's decisions that changed capacity in [since, until] (not dry runs)."""
    return sorted(
        (
            d
            for d in decisions
            if d.before is not None
            and d.after is not None
            and d.before != d.after
            and not d.dry_run
            and d.action not in SCALING_ACTIONS_IGNORED
            and since <= d.decided_at <= until
        ),
        key=lambda d: d.decided_at,
    )


@dataclass(frozen=True)
class CauseEvidence:
    """What the cause checks read for one table, over the current window."""

    table_name: str
    window: timedelta
    table: TableDescription | None = None
    read_throttles: float | None = None
    write_throttles: float | None = None
    consumed_read_units: float | None = None
    """Sum over the window."""
    consumed_write_units: float | None = None
    items_per_request: Mapping[str, float] = field(default_factory=dict)
    """`ReturnedItemCount` average per operation (Query, Scan) in the current window."""
    items_per_request_1d: Mapping[str, float] = field(default_factory=dict)
    recent_changes: Sequence[Decision] = ()


def cause_evidence(
    table_name: str,
    points: Points,
    windows: ComparedWindows,
    table: TableDescription | None,
    recent_changes: Sequence[Decision],
) -> CauseEvidence:
    length = window_length(windows)

    def now(series: Series) -> float | None:
        return value_at(points.get(series, {}), windows.current_start, length)

    def items(start: datetime) -> dict[str, float]:
        found = {}
        for op in ITEM_COUNT_OPERATIONS:
            value = value_at(
                points.get(Series(table_name, "ReturnedItemCount", "Average", op), {}),
                start,
                length,
            )
            if value is not None:
                found[op] = value
        return found

    return CauseEvidence(
        table_name=table_name,
        window=length,
        table=table,
        read_throttles=now(Series(table_name, "ReadThrottleEvents", "Sum")),
        write_throttles=now(Series(table_name, "WriteThrottleEvents", "Sum")),
        consumed_read_units=now(Series(table_name, "ConsumedReadCapacityUnits", "Sum")),
        consumed_write_units=now(Series(table_name, "ConsumedWriteCapacityUnits", "Sum")),
        items_per_request=items(windows.current_start),
        items_per_request_1d=items(windows.baseline_1d_start),
        recent_changes=tuple(recent_changes),
    )


def likely_causes(evidence: CauseEvidence, policy: LatencyPolicy) -> list[LikelyCause]:
    """Each usual cause of high latency, and whether it held in the current window."""
    return [
        _throttling(evidence),
        _capacity(evidence, policy),
        _many_items(evidence, policy),
        _updating(evidence),
        _recent_change(evidence),
    ]


def _cause(evidence: CauseEvidence, cause: str, holds: bool, detail: str) -> LikelyCause:
    return LikelyCause.model_validate(
        {"table_name": evidence.table_name, "cause": cause, "holds": holds, "detail": detail}
    )


def _throttling(evidence: CauseEvidence) -> LikelyCause:
    reads = evidence.read_throttles or 0.0
    writes = evidence.write_throttles or 0.0
    if reads + writes > 0:
        detail = (
            f"throttling in the same window: {reads:,.0f} read and {writes:,.0f} write "
            "throttle events"
        )
        return _cause(evidence, "throttling", True, detail)
    return _cause(evidence, "throttling", False, "no throttle events in the window")


def _capacity(evidence: CauseEvidence, policy: LatencyPolicy) -> LikelyCause:
    table = evidence.table
    if table is None:
        return _cause(evidence, "capacity_near_provisioned", False, "table not described")
    seconds = evidence.window.total_seconds()
    used = {
        "read": (evidence.consumed_read_units or 0.0) / seconds,
        "write": (evidence.consumed_write_units or 0.0) / seconds,
    }
    if table.is_on_demand:
        caps = table.table.on_demand_max
        limits = {"read": caps.read, "write": caps.write}
        kind = "on-demand maximum"
    else:
        provisioned = table.table.provisioned
        limits = {
            "read": provisioned.read if provisioned else None,
            "write": provisioned.write if provisioned else None,
        }
        kind = "provisioned"
    near = []
    shares = []
    for dimension in ("read", "write"):
        limit = limits[dimension]
        if not limit:
            continue
        share = used[dimension] / limit * 100
        shares.append(f"{dimension}s {share:.0f}% of {limit:,} {kind} units")
        if share >= policy.capacity_near_percent:
            near.append(f"{dimension}s used {share:.0f}% of {limit:,} {kind} units")
    if near:
        return _cause(
            evidence,
            "capacity_near_provisioned",
            True,
            "consumed capacity near " + kind + " (window average): " + ", ".join(near),
        )
    if not shares:
        return _cause(
            evidence,
            "capacity_near_provisioned",
            False,
            "on-demand without a maximum: no capacity limit to run into",
        )
    return _cause(
        evidence, "capacity_near_provisioned", False, "consumed capacity: " + ", ".join(shares)
    )


def _many_items(evidence: CauseEvidence, policy: LatencyPolicy) -> LikelyCause:
    many = {
        op: n for op, n in evidence.items_per_request.items() if n >= policy.many_items_per_request
    }
    if many:
        parts = []
        for op, n in sorted(many.items()):
            before = evidence.items_per_request_1d.get(op)
            was = f" (1 day earlier {before:,.0f})" if before is not None else ""
            parts.append(f"{op} returned {n:,.0f} items per request{was}")
        return _cause(evidence, "many_items", True, "large result sets: " + ", ".join(parts))
    if evidence.items_per_request:
        parts = [f"{op} {n:,.0f}" for op, n in sorted(evidence.items_per_request.items())]
        detail = "items per request (average): " + ", ".join(parts)
        return _cause(evidence, "many_items", False, detail)
    return _cause(evidence, "many_items", False, "no Query or Scan traffic")


def _updating(evidence: CauseEvidence) -> LikelyCause:
    table = evidence.table
    if table is None:
        return _cause(evidence, "updating", False, "table not described")
    busy = (["table"] if table.status == UPDATING else []) + [
        f"index {name}" for name, unit in table.indexes.items() if unit.status == UPDATING
    ]
    if busy:
        return _cause(evidence, "updating", True, f"{' and '.join(busy)} UPDATING")
    return _cause(evidence, "updating", False, "table and indexes ACTIVE")


def _recent_change(evidence: CauseEvidence) -> LikelyCause:
    if not evidence.recent_changes:
        return _cause(
            evidence, "recent_change", False, "no recent capacity change by the responder"
        )
    parts = []
    for d in evidence.recent_changes[-3:]:
        where = f" on {d.index_name}" if d.index_name else ""
        parts.append(
            f"{d.action}{where} at {d.decided_at:%Y-%m-%d %H:%M} UTC ({d.rule or d.runbook})"
        )
    return _cause(
        evidence,
        "recent_change",
        True,
        "recent capacity change by this responder: " + "; ".join(parts),
    )


# --------------------------------------------------------------------------------------------
# the conclusion
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# the console link
# --------------------------------------------------------------------------------------------
CONSOLE = "https://{region}.console.aws.amazon.com"


def graph_url(
    region: str, table_name: str, operations: Sequence[str], windows: ComparedWindows
) -> str:
    """A CloudWatch console deep link: `SuccessfulRequestLatency` (Average) of the operations,
    from the 7-day baseline to the end of the current window."""
    metrics: list[object] = [
        [NAMESPACE, LATENCY_METRIC, "TableName", table_name, "Operation", op]
        for op in (operations or OPERATIONS[:2])
    ]
    period = min(windows.window_minutes * 60, 3600)
    graph = {
        "metrics": metrics,
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "stat": "Average",
        "period": period,
        "start": _iso(windows.baseline_7d_start),
        "end": _iso(windows.current_end),
        "title": f"{LATENCY_METRIC} {table_name}",
    }
    return (
        f"{CONSOLE.format(region=region)}/cloudwatch/home?region={region}"
        f"#metricsV2:graph={_jsurl(graph)}"
    )


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _jsurl(value: object) -> str:
    """The console's URL encoding of a graph (JSURL: `~(key~value)`, strings `~'...` with
    percent-escapes written `*xx`)."""
    if isinstance(value, bool):
        return "~true" if value else "~false"
    if isinstance(value, int | float):
        return f"~{value:g}" if isinstance(value, float) and not math.isnan(value) else f"~{value}"
    if isinstance(value, str):
        escaped = quote(value, safe="-_.").replace("~", "%7E")  # quote() keeps "~"
        encoded = re.sub(r"%([0-9A-F]{2})", lambda m: "*" + m.group(1).lower(), escaped)
        return "~'" + encoded
    if isinstance(value, Mapping):
        return "~(" + "~".join(f"{key}{_jsurl(item)}" for key, item in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "~(" + "".join(_jsurl(item) for item in value) + ")"
    raise TypeError(f"cannot encode {type(value).__name__} in a console URL")
