"""What the person on call reads of an invocation: its log lines and its outcome metric.

- Every log line carries the EventBridge event's id as `correlation_id`.
- Every invocation publishes its outcome metric (EMF, the handlers' `log_metrics`). Powertools
  prints `UserWarning: No application metrics to publish` for an invocation that added none (a
  duplicate delivery, a quiet scheduled run, a raised error): each of them counts its outcome
  instead, and the test session turns any warning into an error (pyproject.toml).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from autoresponder.adapters.clients import client
from autoresponder.errors import AwsThrottledError
from autoresponder.observability import logger
from functions.onboard_tables.app import lambda_handler as onboard_tables
from functions.scale_back.app import lambda_handler as scale_back
from functions.scale_on_throttle.app import lambda_handler as scale_on_throttle
from tests.builders import STATE_TIME, alarm_event, published
from tests.onboarding import scheduled_event as hourly_event
from tests.scale_back_fakes import scheduled_event

MANAGED = {"autoresponder:managed": "true"}


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the package's Logger writes, kept here (its handler holds the stream it was built
    with, which pytest's per-test capture does not see)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    try:
        yield written
    finally:
        handler.setStream(previous)


def log_lines(printed: str) -> list[dict[str, Any]]:
    """The Logger's JSON lines (EMF records left out)."""
    lines = []
    for line in printed.splitlines():
        try:
            record: Any = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "level" in record and "_aws" not in record:
            lines.append(record)
    return lines


def outcomes(printed: str) -> list[tuple[str, str]]:
    """(runbook, metric) of every count in the EMF records printed, cold start left out."""
    found = []
    for line in printed.splitlines():
        try:
            record: Any = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "_aws" not in record:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for definition in directive["Metrics"]:
                name = definition["Name"]
                if definition.get("Unit") == "Count" and name != "ColdStart":
                    found.append((record.get("runbook", "-"), name))
    return found


def test_every_log_line_of_an_alarm_invocation_carries_the_event_id(aws, context, logged):
    aws.create_table("orders", 100, 50, tags=MANAGED)
    aws.publish(published(consumed=50, rejected=10))
    event = alarm_event(timestamp=STATE_TIME)
    decision = scale_on_throttle(event, context)
    lines = log_lines(logged.getvalue())
    assert "decision taken" in [line["message"] for line in lines]
    assert {line.get("correlation_id") for line in lines} == {event["id"]}
    [item] = aws.decision_items("orders")  # the same id the decision record keeps
    assert json.loads(item["decision"]["S"])["event_id"] == event["id"] == decision["event_id"]


def test_a_scheduled_run_logs_under_the_schedule_event_id(aws, context, logged):
    event = scheduled_event(STATE_TIME)
    scale_back(event, context)
    lines = log_lines(logged.getvalue())
    assert lines
    assert {line.get("correlation_id") for line in lines} == {event["id"]}


def test_a_duplicate_delivery_counts_duplicate_delivery(aws, context, capsys):
    aws.create_table("orders", 100, 50, tags=MANAGED)
    aws.publish(published(consumed=50, rejected=10))  # demand 60/s: 75 with headroom
    event = alarm_event(timestamp=STATE_TIME)
    assert scale_on_throttle(event, context)["action"] == "scale_up"
    assert outcomes(capsys.readouterr().out) == [("scale_on_throttle", "scale_up")]

    assert scale_on_throttle(event, context)["action"] == "scale_up"  # the first decision
    assert outcomes(capsys.readouterr().out) == [("scale_on_throttle", "duplicate_delivery")]
    assert aws.capacity("orders") == (100, 75)  # raised once


def test_a_quiet_scheduled_scale_back_run_counts_its_skip(aws, context, capsys):
    result = scale_back(scheduled_event(STATE_TIME), context)
    assert (result["action"], result["rule"]) == ("skip", "nothing_to_do")
    assert outcomes(capsys.readouterr().out) == [("scale_back", "skip")]


def test_an_unchanged_reconcile_counts_its_skip(aws, context, capsys):
    result = onboard_tables(hourly_event("hourly-1", "2026-11-20T14:00:00Z"), context)
    assert (result["action"], result["rule"]) == ("skip", "reconcile.unchanged")
    assert outcomes(capsys.readouterr().out) == [("onboard_tables", "skip")]


def test_an_invocation_that_raises_a_transient_error_counts_a_retry(aws, context, capsys):
    aws.create_table("orders", 100, 50, tags=MANAGED)

    def throttled(**kwargs):
        return (
            AWSResponse("https://example.invalid", 400, {}, None),
            {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
        )

    # the handler's own (cached) client, as the wiring builds it
    cloudwatch = client("cloudwatch", "us-east-1")
    cloudwatch.meta.events.register("before-call.cloudwatch.PutMetricAlarm", throttled)
    with pytest.raises(AwsThrottledError):
        onboard_tables(hourly_event("hourly-1", "2026-11-20T14:00:00Z"), context)
    assert outcomes(capsys.readouterr().out) == [("onboard_tables", "retry")]
