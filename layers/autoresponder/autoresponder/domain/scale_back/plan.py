"""What one scale-back decision reads and returns, and the two plans that change nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from autoresponder.domain.decrease_budget import DecreaseBudget
from autoresponder.domain.scaling.history import Limits, ScaleHistory
from autoresponder.domain.scaling.plan import ALREADY_APPLIED
from autoresponder.models.decision import Action, Severity
from autoresponder.models.scale_back import WindowActivity
from autoresponder.models.table import Dimension, ScalableTarget, TableDescription, TablePolicy

BACK_ACTIONS = frozenset(
    {Action.SCALE_DOWN, Action.RESTORE_AUTOSCALING, Action.RESTORE_ON_DEMAND_MAX}
)


class HoldReason(StrEnum):
    STILL_BUSY = "still_busy"
    BUDGET = "budget"
    STABILIZING = "stabilizing"


@dataclass(frozen=True)
class ScaleBackCase:
    """Everything the decision for one raised table/index/dimension reads."""

    table: TableDescription
    index_name: str | None
    dimension: Dimension
    history: ScaleHistory
    table_policy: TablePolicy
    now: datetime
    scalable_target: ScalableTarget | None = None
    activity: WindowActivity | None = None
    """Consumed peak and throttled requests over the stabilization window (read only when the
    checks that need no metric pass)."""
    alarms_in_alarm: tuple[str, ...] = ()
    """Throttling alarms of this table (any index, any dimension) now in ALARM."""
    run_key: str = ""


@dataclass(frozen=True)
class BackPlan:
    action: Action
    rule: str
    reason: str
    dimension: Dimension
    hold_reason: HoldReason | None = None
    before: Limits | None = None
    after: Limits | None = None
    restores_original: bool = False
    forget: bool = False
    """Stop tracking the raise: delete its scale history (once the decision is recorded)."""
    removed_units: int = 0
    """Provisioned units removed (for the cost estimate)."""
    budget: DecreaseBudget | None = None
    severity: Severity = Severity.INFO
    next_steps: tuple[str, ...] = ()
    announce: bool | None = None
    until: datetime | None = None
    """For a hold that ends at a known time (stabilizing): when to look again."""

    @property
    def mutates(self) -> bool:
        return self.action in BACK_ACTIONS

    @property
    def replayed(self) -> bool:
        """This run's change was already made: announce it, do not make it again."""
        return self.rule == ALREADY_APPLIED

    @property
    def spends_decrease(self) -> bool:
        return self.action is Action.SCALE_DOWN


def hold(
    case: ScaleBackCase,
    reason: HoldReason,
    rule: str,
    text: str,
    *,
    budget: DecreaseBudget | None = None,
    until: datetime | None = None,
) -> BackPlan:
    """Nothing to do yet, and why (`reason`, `text`); `until`: when it may end."""
    return BackPlan(
        Action.HOLD,
        f"hold.{rule}",
        f"{reason.value.replace('_', ' ')}: {text}",
        case.dimension,
        hold_reason=reason,
        budget=budget,
        until=until,
    )


def forget(
    case: ScaleBackCase,
    rule: str,
    text: str,
    *,
    announce: bool | None = None,
    next_steps: tuple[str, ...] = (),
) -> BackPlan:
    """Stop tracking the raise (`announce`: tell the on-call engineer)."""
    return BackPlan(
        Action.SKIP,
        f"forget.{rule}",
        text,
        case.dimension,
        forget=True,
        severity=Severity.WARNING if announce else Severity.INFO,
        next_steps=next_steps,
        announce=announce,
    )
