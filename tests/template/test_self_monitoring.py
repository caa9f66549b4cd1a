"""The responder watches itself: alarms, dashboard, blast radius, kill switch, suppressions.

Per-function checks run for every AWS::Serverless::Function, so a new function is checked
without touching this file.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from autoresponder.observability import NAMESPACE, SERVICE
from autoresponder.services.recording import NOTIFICATION_FAILED_METRIC

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
TOPIC = {"Ref": "NotificationTopic"}
KILL_SWITCH_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
    ":parameter/${AWS::StackName}/autoresponder/dry-run"
}
# each function's folder is its runbook's name (docs/architecture.md contract)
RUNBOOKS = sorted(
    resource["Properties"]["CodeUri"].strip("/").split("/")[-1]
    for resource in load_template()["Resources"].values()
    if resource["Type"] == "AWS::Serverless::Function"
)


def _alarms(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: alarm["Properties"]
        for logical_id, alarm in resources_of_type(cfn, "AWS::CloudWatch::Alarm").items()
    }


# --------------------------------------------------------------------------------------------
# alarms
# --------------------------------------------------------------------------------------------
def test_every_alarm_of_the_stack_notifies_the_topic_with_a_readable_description(
    cfn: dict[str, Any],
) -> None:
    alarms = _alarms(cfn)
    assert alarms
    for logical_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == [TOPIC], logical_id
        description = alarm["AlarmDescription"]
        assert isinstance(description, str | dict), logical_id
        text = description if isinstance(description, str) else json.dumps(description)
        assert len(text) >= 60, f"{logical_id}: say what happened and what to do"
        assert alarm["TreatMissingData"] == "notBreaching", logical_id


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_has_an_errors_and_a_throttles_alarm(
    cfn: dict[str, Any], function_id: str, metric: str
) -> None:
    found = [
        (logical_id, alarm)
        for logical_id, alarm in _alarms(cfn).items()
        if alarm.get("Namespace") == "AWS/Lambda"
        and alarm.get("MetricName") == metric
        and alarm.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    ]
    assert len(found) == 1, f"{function_id} needs one {metric} alarm"
    (_, alarm) = found[0]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1


def test_a_notification_that_cannot_be_sent_trips_an_alarm(
    cfn: dict[str, Any], sam_template: dict[str, Any]
) -> None:
    """The recorder's `NotificationFailed` metric (EMF, its own dimension set: `service` only, so
    one alarm watches every runbook) has an alarm that notifies the topic."""
    environment = sam_template["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["POWERTOOLS_SERVICE_NAME"] == SERVICE
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE
    found = [
        (logical_id, alarm)
        for logical_id, alarm in _alarms(cfn).items()
        if alarm.get("MetricName") == NOTIFICATION_FAILED_METRIC
    ]
    assert [logical_id for logical_id, _ in found] == ["NotificationFailedAlarm"]
    (_, alarm) = found[0]
    assert alarm["Namespace"] == NAMESPACE
    assert alarm["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Sum",
        "GreaterThanThreshold",
        0,
    )
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["AlarmActions"] == [TOPIC]


# --------------------------------------------------------------------------------------------
# dashboard
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dashboard(sam_template: dict[str, Any]) -> str:
    (resource,) = [
        r for r in sam_template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    body = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    return body if isinstance(body, str) else body[0]


def _dashboard_json(body: str) -> dict[str, Any]:
    # ${Logical} and ${AWS::Region} are filled in by CloudFormation: any string will do here
    return json.loads(re.sub(r"\$\{([^}!]+)\}", r"\1", body))


def test_dashboard_is_valid_json_with_widgets(dashboard: str) -> None:
    body = _dashboard_json(dashboard)
    assert len(body["widgets"]) >= 5
    for widget in body["widgets"]:
        assert {"type", "x", "y", "width", "height", "properties"} <= set(widget)


@pytest.mark.parametrize("runbook", RUNBOOKS)
def test_dashboard_shows_decisions_and_time_to_decision_per_runbook(
    dashboard: str, runbook: str
) -> None:
    # the recorder's metrics: namespace DynamoDBAutoResponder, name = the action, dimensions
    # runbook + service (Powertools' EMF), TimeToDecision in seconds
    assert f'runbook=\\"{runbook}\\"' in dashboard or f"runbook={runbook}" in dashboard
    assert "{DynamoDBAutoResponder,runbook,service}" in dashboard
    assert 'MetricName=\\"TimeToDecision\\"' in dashboard
    assert 'MetricName=\\"fail\\"' in dashboard


def test_dashboard_shows_time_to_mitigation_and_keeps_it_out_of_the_decision_counts(
    dashboard: str,
) -> None:
    body = _dashboard_json(dashboard)
    expressions = [
        row[0]["expression"]
        for widget in body["widgets"]
        for row in widget["properties"].get("metrics", [])
        if isinstance(row[0], dict) and "expression" in row[0]
    ]
    shown = [e for e in expressions if 'MetricName="TimeToMitigation"' in e and " NOT " not in e]
    assert shown, "no widget plots TimeToMitigation"
    counts = [e for e in expressions if "runbook=" in e]
    assert counts and all('NOT MetricName="TimeToMitigation"' in e for e in counts)


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_dashboard_shows_each_functions_errors_and_throttles(
    dashboard: str, function_id: str
) -> None:
    body = _dashboard_json(dashboard)
    rows = [
        row
        for widget in body["widgets"]
        for row in _expanded(widget["properties"].get("metrics", []))
        if row[:2] in (["AWS/Lambda", "Errors"], ["AWS/Lambda", "Throttles"])
    ]
    names = {(row[1], row[3]) for row in rows}
    assert ("Errors", function_id) in names
    assert ("Throttles", function_id) in names


def _expanded(rows: list[list[Any]]) -> list[list[Any]]:
    """Metric rows with the dashboard's "." shorthand (same as the row above) filled in."""
    expanded: list[list[Any]] = []
    for row in rows:
        previous = expanded[-1] if expanded else []
        expanded.append([previous[i] if value == "." else value for i, value in enumerate(row)])
    return expanded


