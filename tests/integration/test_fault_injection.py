"""Never lost, never twice: a fault at every AWS call of a clean scale-up and of a scale-back.

For each call the clean run makes (enumerated by a first, fault-free run with botocore's
`before-call` hook on the responder's own clients), and for each of three faults:

- `never_reaches`: the call does not reach AWS (the connection is refused);
- `answer_lost`: AWS makes the call, its answer is lost (read timeout);
- `dies_after`: AWS makes the call, then the process dies (Lambda's sandbox is gone);

the delivery is replayed as Lambda would (the same event, up to 3 attempts, the clock moved
past the in-progress expiry of Powertools Idempotency and a fresh import after a death), then
the effects are asserted on the emulated account:

- the capacity changed exactly once (UpdateTable calls that reached the table), to the value
  the plan asks for (the minimum step when the fault made CloudWatch unreadable);
- the value the table started from is the one the record keeps;
- one notification per action — two only in the window between Publish and its mark, the
  second saying it is a repeat;
- the decision record says what the table shows.

moto never reports UPDATING: after UpdateTable the next DescribeTable is rewritten to UPDATING
by a hook, as DynamoDB would answer while the change is in flight.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from autoresponder.adapters.clients import client
from autoresponder.adapters.decision_table.scale_history import DynamoDBScaleHistory, scale_sort_key
from autoresponder.models.decision import Action
from autoresponder.models.table import Capacity, Dimension
from functions.scale_back.app import lambda_handler as scale_back
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import NOW, alarm_event, published
from tests.conftest import DECISION_TABLE, FakeLambdaContext, emulated_account, reset_caches
from tests.scale_back_fakes import raised, scheduled_event

REGION = "us-east-1"
SERVICES = ("dynamodb", "cloudwatch", "sns", "application-autoscaling", "events", "scheduler")
RECHECKS = "autoresponder-rechecks"
MANAGED = {"autoresponder:managed": "true"}
FAULTS = ("never_reaches", "answer_lost", "dies_after")
REPEAT = "Repeat: an earlier attempt may already have sent this message."


class ProcessDied(BaseException):
    """The Lambda sandbox is gone: nothing of the responder's code catches this."""


@dataclass
class Calls:
    """Every AWS call of the responder's clients, in order, and the fault to inject."""

    seen: list[str] = field(default_factory=list)
    fault: tuple[int, str] | None = None
    updates_made: int = 0
    updating_next_describe: bool = False

    def install(self) -> None:
        for service in SERVICES:
            events = client(service, REGION).meta.events
            events.register(f"before-call.{service}", self._before)
            events.register(f"after-call.{service}", self._after)

    def _is_faulted(self, kinds: tuple[str, ...]) -> bool:
        return (
            self.fault is not None
            and self.fault[0] == len(self.seen) - 1
            and (self.fault[1] in kinds)
        )

    def _before(self, model: Any, **kwargs: Any) -> Any:
        self.seen.append(f"{model.service_model.service_name}:{model.name}")
        if self._is_faulted(("never_reaches",)):
            self.fault = None
            raise EndpointConnectionError(endpoint_url="https://injected.invalid")
        return None

    def _after(self, model: Any, parsed: dict[str, Any], http_response: Any, **kwargs: Any) -> None:
        name = model.name
        if name == "UpdateTable" and http_response.status_code == 200:
            self.updates_made += 1
            self.updating_next_describe = True
        elif name == "DescribeTable" and self.updating_next_describe and "Table" in parsed:
            self.updating_next_describe = False
            parsed["Table"]["TableStatus"] = "UPDATING"
        if self._is_faulted(("answer_lost",)):
            self.fault = None
            raise ReadTimeoutError(endpoint_url="https://injected.invalid")
        if self._is_faulted(("dies_after",)):
            self.fault = None
            raise ProcessDied(name)


