"""The local demo end to end: embedded local AWS, demo account, every sample event in-process.

Effects are asserted on what the demo read back from the emulated account (DescribeTable,
DescribeScalableTargets, the SQS inbox subscribed to the topic, the decision table).
"""

from __future__ import annotations

import io
import json
import os
import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from local import EVENTS, invoke
from local.account import capacity_snapshot
from local.demo import STORY, DemoReport, EventRun, Observer, run_demo, run_event
from local.emulator import local_aws
from local.runtime import function_environment
from local.seed import seed_demo_account
from tests.chatbot import assert_custom_notification, assert_sns_subject


@pytest.fixture(scope="module")
def demo_and_warnings() -> tuple[DemoReport, str, list[warnings.WarningMessage]]:
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every occurrence, not once per location
        report = run_demo(out)
    return report, out.getvalue(), caught


@pytest.fixture(scope="module")
def demo(demo_and_warnings) -> tuple[DemoReport, str]:
    report, printed, _ = demo_and_warnings
    return report, printed


def test_the_demo_prints_no_warning(demo_and_warnings):
    """`make demo` shows no Python warning: e.g. Powertools' "No application metrics to publish"
    for the duplicate delivery, or a quiet run (each invocation counts its outcome)."""
    _, _, caught = demo_and_warnings
    assert [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught] == []


def run_of(report: DemoReport, event: str, *, again: bool = False) -> EventRun:
    return next(r for r in report.runs if r.path.name == event and r.duplicate is again)


def test_every_step_of_the_story_ran_and_returned(demo):
    report, _ = demo
    assert len(report.runs) == len(STORY)
    raised = {r.path.name: r.invocation.error for r in report.runs if r.invocation.raised}
    assert raised == {}


def test_throttled_orders_writes_are_raised_in_the_account(demo):
    report, _ = demo
    assert run_of(report, "write_throttle_table.json").decision["action"] == "scale_up"
    assert report.after["orders"].write > report.before["orders"].write
    assert report.after["orders"].write <= 1000  # the table's max-write-units tag


def test_a_pre_throttle_alarm_raises_before_any_throttling(demo):
    report, _ = demo
    run = run_of(report, "catalog_write_above_provisioned.json")
    assert run.decision["action"] == "scale_up"
    assert run.decision["alarm_name"] == "autoresponder-catalog-write-above-provisioned"
    [writes] = [d for d in run.decision["diagnosis"] if d["dimension"] == "write"]
    assert writes["throttled_events"] == 0  # burst being spent, nothing throttled yet
    assert run.changes == ["catalog write 50 → 75"]
    assert [m.attributes["action"] for m in run.notifications] == ["scale_up"]


def test_gsi_alarms_change_the_index(demo):
    report, _ = demo
    assert report.after["orders/by-customer"].write > report.before["orders/by-customer"].write
    assert report.after["orders/by-customer"].read > report.before["orders/by-customer"].read


def test_unmanaged_table_is_left_alone(demo):
    report, _ = demo
    assert run_of(report, "write_throttle_unmanaged.json").decision["action"] == "skip"
    assert report.after["legacy"] == report.before["legacy"]


def test_dry_run_table_is_decided_and_announced_but_unchanged(demo):
    report, _ = demo
    run = run_of(report, "write_throttle_dry_run_table.json")
    assert run.decision["action"] == "scale_up"
    assert run.decision["dry_run"] is True
    assert run.changes == []
    assert [n.subject for n in run.notifications] == ["[DRY RUN] scale up: inventory"]
    assert report.after["inventory"] == report.before["inventory"]


def test_duplicate_delivery_changes_nothing_and_notifies_once(demo):
    report, _ = demo
    first = run_of(report, "write_throttle_table.json")
    again = run_of(report, "write_throttle_table.json", again=True)
    assert len(first.notifications) == 1
    assert first.changes
    assert again.notifications == []
    assert again.changes == []
    assert again.decision == first.decision


