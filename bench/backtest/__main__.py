"""`python -m bench.backtest` (`make backtest`): every trace through every strategy.

Writes `bench/out/backtest.md` (the table), `bench/out/backtest.json` and one PNG per trace;
`--docs DIR` also copies the PNGs there (docs/benchmarks/ holds the checked-in ones).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench import OUT
from bench.backtest.plot import plot_trace
from bench.backtest.report import assumptions, markdown
from bench.backtest.simulator import Run, SimConfig, Summary, simulate, summarize
from bench.backtest.strategies import strategies
from bench.backtest.traces import Trace, synthetic


def backtest(
    trace: Trace, config: SimConfig, *, scale_back: bool = True
) -> tuple[list[Run], list[Summary]]:
    runs = [
        simulate(trace.name, trace.demand, trace.initial_capacity, strategy, config)
        for strategy in strategies(trace.initial_capacity, trace.ceiling, scale_back=scale_back)
    ]
    return runs, [summarize(run, config) for run in runs]


def load_trace(path: Path) -> Trace:
    """A trace saved by `bench.fetch_trace` (JSON)."""
    raw = json.loads(path.read_text())
    return Trace(
        name=raw["name"],
        title=raw["title"],
        demand=tuple(float(v) for v in raw["demand"]),
        initial_capacity=int(raw["initial_capacity"]),
        ceiling=int(raw.get("ceiling", 10_000)),
    )


def run_all(
    traces: Sequence[Trace],
    out: Path,
    config: SimConfig,
    *,
    scale_back: bool = True,
    plots: bool = True,
) -> list[Summary]:
    out.mkdir(parents=True, exist_ok=True)
    summaries: list[Summary] = []
    notes: list[str] = []
    for trace in traces:
        runs, found = backtest(trace, config, scale_back=scale_back)
        summaries += found
        notes += [f"{run.trace}/{run.strategy}: {note}" for run in runs for note in run.notes]
        if plots:
            plot_trace(
                f"{trace.title} (starts at {trace.initial_capacity} WCU)",
                runs,
                out / f"backtest_{trace.name}.png",
            )
    table = markdown(summaries)
    scope = "scale-up, follow-ups and scale-back" if scale_back else "scale-up only"
    text = f"{table}\n\nResponder: {scope}. Model: {assumptions(config)}.\n"
    if notes:
        text += "\n" + "\n".join(f"- {note}" for note in notes) + "\n"
    (out / "backtest.md").write_text(text)
    (out / "backtest.json").write_text(
        json.dumps([asdict(s) for s in summaries], indent=1, default=str)
    )
    print(text)
    return summaries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backtest", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (bench/out)")
    parser.add_argument(
        "--trace",
        type=Path,
        action="append",
        default=[],
        help="also a trace saved by bench.fetch_trace (JSON)",
    )
    parser.add_argument("--only-files", action="store_true", help="skip the synthetic traces")
    parser.add_argument(
        "--scale-up-only", action="store_true", help="the responder without its scale_back runbook"
    )
    parser.add_argument("--docs", type=Path, help="copy the PNGs to this folder too")
    parser.add_argument("--metric-delay", type=int, default=SimConfig.metric_delay)
    parser.add_argument("--update-delay", type=int, default=SimConfig.update_delay)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    traces = ([] if args.only_files else synthetic()) + [load_trace(p) for p in args.trace]
    config = SimConfig(metric_delay=args.metric_delay, update_delay=args.update_delay)
    run_all(traces, args.out, config, scale_back=not args.scale_up_only, plots=not args.no_plots)
    if args.docs and not args.no_plots:
        args.docs.mkdir(parents=True, exist_ok=True)
        for png in sorted(args.out.glob("backtest_*.png")):
            shutil.copy(png, args.docs / png.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
