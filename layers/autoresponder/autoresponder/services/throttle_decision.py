"""What a throttle pass says in its decision: one finishing for the throttle runbook and for
scale_back's follow-up (the same pass, so the same fields: docs/style.md, habit 10).

The plan gives where (index, dimension), the change (before, after) and its cost per hour, what
the pass found (findings) and the diagnosis; the pass's result gives what it observed of the
table. The runbook adds its own inputs and the fields only it knows.
"""

from __future__ import annotations

from typing import Any

from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.scaling.plan import Plan
from autoresponder.services.throttle_pass import PassResult


def cost_per_hour(plan: Plan, prices: Prices) -> float | None:
    """What the plan's change adds per hour: the change's own cost, else the units it adds."""
    if plan.change is not None:
        return plan.change.cost_per_hour(prices)
    if plan.added_units:
        return hourly_delta(plan.added_units, plan.dimension, prices)
    return None


def observed_inputs(result: PassResult) -> dict[str, Any]:
    """What the pass saw of the table, for the decision's inputs."""
    return {
        "table_status": result.table.status,
        "billing_mode": result.table.billing_mode.value,
        "cloudwatch_read": result.observed,
    }


def pass_fields(
    plan: Plan, result: PassResult | None, prices: Prices, *, dry_run: bool
) -> dict[str, Any]:
    """The decision's fields that come from the plan and the pass (`dry_run`: when there was
    no pass); the ruling itself (action, rule, reason) is `build_decision`'s."""
    diagnosis = result.diagnosis if result is not None else None
    return {
        "index_name": plan.index_name,
        "dimension": plan.dimension,
        "before": plan.before,
        "after": plan.after,
        "cost_delta_per_hour": cost_per_hour(plan, prices),
        "dry_run": result.dry_run if result is not None else dry_run,
        "findings": list(plan.lines),
        "diagnosis": diagnosis.as_record() if diagnosis is not None else None,
    }
