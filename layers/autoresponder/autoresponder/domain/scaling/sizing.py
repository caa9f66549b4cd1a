"""How far a raise goes: the policy, the next value, the ceiling and the cooldown."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from autoresponder.domain.diagnosis import PERIOD, UnitDiagnosis
from autoresponder.domain.scaling.history import RAISES, ScaleHistory
from autoresponder.models.table import Dimension, TablePolicy


@dataclass(frozen=True)
class ScalingPolicy:
    """Sizing settings; the ceiling comes from the table's tag or the default setting."""

    min_step_percent: float = 20.0
    headroom_percent: float = 25.0
    max_multiple: float = 4.0
    """A raise that is a guess (no measured demand) sets at most this multiple of the value."""
    max_measured_multiple: float = 16.0
    """A raise sized on the demand CloudWatch measured sets at most this multiple."""
    default_max_read_units: int = 10_000
    default_max_write_units: int = 10_000
    hard_max_read_units: int = 40_000
    hard_max_write_units: int = 40_000
    """The stack's hard maximum: no tag and no default takes a ceiling above it."""
    cooldown: timedelta = timedelta(minutes=5)


def min_step(current: int, policy: ScalingPolicy) -> int:
    return max(current + 1, math.ceil(current * (1 + policy.min_step_percent / 100)))


def sized_to_demand(current: int, demand: float | None, ceiling: int, policy: ScalingPolicy) -> int:
    """The next value: the minimum step over `current`, or the demand plus headroom when
    CloudWatch measured it (`demand`, units per second), bounded.

    A guess (`demand` None) moves at most `max_multiple` × `current`; a measured demand at most
    `max_measured_multiple` ×. Never below `current`, never above `ceiling`.
    """
    step = min_step(current, policy)
    if demand is None:
        bound = max(current + 1, math.floor(current * policy.max_multiple))
        wanted = step
    else:
        bound = max(current + 1, math.floor(current * policy.max_measured_multiple))
        wanted = max(step, math.ceil(demand * (1 + policy.headroom_percent / 100) - 1e-9))
    return max(current, min(wanted, bound, ceiling))


def ceiling(table_policy: TablePolicy, dimension: Dimension, policy: ScalingPolicy) -> int:
    """The table's ceiling: its tag, else the default setting, never above the hard maximum."""
    return table_policy.ceiling(
        dimension,
        policy.default_max_read_units,
        policy.default_max_write_units,
        policy.hard_max_read_units,
        policy.hard_max_write_units,
    )


def fresh(unit: UnitDiagnosis, record: ScaleHistory | None, policy: ScalingPolicy) -> bool:
    """Throttling more capacity would serve, after the episode's last raise settled (asked
    for, or applied, plus the cooldown): what came before is what that raise answered."""
    if unit.last_fixable_at is None:
        return False
    if record is None or record.action not in RAISES:
        return True
    # a minute counts when it ends after the raise settled (minutes are CloudWatch's grain)
    settled = (record.applied_at or record.scaled_at) + policy.cooldown
    return unit.last_fixable_at + PERIOD > settled
