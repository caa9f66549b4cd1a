"""Every sample event in events/ reaches exactly the functions meant to handle it, and no other.

The expectations are the routing table of events/README.md ("Routing" section: the functions
whose EventBridge rules match each file, and the function whose schedule sends it), so the
documentation and the template cannot drift apart. Matching runs every EventBridge rule of the
translated template (default parameter values) through `routing.matches` (moto's EventBridge
pattern engine plus Event Ruler's array rules, see routing.py and test_routing.test_matcher).
A maintained Python implementation of Event Ruler was looked for: PyPI's `event-ruler` (0.3.0,
last released 2023-12) is the only one and is not maintained; moto's engine is, and the cases
at the end of this file pin the documented semantics the template's patterns rely on.

The responder's own alarms (queues, function errors and throttles) must reach no function.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from .cfn import ROOT, SAM_FUNCTION, load_template, resources_of_type
from .routing import alarm_state_change, matches, metric_stat, resolve_refs

pytestmark = pytest.mark.template

EVENTS = ROOT / "events"
README = EVENTS / "README.md"
SECTION = "## Routing"
_NAME = re.compile(r"`([a-z0-9_.]+)`")


@cache
def routing_table() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """file → (functions whose rules match it, functions whose schedule sends it)."""
    text = README.read_text()
    assert SECTION in text, f"{README} has no '{SECTION}' section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    table: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        (file,) = _NAME.findall(cells[0])
        assert file not in table, f"{file} is listed twice"
        table[file] = (_names(cells[1]), _names(cells[2]))
    return table


def _names(cell: str) -> frozenset[str]:
    """The backticked names of a cell, before any parenthesised note."""
    return frozenset(_NAME.findall(cell.split("(", 1)[0]))


def function_folders() -> dict[str, str]:
    """Function folder name (the contract's runbook name) → logical ID."""
    template = load_template()
    return {
        resource["Properties"]["CodeUri"].strip("/").split("/")[-1]: logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == SAM_FUNCTION
    }


def _target_function(target: dict[str, Any]) -> str | None:
    arn = target.get("Arn")
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    return None


def pattern_rules(cfn: dict[str, Any], parameters: dict[str, Any]) -> list[tuple[str, str, dict]]:
    """(rule ID, target function ID, resolved pattern) of every pattern rule."""
    rules = []
    for rule_id, rule in resources_of_type(cfn, "AWS::Events::Rule").items():
        properties = rule["Properties"]
        if "EventPattern" not in properties:
            continue
        pattern = resolve_refs(properties["EventPattern"], parameters)
        for target in properties.get("Targets", []):
            rules.append((rule_id, _target_function(target) or str(target.get("Arn")), pattern))
    return rules


def schedule_envelopes(cfn: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Function ID → (source, detail-type) of the events its schedules send."""
    sent: dict[str, list[tuple[str, str]]] = {}
    for rule in resources_of_type(cfn, "AWS::Events::Rule").values():
        properties = rule["Properties"]
        if "ScheduleExpression" in properties:
            for target in properties.get("Targets", []):
                # a schedule rule without Input sends EventBridge's own "Scheduled Event"
                envelope = ("aws.events", "Scheduled Event")
                if "Input" in properties:
                    envelope = _envelope(target["Input"])
                sent.setdefault(str(_target_function(target)), []).append(envelope)
    for schedule in resources_of_type(cfn, "AWS::Scheduler::Schedule").values():
        target = schedule["Properties"]["Target"]
        sent.setdefault(str(_target_function(target)), []).append(_envelope(target["Input"]))
    return sent


def _envelope(raw: Any) -> tuple[str, str]:
    text = raw["Fn::Sub"] if isinstance(raw, dict) else raw
    if isinstance(text, list):
        text = text[0]
    text = re.sub(r"\$\{[^}]+\}", "x", str(text))
    event = json.loads(text)
    return event["source"], event["detail-type"]


@pytest.fixture(scope="module")
def rules(cfn: dict[str, Any], defaults: dict[str, Any]) -> list[tuple[str, str, dict]]:
    found = pattern_rules(cfn, defaults)
    assert found
    return found


def test_the_routing_table_lists_every_sample_event_once() -> None:
    files = sorted(path.name for path in EVENTS.glob("*.json"))
    assert sorted(routing_table()) == files


def test_the_routing_table_names_only_functions_of_the_template() -> None:
    named = {name for reached, sent in routing_table().values() for name in reached | sent}
    assert named <= set(function_folders())


@pytest.mark.parametrize("file", sorted(path.name for path in EVENTS.glob("*.json")))
def test_sample_event_reaches_exactly_its_functions(
    rules: list[tuple[str, str, dict]], cfn: dict[str, Any], file: str
) -> None:
    expected, scheduled_by = routing_table().get(file, (frozenset(), frozenset()))
    event = json.loads((EVENTS / file).read_text())
    folders = {logical_id: folder for folder, logical_id in function_folders().items()}
    matched = {(rule_id, function_id) for rule_id, function_id, p in rules if matches(p, event)}
    reached = {folders.get(function_id, function_id) for _, function_id in matched}
    assert reached == expected, f"rules that matched: {sorted(matched)}"
    envelopes = schedule_envelopes(cfn)
    for folder in scheduled_by:
        assert (event["source"], event["detail-type"]) in envelopes.get(
            function_folders()[folder], []
        ), f"no schedule of {folder} sends a {event['source']} {event['detail-type']} event"


def test_every_alarm_driven_function_has_a_sample_event(rules: list[tuple[str, str, dict]]):
    alarm_driven = {
        function_id
        for _, function_id, pattern in rules
        if pattern.get("source") == ["aws.cloudwatch"]
    }
    folders = function_folders()
    sampled = {folders[name] for reached, _ in routing_table().values() for name in reached}
    assert alarm_driven <= sampled


def _own_alarm_events(cfn: dict[str, Any]) -> list[Any]:
    cases = []
    for alarm_id, alarm in resources_of_type(cfn, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        if "MetricName" not in properties:
            continue
        dimensions = {d["Name"]: f"{alarm_id}-target" for d in properties.get("Dimensions", [])}
        metric = metric_stat(properties["MetricName"], properties["Namespace"], dimensions)
        event = alarm_state_change(f"dynamodb-autoresponder-dev-{alarm_id}", metrics=[metric])
        cases.append(pytest.param(event, id=alarm_id))
    return cases


def test_the_responders_own_alarms_reach_no_function(
    rules: list[tuple[str, str, dict]], cfn: dict[str, Any]
) -> None:
    events = _own_alarm_events(cfn)
    assert events, "the stack has no alarms of its own"
    for case in events:
        (event,) = case.values
        matched = sorted(rule_id for rule_id, _, p in rules if matches(p, event))
        assert matched == [], case.id


WILDCARD = "*INSIGHT_RULE_METRIC(*DynamoDBContributorInsights-*"
INSIGHT = "INSIGHT_RULE_METRIC('DynamoDBContributorInsights-PKC-orders-1', 'Sum')"


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        # EventBridge's documented semantics of the operators this template's patterns use
        # (content filtering: matching is case-sensitive; `*` matches any run of characters,
        # none included)
        pytest.param({"e": [{"wildcard": WILDCARD}]}, {"e": INSIGHT}, True, id="wildcard"),
        pytest.param(
            {"e": [{"wildcard": WILDCARD}]},
            {"e": f"100 * {INSIGHT}"},
            True,
            id="wildcard-leading-star",
        ),
        pytest.param(
            {"e": [{"wildcard": WILDCARD}]}, {"e": INSIGHT.lower()}, False, id="wildcard-case"
        ),
        pytest.param(
            {"e": [{"wildcard": WILDCARD}]},
            {"e": "INSIGHT_RULE_METRIC('MyRule', 'Sum')"},
            False,
            id="wildcard-other-rule",
        ),
        pytest.param({"v": ["ALARM"]}, {"v": "alarm"}, False, id="exact-is-case-sensitive"),
        pytest.param(
            {"n": [{"prefix": "autoresponder-"}]},
            {"n": "Autoresponder-x"},
            False,
            id="prefix-is-case-sensitive",
        ),
        pytest.param(
            {"m": {"id": [{"prefix": "e"}], "expression": [{"exists": True}]}},
            {"m": [{"id": "e1"}, {"id": "m1", "expression": "x"}]},
            False,
            id="exists-within-the-same-array-element",
        ),
    ],
)
def test_matcher_follows_the_documented_semantics_the_patterns_use(
    pattern: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    assert matches(pattern, event) is expected
