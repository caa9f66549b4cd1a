"""The throttle runbook for one table: gate, verdicts per resource and dimension, the plan."""

from __future__ import annotations

from autoresponder.domain.diagnosis import Diagnosis, UnitDiagnosis, describe
from autoresponder.domain.scaling.case import ThrottleCase
from autoresponder.domain.scaling.conclusion import conclude
from autoresponder.domain.scaling.fallback import fallback
from autoresponder.domain.scaling.no_throttling import nothing_throttled
from autoresponder.domain.scaling.on_demand import on_demand_verdict
from autoresponder.domain.scaling.plan import Plan
from autoresponder.domain.scaling.provisioned import provisioned_verdict
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.domain.scaling.triage import gate
from autoresponder.domain.scaling.verdicts import Verdict
from autoresponder.models.table import CapacityUnit, Dimension, TableDescription


def plan_throttle(case: ThrottleCase, policy: ScalingPolicy) -> Plan:
    """The throttle runbook for one table, in the order an on-call engineer would check it."""
    refused = gate(case.table.table_name, case.table_policy)
    if refused is not None:
        return refused
    if case.diagnosis is None:
        return fallback(case, policy)
    verdicts = [
        verdict
        for unit in case.diagnosis.units
        if (verdict := _verdict(case, unit, policy)) is not None
    ]
    lines = tuple(_lines(case, case.diagnosis))
    if not verdicts:
        return nothing_throttled(case, lines)
    return conclude(case, verdicts, lines)


def _verdict(case: ThrottleCase, unit: UnitDiagnosis, policy: ScalingPolicy) -> Verdict | None:
    """What one resource and dimension needs, by the table's billing mode."""
    capacity_unit = case.table.unit(unit.index_name)
    if capacity_unit is None:
        return None
    if case.table.is_on_demand:
        return on_demand_verdict(case, unit, capacity_unit, policy)
    return provisioned_verdict(case, unit, capacity_unit, policy)


def _lines(case: ThrottleCase, diagnosis: Diagnosis) -> list[str]:
    found = []
    for unit in diagnosis.units:
        capacity_unit = case.table.unit(unit.index_name)
        current = _current(case.table, capacity_unit, unit.dimension)
        short = unit.demand_peak is not None and current is not None and unit.demand_peak > current
        if unit.throttled or short:
            found.append(
                describe(unit, current, case.lookback_minutes, on_demand=case.table.is_on_demand)
            )
    return found


def _current(
    table: TableDescription, unit: CapacityUnit | None, dimension: Dimension
) -> int | None:
    if unit is None:
        return None
    if table.is_on_demand:
        return unit.on_demand_max.of(dimension)
    return unit.provisioned.of(dimension) if unit.provisioned else None
