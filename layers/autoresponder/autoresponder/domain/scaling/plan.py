"""The decision of one pass of the throttle runbook, and the one capacity change it makes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.scaling.history import Limits
from autoresponder.domain.scaling.verdicts import Verdict
from autoresponder.models.decision import Action, Severity
from autoresponder.models.table import Dimension, ScalableTarget

ALREADY_APPLIED = "already_applied"
"""The rule of a plan that reports a change an earlier attempt of the same event made."""


@dataclass(frozen=True)
class Change:
    """The one capacity change of a pass: one resource, one or both dimensions."""

    index_name: str | None
    dimensions: tuple[Dimension, ...]
    action: Action
    before: Limits
    after: Limits
    added_units: Mapping[Dimension, int] = field(default_factory=dict)
    scalable_target: ScalableTarget | None = None

    @property
    def dimension(self) -> Dimension | None:
        return self.dimensions[0] if len(self.dimensions) == 1 else None

    def cost_per_hour(self, prices: Prices) -> float | None:
        deltas = [hourly_delta(units, dim, prices) for dim, units in self.added_units.items()]
        known = [d for d in deltas if d is not None]
        return round(sum(known), 4) if known else None


@dataclass(frozen=True)
class Plan:
    """The decision of one pass: its headline action and, when it mutates, the change."""

    action: Action
    rule: str
    reason: str
    dimension: Dimension | None = None
    before: Limits | None = None
    after: Limits | None = None
    added_units: int = 0
    """Provisioned units added (for the cost estimate); 0 when the bill does not change."""
    severity: Severity = Severity.INFO
    next_steps: tuple[str, ...] = field(default_factory=tuple)
    index_name: str | None = None
    change: Change | None = None
    verdicts: tuple[Verdict, ...] = ()
    lines: tuple[str, ...] = ()
    """The diagnosis, one line per resource and dimension that throttled or ran short."""

    @property
    def mutates(self) -> bool:
        return self.action in {
            Action.SCALE_UP,
            Action.RAISE_AUTOSCALING_MIN,
            Action.RAISE_ON_DEMAND_MAX,
        }

    @property
    def to_apply(self) -> bool:
        """A change still to be made: mutating, and not the report of one already made."""
        return self.mutates and self.change is not None and self.rule != ALREADY_APPLIED
