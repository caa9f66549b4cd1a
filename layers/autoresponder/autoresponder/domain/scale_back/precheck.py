"""The scale-back decisions that need no metric: a replay, a raise no longer tracked, a table
still busy or still stabilizing."""

from __future__ import annotations

from datetime import timedelta

from autoresponder.domain.reconcile import Kind, kind_of, kind_of_limits, value_of
from autoresponder.domain.scale_back.plan import (
    BACK_ACTIONS,
    BackPlan,
    HoldReason,
    ScaleBackCase,
    forget,
    hold,
)
from autoresponder.domain.scale_back.policy import ScaleBackPolicy, stabilization_for
from autoresponder.domain.scaling.history import UPDATING, Limits
from autoresponder.domain.scaling.plan import ALREADY_APPLIED
from autoresponder.domain.scaling.words import minutes, where
from autoresponder.models.decision import AutoScalingLimits
from autoresponder.models.table import CapacityUnit, Dimension


def precheck(case: ScaleBackCase, policy: ScaleBackPolicy) -> BackPlan | None:
    """The decisions that need no metric; None when the window's activity decides."""
    history, dimension = case.history, case.dimension
    place = where(case.table.table_name, case.index_name)
    if history.event_key == case.run_key and history.action in BACK_ACTIONS:
        return _replay(case)
    if not case.table_policy.managed:
        return forget(
            case,
            "not_managed",
            f"{place} no longer carries autoresponder:managed=true: its raise of {dimension} "
            f"is no longer tracked (original {_fmt_limits(history.original, dimension)})",
            announce=True,
            next_steps=("Restore the original capacity by hand if the table opted out for good",),
        )
    unit = case.table.unit(case.index_name)
    if unit is None:
        return forget(case, "index_missing", f"{place} no longer exists")
    # While UPDATING, DescribeTable still reports the old throughput: judging "restored" or
    # "changed elsewhere" from it would forget a raise that is only in flight.
    if UPDATING in (case.table.status, unit.status):
        return hold(
            case, HoldReason.STILL_BUSY, "updating", f"{place} is UPDATING: a change is in flight"
        )
    return _no_longer_tracked(case, unit, place) or _not_yet(case, place, policy)


def current_value(case: ScaleBackCase, unit: CapacityUnit) -> int | None:
    """The unit's value the raise moved: MinCapacity, the on-demand cap, or the units."""
    kind = kind_of(case.history)
    if kind is Kind.AUTOSCALING:
        return case.scalable_target.min_capacity if case.scalable_target else None
    if kind is Kind.ON_DEMAND:
        return unit.on_demand_max.of(case.dimension)
    return unit.provisioned.of(case.dimension) if unit.provisioned else None


def _no_longer_tracked(case: ScaleBackCase, unit: CapacityUnit, place: str) -> BackPlan | None:
    """The raise is over without the responder: managed otherwise, restored, changed by hand."""
    dimension = case.dimension
    mismatch = _management_changed(case, unit)
    if mismatch is not None:
        return forget(case, "management_changed", f"{place}: {mismatch}; left as it is")
    current = current_value(case, unit)
    original = value_of(case.history.original, dimension)
    if current is None or original is None:
        return forget(case, "no_value", f"{place} has no {dimension} value to restore")
    if current <= original:
        return forget(
            case,
            "restored",
            f"{place} {dimension} is at {current}, not above its original {original}: "
            "nothing left to scale back",
        )
    if _changed_elsewhere(case, unit):
        return forget(
            case,
            "changed_elsewhere",
            f"{place} {dimension} was changed outside the responder (now "
            f"{_fmt_current(case, unit)}, the responder set "
            f"{_fmt_limits(case.history.after, dimension)}): left as it is and no longer tracked",
            announce=True,
            next_steps=(f"Original value before the responder's raise: {original}",),
        )
    return None


def _not_yet(case: ScaleBackCase, place: str, policy: ScaleBackPolicy) -> BackPlan | None:
    """Too early to look at the activity: a throttling alarm in ALARM, or still stabilizing."""
    if case.alarms_in_alarm:
        return hold(
            case,
            HoldReason.STILL_BUSY,
            "throttling",
            f"throttling alarm(s) of table {case.table.table_name} in ALARM "
            f"({', '.join(sorted(case.alarms_in_alarm))}): no decrease while throttled",
        )
    since = case.now - case.history.scaled_at
    window = stabilization_for(case.history, policy)
    if since < window:
        until = case.history.scaled_at + window
        return hold(
            case,
            HoldReason.STABILIZING,
            "stabilizing",
            f"{place} {case.dimension} was raised {minutes(max(since, timedelta(0)))} min ago: "
            f"stabilizing until {until:%H:%M} UTC ({minutes(window)} min window)",
            until=until,
        )
    return None


def _replay(case: ScaleBackCase) -> BackPlan:
    """This run's change was already made (a retry after the change, before the record)."""
    history = case.history
    restores = value_of(history.after, case.dimension) == value_of(history.original, case.dimension)
    return BackPlan(
        history.action,
        ALREADY_APPLIED,
        f"{where(case.table.table_name, case.index_name)}: this run's change was already "
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


def _changed_elsewhere(case: ScaleBackCase, unit: CapacityUnit) -> bool:
    after = case.history.after
    if isinstance(after, AutoScalingLimits):
        target = case.scalable_target
        return target is None or (target.min_capacity, target.max_capacity) != (
            after.min_capacity,
            after.max_capacity,
        )
    return current_value(case, unit) != after.of(case.dimension)


def _fmt_limits(limits: Limits, dimension: Dimension) -> str:
    if isinstance(limits, AutoScalingLimits):
        return f"min {limits.min_capacity} / max {limits.max_capacity}"
    value = limits.of(dimension)
    return "no cap" if value is None else str(value)


def _fmt_current(case: ScaleBackCase, unit: CapacityUnit) -> str:
    target = case.scalable_target
    if isinstance(case.history.after, AutoScalingLimits) and target is not None:
        return f"min {target.min_capacity} / max {target.max_capacity}"
    value = current_value(case, unit)
    return "unknown" if value is None else str(value)