def _deliver(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    event: dict[str, Any],
    context: Any,
    aws: Any,
    calls: Calls,
) -> dict[str, Any] | None:
    """Lambda's asynchronous delivery: 1 attempt + 2 retries, a minute or two apart (past the
    idempotency in-progress expiry and the table lock after a death; a fresh import then)."""
    for _attempt in range(3):
        try:
            return handler(json.loads(json.dumps(event)), context)
        except ProcessDied:
            reset_caches()  # a new sandbox: a fresh import, new clients
            calls.install()
            aws.clock.shift(timedelta(minutes=2))
        except Exception:
            aws.clock.shift(timedelta(minutes=1))
    return None


def _messages(aws: Any) -> list[dict[str, Any]]:
    found = []
    for note in aws.notifications():
        found.append(
            {"subject": note["Subject"], "action": note["MessageAttributes"]["action"]["Value"]}
        )
    return found


def _schedules() -> list[str]:
    listed = client("scheduler", REGION).list_schedules(GroupName=RECHECKS)["Schedules"]
    return [schedule["Name"] for schedule in listed]


def _record(aws: Any, table: str = "orders") -> dict[str, Any] | None:
    """The capacity record (intent and history) of the table's writes."""
    item: dict[str, Any] | None = aws.dynamodb.get_item(
        TableName=DECISION_TABLE,
        Key={"pk": {"S": "SCALE"}, "sk": {"S": scale_sort_key(table, None, Dimension.WRITE)}},
    ).get("Item")
    return item


# --------------------------------------------------------------------------------------------
# a clean scale-up: the calls it makes
# --------------------------------------------------------------------------------------------
def _with_rechecks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's re-checks on: a change asks EventBridge Scheduler for a one-time look."""
    monkeypatch.setenv("RECHECK_SCHEDULE_GROUP", RECHECKS)
    monkeypatch.setenv("RECHECK_ROLE_ARN", "arn:aws:iam::123456789012:role/autoresponder-recheck")
    monkeypatch.setenv(
        "RECHECK_TARGET_ARN", "arn:aws:lambda:us-east-1:123456789012:function:scale-back"
    )
    reset_caches()
    client("scheduler", REGION).create_schedule_group(Name=RECHECKS)


def _scale_up_account(aws: Any) -> None:
    aws.create_table("orders", 100, 50, tags=MANAGED)
    aws.publish(published(consumed=50, rejected=30))  # demand 80/s → 100 write units


def _clean_run(aws: Any, context: Any, scenario: str) -> list[str]:
    calls = Calls()
    if scenario == "scale_up":
        _scale_up_account(aws)
        calls.install()
        result = scale_on_throttle(alarm_event(), context)
        assert result["action"] == "scale_up"
    else:
        _scale_back_account(aws)
        calls.install()
        result = scale_back(scheduled_event(NOW), context)
        assert result["action"] == "scale_down"
    return list(calls.seen)


MAX_CALLS = 24
"""More than either clean run makes (checked by the last test)."""


@pytest.fixture(scope="module")
def clean_calls() -> dict[str, list[str]]:
    """The calls of a clean scale-up and of a clean scale-back, each on its own account."""
    found = {}
    for scenario in ("scale_up", "scale_back"):
        with pytest.MonkeyPatch.context() as patch, emulated_account(patch) as aws:
            _with_rechecks(patch)
            found[scenario] = _clean_run(aws, FakeLambdaContext(), scenario)
    return found


def _cases(scenario: str) -> list[Any]:
    # the clean run's calls are enumerated once per scenario by the first case of each
    # position; positions beyond a shorter run are skipped at run time
    return [
        pytest.param(scenario, position, fault, id=f"{scenario}-{position:02d}-{fault}")
        for position in range(MAX_CALLS)
        for fault in FAULTS
    ]


def _scale_back_account(aws: Any) -> None:
    aws.create_table("orders", 100, 400, tags=MANAGED)
    store = DynamoDBScaleHistory(DECISION_TABLE, region=REGION)
    history = raised(
        Capacity(read=100, write=100),
        Capacity(read=100, write=400),
        at=NOW - timedelta(hours=2),
        action=Action.SCALE_UP,
    )
    store.save_scale_history("orders", None, Dimension.WRITE, history)
    # peak 200/s → back to 250; published into the next run's window too (a held run retries
    # at the next scheduled run, 15 minutes later)
    aws.publish(published(consumed=200, minutes=40, end=NOW + timedelta(minutes=20)))


