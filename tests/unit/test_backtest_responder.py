"""The responder in the backtest: the functions' own services on the simulated table, driven by
the simulated alarms, re-checks, schedule and Lambda retries. Effects are asserted on the
simulated table (its capacity changes, its throttled units) and on what delivered each decision.

Every trace starts at 100 WCU with 50/s of demand (full burst: 30,000 units). Minute m's
datapoint is readable from minute m + 2; an UpdateTable lands 3 minutes after the call.
"""

from __future__ import annotations

import pytest

from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Action
from bench.backtest.alarms import pre_throttle_alarm, throttle_alarm
from bench.backtest.responder import Responder
from bench.backtest.simulator import Datapoint, SimConfig, SimTable, simulate, summarize
from bench.backtest.strategies import strategies

CONFIG = SimConfig(metric_delay=2, update_delay=3)
NO_BURST = SimConfig(metric_delay=2, update_delay=3, burst_seconds=0)
THROTTLE_ALARM = throttle_alarm().name
PRE_THROTTLE_ALARM = pre_throttle_alarm().name

# 10 min at 50/s, 30 min at 200/s, then 50/s. With the burst, minutes 10-14 are served in full
# (100/s from the burst); minute 15 on would throttle 100/s.
SPIKE = [50.0] * 10 + [200.0] * 30 + [50.0] * 60


def responder(**options: bool) -> Responder:
    found = strategies(100, 10_000, **options)[2]
    assert isinstance(found, Responder)
    return found


def changes(run) -> list[tuple[int, int, int]]:
    return [(c.minute, c.before, c.after) for c in run.changes]


def made(found: Responder, action: str) -> list[tuple[int, str]]:
    """(minute, what delivered it) of each decision with this action."""
    return [(d.minute, d.trigger) for d in found.decided if d.action == action]


def test_the_pre_throttle_alarm_raises_to_the_demand_before_anything_throttles():
    """Minute 10 consumed 200/s against 100 (burst): readable at 12, the pre-throttle alarm
    fires, the diagnosis measures 200/s of demand: 200 x 1.25 = 250, in effect at 15, before
    the burst runs out."""
    found = responder()
    run = simulate("t", SPIKE, 100, found, CONFIG)
    assert changes(run)[0] == (12, 100, 250)
    assert made(found, Action.SCALE_UP) == [(12, PRE_THROTTLE_ALARM)]
    assert run.points[15].capacity == 250
    assert summarize(run, CONFIG).throttled_units == 0
    assert not [d for d in found.decisions if d.action == Action.REJECT]  # events parse


def test_the_throttle_alarm_alone_raises_once_the_burst_is_spent():
    """Without the pre-throttle alarm: minute 15 throttles, readable at 17: 250 at 20; minutes
    15-19 throttle 100/s each."""
    found = responder(pre_throttle=False)
    run = simulate("t", SPIKE, 100, found, CONFIG)
    assert changes(run)[0] == (17, 100, 250)
    assert made(found, Action.SCALE_UP) == [(17, THROTTLE_ALARM)]
    summary = summarize(run, CONFIG)
    assert summary.throttled_units == 5 * 60 * 100
    assert summary.worst_time_to_mitigation == 5


def test_without_burst_capacity_the_throttle_alarm_is_the_trigger():
    """No burst: minute 10 throttles at once (consumed never exceeds provisioned, so the
    pre-throttle alarm stays OK); the throttle alarm raises at 12."""
    found = responder()
    run = simulate("t", SPIKE, 100, found, NO_BURST)
    assert changes(run)[0] == (12, 100, 250)
    assert made(found, Action.SCALE_UP) == [(12, THROTTLE_ALARM)]
    assert summarize(run, NO_BURST).minutes_throttled == 5


# 20 min at 50/s, 3 at 200/s, then 800/s; no burst. The alarm sees minute 20 (200/s of
# demand) at 22: 250, in effect at 25. Demand reached 800/s at 23, the alarm stays in ALARM.
TWO_STEPS = [50.0] * 20 + [200.0] * 3 + [800.0] * 20


def test_a_recheck_when_the_change_lands_raises_again_while_still_short():
    """The re-check asked for at 22 comes at 24: UPDATING to the 250 the 200/s it measures
    needs (nothing more to ask, one more minute); at 25 the table is ACTIVE at 250 and minute
    23 shows 800/s: 1,000, with no cooldown."""
    found = responder(pre_throttle=False)
    run = simulate("t", TWO_STEPS, 100, found, NO_BURST)
    assert changes(run) == [(22, 100, 250), (25, 250, 1_000)]
    assert made(found, Action.SCALE_UP) == [(22, THROTTLE_ALARM), (25, "recheck")]
    assert [d.rule for d in found.decided if d.minute == 24] == [
        "follow_up.updating.in_flight",
        "hold.updating",
    ]


