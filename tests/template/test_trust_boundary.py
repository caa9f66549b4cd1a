"""The trust boundary in the translated template (issue 17): each statement, asserted on what
IAM would decide for a request (tests/template/iam.py), not on how the YAML reads.

- the decision table: only the item calls the code makes, on the table only;
- RegisterScalableTarget: opted-in DynamoDB targets only;
- onboarding's alarm writes: the responder's tags, no foreign action, deletes only its own;
- the KMS key and the topic: this account's alarms only, TLS only, nobody outside the account;
- role trusts: the schedules' roles only for this account's schedule group;
- rule patterns: this stack's account only;
- the hard maximum per dimension: parameters wired to the settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from autoresponder.adapters.alarm_registry import put_request
from autoresponder.domain.alarm_plan import AlarmPolicy, desired_alarms
from autoresponder.models.tags import MANAGED_TAG
from autoresponder.settings import Settings
from tests.builders import provisioned_table

from .cfn import as_list, iam_statements, resources_of_type, role_of, sam_function_ids
from .cfn import load_template as _load
from .iam import Request, allowed, resolve, stand_in
from .routing import ACCOUNT, REGION, matches, resolve_refs, rules_for

pytestmark = pytest.mark.template

FUNCTIONS = sam_function_ids(_load())
STACK = "dynamodb-autoresponder-dev"
OTHER_ACCOUNT = "210987654321"
EVENTS = Path(__file__).resolve().parents[2] / "events"

DECISION_TABLE = stand_in("DecisionTable", "Arn")
TOPIC = stand_in("NotificationTopic")
ITEM_CALLS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
DECISION_TABLE_ACTIONS = {
    # every runbook: decision records, Powertools idempotency records, locks
    # Query: a table's capacity records (intents and history), read once per pass
    "ScaleOnThrottleFunction": ITEM_CALLS | {"dynamodb:Query"},
    "FlagHotKeysFunction": ITEM_CALLS,
    "OnboardTablesFunction": ITEM_CALLS,
    # Query: recent capacity changes of a table (a likely cause of latency)
    "ReportLatencyRegressionFunction": ITEM_CALLS | {"dynamodb:Query"},
    # Query: every raise the responder made (the scale history)
    "ScaleBackFunction": ITEM_CALLS | {"dynamodb:Query"},
}


@pytest.fixture(scope="module")
def parameters(defaults: dict[str, Any]) -> dict[str, Any]:
    return {**defaults, "AWS::StackName": STACK}


def role_statements(cfn: dict[str, Any], role_id: str, parameters: Mapping[str, Any]) -> list:
    """The role's inline statements, intrinsics resolved."""
    return [
        resolve(statement, parameters)
        for where, statement in iam_statements(cfn)
        if where.startswith(f"{role_id}/")
    ]


def function_statements(cfn: dict[str, Any], function_id: str, parameters: Mapping[str, Any]):
    return role_statements(cfn, role_of(cfn, function_id), parameters)


