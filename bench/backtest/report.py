"""The backtest's table: one row per trace and strategy, side by side."""

from __future__ import annotations

from collections.abc import Sequence

from bench.backtest.simulator import SimConfig, Summary

COLUMNS = (
    "trace",
    "strategy",
    "throttled units",
    "share of demand",
    "minutes throttled",
    "time to mitigation",
    "capacity-hours",
    "cost (USD)",
    "increases / decreases",
)


def mitigation(summary: Summary) -> str:
    """The worst episode's minutes to mitigation, and how many episodes the strategy's capacity
    did not end (demand fell back first, or it never ended)."""
    if not summary.episodes:
        return "—"
    times = [e.minutes_to_mitigation for e in summary.episodes]
    done = [t for t in times if t is not None]
    text = f"{max(done)} min" if done else "never"
    if summary.unmitigated and done:
        text += f" ({summary.unmitigated} of {len(times)} not mitigated)"
    elif summary.unmitigated and len(times) > 1:
        text += f" ({len(times)} episodes)"
    return text


def row(summary: Summary) -> tuple[str, ...]:
    return (
        summary.trace,
        summary.strategy,
        f"{summary.throttled_units:,.0f}",
        f"{summary.throttled_share:.1%}",
        str(summary.minutes_throttled),
        mitigation(summary),
        f"{summary.capacity_hours:,.0f}",
        f"{summary.cost:,.2f}",
        f"{summary.increases} / {summary.decreases}",
    )


def markdown(summaries: Sequence[Summary]) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(row(s)) + " |" for s in summaries]
    return "\n".join(lines)


def assumptions(config: SimConfig) -> str:
    return (
        f"metric delay {config.metric_delay} min, UpdateTable takes effect after "
        f"{config.update_delay} min, burst {config.burst_seconds} s of unused capacity, "
        f"${config.price_per_unit_hour} per WCU-hour"
    )
