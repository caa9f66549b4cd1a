"""Where throttling gets decided: the pure throttle runbook (alarms, re-checks, follow-ups).

The plan acts on the diagnosis (`domain/diagnosis.py`), for every resource (the table, each
GSI) and dimension it shows throttled or short of capacity:

- provisioned capacity → raise to the estimated demand plus headroom (Auto Scaling's
  MinCapacity where a scalable target manages the resource);
- a hot partition (key range) → no capacity: hand off to the hot-key report;
- the table's own on-demand maximum → raise it;
- the account's quota → advise a quota increase;
- a base table whose write throttling comes from a GSI → the index, not the table.

CloudWatch answering "nothing throttled" is an answer (`skip`, with why the alarm fired anyway);
CloudWatch unreadable is not: the alarm's own metric and the minimum step decide.

Guardrails on every path: never above the ceiling, never a decrease, a guess (no measured
demand) moves at most `max_multiple` × the current value and a measured demand at most
`max_measured_multiple` ×; within the cooldown after a raise, another raise needs a shortfall
measured by CloudWatch (never datapoints the event claims). One capacity change per pass (the
table goes UPDATING and refuses another): the resource short by the most goes first, the others
wait for the next look. A raise wanted while the resource is UPDATING waits (defer: Lambda
retries), unless the change in flight is the responder's own and already covers it (skip: a
retry would find the same, and its failure would page someone for nothing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from autoresponder.domain.alarm_target import AlarmTarget, is_autoscaling_alarm
from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.diagnosis import PERIOD, Diagnosis, UnitDiagnosis, describe
from autoresponder.domain.throttling import ThrottleCause, classify
from autoresponder.models.alarm import AlarmDetail, AlarmStateValue
from autoresponder.models.decision import Action, AutoScalingLimits, Severity
from autoresponder.models.table import (
    Capacity,
    CapacityUnit,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
    TablePolicy,
)

UPDATING = "UPDATING"
ALREADY_APPLIED = "already_applied"
"""The rule of a plan that reports a change an earlier attempt of the same event made."""

Limits = Capacity | AutoScalingLimits | OnDemandLimits
RAISES = frozenset({Action.SCALE_UP, Action.RAISE_AUTOSCALING_MIN, Action.RAISE_ON_DEMAND_MAX})
_UNEXPLAINED = frozenset({ThrottleCause.GENERIC})
UnitKey = tuple[str | None, Dimension]
"""(index name or None for the table, dimension)."""


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


@dataclass(frozen=True)
class AlarmEvidence:
    """What the alarm event says: it explains why the alarm fired, it never sizes a raise nor
    lifts a cooldown."""

    alarm_name: str
    recent_datapoints: tuple[float, ...] = ()
    manual: bool = False
    """No `reasonData`: the state was set by hand (`set-alarm-state`), not by an evaluation."""
    reason: str = ""
    evaluated_at: datetime | None = None
    """The newest datapoint the alarm evaluated, when its `reasonData` says."""
    targets: tuple[AlarmTarget, ...] = ()
    """The alarm's own DynamoDB metrics (the fallback when CloudWatch is unreadable)."""
    composite: bool = False
    """A composite alarm: its event carries no datapoints of its own."""
    sweep: bool = False
    """Alarms a scheduled run found in ALARM: their datapoints may be old, they name the
    resources the fallback raises when CloudWatch is unreadable, nothing more."""


@dataclass(frozen=True)
class ThrottleCase:
    """Everything one pass of the throttle runbook reads; gathered by the service."""

    table: TableDescription
    table_policy: TablePolicy
    now: datetime
    diagnosis: Diagnosis | None
    """None: CloudWatch could not be read (throttled, down)."""
    evidence: AlarmEvidence | None = None
    """The alarm that triggered the pass; None for a re-check or a scheduled follow-up."""
    scalable_targets: Mapping[UnitKey, ScalableTarget] = field(default_factory=dict)
    records: Mapping[UnitKey, ScaleHistory] = field(default_factory=dict)
    event_key: str = ""
    lookback_minutes: int = 15