def table_arn(name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def alarm_arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


# --------------------------------------------------------------------------------------------
# the decision table
# --------------------------------------------------------------------------------------------
def test_no_function_uses_the_crud_policy_template(sam_template: dict[str, Any]) -> None:
    for function_id in FUNCTIONS:
        policies = sam_template["Resources"][function_id]["Properties"]["Policies"]
        assert not any(isinstance(p, dict) and "DynamoDBCrudPolicy" in p for p in policies)


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_each_role_has_only_the_decision_table_calls_its_code_makes(
    cfn: dict[str, Any], parameters: dict[str, Any], function_id: str
) -> None:
    statements = function_statements(cfn, function_id, parameters)
    on_table = {
        action
        for statement in statements
        if DECISION_TABLE in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    assert on_table == DECISION_TABLE_ACTIONS[function_id]
    for action in sorted(on_table):
        assert allowed(statements, Request(action, DECISION_TABLE)), action
        # the table only: no index of it, no other table
        assert not allowed(statements, Request(action, f"{DECISION_TABLE}/index/any")), action
        assert not allowed(statements, Request(action, table_arn("orders"))), action
    for action in ("Scan", "BatchGetItem", "BatchWriteItem", "PartiQLSelect", "DescribeTable"):
        assert not allowed(statements, Request(f"dynamodb:{action}", DECISION_TABLE)), action
    if "dynamodb:Query" not in on_table:
        assert not allowed(statements, Request("dynamodb:Query", DECISION_TABLE))


# --------------------------------------------------------------------------------------------
# capacity changes: opted-in tables and DynamoDB scalable targets only
# --------------------------------------------------------------------------------------------
TARGET = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/0123456789abcdef"


def _target(tag: str | None, namespace: str | None) -> dict[str, str]:
    context = {} if tag is None else {f"aws:ResourceTag/{MANAGED_TAG}": tag}
    if namespace is not None:
        context["application-autoscaling:service-namespace"] = namespace
    return context


@pytest.mark.parametrize("function_id", ["ScaleOnThrottleFunction", "ScaleBackFunction"])
@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(_target("true", "dynamodb"), True, id="managed-dynamodb-target"),
        pytest.param(_target("true", "ecs"), False, id="another-service"),
        pytest.param(_target("true", None), False, id="no-namespace"),
        pytest.param(_target(None, "dynamodb"), False, id="untagged"),
        pytest.param(_target("TRUE", "dynamodb"), False, id="not-exactly-true"),
        pytest.param(_target(" true", "dynamodb"), False, id="blank-before-true"),
    ],
)
def test_register_scalable_target_only_on_opted_in_dynamodb_targets(
    cfn, parameters, function_id, context, expected
) -> None:
    statements = function_statements(cfn, function_id, parameters)
    request = Request("application-autoscaling:RegisterScalableTarget", TARGET, context)
    assert allowed(statements, request) is expected


@pytest.mark.parametrize("function_id", ["ScaleOnThrottleFunction", "ScaleBackFunction"])
@pytest.mark.parametrize(
    ("tag", "expected"),
    [("true", True), ("TRUE", False), ("true ", False), (None, False)],
)
def test_update_table_only_on_tables_tagged_exactly_true(
    cfn, parameters, function_id, tag, expected
) -> None:
    statements = function_statements(cfn, function_id, parameters)
    context = {} if tag is None else {f"aws:ResourceTag/{MANAGED_TAG}": tag}
    request = Request("dynamodb:UpdateTable", table_arn("orders"), context)
    assert allowed(statements, request) is expected


# --------------------------------------------------------------------------------------------
# onboarding's alarm writes
# --------------------------------------------------------------------------------------------
def _alarm_request(action: str, name: str, tags: Mapping[str, str], **extra: Any) -> Request:
    context: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    context.update(extra)
    return Request(action, alarm_arn(name), context)


def _code_requests() -> list[dict[str, Any]]:
    """The PutMetricAlarm requests the code makes for a table with a GSI (every alarm kind)."""
    table = provisioned_table("orders", indexes={"by-customer": (50, 25)})
    alarms = desired_alarms(table, ("GetItem", "PutItem"), AlarmPolicy())
    return [put_request(alarm) for alarm in alarms]


OURS = {
    "autoresponder:created-by": "onboard_tables",
    "autoresponder:table": "orders",
    "autoresponder:kind": "write-provisioned-throttle",
}


@pytest.fixture(scope="module")
def onboarding(cfn: dict[str, Any], parameters: dict[str, Any]) -> list:
    return function_statements(cfn, "OnboardTablesFunction", parameters)


@pytest.mark.parametrize("request_", _code_requests(), ids=lambda r: r["AlarmName"])
def test_the_alarms_the_code_puts_pass_the_conditions(onboarding, request_) -> None:
    tags = {t["Key"]: t["Value"] for t in request_["Tags"]}
    extra = (
        {"cloudwatch:AlarmActions": request_["AlarmActions"]} if "AlarmActions" in request_ else {}
    )
    for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"):
        assert allowed(onboarding, _alarm_request(action, request_["AlarmName"], tags, **extra))