def test_dashboard_lists_the_last_decisions_from_every_functions_log_group(
    dashboard: str, sam_template: dict[str, Any]
) -> None:
    """A Logs Insights table of the recorder's `decision taken` lines, newest first."""
    (widget,) = [w for w in _dashboard_json(dashboard)["widgets"] if w["type"] == "log"]
    query = widget["properties"]["query"]
    groups = {
        logical_id: resource["Properties"]["LogGroupName"]
        for logical_id, resource in sam_template["Resources"].items()
        if resource["Type"] == "AWS::Logs::LogGroup"
    }
    for function_id in FUNCTIONS:
        (group,) = [
            g
            for g, name in groups.items()
            if name == {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}
        ]
        assert f"SOURCE '${{{group}}}'" in dashboard, function_id
    assert "filter message = 'decision taken'" in query
    fields = re.search(r"\| fields ([^|]+)", query)
    assert fields is not None
    assert {"@timestamp", "runbook", "action", "table", "reason", "correlation_id"} <= {
        f.strip() for f in fields.group(1).split(",")
    }
    assert "sort @timestamp desc" in query
    assert widget["properties"]["view"] == "table"


def test_dashboard_shows_the_failure_queues(dashboard: str) -> None:
    for queue in ("RuleDeadLetterQueue", "FailureQueue"):
        assert f"${{{queue}.QueueName}}" in dashboard


# --------------------------------------------------------------------------------------------
# blast radius: reserved concurrency, kill switch
# --------------------------------------------------------------------------------------------
def test_reserved_concurrency_is_a_setting(sam_template: dict[str, Any]) -> None:
    parameter = sam_template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] == 0
    assert sam_template["Globals"]["Function"]["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasReservedConcurrency",
            {"Ref": "ReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    # 0 reserves nothing (it would otherwise stop the function altogether)
    assert sam_template["Conditions"]["HasReservedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, 0]}]
    }


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_gets_the_reserved_concurrency(cfn: dict[str, Any], function_id: str):
    properties = cfn["Resources"][function_id]["Properties"]
    assert properties["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasReservedConcurrency",
            {"Ref": "ReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_kill_switch_parameter_and_its_ssm_parameter(cfn: dict[str, Any], sam_template) -> None:
    parameter = sam_template["Parameters"]["KillSwitch"]
    assert parameter["AllowedValues"] == ["true", "false"]
    assert parameter["Default"] == "false"
    ssm = cfn["Resources"]["KillSwitchParameter"]
    assert ssm["Type"] == "AWS::SSM::Parameter"
    properties = ssm["Properties"]
    assert properties["Type"] == "String"
    assert properties["Value"] == {"Ref": "KillSwitch"}
    assert properties["Name"] == {"Fn::Sub": "/${AWS::StackName}/autoresponder/dry-run"}


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_reads_the_kill_switch_and_only_it(cfn: dict[str, Any], function_id):
    variables = cfn["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    assert variables["DRY_RUN_PARAMETER_NAME"] == {"Ref": "KillSwitchParameter"}
    role = role_of(cfn, function_id)
    role_properties = cfn["Resources"][role]["Properties"]
    statements = [s for where, s in iam_statements(cfn) if where.startswith(f"{role}/")]
    for policy_arn in role_properties.get("ManagedPolicyArns", []):
        if isinstance(policy_arn, dict) and "Ref" in policy_arn:
            managed = cfn["Resources"][policy_arn["Ref"]]["Properties"]["PolicyDocument"]
            statements += as_list(managed["Statement"])
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in actions(s))]
    assert ssm, f"{function_id} cannot read the kill switch"
    for statement in ssm:
        assert actions(statement) == ["ssm:GetParameter"]
        assert statement["Resource"] == KILL_SWITCH_ARN


# --------------------------------------------------------------------------------------------
# scanner suppressions: next to the resource, with a reason
# --------------------------------------------------------------------------------------------
def _suppressions(template: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    found = []
    for logical_id, resource in template["Resources"].items():
        metadata = resource.get("Metadata", {})
        lint = metadata.get("cfn-lint", {})
        reasons = lint.get("reasons", {})
        for rule in lint.get("config", {}).get("ignore_checks", []):
            found.append((logical_id, "cfn-lint", rule, reasons.get(rule)))
        for skip in metadata.get("checkov", {}).get("skip", []):
            found.append((logical_id, "checkov", skip.get("id"), skip.get("comment")))
    return found


def test_every_scanner_suppression_has_a_reason(sam_template: dict[str, Any]) -> None:
    suppressions = _suppressions(sam_template)
    assert suppressions
    unexplained = [
        (logical_id, tool, rule)
        for logical_id, tool, rule, reason in suppressions
        if not isinstance(reason, str) or len(reason) < 30
    ]
    assert unexplained == []


def test_no_suppression_is_template_wide(sam_template: dict[str, Any]) -> None:
    assert "cfn-lint" not in sam_template.get("Metadata", {})
    assert "checkov" not in sam_template.get("Metadata", {})


def test_nothing_suppresses_the_checks_the_issue_requires(sam_template: dict[str, Any]) -> None:
    required = {
        "CKV_AWS_115",  # reserved concurrency
        "CKV_AWS_26",  # SNS topic encryption
        "CKV_AWS_28",  # DynamoDB point-in-time recovery
    }
    assert {rule for _, _, rule, _ in _suppressions(sam_template)} & required == set()
