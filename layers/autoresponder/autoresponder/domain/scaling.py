"""Where throttling gets decided: the pure throttle runbook (scale_on_throttle, follow-ups).

Guardrails that hold for every path: never above the ceiling, never more than `max_multiple`
times the current value in one step, never a decrease, only the dimension that throttled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from autoresponder.domain.alarm_target import AlarmTarget, is_autoscaling_alarm
from autoresponder.domain.throttling import ThrottleCause, ThrottleSignal
from autoresponder.models.alarm import AlarmDetail, AlarmStateValue
from autoresponder.models.decision import Action, AutoScalingLimits, Severity
from autoresponder.models.table import (
    Capacity,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
    TablePolicy,
)

UPDATING = "UPDATING"
ALREADY_APPLIED = "already_applied"
"""The rule of a plan that repeats a change this event (or run) already made."""


@dataclass(frozen=True)
class ScalingPolicy:
    """Sizing settings; the ceiling comes from the table's tag or the default setting."""

    min_step_percent: float = 20.0
    headroom_percent: float = 25.0
    max_multiple: float = 4.0
    default_max_read_units: int = 10_000
    default_max_write_units: int = 10_000
    hard_max_read_units: int = 40_000
    hard_max_write_units: int = 40_000
    """The stack's hard maximum: no tag and no default takes a ceiling above it."""
    cooldown: timedelta = timedelta(minutes=5)


Limits = Capacity | AutoScalingLimits | OnDemandLimits


@dataclass(frozen=True)
class ScaleHistory:
    """The responder's last raise of one table/index/dimension, and the value it started from.

    Written before the change is made, so a retry of the same event knows the change is its own
    and never applies it twice; `original` is kept across raises for the scale-back.
    """

    scaled_at: datetime
    event_key: str
    action: Action
    before: Limits
    after: Limits
    original: Limits
    throttle_value: float | None = None


@dataclass(frozen=True)
class ThrottleCase:
    """Everything the decision reads; gathered by the service."""

    target: AlarmTarget
    signal: ThrottleSignal
    table: TableDescription
    table_policy: TablePolicy
    now: datetime
    scalable_target: ScalableTarget | None = None
    consumed_peak: float | None = None
    """Highest consumed units per second of the throttled dimension over the lookback."""
    throttle_value: float | None = None
    """Highest recent datapoint of the alarm's throttle metric."""
    history: ScaleHistory | None = None
    event_key: str = ""


@dataclass(frozen=True)
class Plan:
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

    @property
    def mutates(self) -> bool:
        return self.action in {
            Action.SCALE_UP,
            Action.RAISE_AUTOSCALING_MIN,
            Action.RAISE_ON_DEMAND_MAX,
        }

    @property
    def to_apply(self) -> bool:
        """A change still to be made: mutating, and not the replay of one already made."""
        return self.mutates and self.rule != ALREADY_APPLIED


def sized_to_demand(
    current: int, consumed_peak: float | None, ceiling: int, policy: ScalingPolicy
) -> int:
    """The next capacity: a step over current, enough for the peak plus headroom, bounded.

    The result is never below `current` (no decrease) and never above `ceiling`.
    """
    step = max(current + 1, math.ceil(current * (1 + policy.min_step_percent / 100)))
    demand = math.ceil((consumed_peak or 0.0) * (1 + policy.headroom_percent / 100))
    largest_step = max(current + 1, math.floor(current * policy.max_multiple))
    wanted = min(max(step, demand), largest_step, ceiling)
    return max(wanted, current)


def triage_alarm(detail: AlarmDetail) -> Plan | None:
    """Alarms the throttle runbook never acts on, known from the event alone."""
    if detail.state.value is not AlarmStateValue.ALARM:
        return Plan(
            Action.SKIP,
            "not_alarm",
            f"alarm {detail.alarm_name} went to {detail.state.value}, not ALARM: nothing to do",
        )
    if is_autoscaling_alarm(detail.alarm_name):
        return Plan(
            Action.SKIP,
            "autoscaling_alarm",
            f"{detail.alarm_name} belongs to Application Auto Scaling's target tracking: "
            "it scales the table itself",
        )
    return None


def triage_target(target: AlarmTarget, signal: ThrottleSignal) -> Plan | None:
    """Decisions that need neither the table's description nor its tags."""
    if signal.cause is ThrottleCause.NOT_THROTTLE:
        return Plan(Action.SKIP, "not_throttle", f"{target.metric_name} is not a throttle metric")
    if signal.cause is ThrottleCause.KEY_RANGE:
        return Plan(
            Action.HAND_OFF_HOT_KEYS,
            "key_range.hand_off",
            f"{_where(target)} throttles on a hot partition (key range): "
            "more capacity would not help; hot keys are flagged by the flag_hot_keys runbook",
            dimension=signal.dimension,
            severity=Severity.WARNING,
            next_steps=(
                "Review the flag_hot_keys report for this table",
                "Consider write sharding or caching for the hottest keys",
            ),
        )
    return None