@pytest.mark.parametrize(
    ("name", "tags", "extra", "why"),
    [
        pytest.param(
            "autoresponder-x",
            {**OURS, "autoresponder:created-by": "someone"},
            {},
            "another creator",
            id="foreign-created-by",
        ),
        pytest.param(
            "autoresponder-x",
            {k: v for k, v in OURS.items() if k != "autoresponder:created-by"},
            {},
            "no created-by",
            id="untagged",
        ),
        pytest.param("autoresponder-x", {}, {}, "no tags at all", id="no-tags"),
        pytest.param(
            "autoresponder-x", {**OURS, "team": "payments"}, {}, "a foreign tag key", id="extra-key"
        ),
        pytest.param("someone-elses-alarm", OURS, {}, "outside the prefix", id="other-prefix"),
        pytest.param(
            "autoresponder-x",
            OURS,
            {"cloudwatch:AlarmActions": [f"arn:aws:automate:{REGION}:ec2:terminate"]},
            "an EC2 terminate action",
            id="ec2-action",
        ),
        pytest.param(
            "autoresponder-x",
            OURS,
            {"cloudwatch:AlarmActions": [TOPIC, f"arn:aws:sns:{REGION}:{OTHER_ACCOUNT}:x"]},
            "another topic",
            id="foreign-topic",
        ),
    ],
)
def test_onboarding_cannot_write_other_alarms(onboarding, name, tags, extra, why) -> None:
    request = _alarm_request("cloudwatch:PutMetricAlarm", name, tags, **extra)
    assert not allowed(onboarding, request), why


def test_onboarding_may_only_notify_the_responders_topic(onboarding) -> None:
    request = _alarm_request(
        "cloudwatch:PutMetricAlarm", "autoresponder-x", OURS, **{"cloudwatch:AlarmActions": [TOPIC]}
    )
    assert allowed(onboarding, request)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param(OURS, True, id="ours"),
        pytest.param({"autoresponder:created-by": "someone"}, False, id="foreign-value"),
        pytest.param({"owner": "payments"}, False, id="foreign-key"),
        pytest.param({**OURS, "owner": "payments"}, False, id="ours-and-a-foreign-key"),
    ],
)
def test_onboarding_tags_alarms_only_with_its_own_tags(onboarding, tags, expected) -> None:
    request = _alarm_request("cloudwatch:TagResource", "autoresponder-x", tags)
    assert allowed(onboarding, request) is expected


@pytest.mark.parametrize(
    ("created_by", "expected"), [("onboard_tables", True), ("someone", False), (None, False)]
)
def test_onboarding_deletes_only_alarms_it_made(onboarding, created_by, expected) -> None:
    context = {} if created_by is None else {"aws:ResourceTag/autoresponder:created-by": created_by}
    request = Request("cloudwatch:DeleteAlarms", alarm_arn("autoresponder-x"), context)
    assert allowed(onboarding, request) is expected


def test_onboarding_untags_scalable_targets_of_the_managed_tag_only(onboarding) -> None:
    ok = Request("application-autoscaling:UntagResource", TARGET, {"aws:TagKeys": [MANAGED_TAG]})
    other = Request("application-autoscaling:UntagResource", TARGET, {"aws:TagKeys": ["team"]})
    assert allowed(onboarding, ok)
    assert not allowed(onboarding, other)


# --------------------------------------------------------------------------------------------
# the key and the topic
# --------------------------------------------------------------------------------------------
THIS_ALARM = alarm_arn("FailureQueueAlarm")


def _service(
    name: str, action: str, resource: str, account: str | None, source: str | None, **extra: Any
) -> Request:
    context: dict[str, Any] = dict(extra)
    if account is not None:
        context["aws:SourceAccount"] = account
    if source is not None:
        context["aws:SourceArn"] = source
    return Request(action, resource, context, principal=("Service", name))


@pytest.fixture(scope="module")
def key_policy(cfn: dict[str, Any], parameters: dict[str, Any]) -> list:
    document = cfn["Resources"]["NotificationKey"]["Properties"]["KeyPolicy"]
    return resolve(as_list(document["Statement"]), parameters)


@pytest.mark.parametrize(
    ("service", "account", "source", "expected"),
    [
        pytest.param("cloudwatch.amazonaws.com", ACCOUNT, THIS_ALARM, True, id="own-alarm"),
        pytest.param(
            "cloudwatch.amazonaws.com",
            OTHER_ACCOUNT,
            f"arn:aws:cloudwatch:{REGION}:{OTHER_ACCOUNT}:alarm:x",
            False,
            id="another-accounts-alarm",
        ),
        pytest.param("cloudwatch.amazonaws.com", None, None, False, id="no-source"),
        pytest.param("events.amazonaws.com", ACCOUNT, None, False, id="eventbridge-unused"),
    ],
)
def test_key_serves_only_this_accounts_alarms(key_policy, service, account, source, expected):
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert allowed(key_policy, _service(service, action, "*", account, source)) is expected


