"""The verdict per operation: regression, SLA breach, ok or no traffic."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from autoresponder.domain.latency.policy import LatencyPolicy
from autoresponder.domain.latency.windows import OPERATIONS, window_length, window_stats
from autoresponder.models.latency import (
    BaselineLabel,
    ComparedWindows,
    OperationLatency,
    Verdict,
    WindowStats,
)
from autoresponder.models.metrics import Points


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
        now = window_stats(points, table_name, operation, windows.current_start, length)
        base_1d = window_stats(points, table_name, operation, windows.baseline_1d_start, length)
        base_7d = window_stats(points, table_name, operation, windows.baseline_7d_start, length)
        served = now.has_traffic or base_1d.has_traffic or base_7d.has_traffic
        if served or operation in always:
            rows.append(
                compare_operation(table_name, operation, now, base_1d, base_7d, policy=policy)
            )
    return rows