def gate(target: AlarmTarget, signal: ThrottleSignal, table_policy: TablePolicy) -> Plan | None:
    """Tables the responder may not change: reported, never touched."""
    if not table_policy.managed:
        return Plan(
            Action.SKIP,
            "not_managed",
            f"table {target.table_name} lacks the tag autoresponder:managed=true: "
            "reported, not changed",
            dimension=signal.dimension,
        )
    return None


def replay(history: ScaleHistory, target: AlarmTarget, dimension: Dimension) -> Plan:
    """This event's change was already made (a retry after a partial failure): do not repeat."""
    return Plan(
        history.action,
        ALREADY_APPLIED,
        f"{_where(target)}: this alarm event's change was already applied at "
        f"{history.scaled_at.isoformat()}; not applied again",
        dimension=dimension,
        before=history.before,
        after=history.after,
        severity=Severity.WARNING,
    )


def decide_throttle(case: ThrottleCase, policy: ScalingPolicy) -> Plan:
    """The throttle runbook, in the order an on-call engineer would check it."""
    signal = case.signal
    where = _where(case.target)
    early = triage_target(case.target, signal) or gate(case.target, signal, case.table_policy)
    if early is not None:
        return early
    unit = case.table.unit(case.target.index_name)
    if unit is None:
        return Plan(Action.SKIP, "index_missing", f"{where} does not exist on the table")
    history = case.history
    if history is not None and history.event_key == case.event_key and signal.dimension:
        return replay(history, case.target, signal.dimension)
    if UPDATING in (case.table.status, unit.status):
        return Plan(
            Action.DEFER,
            "updating.defer",
            f"{where} is UPDATING: retrying once the change in flight completes",
            dimension=signal.dimension,
        )
    if signal.cause is ThrottleCause.ACCOUNT_LIMIT:
        return Plan(
            Action.SKIP,
            "account_limit.advise",
            f"{where} is throttled by the account's throughput quota, not by the table",
            dimension=signal.dimension,
            severity=Severity.WARNING,
            next_steps=("Request a DynamoDB throughput quota increase in Service Quotas",),
        )
    if signal.dimension is None:
        return Plan(
            Action.SKIP,
            "dimension_unknown",
            f"cannot tell whether reads or writes throttled on {where} "
            f"(operation {case.target.operation or 'not given'})",
        )
    cooldown = _cooldown(case, policy)
    if cooldown is not None:
        return cooldown
    ceiling = case.table_policy.ceiling(
        signal.dimension,
        policy.default_max_read_units,
        policy.default_max_write_units,
        policy.hard_max_read_units,
        policy.hard_max_write_units,
    )
    if case.table.is_on_demand:
        return _on_demand(case, unit.on_demand_max, ceiling, policy)
    if signal.cause is ThrottleCause.ON_DEMAND_MAX:
        return Plan(
            Action.SKIP, "mode_mismatch", f"{where} is provisioned; the alarm is for on-demand"
        )
    if unit.provisioned is None:
        return Plan(Action.SKIP, "no_capacity", f"{where} reports no provisioned throughput")
    if case.scalable_target is not None:
        return _raise_autoscaling_min(case, unit.provisioned, ceiling, policy)
    return _scale_up(case, unit.provisioned, ceiling, policy)


def _where(target: AlarmTarget) -> str:
    if target.index_name:
        return f"index {target.index_name} of table {target.table_name}"
    return f"table {target.table_name}"


