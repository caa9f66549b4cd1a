"""The translated stack, created in the local AWS (moto in server mode) with the dev settings.

What `sam deploy` with `samconfig.toml`'s default environment would ask CloudFormation for:
template.yaml through the SAM translator, parameters from `[default.deploy.parameters]`
(`Stage=dev ...`) plus an email address, code and layer as small zips in S3 (what
`sam package` uploads). The stack must reach CREATE_COMPLETE, and every resource of a type
moto's CloudFormation creates must exist in the emulated account as the template says.

moto 5 skips some resource types with a warning (they are listed in MOTO_SKIPS, so a new
type in the template fails here until someone looks at it; they are left out of the template
moto gets, since it rejects a Fn::GetAtt naming one), and its CloudFormation drops some
properties of the types it creates: a table's TimeToLiveSpecification,
PointInTimeRecoverySpecification and SSESpecification; a function's Architectures, Layers and
TracingConfig; a role's ManagedPolicyArns; a layer's name and CompatibleArchitectures; a key's
policy (kept unparsed: DescribeKey then fails). Those are covered by the checks on the
translated template (test_template.py, test_self_monitoring.py), not here.
"""

from __future__ import annotations

import io
import json
import shlex
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from local.emulator import LocalAccount, local_aws

from .cfn import ARTIFACT_BUCKET, ROOT, as_list, load_template, resources_of_type, translate
from .routing import resolve_refs

pytestmark = [
    pytest.mark.template,
    pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning"),
]

STACK = "dynamodb-autoresponder-dev"
EMAIL = "oncall@example.com"
MONITORING_ACCOUNT = "222222222222"
CENTRAL_BUS = f"arn:aws:events:us-east-1:{MONITORING_ACCOUNT}:event-bus/autoresponder-decisions"

# Resource types moto 5's CloudFormation does not create (it skips them with a warning).
MOTO_SKIPS = {
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::Scheduler::Schedule",
    "AWS::Scheduler::ScheduleGroup",
}


