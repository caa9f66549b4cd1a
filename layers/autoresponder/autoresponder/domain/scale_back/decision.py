"""One step back for one raised table/index/dimension, from the window's activity: a decrease
to the peak plus headroom (never below the original), a restore, or a hold."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from autoresponder.domain.decrease_budget import DecreaseBudget, decrease_budget
from autoresponder.domain.reconcile import Kind, kind_of, value_of
from autoresponder.domain.scale_back.plan import BackPlan, HoldReason, ScaleBackCase, hold
from autoresponder.domain.scale_back.policy import ScaleBackPolicy, stabilization_for
from autoresponder.domain.scale_back.precheck import current_value, precheck
from autoresponder.domain.scaling.words import minutes, where
from autoresponder.models.decision import Action, AutoScalingLimits
from autoresponder.models.table import CapacityUnit


def decide_scale_back(case: ScaleBackCase, policy: ScaleBackPolicy) -> BackPlan:
    """One step of the lifecycle for one raised table/index/dimension."""
    early = precheck(case, policy)
    if early is not None:
        return early
    unit = case.table.unit(case.index_name)
    current = current_value(case, unit) if unit is not None else None
    original = value_of(case.history.original, case.dimension)
    assert unit is not None and current is not None and original is not None  # precheck
    place = where(case.table.table_name, case.index_name)
    window = minutes(stabilization_for(case.history, policy))
    activity = case.activity
    if activity is None:
        return hold(
            case, HoldReason.STILL_BUSY, "activity_unknown", f"{place}: activity was not read"
        )
    if activity.throttle_events > 0:
        return hold(
            case,
            HoldReason.STILL_BUSY,
            "throttled_recently",
            f"{place} throttled {activity.throttle_events:,.0f} {case.dimension} request(s) "
            f"in the last {window} min",
            until=_out_of_window(activity.last_throttled_at, case, policy),
        )
    peak = activity.consumed_peak or 0.0
    if peak >= current:
        return hold(
            case,
            HoldReason.STILL_BUSY,
            "busy",
            f"{place} demand reached {peak:,.1f} {case.dimension} units/s in the last {window} "
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
    """A provisioned decrease to `floor`, when it is worth one of the day's decreases."""
    dimension = case.dimension
    place = where(case.table.table_name, case.index_name)
    target = floor
    restores = target == original
    cut = current - target
    not_worth = _not_worth_a_decrease(
        case, current=current, target=target, restores=restores, peak=peak, policy=policy
    )
    if not_worth is not None:
        return not_worth
    budget = decrease_budget(
        unit.decreases_today, unit.last_decrease_at, case.now, policy.decrease_rules
    )
    out_of_budget = _out_of_budget(case, budget, policy)
    if out_of_budget is not None:
        return out_of_budget
    assert unit.provisioned is not None  # precheck: a provisioned raise of a provisioned unit
    return BackPlan(
        Action.SCALE_DOWN,
        "provisioned.scale_down" if not restores else "provisioned.restore",
        f"{place} {dimension} units {current} → {target}"
        + (" (the original)" if restores else f" (original {original})")
        + f": {_consumed(case)} over the last "
        f"{minutes(stabilization_for(case.history, policy))} min, no throttling; "
        f"{budget.describe()}",
        dimension,
        before=unit.provisioned,
        after=unit.provisioned.with_(dimension, target),
        restores_original=restores,
        removed_units=cut,
        budget=budget,
    )


