"""One PNG per trace: demand and each strategy's provisioned capacity over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.backtest.simulator import Run

COLORS = {"none": "#888888", "native": "#1f77b4", "responder": "#d62728"}


def plot_trace(title: str, runs: Sequence[Run], path: Path) -> Path:
    """Demand (black), each run's capacity (steps) and its throttled minutes (ticks below)."""
    import matplotlib  # noqa: PLC0415  (only `make backtest` needs it)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    hours = len(runs[0].points) > 600
    scale = 60.0 if hours else 1.0
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=90)
    x = [p.minute / scale for p in runs[0].points]
    ax.plot(x, [p.demand for p in runs[0].points], color="black", lw=1.2, label="demand (units/s)")
    top = max([p.demand for p in runs[0].points] + [1.0])
    for offset, run in enumerate(runs):
        color = COLORS.get(run.strategy)
        capacity = [p.capacity for p in run.points]
        top = max(top, *capacity)
        ax.step(x, capacity, where="post", color=color, lw=1.4, label=f"{run.strategy} capacity")
        throttled = [p.minute / scale for p in run.points if p.throttled > 0]
        if throttled:
            ax.plot(
                throttled,
                [-(0.03 + 0.035 * offset) * top] * len(throttled),
                "|",
                color=color,
                ms=6,
                label=f"{run.strategy} throttled",
            )
    ax.set_ylim(-0.14 * top, top * 1.08)
    ax.set_xlabel("hours" if hours else "minutes")
    ax.set_ylabel("write units per second")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