def test_without_rechecks_the_second_raise_waits_for_the_schedule():
    found = responder(pre_throttle=False, rechecks=False)
    run = simulate("t", TWO_STEPS, 100, found, NO_BURST)
    assert changes(run) == [(22, 100, 250), (30, 250, 1_000)]
    assert made(found, Action.SCALE_UP) == [(22, THROTTLE_ALARM), (30, "schedule")]
    assert found.calls["scheduler:CreateSchedule"] == 0


def test_an_alarm_while_updating_is_retried_by_lambda_after_1_then_2_minutes():
    """Someone else's UpdateTable (→ 120) is in flight until minute 7; the alarm's event comes
    at 4: the function raises (the table is UPDATING), Lambda retries at 5 (still UPDATING)
    and at 7, when the table is ACTIVE at 120: 200/s measured → 250."""
    table = SimTable(100, CONFIG)
    for minute in range(3):
        table.history.append(Datapoint(minute, 200.0, 6_000, 6_000, 100))
    table.pending = (7, 120)
    found = responder(pre_throttle=False)
    for minute in range(4, 8):
        table.settle(minute)
        found.act(minute, table)
    attempts = [(d.minute, d.action, d.trigger) for d in found.decided if d.runbook != "scale_back"]
    assert attempts == [
        (4, "raised", THROTTLE_ALARM),
        (5, "raised", f"{THROTTLE_ALARM} (retry 1)"),
        (7, Action.SCALE_UP, f"{THROTTLE_ALARM} (retry 2)"),
    ]
    assert table.pending == (10, 250)


def test_scale_back_goes_straight_to_the_recent_peak_plus_headroom():
    """400/s until minute 29, then 120/s: once the 10-minute window holds no throttling and
    no peak above 120/s (minute 40, readable at 42: the scale-back's re-check), one decrease
    to 120 x 1.25 = 150 (above the original 100)."""
    found = responder()
    run = simulate("t", [50.0] * 10 + [400.0] * 20 + [120.0] * 60, 100, found, CONFIG)
    assert changes(run) == [(12, 100, 500), (42, 500, 150)]
    assert made(found, Action.SCALE_DOWN) == [(42, "recheck")]


def test_scale_back_restores_the_original_when_its_window_ends_on_a_recheck():
    """The spike's last 200/s minute is 39: it leaves the 10-minute window at 50; the
    scale-back's re-check is due then plus the metrics delay (52), between two scheduled runs:
    back to the original 100 (the peak since, 50/s x 1.25, is below it)."""
    found = responder()
    run = simulate("t", SPIKE, 100, found, CONFIG)
    assert changes(run) == [(12, 100, 250), (52, 250, 100)]
    assert made(found, Action.SCALE_DOWN) == [(52, "recheck")]
    assert run.points[60].capacity == 100


def test_scale_up_only_never_scales_back():
    found = responder(scale_back=False)
    run = simulate("t", SPIKE, 100, found, CONFIG)
    assert changes(run) == [(12, 100, 250)]
    assert {d.runbook for d in found.decided} == {"scale_on_throttle"}


@pytest.mark.parametrize(
    ("alarm", "point", "metrics"),
    [
        pytest.param(
            throttle_alarm(),
            Datapoint(3, 200.0, 6_000, 6_000, 100),
            ["WriteProvisionedThroughputThrottleEvents"],
            id="throttle",
        ),
        pytest.param(
            pre_throttle_alarm(),
            Datapoint(3, 200.0, 12_000, 0, 100),
            ["ConsumedWriteCapacityUnits", "ProvisionedWriteCapacityUnits"],
            id="pre-throttle",
        ),
    ],
)
def test_an_alarm_fires_once_per_transition_as_the_function_parses_it(alarm, point, metrics):
    table = SimTable(100, CONFIG)
    table.history += [Datapoint(m, 50.0, 3_000, 0, 100) for m in range(3)] + [point]
    assert alarm.evaluate(4, table) is None  # minute 2: quiet
    event = AlarmStateChangeEvent.model_validate(alarm.evaluate(5, table))
    assert alarm.evaluate(5, table) is None  # still in ALARM: no second event
    assert event.alarm_name == alarm.name
    assert event.detail.state.evaluated_at == table.time_of(3)
    named = [m.metric_stat.metric.name for m in event.detail.configuration.metrics if m.metric_stat]
    assert named == metrics
    assert alarm.active() is not None
    table.history.append(Datapoint(4, 50.0, 3_000, 0, 100))
    assert alarm.evaluate(6, table) is None
    assert alarm.active() is None  # back to OK