@pytest.fixture(scope="module")
def topic_policy(cfn: dict[str, Any], parameters: dict[str, Any]) -> list:
    (policy,) = resources_of_type(cfn, "AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": "NotificationTopic"}]
    return resolve(as_list(policy["Properties"]["PolicyDocument"]["Statement"]), parameters)


ROLE_HERE = f"arn:aws:sts::{ACCOUNT}:assumed-role/ScaleOnThrottleRole/session"
ROLE_ELSEWHERE = f"arn:aws:iam::{OTHER_ACCOUNT}:user/mallory"


@pytest.mark.parametrize(
    ("principal", "action", "tls", "expected"),
    [
        pytest.param(("AWS", ROLE_HERE), "sns:Publish", "true", True, id="publish-here"),
        pytest.param(("AWS", ROLE_HERE), "sns:Subscribe", "true", True, id="subscribe-here"),
        pytest.param(("AWS", ROLE_HERE), "sns:Publish", "false", False, id="publish-no-tls"),
        pytest.param(("AWS", ROLE_HERE), "sns:Subscribe", "false", False, id="subscribe-no-tls"),
        pytest.param(
            ("AWS", ROLE_ELSEWHERE), "sns:Subscribe", "true", False, id="subscribe-from-outside"
        ),
        pytest.param(
            ("AWS", ROLE_ELSEWHERE), "sns:Publish", "true", False, id="publish-from-outside"
        ),
        pytest.param(
            ("AWS", ROLE_HERE), "sns:SetTopicAttributes", "true", False, id="no-policy-changes"
        ),
        pytest.param(("AWS", ROLE_HERE), "sns:AddPermission", "true", False, id="no-grants"),
    ],
)
def test_topic_policy(topic_policy, principal, action, tls, expected) -> None:
    request = Request(action, TOPIC, {"aws:SecureTransport": tls}, principal=principal)
    assert allowed(topic_policy, request) is expected


@pytest.mark.parametrize(
    ("account", "source", "expected"),
    [
        (ACCOUNT, THIS_ALARM, True),
        (OTHER_ACCOUNT, f"arn:aws:cloudwatch:{REGION}:{OTHER_ACCOUNT}:alarm:x", False),
        (None, None, False),
    ],
)
def test_topic_takes_alarm_notifications_of_this_account_only(
    topic_policy, account, source, expected
) -> None:
    request = _service(
        "cloudwatch.amazonaws.com",
        "sns:Publish",
        TOPIC,
        account,
        source,
        **{"aws:SecureTransport": "true"},
    )
    assert allowed(topic_policy, request) is expected


def test_topic_policy_allows_no_one_at_large(topic_policy) -> None:
    for statement in topic_policy:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] != "*"
            assert "*" not in as_list(statement["Principal"].get("AWS", []))


# --------------------------------------------------------------------------------------------
# role trusts
# --------------------------------------------------------------------------------------------
def _trusts(cfn: dict[str, Any], parameters: Mapping[str, Any]) -> dict[str, list]:
    return {
        role_id: resolve(
            as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"]), parameters
        )
        for role_id, role in resources_of_type(cfn, "AWS::IAM::Role").items()
    }


def test_every_schedule_runs_with_its_own_conditioned_role(cfn, parameters) -> None:
    trusts = _trusts(cfn, parameters)
    schedules = resources_of_type(cfn, "AWS::Scheduler::Schedule")
    assert len(schedules) == 3
    group = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/default"
    for schedule_id, schedule in schedules.items():
        target = schedule["Properties"]["Target"]
        role_id = target["RoleArn"]["Fn::GetAtt"][0]
        assume = "sts:AssumeRole"
        trust = trusts[role_id]
        scheduler = "scheduler.amazonaws.com"
        assert allowed(trust, _service(scheduler, assume, "*", ACCOUNT, group)), schedule_id
        other_group = f"arn:aws:scheduler:{REGION}:{OTHER_ACCOUNT}:schedule-group/default"
        assert not allowed(trust, _service(scheduler, assume, "*", OTHER_ACCOUNT, other_group))
        assert not allowed(trust, _service(scheduler, assume, "*", ACCOUNT, None)), schedule_id
        assert not allowed(trust, _service("lambda.amazonaws.com", assume, "*", ACCOUNT, group))
        # and the role does nothing but invoke its function and dead-letter
        granted = {
            (statement["Action"], statement["Resource"])
            for statement in role_statements(cfn, role_id, parameters)
        }
        assert granted == {
            ("lambda:InvokeFunction", stand_in(target["Arn"]["Fn::GetAtt"][0], "Arn")),
            ("sqs:SendMessage", stand_in("RuleDeadLetterQueue", "Arn")),
        }


