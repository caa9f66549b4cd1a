"""The alarms onboard_tables creates reach the runbooks meant for them; its own triggers and
permissions fit what the code does.

Each alarm's "CloudWatch Alarm State Change" event is built from the alarm's definition and
routed through every rule of the translated template (tests/template/routing.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from autoresponder.domain.alarm_plan import AlarmPolicy, desired_alarms
from autoresponder.domain.alarm_target import (
    AlarmedTable,
    AlarmTarget,
    resolve_table,
    resolve_target,
)
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.onboarding import (
    AlarmDefinition,
    AlarmKind,
    ScheduledEvent,
    parse_trigger,
)
from tests.builders import on_demand_table, provisioned_table
from tests.onboarding import state_change_event, tag_change_event

from .cfn import actions, iam_statements, resources_of_type, role_of, sam_function_ids
from .cfn import load_template as _load
from .routing import matches, resolve_refs, rules_for

pytestmark = pytest.mark.template

ONBOARD = "OnboardTablesFunction"
SCALE = "ScaleOnThrottleFunction"
HOT_KEYS = "FlagHotKeysFunction"
LATENCY = "ReportLatencyRegressionFunction"
RUNBOOKS = (SCALE, HOT_KEYS, LATENCY)
FUNCTIONS = sam_function_ids(_load())

THROTTLE_KINDS = set(AlarmKind) - {AlarmKind.LATENCY}
KEY_RANGE_KINDS = {AlarmKind.READ_KEY_RANGE, AlarmKind.WRITE_KEY_RANGE}


def intended(alarm: AlarmDefinition) -> set[str]:
    """The runbooks an alarm onboard_tables makes is for."""
    if alarm.kind is AlarmKind.LATENCY:
        return {LATENCY}
    if alarm.kind in KEY_RANGE_KINDS:
        return {SCALE, HOT_KEYS}  # scale_on_throttle hands off; flag_hot_keys names the keys
    return {SCALE}


def _alarms() -> list[AlarmDefinition]:
    policy = AlarmPolicy()
    operations = ("GetItem", "Query", "Scan", "PutItem", "BatchWriteItem", "TransactGetItems")
    provisioned = provisioned_table("orders", indexes={"by-customer": (50, 25)})
    on_demand = on_demand_table("clickstream")
    return [
        *desired_alarms(provisioned, operations, policy),
        *desired_alarms(on_demand, (), policy),
    ]


ALARMS = _alarms()


def routed(cfn: dict[str, Any], defaults: dict[str, Any], event: dict[str, Any]) -> set[str]:
    """Every function a rule of the template would deliver `event` to."""
    return {
        function_id
        for function_id in FUNCTIONS
        for rule in rules_for(cfn, function_id).values()
        if matches(resolve_refs(rule["Properties"]["EventPattern"], defaults), event)
    }


def test_every_kind_of_alarm_is_covered():
    assert {alarm.kind for alarm in ALARMS} == set(AlarmKind)
    assert any(alarm.index_name for alarm in ALARMS)


@pytest.mark.parametrize("alarm", ALARMS, ids=[a.name for a in ALARMS])
def test_created_alarm_routes_to_its_runbooks(cfn, defaults, alarm):
    event = state_change_event(alarm)
    present = intended(alarm) & set(FUNCTIONS)
    got = routed(cfn, defaults, event)
    # every intended runbook that exists receives it; no other runbook does
    assert got & set(RUNBOOKS) == present
    assert ONBOARD not in got


@pytest.mark.parametrize("alarm", ALARMS, ids=[a.name for a in ALARMS])
def test_created_alarm_resolves_to_its_table_in_the_runbooks(alarm):
    event = AlarmStateChangeEvent.model_validate(state_change_event(alarm))
    target = resolve_target(event.detail.configuration.metrics)
    assert isinstance(target, AlarmTarget)
    assert (target.table_name, target.index_name) == (alarm.table_name, alarm.index_name)
    read = [q.metric_name for q in alarm.spec.metrics if q.metric_name] or [alarm.spec.metric_name]
    assert target.metric_name == read[0]  # a metric-math alarm: the first metric it reads
    assert target.operation == alarm.operation
    # scale_on_throttle looks at the whole table: the alarm's metrics all name it
    table = resolve_table(event.detail.configuration.metrics)
    assert isinstance(table, AlarmedTable)
    assert table.table_name == alarm.table_name
    assert {s.metric for s in table.series} == set(read)


@pytest.mark.parametrize("alarm", ALARMS[:3], ids=[a.name for a in ALARMS[:3]])
def test_ok_transitions_of_created_alarms_start_nothing(cfn, defaults, alarm):
    assert routed(cfn, defaults, state_change_event(alarm, state="OK")) & set(RUNBOOKS) == set()


def test_the_runbooks_the_alarms_are_for_are_all_in_the_template():
    # flag_hot_keys and report_latency_regression are built alongside onboard_tables: once
    # their rules are in template.yaml every created alarm has all of its runbooks.
    assert {ONBOARD, *RUNBOOKS} <= set(FUNCTIONS)


# --------------------------------------------------------------------------------------------
# onboard_tables' own triggers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(tag_change_event("orders", {"autoresponder:managed": "true"}), True, id="on"),
        pytest.param(tag_change_event("orders", {}), True, id="tag-removed"),
        pytest.param(
            tag_change_event("orders", {"team": "x"}, changed=["team", "autoresponder:managed"]),
            True,
            id="among-others",
        ),
        pytest.param(
            tag_change_event("orders", {"team": "x"}, changed=["team"]), False, id="other"
        ),
        pytest.param(
            tag_change_event("i-1", {}, service="ec2", resource_type="instance"), False, id="ec2"
        ),
    ],
)
def test_tag_change_rule(cfn, defaults, event, expected):
    assert (ONBOARD in routed(cfn, defaults, event)) is expected
    assert routed(cfn, defaults, event) <= {ONBOARD}


def test_hourly_schedule_sends_an_event_the_handler_parses(cfn):
    (schedule,) = [
        s["Properties"]
        for s in resources_of_type(cfn, "AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [ONBOARD, "Arn"]}
    ]
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    target = schedule["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}}
    text = target["Input"]["Fn::Sub"]
    for placeholder, value in {
        "${AWS::AccountId}": "123456789012",
        "${AWS::Region}": "eu-west-1",
        "<aws.scheduler.execution-id>": "d2a6b5a3-5c1e-4b7e-9d0a-3f1e2a9b8c7d",
        "<aws.scheduler.scheduled-time>": "2026-11-20T15:00:00Z",
        "<aws.scheduler.schedule-arn>": "arn:aws:scheduler:eu-west-1:123456789012:schedule/x",
    }.items():
        text = text.replace(placeholder, value)
    trigger = parse_trigger(json.loads(text))
    assert isinstance(trigger, ScheduledEvent)
    assert trigger.region == "eu-west-1"


# --------------------------------------------------------------------------------------------
# permissions match the names the code uses
# --------------------------------------------------------------------------------------------
def _statements(cfn: dict[str, Any]) -> list[dict[str, Any]]:
    role = role_of(cfn, ONBOARD)
    return [s for where, s in iam_statements(cfn) if where.startswith(f"{role}/")]


def _alarm_arn_with_prefix() -> dict[str, str]:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
        ":alarm:${AlarmNamePrefix}*"
    }


def test_alarm_writes_are_scoped_to_the_prefix_the_code_uses(cfn):
    variables = cfn["Resources"][ONBOARD]["Properties"]["Environment"]["Variables"]
    assert variables["ALARM_NAME_PREFIX"] == {"Ref": "AlarmNamePrefix"}
    writes = {"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:DeleteAlarms"}
    found = [s for s in _statements(cfn) if writes & set(actions(s))]
    assert {a for s in found for a in actions(s)} >= writes
    for statement in found:
        assert statement["Resource"] == _alarm_arn_with_prefix()


def test_only_alarms_the_responder_tagged_can_be_deleted(cfn):
    (statement,) = [s for s in _statements(cfn) if "cloudwatch:DeleteAlarms" in actions(s)]
    assert actions(statement) == ["cloudwatch:DeleteAlarms"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:ResourceTag/autoresponder:created-by": "onboard_tables"}
    }


def test_the_function_never_changes_table_capacity(cfn):
    assert not any(
        {"dynamodb:UpdateTable", "application-autoscaling:RegisterScalableTarget"} & set(actions(s))
        for s in _statements(cfn)
    )