def dev_parameters() -> dict[str, str]:
    """`[default.deploy.parameters] parameter_overrides` of samconfig.toml, an email and a
    central event bus (so the conditional resources are created too)."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = config["default"]["deploy"]["parameters"]["parameter_overrides"]
    parameters = dict(item.split("=", 1) for item in shlex.split(overrides))
    return {**parameters, "NotificationEmail": EMAIL, "CentralEventBusArn": CENTRAL_BUS}


def _code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _artifact_keys(cfn: dict[str, Any]) -> set[str]:
    keys = set()
    for resource in cfn["Resources"].values():
        properties = resource.get("Properties", {})
        location = properties.get("Code") or properties.get("Content")
        if isinstance(location, dict) and location.get("S3Bucket") == ARTIFACT_BUCKET:
            keys.add(location["S3Key"])
    return keys


def _names_any(node: Any, logical_ids: set[str]) -> bool:
    """Whether a Ref, Fn::GetAtt or Fn::Sub in `node` names one of `logical_ids`."""
    text = json.dumps(node)
    return any(
        f'"Ref": "{i}"' in text or f'["{i}", ' in text or f"${{{i}" in text for i in logical_ids
    )


@dataclass
class Stack:
    aws: LocalAccount
    cfn: dict[str, Any]
    parameters: dict[str, str]
    status: str
    reason: str | None
    physical: dict[str, str]
    """Logical ID → physical ID of every resource moto created."""
    outputs: dict[str, str]

    def client(self, service: str) -> Any:
        return self.aws.client(service)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    parameters = dev_parameters()
    cfn = translate(load_template(), parameters)
    with local_aws() as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        body = _code_zip()
        for key in _artifact_keys(cfn):
            s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=body)
        cloudformation = aws.client("cloudformation")
        # moto rejects a template whose Fn::GetAtt names a resource it skips (the dashboard
        # names the alarms): what it would skip is left out, with the outputs naming it.
        skipped = {i for i, r in cfn["Resources"].items() if r["Type"] in MOTO_SKIPS}
        created = {
            **cfn,
            "Resources": {i: r for i, r in cfn["Resources"].items() if i not in skipped},
            "Outputs": {
                name: output
                for name, output in cfn.get("Outputs", {}).items()
                if not _names_any(output, skipped)
            },
        }
        cloudformation.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(created),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        waiter = cloudformation.get_waiter("stack_create_complete")
        waiter.wait(StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        (described,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
        summaries = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        yield Stack(
            aws=aws,
            cfn=cfn,
            parameters=parameters,
            status=described["StackStatus"],
            reason=described.get("StackStatusReason"),
            physical={
                s["LogicalResourceId"]: s["PhysicalResourceId"]
                for s in summaries
                if s.get("LogicalResourceId")
            },
            outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        )


def test_stack_is_created(stack: Stack) -> None:
    assert stack.status == "CREATE_COMPLETE", stack.reason


def test_every_resource_type_is_created_or_known_to_be_skipped_by_moto(stack: Stack) -> None:
    missing = {
        logical_id: resource["Type"]
        for logical_id, resource in stack.cfn["Resources"].items()
        if logical_id not in stack.physical and resource["Type"] not in MOTO_SKIPS
    }
    assert missing == {}


def test_decision_table(stack: Stack) -> None:
    dynamodb = stack.client("dynamodb")
    name = stack.outputs["DecisionTableName"]
    assert stack.physical["DecisionTable"] == name
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is False  # dev; prod turns it on


def test_notification_topic_is_encrypted_with_the_stacks_key(stack: Stack) -> None:
    topic_arn = stack.outputs["NotificationTopicArn"]
    attributes = stack.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    key_id = stack.physical["NotificationKey"]
    assert attributes["KmsMasterKeyId"] == key_id
    aliases = stack.client("kms").list_aliases(KeyId=key_id)["Aliases"]
    assert [a["AliasName"] for a in aliases] == [f"alias/{STACK}-notifications"]


@pytest.mark.parametrize("queue_id", ["RuleDeadLetterQueue", "FailureQueue"])
def test_queues(stack: Stack, queue_id: str) -> None:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical[queue_id], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert attributes["SqsManagedSseEnabled"] == "true"


def _functions(stack: Stack) -> dict[str, dict[str, Any]]:
    return resources_of_type(stack.cfn, "AWS::Lambda::Function")


def test_functions_are_configured_as_the_template_says(stack: Stack) -> None:
    lambda_ = stack.client("lambda")
    functions = _functions(stack)
    assert "ScaleOnThrottleFunction" in functions
    for logical_id, resource in functions.items():
        properties = resource["Properties"]
        config = lambda_.get_function_configuration(FunctionName=stack.physical[logical_id])
        assert config["Runtime"] == "python3.13", logical_id
        assert config["Handler"] == "app.lambda_handler", logical_id
        assert config["MemorySize"] == properties["MemorySize"], logical_id
        assert config["Timeout"] == properties["Timeout"], logical_id
        role_id = properties["Role"]["Fn::GetAtt"][0]
        assert config["Role"].endswith(f"/{stack.physical[role_id]}"), logical_id
        variables = config["Environment"]["Variables"]
        assert variables["DECISION_TABLE_NAME"] == stack.outputs["DecisionTableName"]
        assert variables["NOTIFICATION_TOPIC_ARN"] == stack.outputs["NotificationTopicArn"]
        assert variables["DRY_RUN"] == stack.parameters["DryRun"]
        assert variables["STAGE"] == "dev"
        assert variables["LOG_LEVEL"] == stack.parameters["LogLevel"]
        assert stack.outputs[f"{logical_id}Arn"] == config["FunctionArn"]


def test_layer_version(stack: Stack) -> None:
    # moto names the layer after the stack and logical ID, and keeps no architectures
    (layer,) = resources_of_type(stack.cfn, "AWS::Lambda::LayerVersion").values()
    (created,) = stack.client("lambda").list_layers()["Layers"]
    version = created["LatestMatchingVersion"]
    assert version["CompatibleRuntimes"] == ["python3.13"]
    assert version["Description"] == layer["Properties"]["Description"]


def test_every_function_has_its_log_group_with_the_dev_retention(stack: Stack) -> None:
    logs = stack.client("logs")
    for logical_id in _functions(stack):
        name = f"/aws/lambda/{stack.physical[logical_id]}"
        (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert group["logGroupName"] == name
        assert group["retentionInDays"] == int(stack.parameters["LogRetentionDays"])


def test_rules_carry_the_templates_patterns_and_target_their_function(stack: Stack) -> None:
    events = stack.client("events")
    lambda_ = stack.client("lambda")
    rules = resources_of_type(stack.cfn, "AWS::Events::Rule")
    assert rules
    pseudo = {
        "AWS::AccountId": stack.aws.account_id,
        "AWS::Region": stack.aws.region,
        "AWS::Partition": "aws",
    }
    parameters = {**_defaults(), **stack.parameters, **pseudo}
    for logical_id, resource in rules.items():
        properties = resource["Properties"]
        name = stack.physical[logical_id]
        rule = events.describe_rule(Name=name)
        assert rule["State"] == "ENABLED"
        if "EventPattern" in properties:
            expected = resolve_refs(properties["EventPattern"], parameters)
            assert json.loads(rule["EventPattern"]) == expected, logical_id
        else:
            expected = resolve_refs(properties["ScheduleExpression"], parameters)
            assert rule["ScheduleExpression"] == expected, logical_id
        (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
        if logical_id == "DecisionForwardingRule":
            continue  # its target is a bus: test_decisions_are_forwarded_to_the_central_bus
        (function_id, _) = properties["Targets"][0]["Arn"]["Fn::GetAtt"]
        function_arn = lambda_.get_function(FunctionName=stack.physical[function_id])[
            "Configuration"
        ]["FunctionArn"]
        assert target["Arn"] == function_arn, logical_id


def test_function_roles_exist(stack: Stack) -> None:
    iam = stack.client("iam")
    for logical_id, resource in _functions(stack).items():
        role_id = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        role = iam.get_role(RoleName=stack.physical[role_id])["Role"]
        principals = [
            service
            for statement in role["AssumeRolePolicyDocument"]["Statement"]
            for service in as_list(statement["Principal"]["Service"])
        ]
        assert principals == ["lambda.amazonaws.com"], logical_id


def _defaults() -> dict[str, Any]:
    return {
        name: spec["Default"]
        for name, spec in load_template()["Parameters"].items()
        if "Default" in spec
    }


def test_kill_switch_parameter_is_created_and_given_to_every_function(stack: Stack) -> None:
    name = f"/{STACK}/autoresponder/dry-run"
    assert stack.outputs["KillSwitchParameterName"] == name
    parameter = stack.client("ssm").get_parameter(Name=name)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("String", "false")
    lambda_ = stack.client("lambda")
    for logical_id in _functions(stack):
        config = lambda_.get_function_configuration(FunctionName=stack.physical[logical_id])
        assert config["Environment"]["Variables"]["DRY_RUN_PARAMETER_NAME"] == name


def test_the_kill_switch_policy_reads_only_the_kill_switch(stack: Stack) -> None:
    iam = stack.client("iam")
    policy_arn = stack.physical["KillSwitchReadPolicy"]
    (version,) = [
        v
        for v in iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]
        if v["IsDefaultVersion"]
    ]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version["VersionId"])
    (statement,) = document["PolicyVersion"]["Document"]["Statement"]
    assert statement["Action"] == "ssm:GetParameter"
    assert statement["Resource"].endswith(f":parameter/{STACK}/autoresponder/dry-run")
    # (moto does not attach a role's ManagedPolicyArns: test_self_monitoring checks them)


def test_every_function_has_its_reserved_concurrency(stack: Stack) -> None:
    """The dev stack reserves nothing (ReservedConcurrency=0: a new account's quota of 10
    cannot reserve any); test_self_monitoring.py checks the condition that reserves a number."""
    reserved = int(stack.parameters["ReservedConcurrency"])
    assert reserved == 0
    lambda_ = stack.client("lambda")
    for logical_id in _functions(stack):
        concurrency = lambda_.get_function_concurrency(FunctionName=stack.physical[logical_id])
        assert concurrency.get("ReservedConcurrentExecutions") is None, logical_id


def test_decisions_are_forwarded_to_the_central_bus(stack: Stack) -> None:
    """A decision put on the default bus reaches a queue behind the monitoring account's bus:
    the template's forwarding rule, its role, and EventBridge's cross-account delivery as
    moto models it (moto checks neither the role nor the central bus's policy)."""
    events = stack.client("events")
    (rule,) = events.list_targets_by_rule(Rule=stack.physical["DecisionForwardingRule"])["Targets"]
    assert rule["Arn"] == CENTRAL_BUS
    assert rule["RoleArn"].endswith(f"/{stack.physical['DecisionForwardingRole']}")
    dead_letter_queue = stack.physical["RuleDeadLetterQueue"].rsplit("/", 1)[-1]  # a queue URL
    assert rule["DeadLetterConfig"]["Arn"].split(":")[-1] == dead_letter_queue

    monitoring = stack.aws.in_account(MONITORING_ACCOUNT)
    central = monitoring.client("events")
    central.create_event_bus(Name="autoresponder-decisions")
    sqs = monitoring.client("sqs")
    queue_url = sqs.create_queue(QueueName="decisions")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    central.put_rule(
        Name="all-decisions",
        EventBusName="autoresponder-decisions",
        EventPattern=json.dumps({"source": ["dynamodb-autoresponder"]}),
    )
    central.put_targets(
        Rule="all-decisions",
        EventBusName="autoresponder-decisions",
        Targets=[{"Id": "queue", "Arn": queue_arn}],
    )
    detail = {"runbook": "scale_on_throttle", "action": "scale_up", "table_name": "orders"}
    answer = events.put_events(
        Entries=[
            {
                "Source": "dynamodb-autoresponder",
                "DetailType": "DynamoDB Auto-Responder Decision",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0
    (message,) = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    forwarded = json.loads(message["Body"])
    assert forwarded["detail-type"] == "DynamoDB Auto-Responder Decision"
    assert forwarded["detail"] == detail
