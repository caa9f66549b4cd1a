"""Where scale-back gets decided: the pure capacity lifecycle after a raise (scale_back).

For every table, index and dimension the responder raised (its `ScaleHistory` holds the
original value), go back to what the table needs once the episode is over:

- only after a stabilization window since the last raise (10 minutes by default; doubled for a
  unit that throttled again soon after a decrease), in which nothing was throttled and the
  demand stayed below the raised value;
- straight to the window's peak demand plus headroom, never below the original, in ONE
  decrease; never while any throttling alarm of the table is in ALARM, never while the table or
  index is UPDATING;
- provisioned decreases respect the daily decrease budget of the table or index, keep the last
  decrease of the day in reserve (unless configured otherwise), and skip cuts too small to be
  worth a decrease;
- Auto Scaling targets get their original MinCapacity/MaxCapacity back (the table is left to
  Auto Scaling); on-demand caps get their original value back.

"Nothing to do yet" is a `hold` with a reason (still busy, budget, stabilizing). A raise that
was changed by someone else, or whose table opted out, is no longer tracked (`skip` + forget).

Raising again while throttling lasts is the throttle runbook's own pass (`domain/scaling.py`),
run by scale_back on the same observation; this module only names the alarms that keep a
table from being scaled back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from autoresponder.domain.alarm_target import AlarmTarget, is_autoscaling_alarm, resolve_target
from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.decrease_budget import DecreaseBudget, DecreaseRules, decrease_budget
from autoresponder.domain.reconcile import Kind, kind_of, kind_of_limits, value_of
from autoresponder.domain.scaling import ALREADY_APPLIED, UPDATING, Limits, ScaleHistory
from autoresponder.domain.throttling import ThrottleCause, ThrottleSignal, classify
from autoresponder.models.decision import Action, AutoScalingLimits, Severity
from autoresponder.models.scale_back import ActiveAlarm, WindowActivity
from autoresponder.models.table import (
    CapacityUnit,
    Dimension,
    ScalableTarget,
    TableDescription,
    TablePolicy,
)

BACK_ACTIONS = frozenset(
    {Action.SCALE_DOWN, Action.RESTORE_AUTOSCALING, Action.RESTORE_ON_DEMAND_MAX}
)
FOLLOW_UP_CAUSES = frozenset(
    {ThrottleCause.PROVISIONED, ThrottleCause.GENERIC, ThrottleCause.ON_DEMAND_MAX}
)
"""Causes more capacity can help; hot partitions and account limits are other runbooks' job."""


@dataclass(frozen=True)
class ScaleBackPolicy:
    stabilization: timedelta = timedelta(minutes=10)
    """How long an episode must have been over (no throttling, demand below the raised value)
    before a scale-back; a unit's record may carry a doubled window (`stabilization_for`)."""
    max_stabilization: timedelta = timedelta(hours=24)
    """Doubling stops here."""
    flap_window: timedelta = timedelta(hours=1)
    """A raise this soon after a decrease of the same unit doubles its window."""
    headroom_percent: float = 25.0
    """Never below the window's peak demand plus this headroom."""
    min_cut_percent: float = 10.0
    """A provisioned cut smaller than this percent of the current value is not worth a decrease
    (the cut that restores the original is always made: it ends the lifecycle)."""
    spend_last_decrease: bool = False
    decrease_rules: DecreaseRules = field(default_factory=DecreaseRules)


class HoldReason(StrEnum):
    STILL_BUSY = "still_busy"
    BUDGET = "budget"
    STABILIZING = "stabilizing"


@dataclass(frozen=True)
class ScaleBackCase:
    """Everything the decision for one raised table/index/dimension reads."""

    table: TableDescription
    index_name: str | None
    dimension: Dimension
    history: ScaleHistory
    table_policy: TablePolicy
    now: datetime
    scalable_target: ScalableTarget | None = None
    activity: WindowActivity | None = None
    """Consumed peak and throttled requests over the stabilization window (read only when the
    checks that need no metric pass)."""
    alarms_in_alarm: tuple[str, ...] = ()
    """Throttling alarms of this table (any index, any dimension) now in ALARM."""
    run_key: str = ""


