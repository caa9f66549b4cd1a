"""What one scale_back run answers: its decisions, the most significant first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from autoresponder.models.decision import Action, Decision

# Which decision of a run the handler returns first: what people most need to see.
_SIGNIFICANCE: dict[str, int] = {
    Action.FAIL: 0,
    Action.REJECT: 0,
    Action.SCALE_UP: 1,
    Action.RAISE_AUTOSCALING_MIN: 1,
    Action.RAISE_ON_DEMAND_MAX: 1,
    Action.SCALE_DOWN: 2,
    Action.RESTORE_AUTOSCALING: 2,
    Action.RESTORE_ON_DEMAND_MAX: 2,
    Action.DEFER: 3,
    Action.HOLD: 4,
    Action.SKIP: 5,
}


@dataclass(frozen=True)
class RunResult:
    """The decisions of one run; the handler returns the most significant one first."""

    decisions: tuple[Decision, ...]
    nothing_to_do: Decision | None = None
    next_looks: tuple[tuple[str, datetime], ...] = ()
    """(table, when): the one-time re-checks this run scheduled."""

    @property
    def headline(self) -> Decision:
        if not self.decisions:
            assert self.nothing_to_do is not None
            return self.nothing_to_do
        return min(self.decisions, key=lambda d: _SIGNIFICANCE.get(d.action, 9))

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for decision in self.decisions:
            counts[decision.action] = counts.get(decision.action, 0) + 1
        return counts

    def as_result(self) -> dict[str, Any]:
        """The headline decision (docs/architecture.md: the handler contract), with every
        decision of the run under `decisions` and the number per action under `counts`."""
        return {
            **self.headline.as_result(),
            "decisions": [d.as_result() for d in self.decisions],
            "counts": self.counts(),
            "next_looks": {table: at.isoformat() for table, at in self.next_looks},
        }
