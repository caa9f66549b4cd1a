"""The verdicts of a provisioned resource: raise it (or Auto Scaling's MinCapacity), or why not."""

from __future__ import annotations

from autoresponder.domain.diagnosis import UnitDiagnosis
from autoresponder.domain.scaling.case import ThrottleCase
from autoresponder.domain.scaling.sizing import ScalingPolicy, ceiling, fresh, sized_to_demand
from autoresponder.domain.scaling.verdicts import (
    Verdict,
    VerdictKind,
    advise_quota,
    hand_off,
    sized,
)
from autoresponder.domain.scaling.words import fmt, hhmm, minutes
from autoresponder.domain.throttling import ThrottleCause
from autoresponder.models.table import CapacityUnit

_UNEXPLAINED = frozenset({ThrottleCause.GENERIC})


def provisioned_verdict(
    case: ThrottleCase, unit: UnitDiagnosis, capacity_unit: CapacityUnit, policy: ScalingPolicy
) -> Verdict | None:
    """What one resource and dimension needs, in the order an on-call engineer would check:

    1. a measured shortfall (demand more capacity would serve, above what is provisioned —
       Auto Scaling's MinCapacity counts) → raise to the demand plus headroom, cooldown or not;
    2. throttling more capacity would serve, after the last raise settled (its cooldown) →
       one minimum step (per-second bursts a 1-minute average hides);
    3. a hot partition → hand off; the account quota → advise;
    4. base-table writes held back by a GSI → the index, not the table;
    5. throttling from before the last raise settled → nothing more (cooldown)."""
    provisioned = capacity_unit.provisioned
    if provisioned is None:
        return None
    target = case.scalable_targets.get((unit.index_name, unit.dimension))
    current = provisioned.of(unit.dimension)
    if target is not None:
        current = max(current, target.min_capacity)
    if unit.demand_peak is not None and unit.demand_peak > current:
        return _raise_verdict(case, unit, current, short=True, policy=policy)
    if not unit.throttled:
        return None
    if target is not None and provisioned.of(unit.dimension) < target.min_capacity:
        return Verdict.about(
            unit,
            VerdictKind.COOLDOWN,
            "autoscaling.catching_up",
            f"{unit.where()}: Application Auto Scaling is bringing the table to its MinCapacity "
            f"{current}, which covers the measured demand",
            current,
        )
    return _throttled_within(case, unit, current, policy)


def _throttled_within(
    case: ThrottleCase, unit: UnitDiagnosis, current: int, policy: ScalingPolicy
) -> Verdict:
    """Throttling with the measured demand within `current`: steps 2 to 5."""
    if unit.back_pressure_from and unit.index_name is None and set(unit.causes) <= _UNEXPLAINED:
        # the table's own per-cause metrics say nothing: its throttled writes are the GSI's
        return Verdict(
            None,
            unit.dimension,
            VerdictKind.BACK_PRESSURE,
            "gsi_back_pressure",
            f"{unit.where()} throttled because index {', '.join(unit.back_pressure_from)} "
            f"could not keep up (the table used {fmt(unit.consumed_peak)} of {current} "
            "units/s): the index is raised, not the table",
            current=current,
        )
    record = case.record(unit)
    if fresh(unit, record, policy):
        return _raise_verdict(case, unit, current, short=False, policy=policy)
    if unit.has(ThrottleCause.KEY_RANGE):
        # the demand fits the capacity: what still throttles is a hot partition
        return hand_off(unit, current, note="more capacity would not help; ")
    if unit.has(ThrottleCause.ACCOUNT_LIMIT):
        return advise_quota(unit)
    raised = f"at {hhmm(record.scaled_at)} " if record is not None else ""
    return Verdict.about(
        unit,
        VerdictKind.COOLDOWN,
        "cooldown",
        f"{unit.where()} were raised {raised}(cooldown {minutes(policy.cooldown)} min): "
        "their throttling came before the raise settled and CloudWatch shows no demand above "
        f"the {current} units now provisioned",
        current,
    )


def _raise_verdict(
    case: ThrottleCase, unit: UnitDiagnosis, current: int, *, short: bool, policy: ScalingPolicy
) -> Verdict:
    """A raise of `current` (units, or Auto Scaling's MinCapacity where it is larger): sized on
    the measured demand when `short`, else one minimum step."""
    target = case.scalable_targets.get((unit.index_name, unit.dimension))
    top = ceiling(case.table_policy, unit.dimension, policy)
    return sized(
        unit,
        current,
        sized_to_demand(current, unit.demand_peak if short else None, top, policy),
        rule="autoscaling.raise_min" if target is not None else "provisioned.scale_up",
        text=f"{unit.where()} {_shortfall_words(unit, current, short)}",
        at_ceiling=f"{unit.where()} are at {current} units, the ceiling is {top}: not raised",
        short=short,
    )


def _shortfall_words(unit: UnitDiagnosis, current: int, short: bool) -> str:
    if short:
        verb = "throttled" if unit.throttled else "spent burst capacity"
        return f"{verb}: demand ≈ {fmt(unit.demand_peak)} units/s against {current} provisioned"
    return (
        f"throttled ({unit.throttled_events:,.0f} requests) with demand within the "
        f"{current} provisioned: one minimum step"
    )
