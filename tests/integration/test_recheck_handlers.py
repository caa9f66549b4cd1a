"""Re-checks end to end on an emulated account (moto): the schedule scale_on_throttle creates in
EventBridge Scheduler, and what scale_back does when Scheduler delivers its input.

Scheduler does not fire schedules in moto: a test reads the schedule back, moves the clock to its
`at(...)` time and calls scale_back's handler with the schedule's `Input`, as Scheduler would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from autoresponder.domain.next_look import LookPolicy
from autoresponder.models.recheck import RecheckEvent, schedule_prefix
from functions.scale_back.app import lambda_handler as scale_back
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import NOW, alarm_event, published
from tests.conftest import FakeLambdaContext, reset_caches

MANAGED = {"autoresponder:managed": "true"}
GROUP = "autoresponder-rechecks"
ROLE = "arn:aws:iam::123456789012:role/autoresponder-recheck-scheduler"
SCALE_BACK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:scale-back"


@pytest.fixture
def orders(aws, monkeypatch):
    """orders (100 R / 50 W, managed), writes throttled: 50 served, 30 rejected per second."""
    monkeypatch.setenv("RECHECK_SCHEDULE_GROUP", GROUP)
    monkeypatch.setenv("RECHECK_ROLE_ARN", ROLE)
    monkeypatch.setenv("RECHECK_TARGET_ARN", SCALE_BACK_ARN)
    reset_caches()
    boto3.client("scheduler", region_name="us-east-1").create_schedule_group(Name=GROUP)
    aws.create_table("orders", 100, 50, tags=MANAGED)
    aws.publish(published(consumed=50, rejected=30))
    return aws


def _schedule() -> dict:
    """The table's one pending re-check (Scheduler would have deleted the ones that ran)."""
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    listed = scheduler.list_schedules(GroupName=GROUP, NamePrefix=schedule_prefix("orders"))
    [summary] = listed["Schedules"]
    return scheduler.get_schedule(Name=summary["Name"], GroupName=GROUP)


def _due(schedule: dict) -> datetime:
    expression = schedule["ScheduleExpression"]
    assert expression.startswith("at(") and schedule["ScheduleExpressionTimezone"] == "UTC"
    return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)


def _deliver(aws, schedule: dict) -> dict:
    """What Scheduler does at the schedule's time: invoke the target with the input, then
    delete the schedule (ActionAfterCompletion DELETE; here after the run, the worst order)."""
    aws.clock.move_to(_due(schedule))
    context = FakeLambdaContext(function_name="scale-back", invoked_function_arn=SCALE_BACK_ARN)
    result = scale_back(json.loads(schedule["Target"]["Input"]), context)
    boto3.client("scheduler", region_name="us-east-1").delete_schedule(
        Name=schedule["Name"], GroupName=GROUP
    )
    return result


def test_a_raise_creates_a_one_time_recheck_of_the_table_for_when_it_lands(orders, context):
    result = scale_on_throttle(alarm_event(), context)
    assert result["action"] == "scale_up"
    assert orders.capacity("orders") == (100, 100)
    schedule = _schedule()
    # Scheduler's at(...) has whole seconds: rounded up, and the decision names the same moment
    assert _due(schedule) == NOW.replace(microsecond=0) + LookPolicy().after_change + timedelta(
        seconds=1
    )
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert (schedule["Target"]["Arn"], schedule["Target"]["RoleArn"]) == (SCALE_BACK_ARN, ROLE)
    event = RecheckEvent.model_validate_json(schedule["Target"]["Input"])
    assert event.detail.table_name == "orders"
    [item] = orders.decision_items("orders")
    next_look_at = json.loads(item["decision"]["S"])["next_look_at"]
    assert datetime.fromisoformat(next_look_at) == _due(schedule)


def test_the_recheck_raises_again_on_a_measured_shortfall_without_cooldown(orders, context):
    scale_on_throttle(alarm_event(), context)
    first = _schedule()
    # the raise landed (100 WCU) but demand rose: 100 served, 60 rejected per second since
    orders.publish(
        published(consumed=100, rejected=60, minutes=2, end=_due(first) + timedelta(seconds=1))
    )
    result = _deliver(orders, first)
    raised = [d for d in result["decisions"] if d["action"] == "scale_up"]
    assert [d["rule"] for d in raised] == ["follow_up.provisioned.scale_up"]
    read, write = orders.capacity("orders")
    assert read == 100 and write >= 160  # the measured demand, 160/s, plus headroom
    assert _due(_schedule()) == _due(first) + LookPolicy().after_change  # looked at once more
    recorded = {item["sk"]["S"]: item for item in orders.decision_items("orders")}
    assert any(key.startswith("RECHECK#") for key in recorded)


def test_the_recheck_records_the_time_to_mitigation_once_throttling_stopped(orders, context):
    scale_on_throttle(alarm_event(), context)
    first = _schedule()
    # throttled until the raise landed, then 80/s served within the 100 WCU
    orders.publish(published(consumed=80, cause=None, minutes=2, end=_due(first)))
    result = _deliver(orders, first)
    [episode] = [d for d in result["decisions"] if d["rule"] == "episode.mitigated"]
    assert episode["action"] == "skip"
    assert episode["time_to_mitigation"] > 0
    assert orders.capacity("orders") == (100, 100)  # nothing more to do
    texts = [json.loads(n["Message"]) for n in orders.notifications()]
    assert len(texts) == 1  # the raise's; the mitigation is recorded, not announced
