"""CloudWatch unreadable: the alarm's own metric decides, by the minimum step."""

from __future__ import annotations

from dataclasses import replace

from autoresponder.domain.alarm_target import AlarmTarget
from autoresponder.domain.diagnosis import PERIOD, UnitDiagnosis
from autoresponder.domain.scaling.case import ThrottleCase
from autoresponder.domain.scaling.conclusion import conclude
from autoresponder.domain.scaling.on_demand import on_demand_verdict
from autoresponder.domain.scaling.plan import Plan
from autoresponder.domain.scaling.provisioned import provisioned_verdict
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.domain.scaling.verdicts import Verdict, advise
from autoresponder.domain.scaling.words import where
from autoresponder.domain.throttling import ThrottleCause, ThrottleSignal, classify
from autoresponder.models.decision import Action
from autoresponder.models.table import CapacityUnit

_NOTE = "CloudWatch could not be read: the alarm's own metric decided, by the minimum step"


def fallback(case: ThrottleCase, policy: ScalingPolicy) -> Plan:
    """CloudWatch unreadable: the alarm's own metric decides, by the minimum step."""
    signals = _throttle_signals(case)
    units = {(t.index_name, s.dimension) for t, s in signals}
    if len(units) != 1:
        return Plan(
            Action.DEFER,
            "metrics_unavailable",
            "CloudWatch could not be read and the alarm does not name one resource and "
            "dimension: looking again shortly",
        )
    target, signal = signals[0]
    assert signal.dimension is not None
    index_name, dimension = target.index_name, signal.dimension
    capacity_unit = case.table.unit(index_name)
    place = where(case.table.table_name, index_name)
    if capacity_unit is None:
        return Plan(Action.SKIP, "index_missing", f"{place} does not exist on the table")
    # the alarm says it throttles now: one throttled minute ending now, of the alarm's cause
    # (so the cooldown after a raise holds exactly by time)
    now = case.now - PERIOD
    fixable = signal.cause in (ThrottleCause.PROVISIONED, ThrottleCause.ON_DEMAND_MAX)
    unit = UnitDiagnosis(
        index_name,
        dimension,
        throttled_events=1.0,
        causes={signal.cause: 1.0},
        last_throttled_at=now,
        last_fixable_at=now if fixable or signal.cause is ThrottleCause.GENERIC else None,
    )
    verdict = (
        on_demand_verdict(case, unit, capacity_unit, policy)
        if case.table.is_on_demand
        else _provisioned(case, unit, capacity_unit, policy)
    )
    if verdict is None:
        return Plan(Action.SKIP, "no_capacity", f"{place} reports no capacity to raise")
    plan = conclude(case, [verdict], (_NOTE,))
    return replace(plan, reason=f"{plan.reason} ({_NOTE})")


def _throttle_signals(case: ThrottleCase) -> list[tuple[AlarmTarget, ThrottleSignal]]:
    """The alarm's own metrics that are throttles of one dimension."""
    evidence = case.evidence
    signals = []
    for target in evidence.targets if evidence else ():
        signal = classify(target.metric_name, target.operation)
        if signal.cause is not ThrottleCause.NOT_THROTTLE and signal.dimension is not None:
            signals.append((target, signal))
    return signals


def _provisioned(
    case: ThrottleCase, unit: UnitDiagnosis, capacity_unit: CapacityUnit, policy: ScalingPolicy
) -> Verdict | None:
    if capacity_unit.provisioned is None:
        return None
    if unit.has(ThrottleCause.ON_DEMAND_MAX):
        return advise(
            unit, "mode_mismatch", ": the alarm is for on-demand, the table is provisioned"
        )
    return provisioned_verdict(case, unit, capacity_unit, policy)
