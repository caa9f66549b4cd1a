"""Evaluate the translated template's policy statements against a request, as IAM would.

Enough of IAM's documented evaluation logic for what the template writes, so the trust-boundary
tests assert effects (this request is allowed, that one is denied) instead of restating the
YAML: an explicit Deny wins, else any matching Allow; Action and Resource with `*` / `?`
wildcards; the condition operators StringEquals, StringLike, ArnEquals, ArnLike, Bool and Null,
the `ForAllValues:` / `ForAnyValue:` set qualifiers and the `...IfExists` suffix. An operator it
does not know raises, so a new kind of condition cannot pass unnoticed.

Intrinsics are resolved with the stack's pseudo parameters and parameter values; a resource's
`Ref` / `Fn::GetAtt` becomes a readable stand-in such as `arn:stack:NotificationTopic` or
`arn:stack:DecisionTable.Arn`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cfn import as_list

Context = Mapping[str, str | Sequence[str]]


def stand_in(logical_id: str, attribute: str | None = None) -> str:
    """What a resource's `Ref` (or `Fn::GetAtt`) resolves to in these tests."""
    return f"arn:stack:{logical_id}" + (f".{attribute}" if attribute else "")


def resolve(node: Any, parameters: Mapping[str, Any]) -> Any:
    """`node` with Ref, Fn::GetAtt and Fn::Sub resolved (parameters, else stand-ins)."""
    if isinstance(node, list):
        return [resolve(item, parameters) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        name = node["Ref"]
        return str(parameters[name]) if name in parameters else stand_in(name)
    if set(node) == {"Fn::GetAtt"}:
        logical_id, attribute = node["Fn::GetAtt"]
        return stand_in(logical_id, attribute)
    if set(node) == {"Fn::Sub"}:
        text, variables = node["Fn::Sub"], {}
        if isinstance(text, list):  # [text, {name: value}] (SAM's policy templates)
            text, variables = text[0], resolve(text[1], parameters)
        known = {**parameters, **variables}

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in known:
                return str(known[name])
            logical_id, _, attribute = name.partition(".")
            return stand_in(logical_id, attribute or None)

        return re.sub(r"\$\{([^}!]+)\}", value, text)
    return {key: resolve(value, parameters) for key, value in node.items()}


def _glob(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags) is not None


_MATCHERS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": _glob,
    "ArnEquals": lambda expected, actual: expected == actual,
    "ArnLike": _glob,
    "Bool": lambda expected, actual: expected.lower() == actual.lower(),
}


def _condition_holds(operator: str, key: str, expected: list[str], context: Context) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    present = key in context
    if base == "Null":
        (wanted,) = expected
        return (not present) if wanted == "true" else present
    if base not in _MATCHERS:
        raise NotImplementedError(f"condition operator {operator}")
    match = _MATCHERS[base]
    raw = context.get(key)
    values = [raw] if isinstance(raw, str) else list(raw or [])
    if qualifier == "ForAllValues":
        return all(any(match(e, v) for e in expected) for v in values)
    if qualifier == "ForAnyValue":
        return any(any(match(e, v) for e in expected) for v in values)
    if qualifier:
        raise NotImplementedError(f"condition qualifier {qualifier}")
    if not present:
        return if_exists
    return any(match(e, v) for e in expected for v in values)


def conditions_hold(condition: Mapping[str, Any], context: Context) -> bool:
    return all(
        _condition_holds(operator, key, [str(v) for v in as_list(expected)], context)
        for operator, block in condition.items()
        for key, expected in block.items()
    )


@dataclass(frozen=True)
class Request:
    action: str
    resource: str = "*"
    context: Context = field(default_factory=dict)
    principal: tuple[str, str] | None = None
    """For a resource policy: ("AWS", an ARN) or ("Service", a service principal)."""


def _principal_matches(statement: Mapping[str, Any], principal: tuple[str, str] | None) -> bool:
    if "Principal" not in statement:
        return True  # an identity policy: the role is the principal
    if principal is None:
        return False
    named = statement["Principal"]
    if named == "*":
        return True
    kind, who = principal
    for listed in as_list(named.get(kind, [])):
        if listed == who:
            return True
        # an account's root ARN stands for every principal of that account
        root = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):root", str(listed))
        if kind == "AWS" and root and f"::{root.group(1)}:" in who:
            return True
    return False


def matches(statement: Mapping[str, Any], request: Request) -> bool:
    actions = [str(a) for a in as_list(statement.get("Action", []))]
    if not any(_glob(a, request.action, case_sensitive=False) for a in actions):
        return False
    resources = [str(r) for r in as_list(statement.get("Resource", "*"))]
    if not any(_glob(r, request.resource) for r in resources):
        return False
    if not _principal_matches(statement, request.principal):
        return False
    return conditions_hold(statement.get("Condition", {}), request.context)


def allowed(statements: Iterable[Mapping[str, Any]], request: Request) -> bool:
    """IAM's verdict from these statements alone: an explicit Deny wins over any Allow."""
    found = list(statements)
    if any(s["Effect"] == "Deny" and matches(s, request) for s in found):
        return False
    return any(s["Effect"] == "Allow" and matches(s, request) for s in found)
