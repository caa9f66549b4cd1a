"""The follow-up: the throttle runbook's own pass over a table, on scale_back's schedule.

Its decision is finished as the throttle runbook finishes its own (`services/throttle_decision.py`),
and recorded when the pass did something, found something to say, or a throttling alarm of the
table is in ALARM. The pass reads CloudWatch far enough back for the scale-back decisions too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from autoresponder.domain.cost import Prices
from autoresponder.domain.diagnosis import Diagnosis
from autoresponder.domain.next_look import LookPolicy, episode_window
from autoresponder.domain.scale_back.alarms import FOLLOW_UP_CAUSES, ThrottlingAlarm
from autoresponder.domain.scale_back.plan import BACK_ACTIONS
from autoresponder.domain.scale_back.policy import ScaleBackPolicy, stabilization_for
from autoresponder.domain.scaling.case import AlarmEvidence
from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.models.table import TableDescription, TablePolicy
from autoresponder.services.scale_back.raised import Raised
from autoresponder.services.scale_back.run_records import RunRecords
from autoresponder.services.throttle_decision import observed_inputs, pass_fields
from autoresponder.services.throttle_pass import PassResult, ThrottlePass, Trigger

CHANGES = frozenset(
    {Action.SCALE_UP, Action.RAISE_AUTOSCALING_MIN, Action.RAISE_ON_DEMAND_MAX, *BACK_ACTIONS}
)
"""The actions that change the table's capacity (at most one per table and run)."""


@dataclass(frozen=True)
class FollowedUp:
    decisions: list[Decision]
    observation: Diagnosis | None
    """The whole read (`observe_for`), for the scale-back decisions."""
    changed: bool = False
    """Whether the table got (or, on a resumed run, already got) a change in this run."""
    raised_now: bool = False
    """Whether this run asked for a raise (its re-check is due when it should land)."""


def observe_window(
    raised: Raised, now: datetime, policy: ScaleBackPolicy, looks: LookPolicy
) -> timedelta:
    """How far back the table is read: the longest window of its raised units, and back
    to the start of an episode still open (when its throttling stopped is measured)."""
    windows = [stabilization_for(h, policy) for h in raised.values()]
    return max(policy.stabilization, *windows, episode_window(raised.values(), now, looks))


def follow_up(
    throttle_pass: ThrottlePass,
    records: RunRecords,
    table: TableDescription,
    policy: TablePolicy,
    *,
    alarms: Sequence[ThrottlingAlarm],
    prices: Prices,
    observe_for: timedelta,
) -> FollowedUp:
    """The throttle runbook's own pass over the table, and its decision when there is one to
    record (a resumed run reports the one it recorded)."""
    resumed = records.resume(None, None, "followup")
    due = [a for a in alarms if a.signal.cause in FOLLOW_UP_CAUSES]
    evidence = AlarmEvidence(
        alarm_name=", ".join(sorted(a.alarm.alarm_name for a in due)),
        targets=tuple(a.target for a in due),
        sweep=True,
    )
    trigger = Trigger(f"{records.event.run_key}#follow_up", evidence if due else None)
    result = throttle_pass.run(
        records.table_name,
        policy,
        trigger,
        table=table,
        act=resumed is None,
        observe_for=observe_for,
    )
    if resumed is not None:
        return FollowedUp([resumed], result.observation, changed=resumed.action in CHANGES)
    plan = result.plan
    changed = plan.action in CHANGES  # a raise, or a decrease an intent asked for
    raised_now = plan.to_apply and not result.dry_run
    if result.settled_intent == records.event.run_key:
        # this run's own scale-back, made on a retry: its "back" decision reports it
        return FollowedUp([], result.observation, changed, raised_now)
    quiet = plan.action is Action.SKIP and plan.severity is Severity.INFO
    if quiet and not due and not result.settled:
        return FollowedUp([], result.observation, changed, raised_now)
    decision = _finish(records, prices, result, due)
    return FollowedUp([decision], result.observation, changed, raised_now)


def _finish(
    records: RunRecords, prices: Prices, result: PassResult, due: Sequence[ThrottlingAlarm]
) -> Decision:
    """The follow-up's decision: the throttle runbook's fields, and the alarms it follows up."""
    plan = result.plan
    inputs: dict[str, Any] = {
        "follow_up": True,
        "alarms": sorted(a.alarm.alarm_name for a in due),
        **observed_inputs(result),
    }
    decision = records.build(
        "followup",
        plan,
        rule=f"follow_up.{plan.rule}",
        **pass_fields(plan, result, prices, dry_run=result.dry_run),
        inputs=inputs,
        alarm_name=due[0].alarm.alarm_name if due else None,
    )
    return records.record(decision)
