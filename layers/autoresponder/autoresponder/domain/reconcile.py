"""Settle a recorded intent against what the table shows now (level-triggered, not edge).

An intent (`ScaleHistory` with status `pending`) is a desired state, never proof that the
change was made. Every attempt — the first, a retry, a re-check, a scheduled run — looks at
the table and settles it:

| the table shows                        | the intent                                     |
|----------------------------------------|------------------------------------------------|
| UPDATING                               | in flight: applied (the next look confirms it) |
| the intent's target                    | landed: applied                                |
| the value the intent started from      | never made: apply it now                       |
| anything else                          | changed by someone else: recorded, dropped     |

An ambiguous AWS answer (timeout, reset, 5xx) is settled the same way: by looking again, never
by a blind retry and never by forgetting the intent.
"""

from __future__ import annotations

from enum import StrEnum

from autoresponder.domain.scaling.history import UPDATING, Limits, ScaleHistory
from autoresponder.models.decision import AutoScalingLimits
from autoresponder.models.table import (
    Capacity,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
)


class Landing(StrEnum):
    TO_APPLY = "to_apply"
    """The table is at the intent's `before` and ACTIVE: the change was never made."""
    IN_FLIGHT = "in_flight"
    """The table (or the index) is UPDATING: the change is being made."""
    LANDED = "landed"
    """The table shows the intent's target."""
    ELSEWHERE = "elsewhere"
    """Neither: someone else changed it (or the resource is gone)."""


class Kind(StrEnum):
    PROVISIONED = "provisioned"
    AUTOSCALING = "autoscaling"
    ON_DEMAND = "on_demand"


def kind_of_limits(limits: Limits) -> Kind:
    if isinstance(limits, AutoScalingLimits):
        return Kind.AUTOSCALING
    if isinstance(limits, OnDemandLimits):
        return Kind.ON_DEMAND
    return Kind.PROVISIONED


def kind_of(history: ScaleHistory) -> Kind:
    return kind_of_limits(history.after)


def value_of(limits: Limits, dimension: Dimension) -> int | None:
    """The one number a change moves: units, MinCapacity or the on-demand cap."""
    if isinstance(limits, AutoScalingLimits):
        return limits.min_capacity
    return limits.of(dimension)


def observed(
    kind: Kind,
    table: TableDescription,
    index_name: str | None,
    scalable_target: ScalableTarget | None,
) -> Limits | None:
    """What the table shows now, in the terms of an intent of `kind`."""
    unit = table.unit(index_name)
    if unit is None:
        return None
    if kind is Kind.AUTOSCALING:
        if scalable_target is None:
            return None
        return AutoScalingLimits(
            min_capacity=scalable_target.min_capacity, max_capacity=scalable_target.max_capacity
        )
    if kind is Kind.ON_DEMAND:
        return unit.on_demand_max if table.is_on_demand else None
    return unit.provisioned if not table.is_on_demand else None


def _same(a: Limits, b: Limits, dimension: Dimension) -> bool:
    if isinstance(a, AutoScalingLimits) and isinstance(b, AutoScalingLimits):
        return (a.min_capacity, a.max_capacity) == (b.min_capacity, b.max_capacity)
    if isinstance(a, Capacity | OnDemandLimits) and isinstance(b, Capacity | OnDemandLimits):
        return a.of(dimension) == b.of(dimension)
    return False


def settle(
    intent: ScaleHistory,
    table: TableDescription,
    index_name: str | None,
    dimension: Dimension,
    scalable_target: ScalableTarget | None = None,
) -> Landing:
    """Where an intent stands, from the table's own state."""
    kind = kind_of(intent)
    unit = table.unit(index_name)
    now = observed(kind, table, index_name, scalable_target)
    if unit is None or now is None:
        return Landing.ELSEWHERE
    if kind is Kind.PROVISIONED and scalable_target is not None:
        return Landing.ELSEWHERE  # now under Auto Scaling: a change of the units would be undone
    if kind is not Kind.AUTOSCALING and UPDATING in (table.status, unit.status):
        return Landing.IN_FLIGHT
    if _same(now, intent.after, dimension):
        return Landing.LANDED
    if _same(now, intent.before, dimension):
        return Landing.TO_APPLY
    return Landing.ELSEWHERE
