"""scale_back in template.yaml: its schedule, the event it sends, and what its role may do."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from autoresponder.models.scale_back import ScheduledEvent
from autoresponder.settings import Settings

from .cfn import actions, iam_statements, resources_of_type, role_of

pytestmark = pytest.mark.template

FUNCTION = "ScaleBackFunction"


@pytest.fixture(scope="module")
def schedule(cfn: dict[str, Any]) -> dict[str, Any]:
    (properties,) = [
        resource["Properties"]
        for resource in resources_of_type(cfn, "AWS::Scheduler::Schedule").values()
        if resource["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    ]
    return properties


def test_runs_every_15_minutes_by_default(schedule, defaults):
    assert schedule["ScheduleExpression"] == {"Ref": "ScaleBackSchedule"}
    assert defaults["ScaleBackSchedule"] == "rate(15 minutes)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule.get("State", "ENABLED") == "ENABLED"


def test_the_schedule_sends_a_scheduled_event_the_handler_parses(schedule):
    template = schedule["Target"]["Input"]["Fn::Sub"]
    filled = (
        template.replace("${AWS::AccountId}", "123456789012")
        .replace("${AWS::Region}", "eu-west-1")
        .replace("<aws.scheduler.execution-id>", "6b1e3a4c-0d2f-4a5b-8c9d-1e2f3a4b5c6d")
        .replace("<aws.scheduler.scheduled-time>", "2026-11-20T14:15:00Z")
        .replace("<aws.scheduler.schedule-arn>", "arn:aws:scheduler:eu-west-1:1:schedule/x")
    )
    assert "${" not in filled
    assert "<aws." not in filled
    event = ScheduledEvent.model_validate(json.loads(filled))
    assert event.run_key == "scale_back@2026-11-20T14:15:00+00:00"


def test_the_schedule_retries_then_dead_letters(schedule):
    target = schedule["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}}


def test_stabilization_window_is_a_parameter(cfn, defaults):
    variables = cfn["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["SCALE_BACK_STABILIZATION_MINUTES"] == {"Ref": "ScaleBackStabilizationMinutes"}
    # the stack's default is the setting's (issue 13: well under the old 60 minutes)
    assert int(defaults["ScaleBackStabilizationMinutes"]) == (
        Settings.model_fields["scale_back_stabilization_minutes"].default
    )


def test_the_role_may_do_what_the_runbook_needs_and_no_more(cfn):
    role = role_of(cfn, FUNCTION)
    granted = {
        action
        for where, statement in iam_statements(cfn)
        if where.startswith(f"{role}/")
        for action in actions(statement)
    }
    needed = {
        "dynamodb:DescribeTable",
        "dynamodb:ListTagsOfResource",
        "dynamodb:UpdateTable",
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:RegisterScalableTarget",
        "cloudwatch:GetMetricData",
        "cloudwatch:DescribeAlarms",
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }
    assert needed <= granted
    # nothing that deletes tables, scalable targets or alarms, nor writes alarms
    forbidden = [a for a in granted if re.search(r"Delete(Table|Alarms)|Deregister|PutMetric", a)]
    assert forbidden == []


def test_describe_alarms_is_scoped_to_alarms(cfn):
    role = role_of(cfn, FUNCTION)
    (statement,) = [
        s
        for where, s in iam_statements(cfn)
        if where.startswith(f"{role}/") and "cloudwatch:DescribeAlarms" in actions(s)
    ]
    assert statement["Resource"]["Fn::Sub"].endswith(":alarm:*")
