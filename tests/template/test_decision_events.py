"""One view of every decision (docs/architecture.md): the functions may put events on the default
bus and nowhere else; with `CentralEventBusArn` a rule forwards the decision events to that bus.

Per-function checks run for every AWS::Serverless::Function.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from autoresponder.adapters.event_bus import DETAIL_TYPE, SOURCE

from .cfn import actions, as_list, iam_statements, load_template, role_of, sam_function_ids
from .routing import matches

pytestmark = pytest.mark.template

FUNCTIONS = sam_function_ids(load_template())
DEFAULT_BUS = {
    "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
}
CENTRAL_BUS = {"Ref": "CentralEventBusArn"}


def _role_statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Inline statements of a role and those of the stack's managed policies it names."""
    statements = [s for where, s in iam_statements(cfn) if where.startswith(f"{role}/")]
    for arn in cfn["Resources"][role]["Properties"].get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            policy = cfn["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]
            statements += as_list(policy["Statement"])
    return statements


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_may_put_events_on_the_default_bus_only(
    cfn: dict[str, Any], function_id: str
) -> None:
    puts = [
        statement
        for statement in _role_statements(cfn, role_of(cfn, function_id))
        if any(action.startswith("events:") for action in actions(statement))
    ]
    assert puts, f"{function_id} cannot put its decisions on the bus"
    for statement in puts:
        assert actions(statement) == ["events:PutEvents"]
        assert as_list(statement["Resource"]) == [DEFAULT_BUS]


def test_only_the_forwarding_role_puts_events_elsewhere(cfn: dict[str, Any]) -> None:
    elsewhere = [
        where
        for where, statement in iam_statements(cfn)
        if "events:PutEvents" in actions(statement)
        and as_list(statement["Resource"]) != [DEFAULT_BUS]
    ]
    assert elsewhere == ["DecisionForwardingRole/PutDecisionsOnTheCentralBus"]
    (statement,) = [
        s
        for where, s in iam_statements(cfn)
        if where == "DecisionForwardingRole/PutDecisionsOnTheCentralBus"
    ]
    assert actions(statement) == ["events:PutEvents"]
    assert statement["Resource"] == CENTRAL_BUS


def test_the_forwarding_role_is_only_for_eventbridge_of_this_account(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"]["DecisionForwardingRole"]
    assert role["Condition"] == "HasCentralEventBus"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_forwarding_rule_sends_every_decision_to_the_central_bus(
    cfn: dict[str, Any], sam_template: dict[str, Any]
) -> None:
    rule = cfn["Resources"]["DecisionForwardingRule"]
    assert rule["Condition"] == "HasCentralEventBus"
    assert sam_template["Conditions"]["HasCentralEventBus"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CentralEventBusArn"}, ""]}]
    }
    assert sam_template["Parameters"]["CentralEventBusArn"]["Default"] == ""
    properties = rule["Properties"]
    assert properties.get("EventBusName", "default") == "default"
    (target,) = properties["Targets"]
    assert target["Arn"] == CENTRAL_BUS
    assert target["RoleArn"] == {"Fn::GetAtt": ["DecisionForwardingRole", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}}
    decision = {
        "version": "0",
        "id": "1",
        "source": SOURCE,
        "detail-type": DETAIL_TYPE,
        "account": "123456789012",
        "region": "eu-west-1",
        "time": "2026-11-20T14:05:13Z",
        "resources": [],
        "detail": {"runbook": "scale_back", "action": "hold", "table_name": "orders"},
    }
    assert matches(properties["EventPattern"], decision)
    assert not matches(properties["EventPattern"], {**decision, "source": "aws.cloudwatch"})


@pytest.mark.parametrize(
    "value",
    [
        "",
        "arn:aws:events:eu-west-1:111122223333:event-bus/autoresponder-decisions",
        "arn:aws-us-gov:events:us-gov-west-1:111122223333:event-bus/decisions",
    ],
)
def test_central_bus_parameter_accepts_a_bus_arn_or_nothing(sam_template, value: str) -> None:
    pattern = sam_template["Parameters"]["CentralEventBusArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, value)


@pytest.mark.parametrize(
    "value",
    [
        "autoresponder-decisions",
        "arn:aws:sns:eu-west-1:111122223333:topic",
        "arn:aws:events:eu-west-1:1111:event-bus/x",
    ],
)
def test_central_bus_parameter_rejects_anything_else(sam_template, value: str) -> None:
    pattern = sam_template["Parameters"]["CentralEventBusArn"]["AllowedPattern"]
    assert not re.fullmatch(pattern, value)