class VerdictKind(StrEnum):
    RAISE = "raise"
    HAND_OFF = "hand_off"
    ADVISE = "advise"
    AT_CEILING = "at_ceiling"
    COOLDOWN = "cooldown"
    BACK_PRESSURE = "back_pressure"
    WAITS = "waits"
    """A raise that waits for the next look: another resource of the table changes first."""
    UPDATING = "updating"


@dataclass(frozen=True)
class Verdict:
    """What the plan concluded for one resource and dimension."""

    index_name: str | None
    dimension: Dimension
    kind: VerdictKind
    rule: str
    text: str
    current: int | None = None
    wanted: int | None = None
    shortfall: float = 0.0
    """Estimated demand ÷ current capacity (0 when not short)."""
    measured: bool = True

    @property
    def key(self) -> UnitKey:
        return self.index_name, self.dimension


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


# --------------------------------------------------------------------------------------------
# sizing
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# what needs no table at all
# --------------------------------------------------------------------------------------------
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


def gate(table_name: str, table_policy: TablePolicy) -> Plan | None:
    """Tables the responder may not change: reported, never touched."""
    if not table_policy.managed:
        return Plan(
            Action.SKIP,
            "not_managed",
            f"table {table_name} lacks the tag autoresponder:managed=true: reported, not changed",
        )
    return None


# --------------------------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------------------------
def plan_throttle(case: ThrottleCase, policy: ScalingPolicy) -> Plan:
    """The throttle runbook for one table, in the order an on-call engineer would check it."""
    refused = gate(case.table.table_name, case.table_policy)
    if refused is not None:
        return refused
    if case.diagnosis is None:
        return _fallback(case, policy)
    verdicts = [
        verdict
        for unit in case.diagnosis.units
        if (verdict := _verdict(case, unit, policy)) is not None
    ]
    lines = tuple(_lines(case, case.diagnosis))
    if not verdicts:
        return _nothing_throttled(case, lines)
    return _conclude(case, verdicts, lines)


def _verdict(case: ThrottleCase, unit: UnitDiagnosis, policy: ScalingPolicy) -> Verdict | None:
    """What one resource and dimension needs, in the order an on-call engineer would check:

    1. a measured shortfall (demand more capacity would serve, above what is provisioned —
       Auto Scaling's MinCapacity counts) → raise to the demand plus headroom, cooldown or not;
    2. throttling more capacity would serve, after the last raise settled (its cooldown) →
       one minimum step (per-second bursts a 1-minute average hides);
    3. a hot partition → hand off; the account quota → advise;
    4. base-table writes held back by a GSI → the index, not the table;
    5. throttling from before the last raise settled → nothing more (cooldown)."""
    table = case.table
    capacity_unit = table.unit(unit.index_name)
    if capacity_unit is None:
        return None
    if table.is_on_demand:
        return _on_demand_verdict(case, unit, capacity_unit, policy)
    provisioned = capacity_unit.provisioned
    if provisioned is None:
        return None
    key = (unit.index_name, unit.dimension)
    target = case.scalable_targets.get(key)
    current = provisioned.of(unit.dimension)
    if target is not None:
        current = max(current, target.min_capacity)
    demand = unit.demand_peak
    short = demand is not None and demand > current
    if not unit.throttled and not short:
        return None
    record = case.records.get(key)
    catching_up = target is not None and provisioned.of(unit.dimension) < target.min_capacity
    if not short and catching_up:
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.COOLDOWN,
            "autoscaling.catching_up",
            f"{unit.where()}: Application Auto Scaling is bringing the table to its MinCapacity "
            f"{current}, which covers the measured demand",
            current=current,
        )
    if short:
        return _raise_verdict(case, unit, current, short=True, policy=policy)
    if unit.back_pressure_from and unit.index_name is None and set(unit.causes) <= _UNEXPLAINED:
        # the table's own per-cause metrics say nothing: its throttled writes are the GSI's
        return Verdict(
            None,
            unit.dimension,
            VerdictKind.BACK_PRESSURE,
            "gsi_back_pressure",
            f"{unit.where()} throttled because index {', '.join(unit.back_pressure_from)} "
            f"could not keep up (the table used {_fmt(unit.consumed_peak)} of {current} "
            "units/s): the index is raised, not the table",
            current=current,
        )
    if _fresh(unit, record, policy):
        return _raise_verdict(case, unit, current, short=False, policy=policy)
    if unit.has(ThrottleCause.KEY_RANGE):
        # the demand fits the capacity: what still throttles is a hot partition
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.HAND_OFF,
            "key_range.hand_off",
            f"{unit.where()} throttle on a hot partition (key range): more capacity would not "
            "help; hot keys are flagged by the flag_hot_keys runbook",
            current=current,
        )
    if unit.has(ThrottleCause.ACCOUNT_LIMIT):
        return _advise_quota(unit)
    raised = f"at {_hhmm(record.scaled_at)} " if record is not None else ""
    return Verdict(
        unit.index_name,
        unit.dimension,
        VerdictKind.COOLDOWN,
        "cooldown",
        f"{unit.where()} were raised {raised}(cooldown {_minutes(policy.cooldown)} min): "
        "their throttling came before the raise settled and CloudWatch shows no demand above "
        f"the {current} units now provisioned",
        current=current,
    )