def test_notifications_reach_the_inbox_with_their_attributes(demo):
    report, _ = demo
    messages = [m for run in report.runs for m in run.notifications]
    assert len(messages) >= 5
    for message in messages:
        assert {"table", "runbook", "action", "severity"} <= message.attributes.keys()
        assert message.subject
        assert message.chat is not None and message.chat["source"] == "custom"
        assert message.email is not None and message.attributes["table"] in message.email


def test_every_message_of_the_demo_conforms_and_has_its_own_id(demo):
    """Issue 15, messages that render: each chat message against the schema written from AWS
    Chatbot's custom-notification page, each subject within SNS's limit, one id per message."""
    report, _ = demo
    runs = [*report.runs, *report.epilogue, *report.onboarding]
    messages = [m for run in runs for m in run.notifications]
    assert len(messages) >= 5
    for message in messages:
        assert_custom_notification(message.chat)
        assert_sns_subject(message.subject)
    ids = [m.chat["id"] for m in messages if m.chat is not None]
    assert len(set(ids)) == len(ids)


def test_auto_scaled_table_gets_a_higher_minimum_not_a_table_update(demo):
    report, _ = demo
    before, after = report.before["profiles"], report.after["profiles"]
    assert after.autoscaling["write"][0] > before.autoscaling["write"][0]
    assert (after.read, after.write) == (before.read, before.write)


def test_on_demand_cap_is_raised_through_the_emulator_extension(demo):
    report, _ = demo
    assert report.before["clickstream"].read == 2000
    assert report.after["clickstream"].read > 2000
    assert report.after["clickstream"].write == report.before["clickstream"].write


def test_hot_partition_and_malformed_event_change_nothing(demo):
    report, _ = demo
    assert run_of(report, "key_range_throttle.json").decision["action"] == "hand_off_hot_keys"
    assert run_of(report, "key_range_throttle.json").changes == []
    assert run_of(report, "malformed_event.json").decision["action"] == "reject"


def test_every_delivery_is_recorded(demo):
    report, _ = demo
    kinds = report.record_kinds
    recorded = kinds["DECISION"] + kinds["REJECT"] + kinds["ALARM"]
    # onboarding ran first: one `onboard` record per managed table, then the story's
    onboarded = sum(len(run.decision["decisions"]) for run in report.onboarding if run.decision)
    assert onboarded == 6  # every managed table of the demo account
    assert recorded == onboarded + len(report.runs) - 1  # the duplicate records nothing new


def test_onboarding_runs_first_and_the_story_alarms_are_the_ones_it_made(demo):
    """The order of real use: onboard_tables makes the alarms, then they fire. The sample
    events' alarm names are among those it made (the ones a person makes aside)."""
    report, text = demo
    assert text.index("scheduled_onboarding.json") < text.index("write_throttle_table.json")
    schedule = report.onboarding[0].decision
    assert schedule is not None
    made = {name for d in schedule["decisions"] for name in d["created"]}
    fired = {
        json.loads(run.path.read_text())["detail"]["alarmName"]
        for run in report.runs
        if run.decision and str(run.decision.get("alarm_name")).startswith("autoresponder-")
    }  # not Auto Scaling's own alarm nor the EC2 one
    by_hand = {
        "autoresponder-orders-composite",
        "autoresponder-orders-putitem-throttled",
        "autoresponder-inventory-read-throttle-rate",
        "autoresponder-orders-by-customer-hot-key",
        "autoresponder-clickstream-write-account-limit-throttle",
        "autoresponder-legacy-write-provisioned-throttle",  # legacy is not covered
    }
    assert "autoresponder-orders-write-provisioned-throttle" in fired
    assert fired - by_hand <= made


def test_output_reads_as_a_report(demo):
    _, text = demo
    assert "SCALE UP   orders   writes" in text
    assert "the same event again" in text
    assert "Capacity in the emulated account" in text
    assert '{"_aws"' not in text  # no EMF metrics in the demo's own output