def test_only_the_functions_roles_trust_lambda_and_nothing_else_is_unconditioned(
    cfn, parameters
) -> None:
    function_roles = {role_of(cfn, function_id) for function_id in FUNCTIONS}
    for role_id, trust in _trusts(cfn, parameters).items():
        (statement,) = trust
        services = as_list(statement["Principal"]["Service"])
        if role_id in function_roles:
            # Lambda documents no source context for assuming an execution role (SECURITY.md)
            assert services == ["lambda.amazonaws.com"], role_id
        else:
            assert "aws:SourceAccount" in statement["Condition"]["StringEquals"], role_id


def test_eventbridge_invokes_a_function_only_through_its_own_rule(cfn: dict[str, Any]) -> None:
    permissions = resources_of_type(cfn, "AWS::Lambda::Permission")
    assert permissions
    for permission_id, permission in permissions.items():
        properties = permission["Properties"]
        assert properties["Principal"] == "events.amazonaws.com", permission_id
        (rule_id, attribute) = properties["SourceArn"]["Fn::GetAtt"]
        rule = cfn["Resources"][rule_id]
        assert (rule["Type"], attribute) == ("AWS::Events::Rule", "Arn"), permission_id
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [properties["FunctionName"]["Ref"], "Arn"]}


# --------------------------------------------------------------------------------------------
# rule patterns: this stack's account only
# --------------------------------------------------------------------------------------------
def test_every_rule_pattern_names_the_stacks_account(cfn: dict[str, Any]) -> None:
    rules = resources_of_type(cfn, "AWS::Events::Rule")
    assert rules
    for rule_id, rule in rules.items():
        pattern = rule["Properties"]["EventPattern"]
        assert pattern["account"] == [{"Ref": "AWS::AccountId"}], rule_id


def test_a_sample_event_forwarded_from_another_account_reaches_no_function(
    cfn: dict[str, Any], defaults: dict[str, Any]
) -> None:
    def reached(event: dict[str, Any]) -> set[str]:
        return {
            function_id
            for function_id in FUNCTIONS
            for rule in rules_for(cfn, function_id).values()
            if "EventPattern" in rule["Properties"]
            and matches(resolve_refs(rule["Properties"]["EventPattern"], defaults), event)
        }

    routed = 0
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text())
        if not reached(event):
            continue  # scheduled events, and alarms no runbook takes
        routed += 1
        assert event["account"] == ACCOUNT, path.name
        assert reached({**event, "account": OTHER_ACCOUNT}) == set(), path.name
    assert routed >= 10  # the sample alarms and the tag change do reach their runbooks


# --------------------------------------------------------------------------------------------
# the hard maximum per dimension
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parameter", "variable", "setting"),
    [
        ("HardMaxReadUnits", "HARD_MAX_READ_UNITS", "hard_max_read_units"),
        ("HardMaxWriteUnits", "HARD_MAX_WRITE_UNITS", "hard_max_write_units"),
    ],
)
def test_hard_maximum_parameters_reach_every_function(
    sam_template: dict[str, Any], cfn: dict[str, Any], parameter: str, variable: str, setting: str
) -> None:
    spec = sam_template["Parameters"][parameter]
    assert spec["Type"] == "Number"
    assert spec["MinValue"] == 1
    # the documented default is the setting's default
    assert spec["Default"] == Settings.model_fields[setting].default
    for function_id in FUNCTIONS:
        variables = cfn["Resources"][function_id]["Properties"]["Environment"]["Variables"]
        assert variables[variable] == {"Ref": parameter}, function_id
