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
from dataclasses import asdict, dataclass
from pathlib import Path

from autoresponder.observability import logger
from bench import OUT
from bench.backtest.plot import plot_trace
from bench.backtest.report import assumptions, markdown
from bench.backtest.simulator import Run, SimConfig, Summary, simulate, summarize
from bench.backtest.strategies import strategies
from bench.backtest.targets import check
from bench.backtest.traces import Trace, synthetic


@dataclass(frozen=True)
class Options:
    """Which parts of the responder run (all of it by default)."""

    scale_back: bool = True
    """False: scale_on_throttle alone (no re-check, no schedule, no scale-back)."""
    pre_throttle: bool = True
    """False: the throttle alarm alone."""
    rechecks: bool = True
    """False: no one-time re-check (the 15-minute schedule only)."""

    def describe(self) -> str:
        if not self.scale_back:
            return "scale_on_throttle only (no re-check, no schedule, no scale-back)"
        parts = ["throttle alarm"]
        parts += ["pre-throttle alarm"] if self.pre_throttle else []
        parts += ["one-time re-checks"] if self.rechecks else []
        return ", ".join(parts) + ", 15-minute scale_back schedule"


def backtest(
    trace: Trace, config: SimConfig, options: Options | None = None
) -> tuple[list[Run], list[Summary]]:
    options = options or Options()
    runs = [
        simulate(trace.name, trace.demand, trace.initial_capacity, strategy, config)
        for strategy in strategies(
            trace.initial_capacity,
            trace.ceiling,
            scale_back=options.scale_back,
            pre_throttle=options.pre_throttle,
            rechecks=options.rechecks,
        )
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
    options: Options | None = None,
    *,
    plots: bool = True,
) -> list[Summary]:
    options = options or Options()
    out.mkdir(parents=True, exist_ok=True)
    summaries: list[Summary] = []
    notes: list[str] = []
    for trace in traces:
        runs, found = backtest(trace, config, options)
        summaries += found
        notes += [f"{run.trace}/{run.strategy}: {note}" for run in runs for note in run.notes]
        if plots:
            plot_trace(
                f"{trace.title} (starts at {trace.initial_capacity} WCU)",
                runs,
                out / f"backtest_{trace.name}.png",
            )
    checks = check(summaries, config)
    text = (
        f"{markdown(summaries)}\n\nResponder: {options.describe()}. Model: {assumptions(config)}.\n"
    )
    if checks:
        text += "\nTargets (issue 13):\n" + "\n".join(f"- {c.line()}" for c in checks) + "\n"
    if notes:
        text += "\n" + "\n".join(f"- {note}" for note in notes) + "\n"
    (out / "backtest.md").write_text(text)
    report = {
        "model": asdict(config),
        "responder": asdict(options),
        "results": [s.as_json() for s in summaries],
        "targets": [c.as_json() for c in checks],
    }
    (out / "backtest.json").write_text(json.dumps(report, indent=1, default=str))
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
    parser.add_argument("--no-pre-throttle", action="store_true", help="the throttle alarm alone")
    parser.add_argument(
        "--no-rechecks", action="store_true", help="no one-time re-check (the schedule only)"
    )
    parser.add_argument("--docs", type=Path, help="copy the PNGs to this folder too")
    parser.add_argument(
        "--metric-delay",
        type=int,
        default=SimConfig.metric_delay,
        help="minutes until a minute's datapoint is readable (default %(default)s)",
    )
    parser.add_argument(
        "--update-delay",
        type=int,
        default=SimConfig.update_delay,
        help="minutes from UpdateTable until the new capacity is in effect (default %(default)s)",
    )
    parser.add_argument(
        "--burst-seconds",
        type=int,
        default=SimConfig.burst_seconds,
        help="seconds of unused capacity kept as burst capacity, 0: none (default %(default)s)",
    )
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    traces = ([] if args.only_files else synthetic()) + [load_trace(p) for p in args.trace]
    config = SimConfig(
        metric_delay=args.metric_delay,
        update_delay=args.update_delay,
        burst_seconds=args.burst_seconds,
    )
    options = Options(
        scale_back=not args.scale_up_only,
        pre_throttle=not args.no_pre_throttle,
        rechecks=not args.no_rechecks,
    )
    level = logger.log_level
    logger.setLevel("ERROR")  # the functions' own log lines: thousands of decisions
    try:
        run_all(traces, args.out, config, options, plots=not args.no_plots)
    finally:
        logger.setLevel(level)
    if args.docs and not args.no_plots:
        args.docs.mkdir(parents=True, exist_ok=True)
        for png in sorted(args.out.glob("backtest_*.png")):
            shutil.copy(png, args.docs / png.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
