"""The simulated table: metric delay, UpdateTable delay and UPDATING, the decrease budget,
episodes and the summary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.backtest.simulator import (
    START,
    Datapoint,
    DecreaseRefused,
    SameValue,
    SimConfig,
    SimTable,
    TableBusy,
    episodes,
    simulate,
    summarize,
)
from bench.backtest.strategies import NoAutomation


class Raise:
    """Ask for `units` at `minute` once (a scripted strategy)."""

    name = "scripted"

    def __init__(self, minute: int, units: int) -> None:
        self.minute, self.units = minute, units

    def act(self, minute: int, table: SimTable) -> None:
        if minute == self.minute:
            table.update(minute, self.units, "script")


def test_update_takes_effect_after_the_delay_and_the_table_is_updating_meanwhile():
    run = simulate("t", [50] * 10, 100, Raise(2, 300), SimConfig(update_delay=3))
    assert [p.capacity for p in run.points] == [100] * 5 + [300] * 5
    assert run.changes[0].minute == 2


def test_datapoints_are_readable_after_the_metric_delay():
    table = SimTable(100, SimConfig(metric_delay=2))
    for minute in range(5):
        table.serve(minute, 10 * minute)
    assert [p.minute for p in table.visible(5)] == [0, 1, 2, 3]
    assert table.visible(1) == []
    assert [p.minute for p in table.window(5, 2)] == [3]


def test_updating_table_refuses_another_update_and_the_same_value():
    table = SimTable(100, SimConfig(update_delay=3))
    with pytest.raises(SameValue):
        table.update(0, 100, "x")
    table.update(0, 200, "x")
    assert table.description(1).status == "UPDATING"
    assert table.description(1).table.provisioned.write == 100  # old value until ACTIVE
    with pytest.raises(TableBusy):
        table.update(1, 300, "x")
    table.settle(3)
    assert (table.capacity, table.updating) == (200, False)


def test_decreases_follow_the_daily_budget():
    table = SimTable(1_000, SimConfig(update_delay=0))
    for minute, units in enumerate((900, 800, 700, 600)):  # four free ones
        table.update(minute, units, "down")
    with pytest.raises(DecreaseRefused):
        table.update(10, 500, "down")  # the fifth needs an hour without a decrease
    table.update(10, 2_000, "up")  # increases are never limited
    table.update(3 + 60, 500, "down")
    assert table.decreases_today(table.time_of(63)) == (5, START + timedelta(minutes=63))
    assert table.description(63).table.decreases_today == 5


def test_lowering_capacity_clips_the_burst():
    table = SimTable(100, SimConfig(update_delay=0))
    assert table.burst == 30_000
    table.update(0, 10, "down")
    assert table.burst == 3_000


def _points(throttled_minutes, capacity=100, demand=200.0, length=30):
    return [
        Datapoint(m, demand, 0.0, 60.0 if m in throttled_minutes else 0.0, capacity)
        for m in range(length)
    ]


def test_episodes_merge_short_gaps():
    found = episodes(_points({3, 4, 5, 8, 20}))
    assert [(e.start, e.end) for e in found] == [(3, 8), (20, 20)]
    assert all(e.mitigated_at is None for e in found)  # capacity never rose


def test_mitigation_needs_raised_capacity_covering_demand_above_the_start():
    points = _points({3, 4, 5})
    points[6] = Datapoint(6, 200.0, 12_000, 0.0, 250)
    points[7] = Datapoint(7, 200.0, 12_000, 0.0, 250)
    assert episodes(points)[0].minutes_to_mitigation == 3
    ended_on_its_own = [Datapoint(m, 50.0, 3_000, 0, 250 if m > 5 else 100) for m in range(10)]
    ended_on_its_own[2] = Datapoint(2, 500.0, 6_000, 24_000, 100)
    assert episodes(ended_on_its_own)[0].mitigated_at is None


def test_summary_of_a_table_left_alone():
    """100 WCU, 10 min at 500/s after a quiet minute: 30,000 burst, then 400/s throttled."""
    run = simulate("t", [100] + [500] * 10, 100, NoAutomation(), SimConfig())
    summary = summarize(run, SimConfig(price_per_unit_hour=0.001))
    assert summary.throttled_units == 10 * 60 * 400 - 30_000
    assert summary.minutes_throttled == 10 - 1  # the burst covers the first spike minute
    assert summary.capacity_hours == pytest.approx(11 * 100 / 60)
    assert summary.cost == pytest.approx(11 * 100 / 60 * 0.001)
    assert (summary.increases, summary.decreases) == (0, 0)
    assert summary.worst_time_to_mitigation is None and summary.unmitigated == 1


def test_without_burst_capacity_a_spike_throttles_from_its_first_minute():
    """500/s against 100 after 5 quiet minutes: 300 s of burst (30,000 units) serve the whole
    first spike minute and part of the second; without burst capacity the first throttles."""
    demand = [50.0] * 5 + [500.0] * 5
    with_burst = summarize(simulate("t", demand, 100, NoAutomation(), SimConfig()))
    without = summarize(simulate("t", demand, 100, NoAutomation(), SimConfig(burst_seconds=0)))
    assert [e.start for e in with_burst.episodes] == [6]
    assert [e.start for e in without.episodes] == [5]
    assert without.throttled_units - with_burst.throttled_units == 30_000
