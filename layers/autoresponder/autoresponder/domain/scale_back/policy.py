"""How long a unit stabilizes before a scale-back, and how far back it goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from autoresponder.domain.decrease_budget import DecreaseRules
from autoresponder.domain.scaling.history import ScaleHistory


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
