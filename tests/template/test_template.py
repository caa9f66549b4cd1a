"""template.yaml and its CloudFormation translation: security, failure path, conventions.

Per-function checks run for every AWS::Serverless::Function, so a function added by copying
the scale_on_throttle block is checked without touching this file.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from .cfn import (
    REGION,
    ROOT,
    actions,
    as_list,
    iam_statements,
    load_template,
    resources_of_type,
    role_of,
    sam_function_ids,
)
from .routing import rules_for

pytestmark = pytest.mark.template

FUNCTIONS = sam_function_ids(load_template())
MANAGED_TAG_CONDITION = {"StringEquals": {"aws:ResourceTag/autoresponder:managed": "true"}}
# Actions that change a table's capacity: allowed only on tables/targets that opted in, and
# (RegisterScalableTarget) only on DynamoDB's scalable targets.
TAG_GUARDED_ACTIONS = {
    "dynamodb:UpdateTable": MANAGED_TAG_CONDITION,
    "application-autoscaling:RegisterScalableTarget": {
        "StringEquals": {
            "aws:ResourceTag/autoresponder:managed": "true",
            "application-autoscaling:service-namespace": "dynamodb",
        }
    },
}
# Actions without resource-level permissions (the Service Authorization Reference lists no
# resource type for them), so Resource "*" is the only possible scope.
NO_RESOURCE_LEVEL_ACTIONS = {
    "application-autoscaling:DescribeScalableTargets",
    "cloudwatch:GetMetricData",
    "dynamodb:ListTables",  # report_latency_regression's daily report lists the tables
    "cloudwatch:ListMetrics",  # onboard_tables: the operations a table serves
    "scheduler:ListSchedules",  # whether a look at a table is already scheduled
}
FOURTEEN_DAYS = 14 * 24 * 3600
# What the functions' rules may match: alarm state changes, and (onboard_tables) tag changes.
RULE_EVENT_KINDS = [
    (["aws.cloudwatch"], ["CloudWatch Alarm State Change"]),
    (["aws.tag"], ["Tag Change on Resource"]),
]


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def test_there_is_at_least_one_function() -> None:
    assert "ScaleOnThrottleFunction" in FUNCTIONS


def test_translated_template_passes_cfn_lint(cfn: dict[str, Any]) -> None:
    # `cfn-lint template.yaml` checks the SAM source; this checks what CloudFormation receives,
    # including the resources SAM generates (rule, permission, role, event invoke config).
    matches = lint(json.dumps(cfn), config=ManualArgs(regions=[REGION]))
    assert [str(match) for match in matches] == []


# --------------------------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------------------------
def test_no_iam_action_has_a_wildcard(cfn: dict[str, Any]) -> None:
    wildcards = [
        (where, action)
        for where, statement in iam_statements(cfn)
        for action in actions(statement) + [str(a) for a in as_list(statement.get("NotAction"))]
        if "*" in action
    ]
    assert wildcards == []


def test_no_iam_statement_denies_or_uses_not_resource(cfn: dict[str, Any]) -> None:
    # Least privilege by allow-listing: a NotResource/NotAction allow is broader than it reads.
    odd = [
        where
        for where, statement in iam_statements(cfn)
        if statement.get("Effect") != "Allow"
        or "NotResource" in statement
        or "NotAction" in statement
    ]
    assert odd == []


def test_capacity_changes_require_the_managed_tag(cfn: dict[str, Any]) -> None:
    guarded = [
        (where, statement)
        for where, statement in iam_statements(cfn)
        if TAG_GUARDED_ACTIONS.keys() & set(actions(statement))
    ]
    assert guarded, "no statement allows a capacity change: is the test looking at the right role?"
    for where, statement in guarded:
        # One guarded action per statement, with exactly its condition.
        (action,) = actions(statement)
        assert statement.get("Condition") == TAG_GUARDED_ACTIONS[action], where


def test_resource_star_only_for_actions_without_resource_level_permissions(
    cfn: dict[str, Any],
) -> None:
    too_broad = [
        (where, action)
        for where, statement in iam_statements(cfn)
        if "*" in as_list(statement.get("Resource"))
        for action in actions(statement)
        if action not in NO_RESOURCE_LEVEL_ACTIONS
    ]
    assert too_broad == []


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_can_publish_to_the_encrypted_topic(cfn: dict[str, Any], function_id: str) -> None:
    role = role_of(cfn, function_id)
    statements = [s for where, s in iam_statements(cfn) if where.startswith(f"{role}/")]
    kms = [s for s in statements if any(a.startswith("kms:") for a in actions(s))]
    assert kms, "publishing to a KMS-encrypted topic needs kms:GenerateDataKey and kms:Decrypt"
    for statement in kms:
        assert set(actions(statement)) <= {"kms:GenerateDataKey", "kms:Decrypt"}
        assert statement["Resource"] == get_att("NotificationKey")
    assert any("sns:Publish" in actions(s) for s in statements)


# --------------------------------------------------------------------------------------------
# functions
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_runtime_architecture_tracing_and_layer(
    cfn: dict[str, Any], function_id: str
) -> None:
    properties = cfn["Resources"][function_id]["Properties"]
    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert properties["TracingConfig"] == {"Mode": "Active"}
    (layer,) = properties["Layers"]
    assert cfn["Resources"][layer["Ref"]]["Type"] == "AWS::Lambda::LayerVersion"
    assert properties["Handler"] == "app.lambda_handler"


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_environment(cfn: dict[str, Any], function_id: str) -> None:
    variables = cfn["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    assert variables["DECISION_TABLE_NAME"] == {"Ref": "DecisionTable"}
    assert variables["NOTIFICATION_TOPIC_ARN"] == {"Ref": "NotificationTopic"}
    assert variables["DRY_RUN"] == {"Ref": "DryRun"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "dynamodb-autoresponder"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "DynamoDBAutoResponder"
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_failures_go_to_the_failure_queue(cfn: dict[str, Any], function_id: str) -> None:
    configs = [
        config["Properties"]
        for config in resources_of_type(cfn, "AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert len(configs) == 1
    (config,) = configs
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == get_att("FailureQueue")
    retries = config["MaximumRetryAttempts"]
    assert retries == 2
    variables = cfn["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    # The handler notifies on its last attempt: it has to know how many there are.
    assert variables["MAX_DELIVERY_ATTEMPTS"] == str(1 + retries)


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_has_an_explicit_log_group_with_retention(
    cfn: dict[str, Any], function_id: str
) -> None:
    groups = [
        group["Properties"]
        for group in resources_of_type(cfn, "AWS::Logs::LogGroup").values()
        if group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"}
    ]
    assert len(groups) == 1
    assert groups[0]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_function_rule_retries_then_dead_letters(cfn: dict[str, Any], function_id: str) -> None:
    rules = rules_for(cfn, function_id)
    if not rules:  # only scheduled (scale_back): its EventBridge Scheduler schedule instead
        schedules = [
            schedule["Properties"]["Target"]
            for schedule in resources_of_type(cfn, "AWS::Scheduler::Schedule").values()
            if schedule["Properties"]["Target"]["Arn"] == get_att(function_id)
        ]
        assert schedules, f"{function_id} has no EventBridge rule nor schedule"
        for target in schedules:
            assert target["RetryPolicy"] == {
                "MaximumRetryAttempts": 4,
                "MaximumEventAgeInSeconds": 3600,
            }
            assert target["DeadLetterConfig"] == {"Arn": get_att("RuleDeadLetterQueue")}
        return
    dlq_policy = cfn["Resources"]["RuleDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]
    (statement,) = dlq_policy["Statement"]
    allowed_rules = as_list(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
    for rule_id, rule in rules.items():
        properties = rule["Properties"]
        pattern = properties["EventPattern"]
        assert (pattern["source"], pattern["detail-type"]) in RULE_EVENT_KINDS, rule_id
        assert properties.get("State", "ENABLED") == "ENABLED"
        (target,) = properties["Targets"]
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 4,
            "MaximumEventAgeInSeconds": 3600,
        }
        assert target["DeadLetterConfig"] == {"Arn": get_att("RuleDeadLetterQueue")}
        assert get_att(rule_id) in allowed_rules, f"{rule_id} may not send to the DLQ"


def test_dead_letter_queue_accepts_only_the_rules(cfn: dict[str, Any]) -> None:
    policy = cfn["Resources"]["RuleDeadLetterQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "RuleDeadLetterQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == get_att("RuleDeadLetterQueue")
    rule_arns = as_list(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
    every_rule = {rule_id for function_id in FUNCTIONS for rule_id in rules_for(cfn, function_id)}
    # and the rule forwarding decisions to a central bus, when the stack has one
    forwarding = {
        "Fn::If": ["HasCentralEventBus", get_att("DecisionForwardingRule"), {"Ref": "AWS::NoValue"}]
    }
    assert forwarding in rule_arns
    assert {arn["Fn::GetAtt"][0] for arn in rule_arns if arn != forwarding} == every_rule


# --------------------------------------------------------------------------------------------
# queues, topic, key, table
# --------------------------------------------------------------------------------------------
def test_queues_are_encrypted_and_keep_messages_14_days(cfn: dict[str, Any]) -> None:
    queues = resources_of_type(cfn, "AWS::SQS::Queue")
    assert set(queues) == {"RuleDeadLetterQueue", "FailureQueue"}
    for logical_id, queue in queues.items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, (
            logical_id
        )
        assert properties["MessageRetentionPeriod"] == FOURTEEN_DAYS, logical_id


def test_every_queue_has_an_alarm_that_notifies_the_topic(cfn: dict[str, Any]) -> None:
    watched = {}
    for alarm in resources_of_type(cfn, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        if properties["Namespace"] != "AWS/SQS":
            continue  # the functions' own alarms: tests/template/test_self_monitoring.py
        (dimension,) = properties["Dimensions"]
        watched[dimension["Value"]["Fn::GetAtt"][0]] = properties
    for queue_id in resources_of_type(cfn, "AWS::SQS::Queue"):
        alarm = watched[queue_id]
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]


def test_topic_is_encrypted_with_a_rotating_key_alarms_can_use(cfn: dict[str, Any]) -> None:
    topic = cfn["Resources"]["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    key = cfn["Resources"]["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    services = {
        service
        for statement in key["KeyPolicy"]["Statement"]
        if {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(as_list(statement["Action"]))
        for service in as_list(statement["Principal"].get("Service", []))
    }
    # CloudWatch only (alarm actions); nothing in the stack has EventBridge publish to the topic
    # (tests/template/test_trust_boundary.py checks the grant's confused-deputy conditions)
    assert services == {"cloudwatch.amazonaws.com"}


def test_email_subscription_only_when_an_address_is_given(
    cfn: dict[str, Any], sam_template: dict[str, Any]
) -> None:
    subscription = cfn["Resources"]["NotificationEmailSubscription"]
    assert subscription["Condition"] == "HasNotificationEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "NotificationEmail"}
    assert sam_template["Conditions"]["HasNotificationEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]
    }
    assert sam_template["Parameters"]["NotificationEmail"]["Default"] == ""


def test_decision_table_matches_the_contract(cfn: dict[str, Any]) -> None:
    table = cfn["Resources"]["DecisionTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {"AttributeName": "pk", "AttributeType": "S"} in properties["AttributeDefinitions"]
    assert {"AttributeName": "sk", "AttributeType": "S"} in properties["AttributeDefinitions"]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    # The responder never opts its own table in.
    assert "autoresponder:managed" not in json.dumps(properties.get("Tags", []))


# --------------------------------------------------------------------------------------------
# the source template: globals, layer, parameters, outputs
# --------------------------------------------------------------------------------------------
def test_globals(sam_template: dict[str, Any]) -> None:
    function = sam_template["Globals"]["Function"]
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Tracing"] == "Active"
    assert function["Layers"] == [{"Ref": "AutoresponderLayer"}]


def test_layer_is_built_by_its_makefile_for_arm64(sam_template: dict[str, Any]) -> None:
    layer = sam_template["Resources"]["AutoresponderLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    properties = layer["Properties"]
    assert properties["CompatibleRuntimes"] == ["python3.13"]
    assert properties["CompatibleArchitectures"] == ["arm64"]
    makefile = (ROOT / properties["ContentUri"] / "Makefile").read_text()
    assert re.search(r"^build-AutoresponderLayer:", makefile, re.MULTILINE)


def test_parameters(sam_template: dict[str, Any]) -> None:
    parameters = sam_template["Parameters"]
    assert parameters["Stage"]["AllowedValues"] == ["dev", "staging", "prod"]
    assert parameters["DryRun"]["AllowedValues"] == ["true", "false"]
    assert parameters["DryRun"]["Default"] == "true"  # a first deploy changes nothing
    assert parameters["AlarmNamePrefix"]["Default"] == "autoresponder-"
    pattern = re.compile(parameters["AlarmNamePrefix"]["AllowedPattern"])
    assert pattern.match("autoresponder-")
    assert not pattern.match("TargetTracking-")
    assert not pattern.match("")


def test_outputs(sam_template: dict[str, Any]) -> None:
    outputs = sam_template["Outputs"]
    assert outputs["NotificationTopicArn"]["Value"] == {"Ref": "NotificationTopic"}
    assert outputs["DecisionTableName"]["Value"] == {"Ref": "DecisionTable"}
    assert outputs["RuleDeadLetterQueueUrl"]["Value"] == {"Ref": "RuleDeadLetterQueue"}
    assert outputs["FailureQueueUrl"]["Value"] == {"Ref": "FailureQueue"}
    for function_id in FUNCTIONS:
        assert outputs[f"{function_id}Arn"]["Value"] == get_att(function_id)


def test_samconfig_environments() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["version"] == 0.1
    for env, stage in (("default", "dev"), ("prod", "prod")):
        assert config[env]["global"]["parameters"]["stack_name"] == (
            f"dynamodb-autoresponder-{stage}"
        )
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["confirm_changeset"] is True
        assert deploy["resolve_s3"] is True
        assert f"Stage={stage}" in deploy["parameter_overrides"].split()
