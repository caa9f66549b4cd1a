"""The one capacity change of a pass: which resource changes first, what it changes to, and
what an UPDATING resource allows."""

from __future__ import annotations

from collections.abc import Sequence

from autoresponder.domain.scaling.case import ThrottleCase
from autoresponder.domain.scaling.history import RAISES, UPDATING, Limits, ScaleHistory
from autoresponder.domain.scaling.plan import Change, Plan
from autoresponder.domain.scaling.verdicts import WORTH_SAYING, Verdict, VerdictKind
from autoresponder.domain.scaling.words import hhmm, resource, where
from autoresponder.models.decision import Action, AutoScalingLimits, Severity
from autoresponder.models.table import Dimension, OnDemandLimits


def change_plan(
    case: ThrottleCase, raises: list[Verdict], verdicts: list[Verdict], lines: tuple[str, ...]
) -> Plan:
    """The resource short by the most changes now; the other raises wait for the next look."""
    index_name, chosen = _choose(case, raises)
    change = _change(case, index_name, chosen)
    waiting = [
        Verdict(
            v.index_name,
            v.dimension,
            VerdictKind.WAITS,
            "waits_for_next_look",
            f"{v.text}: waits for the next look (this pass changes {resource(index_name)} first)",
            current=v.current,
            wanted=v.wanted,
        )
        for v in raises
        if v not in chosen
    ]
    rest = [v for v in verdicts if v.kind is not VerdictKind.RAISE]
    all_verdicts = (*chosen, *waiting, *rest)
    unit = case.table.unit(index_name)
    if UPDATING in (case.table.status, unit.status if unit else None):
        return _while_updating(case, chosen, change, all_verdicts, lines)
    words = "; ".join(v.text for v in chosen)
    also = [v.text for v in (*waiting, *rest) if v.kind in WORTH_SAYING]
    return Plan(
        change.action,
        chosen[0].rule,
        f"{_change_words(change)} on {where(case.table.table_name, index_name)}: {words}"
        + (f"; {'; '.join(also)}" if also else ""),
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


def _choose(case: ThrottleCase, raises: list[Verdict]) -> tuple[str | None, list[Verdict]]:
    """The resource short by the most, and the raises of it this pass makes."""
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
    return index_name, chosen


def _while_updating(
    case: ThrottleCase,
    chosen: Sequence[Verdict],
    change: Change,
    verdicts: tuple[Verdict, ...],
    lines: tuple[str, ...],
) -> Plan:
    """The resource is UPDATING: skip when the change in flight is the responder's own and
    covers the raise, else wait for it (defer)."""
    place = where(case.table.table_name, change.index_name)
    in_flight = _own_raise_in_flight(case, chosen)
    if in_flight is not None:
        return Plan(
            Action.SKIP,
            "updating.in_flight",
            f"{place} is UPDATING to the capacity the responder asked for at "
            f"{hhmm(in_flight.scaled_at)} ({_units_words(in_flight.after, chosen)}), "
            "which covers the demand measured now: nothing more to ask; the next look after "
            "it lands judges the new capacity",
            dimension=change.dimension,
            index_name=change.index_name,
            verdicts=verdicts,
            lines=lines,
        )
    return Plan(
        Action.DEFER,
        "updating.defer",
        f"{place} is UPDATING: the raise waits until the change in flight completes",
        dimension=change.dimension,
        index_name=change.index_name,
        verdicts=verdicts,
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
