"""Least privilege that matches the code, both ways, on effects: every AWS call a function's
code makes is granted to its role in the translated template, and every action a role is
granted is either made or explained below.

The calls are the ones the functions make while the demo's deliveries run through them, in
the order of real use (onboarding first), on one seeded local account (moto in server mode),
with the kill switch configured as the stack configures it. They are seen through botocore's
`before-parameter-build` hook, for the project's own clients only (user agent
`dynamodb-autoresponder`, adapters/clients.py), and attributed to the function being invoked.

EXPLAINED is the other half of the closing note of issue 17: the actions the roles hold that
the demo's story does not exercise, with the call (or the AWS behaviour) that needs each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore import handlers

from local import EVENTS, demo
from local.emulator import local_aws
from local.rechecks import deliver_due
from local.runtime import LocalLambdaContext, function_environment, invoke
from local.scale_back_demo import fast_forward
from local.seed import seed_demo_account
from tests.template.cfn import iam_statements, load_template, translate
from tests.template.iam import resolve, stand_in

PROJECT_AGENT = "dynamodb-autoresponder"
STACK = "dynamodb-autoresponder-dev"
KILL_SWITCH = f"/{STACK}/autoresponder/dry-run"
FUNCTIONS = {
    "scale_on_throttle": "ScaleOnThrottleFunction",
    "flag_hot_keys": "FlagHotKeysFunction",
    "report_latency_regression": "ReportLatencyRegressionFunction",
    "onboard_tables": "OnboardTablesFunction",
    "scale_back": "ScaleBackFunction",
}
ITEM_CALLS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"}

_KMS = "SNS uses the topic's KMS key on the publisher's behalf (sns:Publish)"
_IDEMPOTENCY_DELETE = (
    "Powertools Idempotency deletes its record when the handler raises (DynamoDB persistence)"
)
_INSIGHTS_ON = "ENABLE_CONTRIBUTOR_INSIGHTS=true only, on a managed table"
_PASS_ROLE = (
    "not an API call: CreateSchedule/UpdateSchedule name RecheckSchedulerRole, and Scheduler"
    " checks that the caller may pass it"
)
EXPLAINED: dict[str, dict[str, str]] = {
    "*": {"kms:GenerateDataKey": _KMS, "kms:Decrypt": _KMS},
    "flag_hot_keys": {
        "dynamodb:DeleteItem": _IDEMPOTENCY_DELETE,
        "dynamodb:ListTagsOfResource": _INSIGHTS_ON + " (reads the managed tag first)",
        "dynamodb:UpdateContributorInsights": _INSIGHTS_ON,
    },
    "report_latency_regression": {"dynamodb:DeleteItem": _IDEMPOTENCY_DELETE},
    "onboard_tables": {
        "dynamodb:DescribeContributorInsights": _INSIGHTS_ON + " (status of each table)",
        "dynamodb:UpdateContributorInsights": _INSIGHTS_ON,
        "cloudwatch:TagResource": "PutMetricAlarm with Tags, when it creates an alarm",
        "cloudwatch:DeleteAlarms": "a table loses the managed tag or is deleted (offboarding)",
        "application-autoscaling:UntagResource": "offboarding: the targets lose the managed tag",
    },
    "scale_on_throttle": {"iam:PassRole": _PASS_ROLE},
    "scale_back": {"iam:PassRole": _PASS_ROLE},
}


@contextmanager
def calls_by_function() -> Iterator[tuple[list[tuple[str, str, dict[str, Any]]], dict[str, str]]]:
    """(function, action, params) of every call of the project's clients."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    current = {"function": "-"}

    def hook(model: Any, params: Any, context: Any = None, **kwargs: Any) -> None:
        del kwargs
        config = (context or {}).get("client_config")
        if PROJECT_AGENT not in (getattr(config, "user_agent_extra", "") or ""):
            return
        action = f"{model.service_model.service_name}:{model.name}"
        seen.append((current["function"], action, dict(params or {})))

    spec = ("before-parameter-build", hook)
    handlers.BUILTIN_HANDLERS.append(spec)
    try:
        yield seen, current
    finally:
        handlers.BUILTIN_HANDLERS.remove(spec)


