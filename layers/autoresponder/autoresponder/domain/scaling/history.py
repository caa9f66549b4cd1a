"""The responder's capacity record of one resource and dimension, and what a change moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from autoresponder.models.decision import Action, AutoScalingLimits
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits

UPDATING = "UPDATING"
Limits = Capacity | AutoScalingLimits | OnDemandLimits
RAISES = frozenset({Action.SCALE_UP, Action.RAISE_AUTOSCALING_MIN, Action.RAISE_ON_DEMAND_MAX})
UnitKey = tuple[str | None, Dimension]
"""(index name or None for the table, dimension)."""


class IntentStatus(StrEnum):
    PENDING = "pending"
    """Written before the change: a desired state, never proof the change was made."""
    APPLIED = "applied"
    """AWS accepted the change (or the table was seen at the target, or UPDATING)."""


@dataclass(frozen=True)
class ScaleHistory:
    """The responder's capacity record of one table/index/dimension in an episode: the last
    change it asked for (its intent) and the value the table started from.

    Written `PENDING` before the change is asked for; a later attempt settles it by looking at
    the table (at `before` → apply it, at `after` or UPDATING → applied, elsewhere → changed
    by someone else). `original` is written once per episode and kept across raises, for the
    scale-back.
    """

    scaled_at: datetime
    """When the last raise was planned (a decrease keeps the raise's time)."""
    event_key: str
    action: Action
    before: Limits
    after: Limits
    original: Limits
    status: IntentStatus = IntentStatus.APPLIED
    episode_start: datetime | None = None
    """The first throttled (or over-capacity) minute of the episode the raise answered."""
    applied_at: datetime | None = None
    """When AWS accepted the last change (None while pending)."""
    stabilization_minutes: int | None = None
    """The scale-back window of this record when it differs from the setting (doubled after a
    re-throttle soon after a decrease)."""
    decreased_at: datetime | None = None
    """When the responder last decreased this unit (a raise soon after doubles the window)."""
    rule: str = ""
    """The rule of the plan that asked for the change (reported again when a later attempt
    finds the change made)."""
    mitigated_at: datetime | None = None
    """The minute throttling stopped after the episode's raise (its time to mitigation was
    recorded)."""

    @property
    def pending(self) -> bool:
        return self.status is IntentStatus.PENDING