def _fresh(unit: UnitDiagnosis, record: ScaleHistory | None, policy: ScalingPolicy) -> bool:
    """Throttling more capacity would serve, after the episode's last raise settled (asked
    for, or applied, plus the cooldown): what came before is what that raise answered."""
    if unit.last_fixable_at is None:
        return False
    if record is None or record.action not in RAISES:
        return True
    # a minute counts when it ends after the raise settled (minutes are CloudWatch's grain)
    settled = (record.applied_at or record.scaled_at) + policy.cooldown
    return unit.last_fixable_at + PERIOD > settled


def _raise_verdict(
    case: ThrottleCase, unit: UnitDiagnosis, current: int, *, short: bool, policy: ScalingPolicy
) -> Verdict:
    """A raise of `current` (units, or Auto Scaling's MinCapacity where it is larger): sized on
    the measured demand when `short`, else one minimum step."""
    key = (unit.index_name, unit.dimension)
    target = case.scalable_targets.get(key)
    ceiling = _ceiling(case, unit.dimension, policy)
    wanted = sized_to_demand(current, unit.demand_peak if short else None, ceiling, policy)
    if wanted <= current:
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.AT_CEILING,
            "at_ceiling",
            f"{unit.where()} are at {current} units, the ceiling is {ceiling}: not raised",
            current=current,
            wanted=wanted,
        )
    return Verdict(
        unit.index_name,
        unit.dimension,
        VerdictKind.RAISE,
        "autoscaling.raise_min" if target is not None else "provisioned.scale_up",
        f"{unit.where()} {_shortfall_words(unit, current, short)}",
        current=current,
        wanted=wanted,
        shortfall=(unit.demand_peak or 0.0) / current if short and current else 1.0,
        measured=short,
    )


