"""One change per table and run: which plan goes now, and what the others say."""

from __future__ import annotations

from collections.abc import Sequence

from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.scale_back.plan import BackPlan, HoldReason
from autoresponder.models.decision import Action


def saving_per_hour(plan: BackPlan, prices: Prices) -> float:
    """The bill's hourly reduction of a plan (0 when it changes no provisioned units)."""
    delta = hourly_delta(plan.removed_units, plan.dimension, prices)
    return delta or 0.0


def pick_change(plans: Sequence[BackPlan], prices: Prices) -> int | None:
    """Which mutating plan of one table to apply this run (the others wait for the next run).

    One UpdateTable call at a time per table (it goes UPDATING and refuses another), and never a
    table and a GSI decrease in one call. Changes that cost no decrease come first (Auto Scaling
    and on-demand restores), then the largest saving.
    """
    candidates = [i for i, plan in enumerate(plans) if plan.mutates]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda i: (plans[i].spends_decrease, -saving_per_hour(plans[i], prices), i),
    )


def wait_for_other_change(plan: BackPlan, chosen: BackPlan | None) -> BackPlan:
    """A change that waits for the next run: the table gets another one in this run."""
    other = (
        f" ({chosen.action} of {chosen.dimension})"
        if chosen is not None
        else " (a follow-up raise, or a change made before a retry)"
    )
    return BackPlan(
        Action.HOLD,
        "hold.one_change_per_run",
        f"still busy: this table gets another change in this run{other}; "
        f"{plan.action} of {plan.dimension} waits for the next run",
        plan.dimension,
        hold_reason=HoldReason.STILL_BUSY,
    )
