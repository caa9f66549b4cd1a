"""From the verdicts of a pass to its plan: the change, else the verdict that says the most."""

from __future__ import annotations

from collections.abc import Sequence

from autoresponder.domain.scaling.case import ThrottleCase
from autoresponder.domain.scaling.change import change_plan
from autoresponder.domain.scaling.plan import Plan
from autoresponder.domain.scaling.verdicts import WORTH_SAYING, Verdict, VerdictKind
from autoresponder.domain.throttling import classify
from autoresponder.models.decision import Action, Severity

_WHEN_NOTHING_RAISES: dict[VerdictKind, tuple[Action, tuple[str, ...]]] = {
    VerdictKind.HAND_OFF: (
        Action.HAND_OFF_HOT_KEYS,
        (
            "Review the flag_hot_keys report for this table",
            "Consider write sharding or caching for the hottest keys",
        ),
    ),
    VerdictKind.ADVISE: (
        Action.SKIP,
        (
            "Request a DynamoDB throughput quota increase in Service Quotas",
            "Check the flag_hot_keys report for this table",
        ),
    ),
    VerdictKind.AT_CEILING: (
        Action.SKIP,
        (
            "Raise the ceiling with the autoresponder:max-read-units / max-write-units tag",
            "Review access patterns: a ceiling reached often means demand outgrew the design",
        ),
    ),
}
"""The verdicts that head a plan with no raise, first to last, with its action and next steps."""


def conclude(case: ThrottleCase, verdicts: list[Verdict], lines: tuple[str, ...]) -> Plan:
    raises = [v for v in verdicts if v.kind is VerdictKind.RAISE]
    if raises:
        return change_plan(case, raises, verdicts, lines)
    first = _first(verdicts, tuple(_WHEN_NOTHING_RAISES))
    if first is not None:
        action, next_steps = _WHEN_NOTHING_RAISES[first.kind]
        return _plan_of(
            first, action, verdicts, lines, severity=Severity.WARNING, next_steps=next_steps
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
    others = [v.text for v in verdicts if v is not verdict and v.kind in WORTH_SAYING]
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
