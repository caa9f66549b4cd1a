"""The backtest's capacity model: per-second capacity, up to 300 s of unused capacity as burst."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.backtest.simulator import Served, serve_minute, serve_seconds


@pytest.mark.parametrize(
    ("capacity", "demand", "burst", "expected"),
    [
        pytest.param(100, 50, 0, Served(3_000, 0, 3_000), id="unused-capacity-becomes-burst"),
        pytest.param(100, 50, 29_000, Served(3_000, 0, 30_000), id="burst-capped-at-300s"),
        pytest.param(100, 100, 30_000, Served(6_000, 0, 30_000), id="exactly-at-capacity"),
        pytest.param(100, 500, 30_000, Served(30_000, 0, 6_000), id="burst-absorbs-a-minute"),
        pytest.param(100, 500, 6_000, Served(12_000, 18_000, 0), id="burst-runs-out"),
        pytest.param(100, 500, 0, Served(6_000, 24_000, 0), id="no-burst-left"),
        pytest.param(10, 10, 30_000, Served(600, 0, 3_000), id="lowered-capacity-clips-burst"),
        pytest.param(100, 0, 0, Served(0, 0, 6_000), id="idle-minute"),
    ],
)
def test_minute(capacity, demand, burst, expected):
    assert serve_minute(capacity, demand, burst) == expected


def test_a_spike_drains_the_burst_then_throttles():
    """100 WCU full of burst, 500/s for 3 minutes: 75 s of burst, then 400/s throttled."""
    burst = 30_000.0
    throttled = []
    for _ in range(3):
        outcome = serve_minute(100, 500, burst)
        burst = outcome.burst
        throttled.append(outcome.throttled)
    assert throttled == [0, 18_000, 24_000]
    assert sum(throttled) == 3 * 60 * 500 - 3 * 60 * 100 - 30_000


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=2_000),
    demand=st.floats(min_value=0, max_value=10_000, allow_nan=False),
    burst=st.floats(min_value=0, max_value=1_000_000, allow_nan=False),
)
def test_closed_form_is_the_per_second_model(capacity, demand, burst):
    minute = serve_minute(capacity, demand, burst)
    seconds = serve_seconds(capacity, [demand] * 60, burst)
    assert minute.served == pytest.approx(seconds.served, rel=1e-9, abs=1e-6)
    assert minute.throttled == pytest.approx(seconds.throttled, rel=1e-9, abs=1e-6)
    assert minute.burst == pytest.approx(seconds.burst, rel=1e-9, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=2_000),
    demands=st.lists(st.floats(min_value=0, max_value=5_000, allow_nan=False), max_size=120),
    burst=st.floats(min_value=0, max_value=1_000_000, allow_nan=False),
)
def test_per_second_model_conserves_demand_and_bounds_burst(capacity, demands, burst):
    outcome = serve_seconds(capacity, demands, burst)
    assert outcome.served + outcome.throttled == pytest.approx(sum(demands), abs=1e-6)
    assert 0 <= outcome.burst <= capacity * 300 + 1e-6
    assert outcome.served <= capacity * len(demands) + min(burst, capacity * 300) + 1e-6
