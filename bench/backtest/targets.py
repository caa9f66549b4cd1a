"""Issue 13's targets: the responder against native auto scaling, checked on a run's summaries.

Benchmarks, not timed tests: `make backtest` reports whether each holds, nothing fails.

| trace                  | responder vs native (default model)                                  |
|------------------------|----------------------------------------------------------------------|
| step_10x               | throttled ≤ 0.55 ×, time to mitigation ≤ 7 min, capacity-hours ≤ 1 × |
| step_20x               | throttled ≤ 0.5 ×                                                    |
| ramp_3x, daily_cycle   | throttled ≤ 1 ×; capacity-hours ≤ 1 × (daily_cycle ≤ 0.9 ×)          |
| flash_crowd            | capacity-hours ≤ 1.05 ×                                              |

Under any other model (`--metric-delay 3`, `--update-delay 1` or `5`, `--burst-seconds 0`): on
both step traces the responder throttles no more than native.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.backtest.simulator import SimConfig, Summary

STEPS = ("step_10x", "step_20x")


@dataclass(frozen=True)
class Target:
    trace: str
    measure: str
    """`throttled`, `capacity_hours` (both relative to native) or `time_to_mitigation`."""
    limit: float
    """A multiple of native's figure, or minutes for the time to mitigation."""


@dataclass(frozen=True)
class Check:
    target: Target
    value: float | None
    """The responder's figure: a multiple of native's, or minutes (None: native's is 0 and the
    responder's too, or no time to mitigation)."""
    holds: bool

    def line(self) -> str:
        t = self.target
        if t.measure == "time_to_mitigation":
            got = "never" if self.value is None else f"{self.value:g} min"
            want = f"≤ {t.limit:g} min"
        else:
            got = f"{self.value:.2f} × native" if self.value is not None else "0, as native"
            got = got if self.value is not None or self.holds else "above native's 0"
            want = f"≤ {t.limit:g} × native"
        verdict = "holds" if self.holds else "MISSED"
        return f"{t.trace} {t.measure.replace('_', ' ')}: {got} (target {want}): {verdict}"

    def as_json(self) -> dict[str, object]:
        t = self.target
        return {
            "trace": t.trace,
            "measure": t.measure,
            "limit": t.limit,
            "value": None if self.value is None else round(self.value, 3),
            "holds": self.holds,
        }


DEFAULT_TARGETS = (
    Target("step_10x", "throttled", 0.55),
    Target("step_10x", "time_to_mitigation", 7),
    Target("step_10x", "capacity_hours", 1.0),
    Target("step_20x", "throttled", 0.5),
    Target("ramp_3x", "throttled", 1.0),
    Target("ramp_3x", "capacity_hours", 1.0),
    Target("daily_cycle", "throttled", 1.0),
    Target("daily_cycle", "capacity_hours", 0.9),
    Target("flash_crowd", "capacity_hours", 1.05),
)
VARIANT_TARGETS = tuple(Target(trace, "throttled", 1.0) for trace in STEPS)


def targets_for(config: SimConfig) -> tuple[Target, ...]:
    """The default model's targets, or the variants' (any other model)."""
    default = SimConfig()
    same = (config.metric_delay, config.update_delay, config.burst_seconds) == (
        default.metric_delay,
        default.update_delay,
        default.burst_seconds,
    )
    return DEFAULT_TARGETS if same else VARIANT_TARGETS


def check(summaries: Sequence[Summary], config: SimConfig) -> list[Check]:
    """Each target whose trace was run, with the responder's figure against native's."""
    by = {(s.trace, s.strategy): s for s in summaries}
    found = []
    for target in targets_for(config):
        responder = by.get((target.trace, "responder"))
        native = by.get((target.trace, "native"))
        if responder is None or native is None:
            continue
        found.append(_check(target, responder, native))
    return found


def _check(target: Target, responder: Summary, native: Summary) -> Check:
    if target.measure == "time_to_mitigation":
        if not responder.episodes:
            return Check(target, 0, True)  # nothing throttled: nothing to mitigate
        minutes = responder.worst_time_to_mitigation
        return Check(target, minutes, minutes is not None and minutes <= target.limit)
    mine, theirs = (
        (responder.throttled_units, native.throttled_units)
        if target.measure == "throttled"
        else (responder.capacity_hours, native.capacity_hours)
    )
    if theirs <= 0:
        return Check(target, None, mine <= 0)
    ratio = mine / theirs
    return Check(target, ratio, ratio <= target.limit + 1e-9)