def _on_demand_verdict(
    case: ThrottleCase, unit: UnitDiagnosis, capacity_unit: CapacityUnit, policy: ScalingPolicy
) -> Verdict | None:
    """On-demand: only the table's own maximum is the responder's to raise."""
    if not unit.throttled:
        return None
    cap = capacity_unit.on_demand_max.of(unit.dimension)
    demand = unit.demand_peak
    if unit.has(ThrottleCause.PROVISIONED):
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.ADVISE,
            "mode_mismatch",
            f"{unit.where()}: the alarm's metric is for provisioned capacity, the table is "
            "on-demand",
            current=cap,
        )
    at_cap = unit.has(ThrottleCause.ON_DEMAND_MAX) or (
        unit.has(ThrottleCause.GENERIC)
        and cap is not None
        and (demand is None or demand >= cap * 0.9)  # None: CloudWatch unreadable
    )
    if not at_cap:
        if unit.has(ThrottleCause.KEY_RANGE):
            return Verdict(
                unit.index_name,
                unit.dimension,
                VerdictKind.HAND_OFF,
                "key_range.hand_off",
                f"{unit.where()} throttle on a hot partition (key range): hot keys are flagged "
                "by the flag_hot_keys runbook",
                current=cap,
            )
        if unit.has(ThrottleCause.ACCOUNT_LIMIT) or cap is None:
            return (
                _advise_quota(unit)
                if unit.has(ThrottleCause.ACCOUNT_LIMIT)
                else Verdict(
                    unit.index_name,
                    unit.dimension,
                    VerdictKind.ADVISE,
                    "on_demand.no_cap",
                    f"{unit.where()} throttle on an on-demand table without its own maximum: "
                    "the account quota or a hot partition",
                )
            )
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.ADVISE,
            "on_demand.below_cap",
            f"{unit.where()} throttle at {_fmt(demand)} requests/s, below the table's own "
            f"maximum {cap}: the account quota or a hot partition",
            current=cap,
        )
    if cap is None:
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.ADVISE,
            "on_demand.no_cap",
            f"{unit.where()} throttle on an on-demand table without its own maximum: the "
            "account quota or a hot partition",
        )
    short = demand is not None and demand > cap
    if not short and not _fresh(unit, case.records.get((unit.index_name, unit.dimension)), policy):
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.COOLDOWN,
            "cooldown",
            f"{unit.where()}: the on-demand maximum was raised and the measured demand fits "
            f"the {cap} now allowed",
            current=cap,
        )
    ceiling = _ceiling(case, unit.dimension, policy)
    wanted = sized_to_demand(cap, demand if short else None, ceiling, policy)
    if wanted <= cap:
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.AT_CEILING,
            "at_ceiling",
            f"{unit.where()}: the on-demand maximum {cap} is at the ceiling {ceiling}",
            current=cap,
            wanted=wanted,
        )
    return Verdict(
        unit.index_name,
        unit.dimension,
        VerdictKind.RAISE,
        "on_demand.raise_max",
        f"{unit.where()} hit the table's own on-demand maximum ({cap}/s)",
        current=cap,
        wanted=wanted,
        shortfall=(demand or 0.0) / cap if short and cap else 1.0,
        measured=short,
    )


def _advise_quota(unit: UnitDiagnosis) -> Verdict:
    return Verdict(
        unit.index_name,
        unit.dimension,
        VerdictKind.ADVISE,
        "account_limit.advise",
        f"{unit.where()} throttle on the account's throughput quota, not on the table",
    )


def _ceiling(case: ThrottleCase, dimension: Dimension, policy: ScalingPolicy) -> int:
    return case.table_policy.ceiling(
        dimension,
        policy.default_max_read_units,
        policy.default_max_write_units,
        policy.hard_max_read_units,
        policy.hard_max_write_units,
    )


def _conclude(case: ThrottleCase, verdicts: list[Verdict], lines: tuple[str, ...]) -> Plan:
    raises = [v for v in verdicts if v.kind is VerdictKind.RAISE]
    if raises:
        return _change_plan(case, raises, verdicts, lines)
    first = _first(verdicts, (VerdictKind.HAND_OFF, VerdictKind.ADVISE, VerdictKind.AT_CEILING))
    if first is not None and first.kind is VerdictKind.HAND_OFF:
        return _plan_of(
            first,
            Action.HAND_OFF_HOT_KEYS,
            verdicts,
            lines,
            severity=Severity.WARNING,
            next_steps=(
                "Review the flag_hot_keys report for this table",
                "Consider write sharding or caching for the hottest keys",
            ),
        )
    if first is not None and first.kind is VerdictKind.ADVISE:
        return _plan_of(
            first,
            Action.SKIP,
            verdicts,
            lines,
            severity=Severity.WARNING,
            next_steps=(
                "Request a DynamoDB throughput quota increase in Service Quotas",
                "Check the flag_hot_keys report for this table",
            ),
        )
    if first is not None:  # at the ceiling
        return _plan_of(
            first,
            Action.SKIP,
            verdicts,
            lines,
            severity=Severity.WARNING,
            next_steps=(
                "Raise the ceiling with the autoresponder:max-read-units / max-write-units tag",
                "Review access patterns: a ceiling reached often means demand outgrew the design",
            ),
        )
    return _plan_of(_named_first(case, verdicts), Action.SKIP, verdicts, lines)


def _named_first(case: ThrottleCase, verdicts: Sequence[Verdict]) -> Verdict:
    """The verdict about a resource and dimension the alarm names, else the first."""
    evidence = case.evidence
    named = set()
    for target in evidence.targets if evidence else ():
        signal = classify(target.metric_name, target.operation)
        named.add((target.index_name, signal.dimension))
    for verdict in verdicts:
        if verdict.key in named:
            return verdict
    return verdicts[0]


