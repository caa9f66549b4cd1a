"""report_latency_regression's triggers in template.yaml: the alarm rule and the daily schedule."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from autoresponder.models.latency import TRIGGER, ScheduledEvent

from .cfn import ROOT, actions, iam_statements, resources_of_type
from .routing import alarm_state_change, expression, matches, metric_stat, resolve_refs, rules_for

pytestmark = pytest.mark.template

FUNCTION = "ReportLatencyRegressionFunction"
EVENTS = ROOT / "events"


@pytest.fixture(scope="module")
def pattern(cfn: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    (rule,) = rules_for(cfn, FUNCTION).values()
    return resolve_refs(rule["Properties"]["EventPattern"], defaults)


def latency(statistic: str = "Average", **dimensions: str) -> dict[str, Any]:
    entry = metric_stat(
        "SuccessfulRequestLatency", dimensions={"TableName": "orders", **dimensions}
    )
    entry["metricStat"]["stat"] = statistic
    return entry


CASES = [
    pytest.param([latency(Operation="GetItem")], "ALARM", True, id="getitem-average"),
    pytest.param([latency("Maximum", Operation="Query")], "ALARM", True, id="query-maximum"),
    pytest.param([latency("p99", Operation="BatchWriteItem")], "ALARM", True, id="any-statistic"),
    pytest.param(
        [
            expression("(m1 + m2) / 2"),
            {**latency(Operation="GetItem"), "id": "m1", "returnData": False},
            {**latency(Operation="Query"), "id": "m2", "returnData": False},
        ],
        "ALARM",
        True,
        id="metric-math",
    ),
    pytest.param([latency(Operation="GetItem")], "OK", False, id="back-to-ok"),
    pytest.param(
        [latency(Operation="GetItem")], "INSUFFICIENT_DATA", False, id="insufficient-data"
    ),
    pytest.param(
        [metric_stat("SuccessfulRequestLatency", namespace="MyApp")],
        "ALARM",
        False,
        id="other-namespace",
    ),
    pytest.param(
        [metric_stat("WriteProvisionedThroughputThrottleEvents")], "ALARM", False, id="throttle"
    ),
]


@pytest.mark.parametrize(("metrics", "state", "routed"), CASES)
def test_latency_alarms_reach_the_function(pattern, metrics, state, routed):
    event = alarm_state_change("autoresponder-orders-latency", metrics=metrics, state=state)
    assert matches(pattern, event) is routed


def test_the_sample_alarm_reaches_only_this_function(cfn, defaults):
    event = json.loads((EVENTS / "latency_alarm_getitem.json").read_text())
    reached = {
        function_id
        for function_id in resources_of_type(cfn, "AWS::Lambda::Function")
        for rule in rules_for(cfn, function_id).values()
        if matches(resolve_refs(rule["Properties"]["EventPattern"], defaults), event)
    }
    assert reached == {FUNCTION}


@pytest.fixture(scope="module")
def schedule(cfn: dict[str, Any]) -> dict[str, Any]:
    schedules = {
        logical_id: resource["Properties"]
        for logical_id, resource in resources_of_type(cfn, "AWS::Scheduler::Schedule").items()
        if resource["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    }
    (properties,) = schedules.values()
    return properties


def test_the_daily_schedule_sends_a_scheduled_event_the_handler_parses(schedule, defaults):
    assert re.fullmatch(r"cron\(.+\)", defaults["LatencyReportSchedule"])
    assert schedule["ScheduleExpression"] == {"Ref": "LatencyReportSchedule"}
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    template = schedule["Target"]["Input"]["Fn::Sub"]
    # what CloudFormation and then EventBridge Scheduler make of it at run time
    filled = (
        template.replace("${AWS::AccountId}", "123456789012")
        .replace("${AWS::Region}", "eu-west-1")
        .replace("<aws.scheduler.execution-id>", "d32c5kddcf5bb8c3")
        .replace("<aws.scheduler.scheduled-time>", "2026-11-21T07:00:00Z")
        .replace(
            "<aws.scheduler.schedule-arn>",
            "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/latency",
        )
    )
    assert "${" not in filled
    assert "<aws." not in filled
    event = TRIGGER.validate_python(json.loads(filled))
    assert isinstance(event, ScheduledEvent)
    assert event.region == "eu-west-1"
    assert event.idempotency_key.endswith("schedule/default/latency@2026-11-21T07:00:00+00:00")


def test_the_schedule_retries_then_dead_letters(schedule):
    target = schedule["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}}
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}


def test_the_schedule_role_may_only_invoke_the_function_and_dead_letter(cfn, schedule):
    role = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [s for where, s in iam_statements(cfn) if where.startswith(f"{role}/")]
    granted = {(s["Action"], json.dumps(s["Resource"])) for s in statements}
    assert granted == {
        ("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": [FUNCTION, "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]})),
    }


def test_the_function_reads_without_changing_anything(cfn):
    role = cfn["Resources"][FUNCTION]["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {
        action
        for where, statement in iam_statements(cfn)
        if where.startswith(f"{role}/")
        for action in actions(statement)
    }
    assert {
        "cloudwatch:GetMetricData",
        "dynamodb:ListTables",
        "dynamodb:DescribeTable",
        "dynamodb:ListTagsOfResource",
        "dynamodb:Query",
    } <= granted
    assert not {"dynamodb:UpdateTable", "application-autoscaling:RegisterScalableTarget"} & granted
