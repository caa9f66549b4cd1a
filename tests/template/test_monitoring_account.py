"""examples/monitoring-account/template.yaml: the organisation's decisions in one place.

Checked as a template (who may put on the bus, archive, log rule, queries, dashboard), then
deployed on the local AWS, where a decision forwarded from a member account's default bus by
the main template's forwarding rule lands in the decisions log group.

moto 5 creates the bus, the log group and its resource policy, the rule and the dead-letter
queue; it skips AWS::Events::EventBusPolicy, AWS::SQS::QueuePolicy and
AWS::Logs::QueryDefinition with a warning (so neither the organisation condition nor the
queries are exercised there: the template checks cover them), and two types are left out of
the stack it gets: AWS::CloudWatch::Dashboard (not supported) and AWS::Events::Archive (its
CloudFormation handler fails on an EventPattern given as an object, as CloudFormation takes it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from autoresponder.adapters.event_bus import DETAIL_TYPE, SOURCE
from local.emulator import LocalAccount, local_aws

from .cfn import ROOT, load_template, translate
from .routing import matches, resolve_refs

pytestmark = [
    pytest.mark.template,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning"),
]

EXAMPLE = ROOT / "examples" / "monitoring-account" / "template.yaml"
ORG = "o-exampleorg1"
MEMBER_ACCOUNT = "111111111111"
LEFT_OUT_ON_MOTO = {"AWS::CloudWatch::Dashboard", "AWS::Events::Archive"}


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return load_template(EXAMPLE)


def _resources(example: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {i: r for i, r in example["Resources"].items() if r["Type"] == kind}


def test_only_the_organisation_may_put_events_on_the_bus(example: dict[str, Any]) -> None:
    ((_, policy),) = _resources(example, "AWS::Events::EventBusPolicy").items()
    statement = policy["Properties"]["Statement"]
    assert policy["Properties"]["EventBusName"] == {"Fn::GetAtt": ["DecisionBus", "Name"]}
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == {"Fn::GetAtt": ["DecisionBus", "Arn"]}
    assert statement["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
    }
    assert re.fullmatch(example["Parameters"]["OrganizationId"]["AllowedPattern"], ORG)


def test_the_archive_keeps_every_decision(example: dict[str, Any]) -> None:
    ((_, archive),) = _resources(example, "AWS::Events::Archive").items()
    properties = archive["Properties"]
    assert properties["SourceArn"] == {"Fn::GetAtt": ["DecisionBus", "Arn"]}
    assert properties["RetentionDays"] == {"Ref": "ArchiveRetentionDays"}
    assert matches(properties["EventPattern"], _decision_event())


def test_a_rule_writes_every_decision_to_the_log_group_with_a_dead_letter_queue(
    example: dict[str, Any],
) -> None:
    ((rule_id, rule),) = _resources(example, "AWS::Events::Rule").items()
    properties = rule["Properties"]
    assert properties["EventBusName"] == {"Fn::GetAtt": ["DecisionBus", "Name"]}
    assert matches(properties["EventPattern"], _decision_event())
    (target,) = properties["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["DecisionLogGroup", "Arn"]}
    assert "RoleArn" not in target  # CloudWatch Logs reads its resource policy, not a role
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["DecisionLogDeadLetterQueue", "Arn"]}
    }
    # the log group's resource policy lets that rule, and nothing else, write
    ((_, policy),) = _resources(example, "AWS::Logs::ResourcePolicy").items()
    document = policy["Properties"]["PolicyDocument"]["Fn::Sub"]
    (statement,) = json.loads(re.sub(r"\$\{[^}]+\}", "x", document))["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert "${DecisionLogGroup.Arn}" in document
    assert properties["Name"] == {"Fn::Sub": "${AWS::StackName}-decisions-to-logs"}
    assert "rule/${BusName}/${AWS::StackName}-decisions-to-logs" in document, rule_id


def test_saved_queries_and_dashboard_read_the_decisions_log_group(example: dict[str, Any]) -> None:
    queries = _resources(example, "AWS::Logs::QueryDefinition")
    assert len(queries) >= 2
    for query in queries.values():
        assert query["Properties"]["LogGroupNames"] == [{"Ref": "DecisionLogGroup"}]
        assert "detail." in query["Properties"]["QueryString"]
    ((_, dashboard),) = _resources(example, "AWS::CloudWatch::Dashboard").items()
    body = json.loads(
        re.sub(r"\$\{[^}]+\}", "x", dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
    )
    log_widgets = [w for w in body["widgets"] if w["type"] == "log"]
    assert log_widgets
    for widget in log_widgets:
        assert widget["properties"]["query"].startswith("SOURCE 'x' |")
    assert "SOURCE '${DecisionLogGroup}'" in dashboard["Properties"]["DashboardBody"]["Fn::Sub"]


def _decision_event(**detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1",
        "source": SOURCE,
        "detail-type": DETAIL_TYPE,
        "account": MEMBER_ACCOUNT,
        "region": "us-east-1",
        "time": "2026-11-20T14:05:13Z",
        "resources": [],
        "detail": detail or {"runbook": "scale_on_throttle", "action": "scale_up"},
    }


# --------------------------------------------------------------------------------------------
# deployed on the local AWS
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def monitoring(example: dict[str, Any]) -> Iterator[tuple[LocalAccount, dict[str, str]]]:
    created = {
        **example,
        "Resources": {
            i: r for i, r in example["Resources"].items() if r["Type"] not in LEFT_OUT_ON_MOTO
        },
        "Outputs": {k: v for k, v in example["Outputs"].items() if k != "DashboardName"},
    }
    with local_aws() as aws:
        cloudformation = aws.client("cloudformation")
        cloudformation.create_stack(
            StackName="autoresponder-monitoring",
            TemplateBody=json.dumps(created),
            Parameters=[{"ParameterKey": "OrganizationId", "ParameterValue": ORG}],
        )
        (stack,) = cloudformation.describe_stacks(StackName="autoresponder-monitoring")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        yield aws, {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_a_forwarded_decision_lands_in_the_log_group(monitoring) -> None:
    aws, outputs = monitoring
    bus_arn = outputs["DecisionBusArn"]
    assert bus_arn.endswith(":event-bus/autoresponder-decisions")
    # a member account's stack: its forwarding rule, as template.yaml defines it
    rule = translate(load_template(), {"CentralEventBusArn": bus_arn})["Resources"][
        "DecisionForwardingRule"
    ]["Properties"]
    member = aws.in_account(MEMBER_ACCOUNT).client("events")
    member.put_rule(
        Name="forward-decisions",
        EventPattern=json.dumps(
            resolve_refs(rule["EventPattern"], {"AWS::AccountId": MEMBER_ACCOUNT})
        ),
    )
    member.put_targets(Rule="forward-decisions", Targets=[{"Id": "central", "Arn": bus_arn}])
    detail = {"runbook": "onboard_tables", "action": "onboard", "table_name": "orders"}
    answer = member.put_events(
        Entries=[{"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail)}]
    )
    assert answer["FailedEntryCount"] == 0

    logs = aws.client("logs")
    found = logs.filter_log_events(logGroupName=outputs["DecisionLogGroupName"])["events"]
    (event,) = [json.loads(e["message"]) for e in found]
    assert event["detail-type"] == DETAIL_TYPE
    assert event["detail"] == detail
