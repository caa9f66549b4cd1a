"""Route sample events through the template's EventBridge rules, as EventBridge would.

The comparison operators ($or, prefix, anything-but, exists, numeric, ...) are evaluated by
moto's EventBridge pattern engine (`moto.events.models.EventPattern`, public `load` and
`matches_event` only). moto stops at arrays of objects, where EventBridge (Event Ruler)
goes on, so this module adds the two rules Event Ruler documents for them:

* arrays are "crushed out": a pattern on `detail.configuration.metrics.metricStat.metric.name`
  looks inside every element of `metrics[]`;
* array consistency: the fields one pattern matches must come from the same element of an
  array (Event Ruler's `rulesForJSONEvent`, which EventBridge uses). An event is therefore
  expanded into one "view" per choice of elements, and it matches when any view matches.

Arrays of scalars (such as `resources`) are left to moto, which matches when any element does.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from moto.events.models import EventPattern

from .cfn import resources_of_type

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO_PARAMETERS = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws"}
"""The stack's account and Region, as CloudFormation resolves `!Ref AWS::AccountId` in a pattern:
the account of the sample events (`events/`)."""
TIMESTAMP = "2026-11-20T14:05:12.347+0000"


# --------------------------------------------------------------------------------------------
# matching
# --------------------------------------------------------------------------------------------
def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether EventBridge would deliver `event` to a rule with this (resolved) pattern."""
    compiled = EventPattern.load(json.dumps(pattern))
    return any(compiled.matches_event(view) for view in _array_consistent_views(event))


def _array_consistent_views(node: Any) -> Iterator[Any]:
    """Every way of keeping one element of each array of objects (recursively)."""
    if isinstance(node, dict):
        keys = list(node)
        for values in itertools.product(*(list(_views_of_value(node[k])) for k in keys)):
            yield {k: v for k, v in zip(keys, values, strict=True) if v is not _ABSENT}
    else:
        yield node


_ABSENT = object()


def _views_of_value(value: Any) -> Iterator[Any]:
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for item in value:
            if isinstance(item, dict):
                yield from _array_consistent_views(item)
    elif isinstance(value, list) and not value:
        yield _ABSENT  # an empty array has no values: `exists` is false on it
    else:
        yield from _array_consistent_views(value)


# --------------------------------------------------------------------------------------------
# patterns from the translated template
# --------------------------------------------------------------------------------------------
def rules_for(cfn: dict[str, Any], function_id: str) -> dict[str, dict[str, Any]]:
    """The AWS::Events::Rule resources whose targets include the function."""
    found = {}
    for logical_id, rule in resources_of_type(cfn, "AWS::Events::Rule").items():
        targets = rule["Properties"].get("Targets", [])
        if any(target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]} for target in targets):
            found[logical_id] = rule
    return found


def resolve_refs(node: Any, parameters: dict[str, Any]) -> Any:
    """`node` with every {"Ref": parameter} replaced by the parameter's value.

    Any other intrinsic function is an error: a pattern must not depend on something the tests
    cannot see.
    """
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return parameters[node["Ref"]]
        intrinsic = [key for key in node if key.startswith("Fn::")]
        if intrinsic:
            raise ValueError(f"cannot resolve {intrinsic[0]} in an event pattern")
        return {key: resolve_refs(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_refs(item, parameters) for item in node]
    return node


def field_paths(pattern: dict[str, Any], prefix: str = "") -> Iterator[list[str]]:
    """Each $or branch of the pattern as the list of field paths it constrains (with repeats)."""
    plain = [(key, value) for key, value in pattern.items() if key != "$or"]
    own: list[str] = []
    nested: list[list[list[str]]] = []
    for key, value in plain:
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            nested.append(list(field_paths(value, f"{path}.")))
        else:
            own.append(path)
    if "$or" in pattern:
        nested.append(
            [branch for option in pattern["$or"] for branch in field_paths(option, prefix)]
        )
    for combination in itertools.product(*nested):
        yield own + [path for branch in combination for path in branch]


# --------------------------------------------------------------------------------------------
# sample events ("CloudWatch Alarm State Change", as EventBridge delivers it)
# --------------------------------------------------------------------------------------------
def metric_stat(
    name: str,
    namespace: str = "AWS/DynamoDB",
    dimensions: dict[str, str] | None = None,
    *,
    metric_id: str = "m1",
    return_data: bool = True,
) -> dict[str, Any]:
    """One entry of `detail.configuration.metrics` that reads a metric."""
    return {
        "id": metric_id,
        "metricStat": {
            "metric": {
                "namespace": namespace,
                "name": name,
                "dimensions": dimensions if dimensions is not None else {"TableName": "orders"},
            },
            "period": 60,
            "stat": "Sum",
        },
        "returnData": return_data,
    }


def expression(expr: str, *, metric_id: str = "e1") -> dict[str, Any]:
    """One entry of `detail.configuration.metrics` that computes a metric-math expression."""
    return {"id": metric_id, "expression": expr, "label": expr, "returnData": True}


def alarm_state_change(
    alarm_name: str,
    *,
    metrics: list[dict[str, Any]] | None = None,
    alarm_rule: str | None = None,
    state: str = "ALARM",
    previous_state: str = "OK",
    source: str = "aws.cloudwatch",
) -> dict[str, Any]:
    """An EventBridge event for an alarm changing state.

    Give `metrics` for a metric or metric-math alarm, `alarm_rule` for a composite alarm.
    """
    configuration: dict[str, Any] = {"description": f"sample alarm {alarm_name}"}
    if metrics is not None:
        configuration["metrics"] = metrics
    if alarm_rule is not None:
        configuration["alarmRule"] = alarm_rule
    alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm_name}"
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-20T14:05:12Z",
        "region": REGION,
        "resources": [alarm_arn],
        "detail": {
            "alarmName": alarm_name,
            "state": {
                "value": state,
                "reason": f"Threshold Crossed: sample reason for {state}",
                "reasonData": json.dumps({"version": "1.0", "queryDate": TIMESTAMP}),
                "timestamp": TIMESTAMP,
            },
            "previousState": {
                "value": previous_state,
                "reason": "sample previous reason",
                "timestamp": "2026-11-20T13:05:12.347+0000",
            },
            "configuration": configuration,
        },
    }
