"""The usual causes of high latency, read from the same window: throttling, capacity near
its limit, many items per request, an UPDATING table or index, a recent capacity change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from autoresponder.domain.latency.policy import LatencyPolicy
from autoresponder.domain.latency.windows import ITEM_COUNT_OPERATIONS, value_at, window_length
from autoresponder.models.decision import Action, Decision
from autoresponder.models.latency import ComparedWindows, LikelyCause
from autoresponder.models.metrics import Points, Series
from autoresponder.models.table import TableDescription

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
