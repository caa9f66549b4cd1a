"""The verdicts of an on-demand resource: only the table's own maximum is the responder's."""

from __future__ import annotations

from autoresponder.domain.diagnosis import UnitDiagnosis
from autoresponder.domain.scaling.case import ThrottleCase
from autoresponder.domain.scaling.sizing import ScalingPolicy, ceiling, fresh, sized_to_demand
from autoresponder.domain.scaling.verdicts import (
    Verdict,
    VerdictKind,
    advise,
    advise_quota,
    hand_off,
    sized,
)
from autoresponder.domain.scaling.words import fmt
from autoresponder.domain.throttling import ThrottleCause
from autoresponder.models.table import CapacityUnit


def on_demand_verdict(
    case: ThrottleCase, unit: UnitDiagnosis, capacity_unit: CapacityUnit, policy: ScalingPolicy
) -> Verdict | None:
    """On-demand: only the table's own maximum is the responder's to raise."""
    if not unit.throttled:
        return None
    cap = capacity_unit.on_demand_max.of(unit.dimension)
    if unit.has(ThrottleCause.PROVISIONED):
        return advise(
            unit,
            "mode_mismatch",
            ": the alarm's metric is for provisioned capacity, the table is on-demand",
            cap,
        )
    if not _at_cap(unit, cap):
        return _below_cap(unit, cap)
    if cap is None:
        return _no_cap(unit)
    return _raise_max(case, unit, cap, policy)


def _at_cap(unit: UnitDiagnosis, cap: int | None) -> bool:
    """Throttled by the table's own maximum: its own metric says so, or the generic one with
    the demand near the maximum (or unknown: CloudWatch unreadable)."""
    demand = unit.demand_peak
    return unit.has(ThrottleCause.ON_DEMAND_MAX) or (
        unit.has(ThrottleCause.GENERIC)
        and cap is not None
        and (demand is None or demand >= cap * 0.9)  # None: CloudWatch unreadable
    )


def _below_cap(unit: UnitDiagnosis, cap: int | None) -> Verdict:
    """Throttled below the table's own maximum: a hot partition or the account quota."""
    if unit.has(ThrottleCause.KEY_RANGE):
        return hand_off(unit, cap)
    if unit.has(ThrottleCause.ACCOUNT_LIMIT):
        return advise_quota(unit)
    if cap is None:
        return _no_cap(unit)
    return advise(
        unit,
        "on_demand.below_cap",
        f" throttle at {fmt(unit.demand_peak)} requests/s, below the table's own maximum {cap}: "
        "the account quota or a hot partition",
        cap,
    )


def _no_cap(unit: UnitDiagnosis) -> Verdict:
    return advise(
        unit,
        "on_demand.no_cap",
        " throttle on an on-demand table without its own maximum: the account quota or a hot "
        "partition",
    )


def _raise_max(case: ThrottleCase, unit: UnitDiagnosis, cap: int, policy: ScalingPolicy) -> Verdict:
    """At the table's own maximum: raise it, to the measured demand when it is above it, else
    by one minimum step once the last raise settled."""
    demand = unit.demand_peak
    short = demand is not None and demand > cap
    if not short and not fresh(unit, case.record(unit), policy):
        return Verdict.about(
            unit,
            VerdictKind.COOLDOWN,
            "cooldown",
            f"{unit.where()}: the on-demand maximum was raised and the measured demand fits "
            f"the {cap} now allowed",
            cap,
        )
    top = ceiling(case.table_policy, unit.dimension, policy)
    return sized(
        unit,
        cap,
        sized_to_demand(cap, demand if short else None, top, policy),
        rule="on_demand.raise_max",
        text=f"{unit.where()} hit the table's own on-demand maximum ({cap}/s)",
        at_ceiling=f"{unit.where()}: the on-demand maximum {cap} is at the ceiling {top}",
        short=short,
    )