def test_invoke_runs_one_event_on_a_fresh_demo_account():
    out = io.StringIO()
    status = invoke.main(
        ["--function", "scale_on_throttle", "--event", "events/write_throttle_gsi.json"], out=out
    )
    text = out.getvalue()
    assert status == 0
    assert re.search(r"account\s+orders/by-customer write 25 → \d+", text)
    returned = json.loads(text.split("returned:\n", 1)[1])
    assert returned["index_name"] == "by-customer"


LOCK_HELD_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
"""Another invocation's lock, still held whenever the demo runs (it runs at the real time)."""


def test_a_retryable_outcome_is_reported_as_a_lambda_retry(monkeypatch):
    """Another invocation holds the table's lock: the handler raises, the demo says so."""
    _plain_moto_environment(monkeypatch)
    out = io.StringIO()
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        account = seed_demo_account(session)
        dynamodb = session.client("dynamodb")
        dynamodb.put_item(
            TableName=account.decision_table_name,
            Item={
                "pk": {"S": "LOCK"},
                "sk": {"S": "orders"},
                "owner": {"S": "another invocation"},
                "lock_expires": {"N": str(int(LOCK_HELD_UNTIL.timestamp()))},
            },
        )
        observer = Observer(
            snapshot=lambda: capacity_snapshot(
                dynamodb, session.client("application-autoscaling"), account.tables
            )
        )
        with function_environment(account.function_environment(), isolated=True):
            run = run_event(
                "scale_on_throttle",
                EVENTS / "write_throttle_table.json",
                observer,
                out,
                title="locked",
            )
    assert type(run.invocation.error).__name__ == "TableBusyError"
    assert "Lambda would retry" in out.getvalue()
    assert run.changes == []


def _plain_moto_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_local_aws_ignores_and_restores_the_shells_aws_settings(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-token")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "https://dynamodb.example.invalid")
    shell = dict(os.environ)
    with local_aws() as aws:
        assert os.environ["AWS_ENDPOINT_URL"] == aws.endpoint_url
        assert "AWS_PROFILE" not in os.environ
        assert "AWS_SESSION_TOKEN" not in os.environ
        assert "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ
        assert aws.client("sts").get_caller_identity()["Account"] == aws.account_id
    assert dict(os.environ) == shell


def test_the_demo_account_can_be_seeded_under_mock_aws(monkeypatch):
    _plain_moto_environment(monkeypatch)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        account = seed_demo_account(session)
        dynamodb = session.client("dynamodb")
        tags = dynamodb.list_tags_of_resource(
            ResourceArn=f"arn:aws:dynamodb:us-east-1:{account.account_id}:table/orders"
        )["Tags"]
        assert {"Key": "autoresponder:managed", "Value": "true"} in tags
        assert set(account.tables) <= set(dynamodb.list_tables()["TableNames"])
        assert "autoresponder-orders-write-provisioned-throttle" in account.alarms


def test_without_the_composite_children_the_seed_leaves_onboardings_alarms_to_it(monkeypatch):
    _plain_moto_environment(monkeypatch)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        account = seed_demo_account(session, composite_children=False)
        alarms = session.client("cloudwatch").describe_alarms()["MetricAlarms"]
        assert alarms == []
        assert "autoresponder-orders-write-provisioned-throttle" not in account.alarms


def test_sample_events_are_distinct():
    """Each demo event has its own id and state timestamp (a duplicate would be idempotent)."""
    names = sorted({step.event for step in STORY})
    events = [json.loads((Path(EVENTS) / name).read_text()) for name in names]
    ids = [event["id"] for event in events]
    assert len(ids) == len(set(ids))
    states = [
        (event["detail"]["alarmName"], event["detail"]["state"]["timestamp"])
        for event in events
        if "timestamp" in event["detail"]["state"]
    ]
    assert len(states) == len(events) - 1  # all but malformed_event.json
    assert len(states) == len(set(states))