@pytest.mark.parametrize(
    ("scenario", "position", "fault"), [*_cases("scale_up"), *_cases("scale_back")]
)
def test_a_fault_at_any_call_loses_nothing_and_does_nothing_twice(
    aws, context, clean_calls, scenario: str, position: int, *, fault: str, monkeypatch
):
    sequence = clean_calls[scenario]
    if position >= len(sequence):
        pytest.skip(f"the clean {scenario} makes {len(sequence)} calls")
    _with_rechecks(monkeypatch)
    calls = Calls(fault=(position, fault))
    faulted = sequence[position]
    if scenario == "scale_up":
        _scale_up_account(aws)
        calls.install()
        result = _deliver(scale_on_throttle, alarm_event(), context, aws, calls)
        # a GetMetricData that fails within an attempt makes CloudWatch unreadable: that attempt
        # raises by the minimum step; a death after it leaves the retry a readable CloudWatch
        unreadable = faulted == "cloudwatch:GetMetricData" and fault != "dies_after"
        planned = 60 if unreadable else 100
        original, table_after = 50, planned
        expected_action = "scale_up"
    else:
        _scale_back_account(aws)
        calls.install()
        result = _deliver(scale_back, scheduled_event(NOW), context, aws, calls)
        if aws.capacity("orders")[1] == 400:  # held (CloudWatch unreadable): the next run acts
            aws.clock.shift(timedelta(minutes=15))
            result = _deliver(scale_back, scheduled_event(aws.clock.now()), context, aws, calls)
        original, table_after = 100, 250
        expected_action = "scale_down"
    where = f"{faulted} ({fault})"
    assert result is not None, f"every attempt failed after a fault at {where}"
    # the capacity changed exactly once, to the planned value
    assert calls.updates_made == 1, where
    assert aws.capacity("orders") == (100, table_after), where
    # the original is the value the table started from
    record = _record(aws)
    assert record is not None, where
    assert json.loads(record["original"]["S"])["write"] == original, where
    assert json.loads(record["after"]["S"])["write"] == table_after, where
    # applied; or, when marking it failed after the change, still pending but what the table
    # shows: the next look settles it (it never makes the change again)
    marking = sequence.index("dynamodb:UpdateTable") + 1  # the UpdateItem that marks it
    assert record["status"]["S"] == "applied" or position == marking, where
    # one notification per action; two only in the Publish window, the second a repeat
    messages = [m for m in _messages(aws) if m["action"] == expected_action]
    window = faulted == "sns:Publish" and fault in ("answer_lost", "dies_after")
    assert len(messages) == (2 if window else 1), (where, messages)
    if window:
        assert messages[1]["subject"].startswith("(repeat)"), where
    # the decision record says what the table shows
    decisions = [
        json.loads(item["decision"]["S"])
        for item in aws.decision_items("orders")
        if json.loads(item["decision"]["S"])["action"] == expected_action
    ]
    assert len(decisions) == 1, (where, [d["rule"] for d in decisions])
    assert decisions[0]["after"]["write"] == table_after, where
    # the raise asks for one look when it should have landed; a Scheduler fault loses at most
    # that look (the 15-minute schedule covers it), never makes two
    looks = _schedules()
    if scenario == "scale_up" and not faulted.startswith("scheduler:"):
        assert len(looks) == 1, (where, looks)
    assert len(looks) <= 1, (where, looks)


def test_the_suite_covers_every_call_of_both_clean_runs(clean_calls):
    """The positions parametrized above reach past the end of both clean runs."""
    up, back = clean_calls["scale_up"], clean_calls["scale_back"]
    assert len(up) < MAX_CALLS, up
    assert len(back) < MAX_CALLS, back
    for calls in (up, back):
        assert "dynamodb:UpdateTable" in calls
        assert "sns:Publish" in calls
        assert calls.count("cloudwatch:GetMetricData") == 1, calls