@dataclass(frozen=True)
class BackPlan:
    action: Action
    rule: str
    reason: str
    dimension: Dimension
    hold_reason: HoldReason | None = None
    before: Limits | None = None
    after: Limits | None = None
    restores_original: bool = False
    forget: bool = False
    """Stop tracking the raise: delete its scale history (once the decision is recorded)."""
    removed_units: int = 0
    """Provisioned units removed (for the cost estimate)."""
    budget: DecreaseBudget | None = None
    severity: Severity = Severity.INFO
    next_steps: tuple[str, ...] = ()
    announce: bool | None = None
    until: datetime | None = None
    """For a hold that ends at a known time (stabilizing): when to look again."""

    @property
    def mutates(self) -> bool:
        return self.action in BACK_ACTIONS

    @property
    def replayed(self) -> bool:
        """This run's change was already made: announce it, do not make it again."""
        return self.rule == ALREADY_APPLIED

    @property
    def spends_decrease(self) -> bool:
        return self.action is Action.SCALE_DOWN


# --------------------------------------------------------------------------------------------
# scale-back
# --------------------------------------------------------------------------------------------
def stabilization_for(history: ScaleHistory, policy: ScaleBackPolicy) -> timedelta:
    """The unit's own window: the setting, or the doubled one its record carries."""
    if history.stabilization_minutes is None:
        return policy.stabilization
    recorded = min(timedelta(minutes=history.stabilization_minutes), policy.max_stabilization)
    return max(recorded, policy.stabilization)