@pytest.fixture(scope="module")
def made() -> dict[str, Any]:
    """The calls per function, and the decision table's name, from one run of the story."""
    steps = [*demo.ONBOARDING, *demo.STORY, *demo.RECHECK_ROUNDS, *demo.EPILOGUE]
    delivered: list[Any] = []
    with calls_by_function() as (seen, current), local_aws() as aws:
        account = seed_demo_account(aws.session())
        # the story runs at the real time, as `make demo` does: the demo's own observer
        # publishes each event's metrics at the time its functions read
        publish = demo.local_observer(aws, account).publish
        assert publish is not None
        aws.client("ssm").put_parameter(Name=KILL_SWITCH, Value="false", Type="String")
        environment = {
            **account.function_environment(),
            "DRY_RUN_PARAMETER_NAME": KILL_SWITCH,
            # read at every decision: one process plays every function's environment here
            "DRY_RUN_PARAMETER_MAX_AGE_SECONDS": "0",
        }
        with function_environment(environment, isolated=True):
            for step in steps:
                if isinstance(step, tuple):  # a round of re-checks: Scheduler → scale_back
                    name, ahead = step
                    current["function"] = "scale_back"
                    context = LocalLambdaContext("scale_back", account.region, account.account_id)
                    publish(name, ahead)

                    def deliver(schedule, ahead=ahead, context=context):
                        with fast_forward(ahead):
                            invoke("scale_back", schedule.event, context)

                    scheduler = aws.client("scheduler")
                    due = datetime.now(UTC) + ahead
                    delivered.extend(deliver_due(scheduler, account.recheck_group, due, deliver))
                    continue
                event = json.loads((EVENTS / step.event).read_text())
                ahead = step.clock_ahead
                current["function"] = step.function
                context = LocalLambdaContext(
                    function_name=step.function,
                    region=account.region,
                    account_id=account.account_id,
                )
                publish(step.event, ahead or timedelta(0))
                with fast_forward(ahead) if ahead else nullcontext():
                    invoke(step.function, event, context)
        current["function"] = "-"
    return {
        "calls": seen,
        "decision_table": account.decision_table_name,
        "rechecks": delivered,
    }


@pytest.fixture(scope="module")
def granted() -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per function: action → the statements (intrinsics resolved) that grant it, from the
    role's inline policies and the template's managed policies attached to it."""
    cfn = translate(load_template())
    parameters = {"AWS::StackName": STACK, "AWS::Region": "us-east-1", "AWS::Partition": "aws"}
    statements = {where: [] for where, _ in iam_statements(cfn)}
    for where, statement in iam_statements(cfn):
        statements[where].append(resolve(statement, parameters))
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for function, logical_id in FUNCTIONS.items():
        role_id = cfn["Resources"][logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        role = cfn["Resources"][role_id]["Properties"]
        managed = [arn["Ref"] for arn in role.get("ManagedPolicyArns", []) if isinstance(arn, dict)]
        by_action: dict[str, list[dict[str, Any]]] = {}
        for where, listed in statements.items():
            mine = where.startswith(f"{role_id}/") or where in managed
            # Lambda itself sends to the OnFailure destination with the role: not the code's
            if not mine or where.endswith("EventInvokeConfigOnFailureSQSPolicy"):
                continue
            for statement in listed:
                for action in (
                    statement["Action"]
                    if isinstance(statement["Action"], list)
                    else [statement["Action"]]
                ):
                    by_action.setdefault(action, []).append(statement)
        found[function] = by_action
    return found


def _used(made: dict[str, Any]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for function, action, _ in made["calls"]:
        used.setdefault(function, set()).add(action)
    return used


def test_the_story_exercises_every_function(made):
    assert set(_used(made)) == set(FUNCTIONS)
    assert made["rechecks"], "no re-check was due in the story's rounds"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_call_the_code_makes_is_granted(made, granted, function):
    missing = sorted(
        {action for f, action, _ in made["calls"] if f == function} - set(granted[function])
    )
    assert missing == [], f"{function} calls {missing} but its role does not grant them"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_item_calls_go_to_the_decision_table_its_role_names(made, granted, function):
    for f, action, params in made["calls"]:
        service, operation = action.split(":")
        if f != function or service != "dynamodb" or operation not in ITEM_CALLS:
            continue
        assert params["TableName"] == made["decision_table"], action
        resources = {str(s["Resource"]) for s in granted[function][action]}
        assert resources == {stand_in("DecisionTable", "Arn")}, action


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_granted_action_is_made_or_explained(made, granted, function):
    used = _used(made).get(function, set())
    explained = {**EXPLAINED["*"], **EXPLAINED[function]}
    unused = sorted(set(granted[function]) - used - set(explained))
    assert unused == [], f"{function}'s role grants {unused}: no call needs them"
    # and nothing is explained away that the story does exercise (the list stays honest)
    assert not (set(EXPLAINED[function]) & used), sorted(set(EXPLAINED[function]) & used)