def _not_worth_a_decrease(
    case: ScaleBackCase,
    *,
    current: int,
    target: int,
    restores: bool,
    peak: float,
    policy: ScaleBackPolicy,
) -> BackPlan | None:
    """Nothing to cut (the peak plus headroom needs `current`), or a cut too small to spend a
    decrease on (the one that restores the original is always made)."""
    place = where(case.table.table_name, case.index_name)
    peak_at = case.activity.peak_at if case.activity else None
    if target >= current:
        return hold(
            case,
            HoldReason.STILL_BUSY,
            "peak_plus_headroom",
            f"{place} {case.dimension} at {current} is what the peak {peak:,.1f}/s plus "
            "headroom needs",
            until=_out_of_window(peak_at, case, policy),
        )
    cut = current - target
    if not restores and cut < current * policy.min_cut_percent / 100:
        return hold(
            case,
            HoldReason.BUDGET,
            "small_cut",
            f"{place} {case.dimension}: a cut of {cut} unit(s) ({cut / current:.1%}) to {target} "
            f"is not worth one of the day's decreases (minimum {policy.min_cut_percent:g} %)",
            until=_out_of_window(peak_at, case, policy),
        )
    return None


def _out_of_budget(
    case: ScaleBackCase, budget: DecreaseBudget, policy: ScaleBackPolicy
) -> BackPlan | None:
    """No decrease allowed now, or the next one is the day's last, kept in reserve."""
    place = where(case.table.table_name, case.index_name)
    if not budget.allowed_now:
        return hold(
            case,
            HoldReason.BUDGET,
            "budget_exhausted",
            f"{place}: no decrease allowed now ({budget.describe()})",
            budget=budget,
            until=budget.next_allowed_at,
        )
    if budget.is_last_of_day and not policy.spend_last_decrease:
        return hold(
            case,
            HoldReason.BUDGET,
            "last_decrease",
            f"{place}: the next decrease would be the last one possible today "
            f"({budget.used_today} used): kept in reserve for after a later increase",
            budget=budget,
        )
    return None


def _restore_autoscaling(case: ScaleBackCase, floor: int, peak: float) -> BackPlan:
    target = case.scalable_target
    original = case.history.original
    assert target is not None and isinstance(original, AutoScalingLimits)  # precheck
    place = where(case.table.table_name, case.index_name)
    new_min = floor
    new_max = max(original.max_capacity, new_min)
    if new_min >= target.min_capacity:
        return hold(
            case,
            HoldReason.STILL_BUSY,
            "peak_plus_headroom",
            f"{place}: MinCapacity {target.min_capacity} is what the peak {peak:,.1f}/s plus "
            "headroom needs",
        )
    after = AutoScalingLimits(min_capacity=new_min, max_capacity=new_max)
    restores = after == original
    return BackPlan(
        Action.RESTORE_AUTOSCALING,
        "autoscaling.restore" if restores else "autoscaling.lower_min",
        f"{place} {case.dimension}: Auto Scaling MinCapacity {target.min_capacity} → {new_min}"
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
    place = where(case.table.table_name, case.index_name)
    if floor >= cap:
        return hold(
            case,
            HoldReason.STILL_BUSY,
            "peak_plus_headroom",
            f"{place}: on-demand {dimension} cap {cap} is what the peak {peak:,.1f}/s plus "
            "headroom needs",
        )
    original = value_of(case.history.original, dimension)
    restores = floor == original
    return BackPlan(
        Action.RESTORE_ON_DEMAND_MAX,
        "on_demand.restore_max" if restores else "on_demand.lower_max",
        f"{place} on-demand {dimension} cap MaxRequestUnits {cap} → {floor}"
        + (" (the original)" if restores else f" (original {original})")
        + f"; {_consumed(case)}",
        dimension,
        before=caps,
        after=caps.with_(dimension, floor),
        restores_original=restores,
    )


def _out_of_window(
    minute: datetime | None, case: ScaleBackCase, policy: ScaleBackPolicy
) -> datetime | None:
    """When the datapoint of `minute` leaves the unit's window: the hold may end then."""
    if minute is None:
        return None
    return minute + timedelta(minutes=1) + stabilization_for(case.history, policy)


def _consumed(case: ScaleBackCase) -> str:
    peak = case.activity.consumed_peak if case.activity else None
    if peak is None:
        return "no consumption reported"
    return f"peak consumed {peak:,.1f}/s"
