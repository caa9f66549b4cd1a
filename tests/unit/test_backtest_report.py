"""`python -m bench.backtest`: the model options, the traces, backtest.json and the targets."""

from __future__ import annotations

import json

import pytest

from bench.backtest.__main__ import main
from bench.backtest.simulator import Episode, SimConfig, Summary
from bench.backtest.targets import check
from bench.backtest.traces import synthetic


def test_the_synthetic_traces_include_a_20x_step():
    traces = {t.name: t for t in synthetic()}
    assert list(traces) == ["step_10x", "step_20x", "ramp_3x", "daily_cycle", "flash_crowd"]
    step = traces["step_20x"]
    assert step.minutes == traces["step_10x"].minutes == 300
    assert min(step.demand[30:150]) >= 970 and max(step.demand[30:150]) <= 1_030
    assert max(step.demand[:30] + step.demand[150:]) <= 52


def test_the_cli_threads_the_model_options_and_writes_backtest_json(tmp_path):
    trace = tmp_path / "spike.json"
    demand = [50.0] * 10 + [300.0] * 20 + [50.0] * 30
    trace.write_text(
        json.dumps({"name": "spike", "title": "t", "demand": demand, "initial_capacity": 100})
    )
    args = ["--only-files", "--trace", str(trace), "--out", str(tmp_path), "--no-plots"]
    main([*args, "--burst-seconds", "0", "--metric-delay", "3", "--update-delay", "1"])

    report = json.loads((tmp_path / "backtest.json").read_text())
    model = report["model"]
    assert (model["burst_seconds"], model["metric_delay"], model["update_delay"]) == (0, 3, 1)
    assert report["responder"] == {"scale_back": True, "pre_throttle": True, "rechecks": True}
    by = {r["strategy"]: r for r in report["results"]}
    assert set(by) == {"none", "native", "responder"}
    responder = by["responder"]
    assert {
        "trace",
        "throttled_units",
        "episodes",
        "capacity_hours",
        "time_to_mitigation",
        "aws_calls",
    } <= set(responder)
    [episode] = responder["episodes"]
    assert episode["start"] == 10  # no burst: the first spike minute throttles
    assert episode["mitigated_at"] - episode["start"] == responder["time_to_mitigation"]
    assert responder["aws_calls"]["dynamodb:UpdateTable"] == 2  # the raise, the scale-back
    assert by["none"]["aws_calls"] == {}
    assert "burst 0 s" in (tmp_path / "backtest.md").read_text()


def _summary(
    trace: str, strategy: str, throttled: float, hours: float, mitigated: int | None = 5
) -> Summary:
    episode = Episode(start=0, end=3, mitigated_at=mitigated)
    return Summary(trace, strategy, 1e6, throttled, 4, (episode,), hours, 0.0, 0, 0)


@pytest.mark.parametrize(
    ("config", "responder", "holds"),
    [
        pytest.param(SimConfig(), (500.0, 900.0, 7), [True, True, True], id="default-model"),
        pytest.param(SimConfig(), (600.0, 1_100.0, None), [False, False, False], id="missed"),
        pytest.param(SimConfig(burst_seconds=0), (1_000.0, 5_000.0, None), [True], id="variant"),
        pytest.param(SimConfig(update_delay=5), (1_001.0, 1.0, 1), [False], id="variant-missed"),
    ],
)
def test_targets_compare_the_responder_with_native(config, responder, holds):
    """step_10x, default model: throttled ≤ 0.55 x native, time to mitigation ≤ 7 min (None:
    never mitigated), capacity-hours ≤ native; any other model: throttled ≤ native only."""
    summaries = [
        _summary("step_10x", "native", 1_000.0, 1_000.0),
        _summary("step_10x", "responder", *responder),
    ]
    found = check(summaries, config)
    assert [c.holds for c in found] == holds
    assert all(("holds" if c.holds else "MISSED") in c.line() for c in found)
    assert json.dumps([c.as_json() for c in found])


def test_no_throttling_has_nothing_to_mitigate():
    native = _summary("step_10x", "native", 1_000.0, 1_000.0)
    quiet = Summary("step_10x", "responder", 1e6, 0.0, 0, (), 900.0, 0.0, 0, 0)
    assert [c.holds for c in check([native, quiet], SimConfig())] == [True, True, True]
