"""Native auto scaling's model and the responder (its own domain code) on small traces whose
results are worked out by hand in the comments."""

from __future__ import annotations

from autoresponder.domain.cost import Prices
from autoresponder.domain.scaling import ScalingPolicy
from autoresponder.models.decision import Action
from autoresponder.services.scale_on_throttle import ThrottleRunbookConfig
from bench.backtest.simulator import Datapoint, SimConfig, SimTable, simulate, summarize
from bench.backtest.strategies import NativeAutoScaling, Responder, default_settings, strategies

CONFIG = SimConfig(metric_delay=2, update_delay=3)


def scale_up_only() -> Responder:
    throttle = ThrottleRunbookConfig(policy=ScalingPolicy(), prices=Prices(0.00013, 0.00065))
    return Responder(ceiling=10_000, throttle=throttle, back=None)


def with_scale_back() -> Responder:
    responder = strategies(100, 10_000, settings=default_settings())[2]
    assert isinstance(responder, Responder)
    return responder


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


# The responder's trace: 10 min at 50/s, 30 min at 200/s, then 50/s (100 WCU, full burst).
# Minutes 10-13 are served from the burst (100/s extra); minute 14 drains its last 6,000;
# minute 15 throttles 6,000 units. Its datapoint is readable at minute 17: the alarm goes to
# ALARM and scale_on_throttle raises writes to max(120, 200 x 1.25) = 250 (peak consumed
# 200/s over the lookback), in effect at minute 20. Minutes 15-19 throttle 6,000 units each.
SPIKE = [50.0] * 10 + [200.0] * 30 + [50.0] * 110


def test_responder_scales_up_once_on_the_alarm():
    responder = scale_up_only()
    run = simulate("t", SPIKE, 100, responder, CONFIG)
    assert [(c.minute, c.before, c.after) for c in run.changes] == [(17, 100, 250)]
    summary = summarize(run, CONFIG)
    assert summary.throttled_units == 5 * 6_000
    assert summary.minutes_throttled == 5
    assert summary.worst_time_to_mitigation == 5
    assert [(d.minute, d.action, d.rule) for d in responder.decided] == [
        (17, Action.SCALE_UP, "provisioned.scale_up")
    ]


def test_responder_scales_back_in_steps_after_the_stabilization_window():
    """Raised at 17; runs at 90 still see the 200/s minutes (busy); at 105 the window (45-103)
    peaks at 50/s: a step to max(100, 50 % of 250) = 125; at 120 back to the original 100."""
    responder = with_scale_back()
    run = simulate("t", SPIKE, 100, responder, CONFIG)
    assert [(c.minute, c.before, c.after) for c in run.changes] == [
        (17, 100, 250),
        (105, 250, 125),
        (120, 125, 100),
    ]
    rules = {(d.minute, d.rule) for d in responder.decided}
    assert {(30, "hold.stabilizing"), (90, "hold.busy")} <= rules
    assert (105, "provisioned.scale_down") in rules and (120, "provisioned.restore") in rules
    assert responder.history is None  # restored: no longer tracked


def test_responder_defers_while_updating_and_lambda_retries():
    table = SimTable(100, CONFIG)
    for minute in range(3):
        table.history.append(Datapoint(minute, 200.0, 6_000, 6_000, 100))
    table.pending = (6, 120)  # someone else's UpdateTable in flight
    responder = scale_up_only()
    responder.act(4, table)  # datapoint 2 throttled: ALARM, the event arrives while UPDATING
    assert [(d.action, d.rule) for d in responder.decided] == [(Action.DEFER, "updating.defer")]
    assert [minute for minute, _ in responder.queue] == [5]
    table.settle(5)
    responder.act(5, table)  # still UPDATING at 5: the second retry comes 2 minutes later
    assert [minute for minute, _ in responder.queue] == [7]
    table.settle(6)
    responder.act(7, table)
    assert responder.decided[-1].action is Action.SCALE_UP
    assert table.pending == (10, 144)  # 120 x 1.2 (the consumed peak 100/s needs less)


def test_responder_follow_up_while_the_alarm_stays_in_alarm():
    """Demand 10x with the ceiling at 300: the first raise (x4 at most) stops at 300; the
    alarm stays in ALARM; the 15-minute run follows up and finds the table at its ceiling."""
    responder = with_scale_back()
    responder.ceiling = 300
    run = simulate("t", [50.0] * 5 + [1_000.0] * 40, 100, responder, CONFIG)
    assert [(c.before, c.after) for c in run.changes] == [(100, 300)]
    follow_ups = [d for d in responder.decided if d.rule.startswith("follow_up.")]
    assert follow_ups and {d.rule for d in follow_ups} == {"follow_up.at_ceiling"}