_WORTH_SAYING = frozenset(
    {
        VerdictKind.HAND_OFF,
        VerdictKind.ADVISE,
        VerdictKind.AT_CEILING,
        VerdictKind.BACK_PRESSURE,
        VerdictKind.WAITS,
    }
)
"""Verdicts a reason mentions beside its own (cooldowns are in the findings and the record)."""


def _first(verdicts: Sequence[Verdict], kinds: Sequence[VerdictKind]) -> Verdict | None:
    for kind in kinds:
        for verdict in verdicts:
            if verdict.kind is kind:
                return verdict
    return None


def _plan_of(
    verdict: Verdict,
    action: Action,
    verdicts: Sequence[Verdict],
    lines: tuple[str, ...],
    *,
    severity: Severity = Severity.INFO,
    next_steps: tuple[str, ...] = (),
) -> Plan:
    others = [v.text for v in verdicts if v is not verdict and v.kind in _WORTH_SAYING]
    reason = verdict.text + ("; also " + "; ".join(others) if others else "")
    return Plan(
        action,
        verdict.rule,
        reason,
        dimension=verdict.dimension,
        severity=severity,
        next_steps=next_steps,
        index_name=verdict.index_name,
        verdicts=tuple(verdicts),
        lines=lines,
    )


def _change_plan(
    case: ThrottleCase, raises: list[Verdict], verdicts: list[Verdict], lines: tuple[str, ...]
) -> Plan:
    """The resource short by the most changes now; the other raises wait for the next look."""
    by_resource: dict[str | None, list[Verdict]] = {}
    for verdict in raises:
        by_resource.setdefault(verdict.index_name, []).append(verdict)
    index_name = max(
        by_resource,
        key=lambda name: (max(v.shortfall for v in by_resource[name]), name is None, name or ""),
    )
    chosen = sorted(by_resource[index_name], key=lambda v: v.dimension.value)
    autoscaled = [v for v in chosen if case.scalable_targets.get(v.key) is not None]
    if autoscaled:  # one RegisterScalableTarget per dimension: the larger shortfall first
        chosen = [max(autoscaled, key=lambda v: v.shortfall)]
    change = _change(case, index_name, chosen)
    unit = case.table.unit(index_name)
    waiting = [
        Verdict(
            v.index_name,
            v.dimension,
            VerdictKind.WAITS,
            "waits_for_next_look",
            f"{v.text}: waits for the next look (this pass changes {_resource(index_name)} first)",
            current=v.current,
            wanted=v.wanted,
        )
        for v in raises
        if v not in chosen
    ]
    rest = [v for v in verdicts if v.kind is not VerdictKind.RAISE]
    all_verdicts = (*chosen, *waiting, *rest)
    where = _where(case.table.table_name, index_name)
    if UPDATING in (case.table.status, unit.status if unit else None):
        in_flight = _own_raise_in_flight(case, chosen)
        if in_flight is not None:
            return Plan(
                Action.SKIP,
                "updating.in_flight",
                f"{where} is UPDATING to the capacity the responder asked for at "
                f"{_hhmm(in_flight.scaled_at)} ({_units_words(in_flight.after, chosen)}), "
                "which covers the demand measured now: nothing more to ask; the next look after "
                "it lands judges the new capacity",
                dimension=change.dimension,
                index_name=index_name,
                verdicts=all_verdicts,
                lines=lines,
            )
        return Plan(
            Action.DEFER,
            "updating.defer",
            f"{where} is UPDATING: the raise waits until the change in flight completes",
            dimension=change.dimension,
            index_name=index_name,
            verdicts=all_verdicts,
            lines=lines,
        )
    words = "; ".join(v.text for v in chosen)
    also = [v.text for v in (*waiting, *rest) if v.kind in _WORTH_SAYING]
    return Plan(
        change.action,
        chosen[0].rule,
        f"{_change_words(change)} on {where}: {words}" + (f"; {'; '.join(also)}" if also else ""),
        dimension=change.dimension,
        before=change.before,
        after=change.after,
        added_units=sum(change.added_units.values()),
        severity=Severity.WARNING,
        next_steps=_change_steps(change),
        index_name=index_name,
        change=change,
        verdicts=all_verdicts,
        lines=lines,
    )