def window_after_raise(
    previous: ScaleHistory | None,
    last_decrease_at: datetime | None,
    now: datetime,
    policy: ScaleBackPolicy,
) -> int | None:
    """The stabilization window (minutes) a raise leaves on its unit's record: doubled when the
    unit was decreased within `flap_window` (a re-throttle soon after a scale-back: no flapping),
    else what the record already carried (None: the setting)."""
    decreased = [t for t in (last_decrease_at, previous.decreased_at if previous else None) if t]
    if not decreased or now - max(decreased) > policy.flap_window:
        return previous.stabilization_minutes if previous else None
    if previous is not None and previous.scaled_at >= max(decreased):
        return previous.stabilization_minutes  # doubled already for this decrease
    current = stabilization_for(previous, policy) if previous else policy.stabilization
    doubled = min(current * 2, policy.max_stabilization)
    return int(doubled.total_seconds() // 60)


def precheck(case: ScaleBackCase, policy: ScaleBackPolicy) -> BackPlan | None:
    """The decisions that need no metric; None when the window's activity decides."""
    history, dimension = case.history, case.dimension
    where = _where(case.table.table_name, case.index_name)
    if history.event_key == case.run_key and history.action in BACK_ACTIONS:
        return _replay(case)
    if not case.table_policy.managed:
        return _forget(
            case,
            "not_managed",
            f"{where} no longer carries autoresponder:managed=true: its raise of {dimension} "
            f"is no longer tracked (original {_fmt_limits(history.original, dimension)})",
            announce=True,
            next_steps=("Restore the original capacity by hand if the table opted out for good",),
        )
    unit = case.table.unit(case.index_name)
    if unit is None:
        return _forget(case, "index_missing", f"{where} no longer exists")
    # While UPDATING, DescribeTable still reports the old throughput: judging "restored" or
    # "changed elsewhere" from it would forget a raise that is only in flight.
    if UPDATING in (case.table.status, unit.status):
        return _hold(
            case, HoldReason.STILL_BUSY, "updating", f"{where} is UPDATING: a change is in flight"
        )
    mismatch = _management_changed(case, unit)
    if mismatch is not None:
        return _forget(case, "management_changed", f"{where}: {mismatch}; left as it is")
    current = _current(case, unit)
    original = value_of(history.original, dimension)
    if current is None or original is None:
        return _forget(case, "no_value", f"{where} has no {dimension} value to restore")
    if current <= original:
        return _forget(
            case,
            "restored",
            f"{where} {dimension} is at {current}, not above its original {original}: "
            "nothing left to scale back",
        )
    if _changed_elsewhere(case, unit):
        return _forget(
            case,
            "changed_elsewhere",
            f"{where} {dimension} was changed outside the responder (now "
            f"{_fmt_current(case, unit)}, the responder set "
            f"{_fmt_limits(history.after, dimension)}): left as it is and no longer tracked",
            announce=True,
            next_steps=(f"Original value before the responder's raise: {original}",),
        )
    if case.alarms_in_alarm:
        return _hold(
            case,
            HoldReason.STILL_BUSY,
            "throttling",
            f"throttling alarm(s) of table {case.table.table_name} in ALARM "
            f"({', '.join(sorted(case.alarms_in_alarm))}): no decrease while throttled",
        )
    since = case.now - history.scaled_at
    window = stabilization_for(history, policy)
    if since < window:
        until = history.scaled_at + window
        return _hold(
            case,
            HoldReason.STABILIZING,
            "stabilizing",
            f"{where} {dimension} was raised {_minutes(max(since, timedelta(0)))} min ago: "
            f"stabilizing until {until:%H:%M} UTC ({_minutes(window)} min window)",
            until=until,
        )
    return None


def decide_scale_back(case: ScaleBackCase, policy: ScaleBackPolicy) -> BackPlan:
    """One step of the lifecycle for one raised table/index/dimension."""
    early = precheck(case, policy)
    if early is not None:
        return early
    unit = case.table.unit(case.index_name)
    current = _current(case, unit) if unit is not None else None
    original = value_of(case.history.original, case.dimension)
    assert unit is not None and current is not None and original is not None  # precheck
    where = _where(case.table.table_name, case.index_name)
    window = _minutes(stabilization_for(case.history, policy))
    activity = case.activity
    if activity is None:
        return _hold(
            case, HoldReason.STILL_BUSY, "activity_unknown", f"{where}: activity was not read"
        )
    if activity.throttle_events > 0:
        return _hold(
            case,
            HoldReason.STILL_BUSY,
            "throttled_recently",
            f"{where} throttled {activity.throttle_events:,.0f} {case.dimension} request(s) "
            f"in the last {window} min",
            until=_out_of_window(activity.last_throttled_at, case, policy),
        )
    peak = activity.consumed_peak or 0.0
    if peak >= current:
        return _hold(
            case,
            HoldReason.STILL_BUSY,
            "busy",
            f"{where} demand reached {peak:,.1f} {case.dimension} units/s in the last {window} "
            f"min, not below the raised {current}",
            until=_out_of_window(activity.peak_at, case, policy),
        )
    floor = max(original, math.ceil(peak * (1 + policy.headroom_percent / 100)))
    kind = kind_of(case.history)
    if kind is Kind.AUTOSCALING:
        return _restore_autoscaling(case, floor, peak)
    if kind is Kind.ON_DEMAND:
        return _restore_on_demand(case, unit, floor, peak)
    return _scale_down(
        case, unit, current=current, original=original, floor=floor, peak=peak, policy=policy
    )


def _scale_down(
    case: ScaleBackCase,
    unit: CapacityUnit,
    *,
    current: int,
    original: int,
    floor: int,
    peak: float,
    policy: ScaleBackPolicy,
) -> BackPlan:
    dimension = case.dimension
    where = _where(case.table.table_name, case.index_name)
    target = floor
    if target >= current:
        return _hold(
            case,
            HoldReason.STILL_BUSY,
            "peak_plus_headroom",
            f"{where} {dimension} at {current} is what the peak {peak:,.1f}/s plus headroom needs",
            until=_out_of_window(case.activity.peak_at if case.activity else None, case, policy),
        )
    restores = target == original
    cut = current - target
    if not restores and cut < current * policy.min_cut_percent / 100:
        return _hold(
            case,
            HoldReason.BUDGET,
            "small_cut",
            f"{where} {dimension}: a cut of {cut} unit(s) ({cut / current:.1%}) to {target} is not "
            f"worth one of the day's decreases (minimum {policy.min_cut_percent:g} %)",
            until=_out_of_window(case.activity.peak_at if case.activity else None, case, policy),
        )
    budget = decrease_budget(
        unit.decreases_today, unit.last_decrease_at, case.now, policy.decrease_rules
    )
    if not budget.allowed_now:
        return _hold(
            case,
            HoldReason.BUDGET,
            "budget_exhausted",
            f"{where}: no decrease allowed now ({budget.describe()})",
            budget=budget,
            until=budget.next_allowed_at,
        )
    if budget.is_last_of_day and not policy.spend_last_decrease:
        return _hold(
            case,
            HoldReason.BUDGET,
            "last_decrease",
            f"{where}: the next decrease would be the last one possible today "
            f"({budget.used_today} used): kept in reserve for after a later increase",
            budget=budget,
        )
    assert unit.provisioned is not None  # precheck: a provisioned raise of a provisioned unit
    return BackPlan(
        Action.SCALE_DOWN,
        "provisioned.scale_down" if not restores else "provisioned.restore",
        f"{where} {dimension} units {current} → {target}"
        + (" (the original)" if restores else f" (original {original})")
        + f": {_consumed(case)} over the last "
        f"{_minutes(stabilization_for(case.history, policy))} min, no throttling; "
        f"{budget.describe()}",
        dimension,
        before=unit.provisioned,
        after=unit.provisioned.with_(dimension, target),
        restores_original=restores,
        removed_units=cut,
        budget=budget,
    )


def _restore_autoscaling(case: ScaleBackCase, floor: int, peak: float) -> BackPlan:
    target = case.scalable_target
    original = case.history.original
    assert target is not None and isinstance(original, AutoScalingLimits)  # precheck
    where = _where(case.table.table_name, case.index_name)
    new_min = floor
    new_max = max(original.max_capacity, new_min)
    if new_min >= target.min_capacity:
        return _hold(
            case,
            HoldReason.STILL_BUSY,
            "peak_plus_headroom",
            f"{where}: MinCapacity {target.min_capacity} is what the peak {peak:,.1f}/s plus "
            "headroom needs",
        )
    after = AutoScalingLimits(min_capacity=new_min, max_capacity=new_max)
    restores = after == original
    return BackPlan(
        Action.RESTORE_AUTOSCALING,
        "autoscaling.restore" if restores else "autoscaling.lower_min",
        f"{where} {case.dimension}: Auto Scaling MinCapacity {target.min_capacity} → {new_min}"
        + (
            f", MaxCapacity {target.max_capacity} → {new_max}"
            if new_max != target.max_capacity
            else ""
        )
        + (" (the original)" if restores else f" (original min {original.min_capacity})")
        + f"; {_consumed(case)}: Auto Scaling brings the table down itself",
        case.dimension,
        before=AutoScalingLimits(
            min_capacity=target.min_capacity, max_capacity=target.max_capacity
        ),
        after=after,
        restores_original=restores,
    )


def _restore_on_demand(
    case: ScaleBackCase, unit: CapacityUnit, floor: int, peak: float
) -> BackPlan:
    dimension = case.dimension
    caps = unit.on_demand_max
    cap = caps.of(dimension)
    assert cap is not None  # precheck
    where = _where(case.table.table_name, case.index_name)
    if floor >= cap:
        return _hold(
            case,
            HoldReason.STILL_BUSY,
            "peak_plus_headroom",
            f"{where}: on-demand {dimension} cap {cap} is what the peak {peak:,.1f}/s plus "
            "headroom needs",
        )
    original = value_of(case.history.original, dimension)
    restores = floor == original
    return BackPlan(
        Action.RESTORE_ON_DEMAND_MAX,
        "on_demand.restore_max" if restores else "on_demand.lower_max",
        f"{where} on-demand {dimension} cap MaxRequestUnits {cap} → {floor}"
        + (" (the original)" if restores else f" (original {original})")
        + f"; {_consumed(case)}",
        dimension,
        before=caps,
        after=caps.with_(dimension, floor),
        restores_original=restores,
    )


def _replay(case: ScaleBackCase) -> BackPlan:
    """This run's change was already made (a retry after the change, before the record)."""
    history = case.history
    restores = value_of(history.after, case.dimension) == value_of(history.original, case.dimension)
    return BackPlan(
        history.action,
        ALREADY_APPLIED,
        f"{_where(case.table.table_name, case.index_name)}: this run's change was already "
        f"applied ({_fmt_limits(history.before, case.dimension)} → "
        f"{_fmt_limits(history.after, case.dimension)}); not applied again",
        case.dimension,
        before=history.before,
        after=history.after,
        restores_original=restores,
        forget=restores,
    )


def _management_changed(case: ScaleBackCase, unit: CapacityUnit) -> str | None:
    kind = kind_of(case.history)
    if kind_of_limits(case.history.original) is not kind:
        return "the way its capacity is managed changed since the first raise"
    if kind is Kind.AUTOSCALING and case.scalable_target is None:
        return "its Auto Scaling target is gone"
    if kind is Kind.ON_DEMAND and not case.table.is_on_demand:
        return "it is no longer on-demand"
    if kind is Kind.PROVISIONED:
        if case.table.is_on_demand or unit.provisioned is None:
            return "it is no longer provisioned"
        if case.scalable_target is not None:
            return "it is now under Application Auto Scaling"
    return None


def _current(case: ScaleBackCase, unit: CapacityUnit) -> int | None:
    kind = kind_of(case.history)
    if kind is Kind.AUTOSCALING:
        return case.scalable_target.min_capacity if case.scalable_target else None
    if kind is Kind.ON_DEMAND:
        return unit.on_demand_max.of(case.dimension)
    return unit.provisioned.of(case.dimension) if unit.provisioned else None


def _changed_elsewhere(case: ScaleBackCase, unit: CapacityUnit) -> bool:
    after = case.history.after
    if isinstance(after, AutoScalingLimits):
        target = case.scalable_target
        return target is None or (target.min_capacity, target.max_capacity) != (
            after.min_capacity,
            after.max_capacity,
        )
    return _current(case, unit) != after.of(case.dimension)


def _out_of_window(
    minute: datetime | None, case: ScaleBackCase, policy: ScaleBackPolicy
) -> datetime | None:
    """When the datapoint of `minute` leaves the unit's window: the hold may end then."""
    if minute is None:
        return None
    return minute + timedelta(minutes=1) + stabilization_for(case.history, policy)


def _hold(
    case: ScaleBackCase,
    reason: HoldReason,
    rule: str,
    text: str,
    *,
    budget: DecreaseBudget | None = None,
    until: datetime | None = None,
) -> BackPlan:
    return BackPlan(
        Action.HOLD,
        f"hold.{rule}",
        f"{reason.value.replace('_', ' ')}: {text}",
        case.dimension,
        hold_reason=reason,
        budget=budget,
        until=until,
    )


def _forget(
    case: ScaleBackCase,
    rule: str,
    text: str,
    *,
    announce: bool | None = None,
    next_steps: tuple[str, ...] = (),
) -> BackPlan:
    return BackPlan(
        Action.SKIP,
        f"forget.{rule}",
        text,
        case.dimension,
        forget=True,
        severity=Severity.WARNING if announce else Severity.INFO,
        next_steps=next_steps,
        announce=announce,
    )


# --------------------------------------------------------------------------------------------
# one change per table and run
# --------------------------------------------------------------------------------------------
def saving_per_hour(plan: BackPlan, prices: Prices) -> float:
    """The bill's hourly reduction of a plan (0 when it changes no provisioned units)."""
    delta = hourly_delta(plan.removed_units, plan.dimension, prices)
    return delta or 0.0


def pick_change(plans: Sequence[BackPlan], prices: Prices) -> int | None:
    """Which mutating plan of one table to apply this run (the others wait for the next run).

    One UpdateTable call at a time per table (it goes UPDATING and refuses another), and never a
    table and a GSI decrease in one call. Changes that cost no decrease come first (Auto Scaling
    and on-demand restores), then the largest saving.
    """
    candidates = [i for i, plan in enumerate(plans) if plan.mutates]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda i: (plans[i].spends_decrease, -saving_per_hour(plans[i], prices), i),
    )


