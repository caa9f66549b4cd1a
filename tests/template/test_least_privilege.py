"""Least privilege on the translated template, beyond test_template.py's per-statement rules:
who may write the decision table, and which Contributor Insights reports may be read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .cfn import (
    actions,
    as_list,
    iam_statements,
    load_template,
    resources_of_type,
    role_of,
    sam_function_ids,
)

pytestmark = pytest.mark.template

FUNCTIONS = sam_function_ids(load_template())
# DynamoDB actions that change items (Service Authorization Reference, "Write" level)
ITEM_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:RestoreTableFromBackup",
    "dynamodb:ImportTable",
}
INSIGHT_RULES = {
    "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
    ":insight-rule/DynamoDBContributorInsights-*"
}


def _grants(cfn: dict[str, Any], wanted: set[str]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (where, statement)
        for where, statement in iam_statements(cfn)
        if wanted & {a.lower() for a in actions(statement)}
        or any(a.endswith("*") and a.split(":")[0] == "dynamodb" for a in actions(statement))
    ]


def _names_decision_table(resource: Any) -> bool:
    return "DecisionTable" in json.dumps(resource)


def test_only_the_functions_may_write_items_and_only_into_the_decision_table(
    cfn: dict[str, Any],
) -> None:
    roles = {role_of(cfn, function_id) for function_id in FUNCTIONS}
    writes = _grants(cfn, {a.lower() for a in ITEM_WRITES})
    assert writes, "no function can write its decisions: is the test looking at the right place?"
    for where, statement in writes:
        assert where.split("/")[0] in roles, f"{where} is not a function's role"
        for resource in as_list(statement["Resource"]):
            assert _names_decision_table(resource), f"{where} writes items of {resource}"


def test_every_function_can_write_its_decisions(cfn: dict[str, Any]) -> None:
    for function_id in FUNCTIONS:
        role = role_of(cfn, function_id)
        writable = {
            action
            for where, statement in iam_statements(cfn)
            if where.startswith(f"{role}/")
            and all(_names_decision_table(r) for r in as_list(statement["Resource"]))
            for action in actions(statement)
        }
        assert {"dynamodb:PutItem", "dynamodb:UpdateItem"} <= writable, function_id


def test_no_resource_policy_opens_the_decision_table(cfn: dict[str, Any]) -> None:
    assert "ResourcePolicy" not in cfn["Resources"]["DecisionTable"]["Properties"]
    assert resources_of_type(cfn, "AWS::DynamoDB::ResourcePolicy") == {}


def test_insight_rule_reports_only_of_dynamodbs_own_rules(cfn: dict[str, Any]) -> None:
    readers = [
        (where, statement)
        for where, statement in iam_statements(cfn)
        if "cloudwatch:GetInsightRuleReport" in actions(statement)
    ]
    assert readers, "flag_hot_keys cannot read Contributor Insights reports"
    for where, statement in readers:
        assert as_list(statement["Resource"]) == [INSIGHT_RULES], where
        assert actions(statement) == ["cloudwatch:GetInsightRuleReport"], where
