"""Native auto scaling's model (the baseline) on small traces whose results are worked out by
hand in the comments. The responder's own tests: test_backtest_responder.py."""

from __future__ import annotations

from bench.backtest.simulator import SimConfig, simulate
from bench.backtest.strategies import NativeAutoScaling

CONFIG = SimConfig(metric_delay=2, update_delay=3)


def test_native_scales_out_after_two_datapoints_above_target():
    """Utilization 100 % from minute 5; minutes 5 and 6 readable at minute 8 → 100/0.7 = 143,
    in effect at minute 11; then 70 %: not above the target, no more changes."""
    native = NativeAutoScaling(min_capacity=100, max_capacity=1_000)
    run = simulate("t", [50] * 5 + [100] * 20, 100, native, CONFIG)
    assert [(c.minute, c.before, c.after) for c in run.changes] == [(8, 100, 143)]
    assert run.points[10].capacity == 100 and run.points[11].capacity == 143


def test_native_scales_in_after_fifteen_datapoints_below_target_minus_20_points():
    """20 % utilization: 15 readable datapoints at minute 16 → 20/0.7 = 29 (min 10)."""
    native = NativeAutoScaling(min_capacity=10, max_capacity=1_000)
    run = simulate("t", [20] * 30, 100, native, CONFIG)
    assert [(c.minute, c.before, c.after) for c in run.changes] == [(16, 100, 29)]


def test_native_never_goes_below_min_or_above_max():
    native = NativeAutoScaling(min_capacity=80, max_capacity=120)
    run = simulate("t", [20] * 20 + [1_000] * 20, 100, native, CONFIG)
    assert all(80 <= c.after <= 120 for c in run.changes)
    assert run.changes[0].after == 80  # scale-in floor
    assert min(p.capacity for p in run.points) == 80
    assert max(p.capacity for p in run.points) == 120