def wait_for_other_change(plan: BackPlan, chosen: BackPlan | None) -> BackPlan:
    """A change that waits for the next run: the table gets another one in this run."""
    other = (
        f" ({chosen.action} of {chosen.dimension})"
        if chosen is not None
        else " (a follow-up raise, or a change made before a retry)"
    )
    return BackPlan(
        Action.HOLD,
        "hold.one_change_per_run",
        f"still busy: this table gets another change in this run{other}; "
        f"{plan.action} of {plan.dimension} waits for the next run",
        plan.dimension,
        hold_reason=HoldReason.STILL_BUSY,
    )


# --------------------------------------------------------------------------------------------
# follow-ups of throttling alarms still in ALARM
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThrottlingAlarm:
    alarm: ActiveAlarm
    target: AlarmTarget
    signal: ThrottleSignal

    @property
    def unit_key(self) -> tuple[str, str | None, Dimension | None]:
        return self.target.table_name, self.target.index_name, self.signal.dimension


def throttling_alarms(alarms: Sequence[ActiveAlarm]) -> list[ThrottlingAlarm]:
    """The alarms in ALARM that watch a DynamoDB throttle metric of one table (any cause)."""
    found = []
    for alarm in alarms:
        if is_autoscaling_alarm(alarm.alarm_name):
            continue
        target = resolve_target(alarm.metrics)
        if not isinstance(target, AlarmTarget):
            continue
        signal = classify(target.metric_name, target.operation)
        if signal.cause is ThrottleCause.NOT_THROTTLE:
            continue
        found.append(ThrottlingAlarm(alarm, target, signal))
    return found


# --------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------
def _where(table_name: str, index_name: str | None) -> str:
    if index_name:
        return f"index {index_name} of table {table_name}"
    return f"table {table_name}"


def _consumed(case: ScaleBackCase) -> str:
    peak = case.activity.consumed_peak if case.activity else None
    if peak is None:
        return "no consumption reported"
    return f"peak consumed {peak:,.1f}/s"


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _fmt_limits(limits: Limits, dimension: Dimension) -> str:
    if isinstance(limits, AutoScalingLimits):
        return f"min {limits.min_capacity} / max {limits.max_capacity}"
    value = limits.of(dimension)
    return "no cap" if value is None else str(value)


def _fmt_current(case: ScaleBackCase, unit: CapacityUnit) -> str:
    target = case.scalable_target
    if isinstance(case.history.after, AutoScalingLimits) and target is not None:
        return f"min {target.min_capacity} / max {target.max_capacity}"
    value = _current(case, unit)
    return "unknown" if value is None else str(value)