def _cooldown(case: ThrottleCase, policy: ScalingPolicy) -> Plan | None:
    history = case.history
    if history is None or case.now - history.scaled_at >= policy.cooldown:
        return None
    worse = (
        case.throttle_value is not None
        and history.throttle_value is not None
        and case.throttle_value > history.throttle_value
    )
    if worse:
        return None
    minutes = int((case.now - history.scaled_at).total_seconds() // 60)
    return Plan(
        Action.SKIP,
        "cooldown",
        f"{_where(case.target)} was scaled up {minutes} min ago (cooldown "
        f"{int(policy.cooldown.total_seconds() // 60)} min) and throttling did not get worse",
        dimension=case.signal.dimension,
    )


def _at_ceiling(case: ThrottleCase, current: int, ceiling: int) -> Plan:
    return Plan(
        Action.SKIP,
        "at_ceiling",
        f"{_where(case.target)} {case.signal.dimension} is at {current} units, "
        f"the ceiling is {ceiling}: not raised",
        dimension=case.signal.dimension,
        severity=Severity.WARNING,
        next_steps=(
            "Raise the ceiling with the autoresponder:max-read-units / max-write-units tag",
            "Review access patterns: a ceiling reached often means demand outgrew the design",
        ),
    )


def _scale_up(case: ThrottleCase, current: Capacity, ceiling: int, policy: ScalingPolicy) -> Plan:
    dimension = case.signal.dimension
    assert dimension is not None
    now_units = current.of(dimension)
    new_units = sized_to_demand(now_units, case.consumed_peak, ceiling, policy)
    if new_units <= now_units:
        return _at_ceiling(case, now_units, ceiling)
    return Plan(
        Action.SCALE_UP,
        "provisioned.scale_up",
        f"{_where(case.target)} throttled {dimension}s on provisioned capacity: "
        f"{dimension} units {now_units} → {new_units} "
        f"(peak consumed {_fmt(case.consumed_peak)}/s, ceiling {ceiling})",
        dimension=dimension,
        before=current,
        after=current.with_(dimension, new_units),
        added_units=new_units - now_units,
        severity=Severity.WARNING,
        next_steps=("Review access patterns if throttling recurs",),
    )


def _raise_autoscaling_min(
    case: ThrottleCase, current: Capacity, ceiling: int, policy: ScalingPolicy
) -> Plan:
    dimension = case.signal.dimension
    target = case.scalable_target
    assert dimension is not None and target is not None
    provisioned = max(current.of(dimension), target.min_capacity)
    new_min = sized_to_demand(provisioned, case.consumed_peak, ceiling, policy)
    if new_min <= target.min_capacity or new_min <= current.of(dimension):
        return _at_ceiling(case, provisioned, ceiling)
    new_max = max(target.max_capacity, new_min)
    return Plan(
        Action.RAISE_AUTOSCALING_MIN,
        "autoscaling.raise_min",
        f"{_where(case.target)} is under Application Auto Scaling and throttled {dimension}s: "
        f"MinCapacity {target.min_capacity} → {new_min}"
        + (
            f", MaxCapacity {target.max_capacity} → {new_max}"
            if new_max != target.max_capacity
            else ""
        )
        + f" (provisioned {current.of(dimension)}, peak consumed {_fmt(case.consumed_peak)}/s, "
        f"ceiling {ceiling})",
        dimension=dimension,
        before=AutoScalingLimits(
            min_capacity=target.min_capacity, max_capacity=target.max_capacity
        ),
        after=AutoScalingLimits(min_capacity=new_min, max_capacity=new_max),
        added_units=new_min - current.of(dimension),
        severity=Severity.WARNING,
        next_steps=("Review the target-tracking policy: it reacted too slowly to this spike",),
    )


def _on_demand(
    case: ThrottleCase, caps: OnDemandLimits, ceiling: int, policy: ScalingPolicy
) -> Plan:
    dimension = case.signal.dimension
    assert dimension is not None
    where = _where(case.target)
    if case.signal.cause is ThrottleCause.PROVISIONED:
        return Plan(
            Action.SKIP, "mode_mismatch", f"{where} is on-demand; the alarm is for provisioned"
        )
    cap = caps.of(dimension)
    if cap is None:
        return Plan(
            Action.SKIP,
            "on_demand.no_cap",
            f"{where} is on-demand without its own {dimension} cap: the throttling comes from "
            "the account quota or a hot partition",
            dimension=dimension,
            severity=Severity.WARNING,
            next_steps=(
                "Check the flag_hot_keys report for this table",
                "Request a DynamoDB throughput quota increase if the account limit is reached",
            ),
        )
    new_cap = sized_to_demand(cap, case.consumed_peak, ceiling, policy)
    if new_cap <= cap:
        return _at_ceiling(case, cap, ceiling)
    return Plan(
        Action.RAISE_ON_DEMAND_MAX,
        "on_demand.raise_max",
        f"{where} hit its own on-demand {dimension} cap: MaxRequestUnits {cap} → {new_cap} "
        f"(peak consumed {_fmt(case.consumed_peak)}/s, ceiling {ceiling})",
        dimension=dimension,
        before=caps,
        after=caps.with_(dimension, new_cap),
        severity=Severity.WARNING,
        next_steps=(
            "On-demand bills per request: the cap bounds the spend, it costs nothing itself",
        ),
    )


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.1f}"
