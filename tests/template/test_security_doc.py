"""SECURITY.md's IAM table says exactly what template.yaml grants: per function, the actions its
role has (inline statements, and the stack's own managed policies it names), and the
forwarding role's. When the template's Policies change, update the section between the
`BEGIN IAM TABLE` / `END IAM TABLE` markers of SECURITY.md, and only it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .cfn import ROOT, actions, as_list, iam_statements, load_template, role_of, sam_function_ids

pytestmark = pytest.mark.template

FUNCTIONS = sam_function_ids(load_template())
ACTION = re.compile(r"`([a-z0-9-]+:[A-Za-z]+)`")
EVERY_FUNCTION = "Every function"
FORWARDING_ROLE = "DecisionForwardingRole"
RECHECK_ROLE = "RecheckSchedulerRole"


def _sections() -> dict[str, set[str]]:
    """Heading (its first word, or "Every function") → the actions in its tables' first column."""
    text = (ROOT / "SECURITY.md").read_text()
    begin, end = text.index("<!-- BEGIN IAM TABLE"), text.index("<!-- END IAM TABLE -->")
    sections: dict[str, set[str]] = {}
    for block in text[begin:end].split("\n### ")[1:]:
        heading, _, body = block.partition("\n")
        name = EVERY_FUNCTION if heading.startswith(EVERY_FUNCTION) else heading.split()[0]
        if heading.startswith("Not a function:"):
            name = heading.split()[3]
        first_cells = [line.split("|")[1] for line in body.splitlines() if line.startswith("|")]
        sections[name] = {action for cell in first_cells for action in ACTION.findall(cell)}
    return sections


def _granted(cfn: dict[str, Any], role: str) -> set[str]:
    granted = {
        action
        for where, statement in iam_statements(cfn)
        if where.startswith(f"{role}/")
        for action in actions(statement)
    }
    for arn in cfn["Resources"][role]["Properties"].get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:  # the stack's own managed policies
            document = cfn["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"]
            granted |= {a for s in as_list(document["Statement"]) for a in actions(s)}
    return granted


def test_the_section_names_every_function() -> None:
    assert set(_sections()) == {EVERY_FUNCTION, FORWARDING_ROLE, RECHECK_ROLE, *FUNCTIONS}


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_the_table_lists_what_the_function_is_granted(cfn, function_id: str) -> None:
    sections = _sections()
    documented = sections[EVERY_FUNCTION] | sections[function_id]
    granted = _granted(cfn, role_of(cfn, function_id))
    assert granted - documented == set(), "granted but not in SECURITY.md's IAM table"
    assert documented - granted == set(), "in SECURITY.md's IAM table but not granted"


def test_the_table_lists_what_the_forwarding_role_is_granted(cfn) -> None:
    assert _granted(cfn, FORWARDING_ROLE) == _sections()[FORWARDING_ROLE]


def test_the_table_lists_what_the_recheck_role_is_granted(cfn) -> None:
    granted = {
        action
        for resource in cfn["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        and {"Ref": RECHECK_ROLE} in resource["Properties"]["Roles"]
        for statement in as_list(resource["Properties"]["PolicyDocument"]["Statement"])
        for action in actions(statement)
    }
    assert granted == _sections()[RECHECK_ROLE] == {"lambda:InvokeFunction"}