def _own_raise_in_flight(case: ThrottleCase, chosen: Sequence[Verdict]) -> ScaleHistory | None:
    """The responder's own raise the UPDATING resource is making, when it covers every raise
    wanted now: made (not pending), DescribeTable still shows the value it started from (as it
    does until the update completes), and what it asked for is not short of the demand measured
    now (or, unmeasured, of the step wanted). None: the raise must wait (defer)."""
    found = None
    for verdict in chosen:
        record = case.records.get(verdict.key)
        if record is None or record.pending or record.action not in RAISES:
            return None
        started = _units(record.before, verdict.dimension)
        asked = _units(record.after, verdict.dimension)
        unit = case.diagnosis.unit(*verdict.key) if case.diagnosis else None
        demand = unit.demand_peak if unit is not None and verdict.measured else None
        needed = demand if demand is not None else verdict.wanted
        if started != verdict.current or asked is None or needed is None or asked < needed:
            return None
        found = record
    return found


def _units(limits: Limits, dimension: Dimension) -> int | None:
    if isinstance(limits, AutoScalingLimits):
        return limits.min_capacity
    return limits.of(dimension)


def _units_words(limits: Limits, chosen: Sequence[Verdict]) -> str:
    return ", ".join(f"{v.dimension} {_units(limits, v.dimension)}" for v in chosen)


def _change(case: ThrottleCase, index_name: str | None, chosen: Sequence[Verdict]) -> Change:
    unit = case.table.unit(index_name)
    assert unit is not None
    dimensions = tuple(v.dimension for v in chosen)
    if case.table.is_on_demand:
        caps = unit.on_demand_max
        after_caps = caps
        for v in chosen:
            assert v.wanted is not None
            after_caps = after_caps.with_(v.dimension, v.wanted)
        return Change(index_name, dimensions, Action.RAISE_ON_DEMAND_MAX, caps, after_caps)
    provisioned = unit.provisioned
    assert provisioned is not None
    target = case.scalable_targets.get(chosen[0].key)
    if target is not None:
        v = chosen[0]
        assert v.wanted is not None
        new_max = max(target.max_capacity, v.wanted)
        return Change(
            index_name,
            dimensions,
            Action.RAISE_AUTOSCALING_MIN,
            AutoScalingLimits(min_capacity=target.min_capacity, max_capacity=target.max_capacity),
            AutoScalingLimits(min_capacity=v.wanted, max_capacity=new_max),
            added_units={v.dimension: max(0, v.wanted - provisioned.of(v.dimension))},
            scalable_target=target,
        )
    after = provisioned
    added: dict[Dimension, int] = {}
    for v in chosen:
        assert v.wanted is not None
        after = after.with_(v.dimension, v.wanted)
        added[v.dimension] = v.wanted - provisioned.of(v.dimension)
    return Change(index_name, dimensions, Action.SCALE_UP, provisioned, after, added_units=added)


