"""Which alarms the flag_hot_keys runbook looks at, and where a Contributor Insights rule points."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from autoresponder.domain.alarm_target import AlarmTarget, is_autoscaling_alarm, resolve_target
from autoresponder.domain.throttling import ThrottleCause, classify
from autoresponder.models.alarm import AlarmDetail, AlarmStateValue
from autoresponder.models.hot_keys import RuleKind
from autoresponder.models.table import Dimension

MAX_RESOURCE_CANDIDATES = 5

_RULE_NAME = re.compile(r"^DynamoDBContributorInsights-(PKC|PKT|SKC|SKT)-(.+)-(\d+)$")
_INSIGHT_RULE_METRIC = re.compile(r"INSIGHT_RULE_METRIC\(\s*['\"]([^'\"]+)['\"]")


class TriggerKind(StrEnum):
    KEY_RANGE = "key_range"
    """`Read/WriteKeyRangeThroughputThrottleEvents`: a hot partition, by definition."""
    GENERIC = "generic"
    """`Read/WriteThrottleEvents`, `ThrottledRequests`: a hot key is one possible cause."""
    INSIGHT_RULE = "insight_rule"
    """A metric-math alarm on a Contributor Insights rule (`INSIGHT_RULE_METRIC`)."""


@dataclass(frozen=True)
class HotKeyTrigger:
    kind: TriggerKind
    metric_name: str
    dimension: Dimension | None
    table_name: str | None = None
    """None for an insight-rule alarm until the rule's table is found."""
    index_name: str | None = None
    rule_name: str | None = None

    @property
    def expects_hot_key(self) -> bool:
        return self.kind is not TriggerKind.GENERIC


@dataclass(frozen=True)
class Unrelated:
    """An alarm this runbook does not look into (recorded as `skip`)."""

    rule: str
    reason: str


def triage(detail: AlarmDetail) -> Unrelated | None:
    """Alarms never looked into, known from the event alone."""
    if detail.state.value is not AlarmStateValue.ALARM:
        return Unrelated(
            "not_alarm",
            f"alarm {detail.alarm_name} went to {detail.state.value}, not ALARM: nothing to do",
        )
    if is_autoscaling_alarm(detail.alarm_name):
        return Unrelated(
            "autoscaling_alarm",
            f"{detail.alarm_name} belongs to Application Auto Scaling's target tracking",
        )
    return None


def resolve_trigger(detail: AlarmDetail) -> HotKeyTrigger | Unrelated:
    """What the alarm is about: a DynamoDB throttle metric, or a Contributor Insights rule."""
    target = resolve_target(detail.configuration.metrics)
    if isinstance(target, AlarmTarget):
        signal = classify(target.metric_name, target.operation)
        if signal.cause in {ThrottleCause.KEY_RANGE, ThrottleCause.GENERIC}:
            kind = (
                TriggerKind.KEY_RANGE
                if signal.cause is ThrottleCause.KEY_RANGE
                else TriggerKind.GENERIC
            )
            return HotKeyTrigger(
                kind=kind,
                metric_name=target.metric_name,
                dimension=signal.dimension,
                table_name=target.table_name,
                index_name=target.index_name,
            )
    rules = insight_rule_names(m.expression for m in detail.configuration.metrics)
    dynamodb_rules = [name for name in rules if rule_kind(name) is not None]
    if dynamodb_rules:
        return HotKeyTrigger(
            kind=TriggerKind.INSIGHT_RULE,
            metric_name="INSIGHT_RULE_METRIC",
            dimension=None,
            rule_name=dynamodb_rules[0],
        )
    if rules:
        return Unrelated(
            "not_dynamodb_rule",
            f"the alarm watches Contributor Insights rule {rules[0]}, not one DynamoDB manages",
        )
    if isinstance(target, AlarmTarget):
        return Unrelated(
            "not_hot_key_metric",
            f"{target.metric_name} does not point at a hot key "
            "(capacity, quota or on-demand cap: scale_on_throttle handles it)",
        )
    return Unrelated("unresolved", target.reason)


def insight_rule_names(expressions: Iterable[str | None]) -> list[str]:
    """Rule names inside `INSIGHT_RULE_METRIC('<rule>', '<metric>')` expressions."""
    return [
        match.group(1)
        for expression in expressions
        if expression
        for match in _INSIGHT_RULE_METRIC.finditer(expression)
    ]


def rule_kind(rule_name: str) -> RuleKind | None:
    """PKC/PKT/SKC/SKT from a DynamoDB-managed rule name; None for any other rule."""
    match = _RULE_NAME.match(rule_name)
    return RuleKind(match.group(1)) if match else None


def candidate_resources(rule_name: str) -> list[tuple[str, str | None]]:
    """The (table, index) pairs a DynamoDB rule name can belong to, most likely first.

    The name embeds `<table>` or `<table>-<index>`, and both may contain `-`: every split is a
    candidate, to be confirmed by the table's own `ContributorInsightsRuleList` (the name is
    only used to find where to look, never to build a rule name).
    """
    match = _RULE_NAME.match(rule_name)
    if not match:
        return []
    resource = match.group(2)
    candidates: list[tuple[str, str | None]] = [(resource, None)]
    dashes = [i for i, char in enumerate(resource) if char == "-"]
    for i in reversed(dashes):
        table, index = resource[:i], resource[i + 1 :]
        if len(table) >= 3 and len(index) >= 3:
            candidates.append((table, index))
    return candidates[:MAX_RESOURCE_CANDIDATES]