def _nothing_throttled(case: ThrottleCase, lines: tuple[str, ...]) -> Plan:
    """CloudWatch answered and shows no throttling and no demand above capacity."""
    diagnosis = case.diagnosis
    assert diagnosis is not None
    where = f"table {case.table.table_name} and its {len(case.table.indexes)} GSI(s)"
    if not case.table.indexes:
        where = f"table {case.table.table_name}"
    seen = f"CloudWatch shows no throttling of {where} in the last {case.lookback_minutes} min"
    evidence = case.evidence
    if evidence is None or evidence.composite or evidence.sweep:
        return Plan(Action.SKIP, "no_throttling", f"{seen}: nothing to raise", lines=lines)
    if evidence.manual:
        return Plan(
            Action.SKIP,
            "no_throttling.set_alarm_state",
            f"{seen}; alarm {evidence.alarm_name} was set to ALARM by hand (set-alarm-state: "
            f"{evidence.reason or 'no reason given'}), not by an evaluation: nothing to raise",
            lines=lines,
        )
    if not evidence.recent_datapoints:
        return Plan(
            Action.SKIP,
            "no_throttling.missing_data",
            f"{seen}; alarm {evidence.alarm_name} went to ALARM without a datapoint (missing "
            "data treated as breaching): nothing to raise",
            lines=lines,
            next_steps=(
                "Set the alarm's TreatMissingData to notBreaching: DynamoDB publishes throttle "
                "metrics only when something is throttled",
            ),
        )
    disagreeing = _alarm_series_throttled(diagnosis)
    if disagreeing:
        return Plan(
            Action.DEFER,
            "metrics_disagree",
            f"{seen}, but the alarm's own metric ({', '.join(disagreeing)}) shows throttling: "
            "looking again shortly",
            lines=lines,
        )
    if _lagging(diagnosis, evidence):
        return Plan(
            Action.DEFER,
            "metrics_lag",
            f"{seen}, but alarm {evidence.alarm_name} evaluated a newer datapoint "
            f"({_iso_minute(evidence.evaluated_at)}) than CloudWatch returned "
            f"({_iso_minute(diagnosis.newest_datapoint)}): publishing lag, looking again shortly",
            lines=lines,
        )
    reported = ", ".join(f"{p:g}" for p in evidence.recent_datapoints)
    if any("CapacityUnits" in t.metric_name for t in evidence.targets):
        # a capacity alarm (the pre-throttle one: consumed above provisioned)
        return Plan(
            Action.SKIP,
            "no_throttling",
            f"{seen}; alarm {evidence.alarm_name} reported {reported}, but the demand "
            "CloudWatch measures now is within the provisioned capacity: nothing to raise",
            lines=lines,
        )
    return Plan(
        Action.SKIP,
        "no_throttling",
        f"{seen}; alarm {evidence.alarm_name} reported {reported}: its metric is not a "
        "throttle DynamoDB reports for this table now, nothing to raise",
        lines=lines,
    )


def _alarm_series_throttled(diagnosis: Diagnosis) -> list[str]:
    """The alarm's own throttle series CloudWatch answered with throttling in the window."""
    return sorted(
        {
            series.metric
            for series, values in diagnosis.alarm_points.items()
            if classify(series.metric, series.operation).cause is not ThrottleCause.NOT_THROTTLE
            and any(value > 0 for value in values.values())
        }
    )


def _lagging(diagnosis: Diagnosis, evidence: AlarmEvidence) -> bool:
    """The alarm saw a breaching datapoint newer than anything GetMetricData returned."""
    if not any(p > 0 for p in evidence.recent_datapoints):
        return False
    if evidence.evaluated_at is None:
        return diagnosis.newest_datapoint is None
    return diagnosis.newest_datapoint is None or diagnosis.newest_datapoint < evidence.evaluated_at


def _fallback(case: ThrottleCase, policy: ScalingPolicy) -> Plan:
    """CloudWatch unreadable: the alarm's own metric decides, by the minimum step."""
    evidence = case.evidence
    signals = []
    for target in evidence.targets if evidence else ():
        signal = classify(target.metric_name, target.operation)
        if signal.cause is not ThrottleCause.NOT_THROTTLE and signal.dimension is not None:
            signals.append((target, signal))
    units = {(t.index_name, s.dimension) for t, s in signals}
    if len(units) != 1:
        return Plan(
            Action.DEFER,
            "metrics_unavailable",
            "CloudWatch could not be read and the alarm does not name one resource and "
            "dimension: looking again shortly",
        )
    target, signal = signals[0]
    assert signal.dimension is not None
    index_name, dimension = target.index_name, signal.dimension
    capacity_unit = case.table.unit(index_name)
    where = _where(case.table.table_name, index_name)
    if capacity_unit is None:
        return Plan(Action.SKIP, "index_missing", f"{where} does not exist on the table")
    # the alarm says it throttles now: one throttled minute ending now, of the alarm's cause
    # (so the cooldown after a raise holds exactly by time)
    now = case.now - PERIOD
    fixable = signal.cause in (ThrottleCause.PROVISIONED, ThrottleCause.ON_DEMAND_MAX)
    unit = UnitDiagnosis(
        index_name,
        dimension,
        throttled_events=1.0,
        causes={signal.cause: 1.0},
        last_throttled_at=now,
        last_fixable_at=now if fixable or signal.cause is ThrottleCause.GENERIC else None,
    )
    verdict = (
        _on_demand_verdict(case, unit, capacity_unit, policy)
        if case.table.is_on_demand
        else _fallback_provisioned(case, unit, capacity_unit, policy)
    )
    if verdict is None:
        return Plan(Action.SKIP, "no_capacity", f"{where} reports no capacity to raise")
    note = "CloudWatch could not be read: the alarm's own metric decided, by the minimum step"
    plan = _conclude(case, [verdict], (note,))
    return replace(plan, reason=f"{plan.reason} ({note})")


def _fallback_provisioned(
    case: ThrottleCase, unit: UnitDiagnosis, capacity_unit: CapacityUnit, policy: ScalingPolicy
) -> Verdict | None:
    if capacity_unit.provisioned is None:
        return None
    if unit.has(ThrottleCause.ON_DEMAND_MAX):
        return Verdict(
            unit.index_name,
            unit.dimension,
            VerdictKind.ADVISE,
            "mode_mismatch",
            f"{unit.where()}: the alarm is for on-demand, the table is provisioned",
        )
    return _verdict(case, unit, policy)


# --------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------
def _lines(case: ThrottleCase, diagnosis: Diagnosis) -> list[str]:
    found = []
    for unit in diagnosis.units:
        capacity_unit = case.table.unit(unit.index_name)
        current = _current(case.table, capacity_unit, unit.dimension)
        short = unit.demand_peak is not None and current is not None and unit.demand_peak > current
        if unit.throttled or short:
            found.append(
                describe(unit, current, case.lookback_minutes, on_demand=case.table.is_on_demand)
            )
    return found


def _current(
    table: TableDescription, unit: CapacityUnit | None, dimension: Dimension
) -> int | None:
    if unit is None:
        return None
    if table.is_on_demand:
        return unit.on_demand_max.of(dimension)
    return unit.provisioned.of(dimension) if unit.provisioned else None


def _shortfall_words(unit: UnitDiagnosis, current: int, short: bool) -> str:
    if short:
        verb = "throttled" if unit.throttled else "spent burst capacity"
        return f"{verb}: demand ≈ {_fmt(unit.demand_peak)} units/s against {current} provisioned"
    return (
        f"throttled ({unit.throttled_events:,.0f} requests) with demand within the "
        f"{current} provisioned: one minimum step"
    )


def _change_words(change: Change) -> str:
    before, after = change.before, change.after
    if isinstance(after, AutoScalingLimits) and isinstance(before, AutoScalingLimits):
        text = f"Auto Scaling MinCapacity {before.min_capacity} → {after.min_capacity}"
        if after.max_capacity != before.max_capacity:
            text += f", MaxCapacity {before.max_capacity} → {after.max_capacity}"
        return text
    label = "on-demand max" if isinstance(after, OnDemandLimits) else "units"
    parts = []
    for dimension in change.dimensions:
        old = before.of(dimension) if not isinstance(before, AutoScalingLimits) else None
        new = after.of(dimension) if not isinstance(after, AutoScalingLimits) else None
        parts.append(f"{dimension} {label} {old} → {new}")
    return ", ".join(parts)


def _change_steps(change: Change) -> tuple[str, ...]:
    if change.action is Action.RAISE_AUTOSCALING_MIN:
        return ("Review the target-tracking policy: it reacted too slowly to this spike",)
    if change.action is Action.RAISE_ON_DEMAND_MAX:
        return ("On-demand bills per request: the maximum bounds the spend, it costs nothing",)
    return ("Review access patterns if throttling recurs",)


def _where(table_name: str, index_name: str | None) -> str:
    if index_name:
        return f"index {index_name} of table {table_name}"
    return f"table {table_name}"


def _resource(index_name: str | None) -> str:
    return f"index {index_name}" if index_name else "the table"


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.1f}"


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _hhmm(value: datetime) -> str:
    return f"{value:%H:%M} UTC"


def _iso_minute(value: datetime | None) -> str:
    return "none" if value is None else f"{value:%H:%M} UTC"
