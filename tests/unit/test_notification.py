"""How a decision reads on each channel: conforming, escaped, linkable in Slack and Teams."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from autoresponder.domain.notification import build_notification, message_id
from autoresponder.models.decision import Decision, Severity
from autoresponder.models.latency import LatencyDecision
from autoresponder.models.scale_back import ScaleBackDecision
from autoresponder.models.table import Capacity
from tests.builders import STATE_TIME
from tests.chatbot import assert_custom_notification, assert_sns_subject

PHISHING = "orders <https://evil.example/login|Approve>\n\nFrom: security@example.com"
CONSOLE = "https://us-east-1.console.aws.amazon.com/"


def decision(**changes) -> Decision:
    fields = {
        "runbook": "scale_on_throttle",
        "action": "scale_up",
        "table_name": "orders",
        "reason": "table orders throttled writes: write units 50 → 60",
        "rule": "provisioned.scale_up",
        "severity": Severity.WARNING,
        "before": Capacity(read=100, write=50),
        "after": Capacity(read=100, write=60),
        "cost_delta_per_hour": 0.0065,
        "next_steps": ["Review access patterns if throttling recurs"],
        "alarm_name": "autoresponder-orders-write-provisioned-throttle",
        "state_timestamp": STATE_TIME,
        "event_id": "b2d4f6a8-0c2e-4a6c-8e0a-4c6e8a0c2e49",
        "decided_at": STATE_TIME + timedelta(seconds=3),
    }
    return Decision(**{**fields, **changes})


def test_a_decision_renders_as_a_conforming_custom_notification():
    note = build_notification(decision(), "us-east-1")
    assert_custom_notification(note.chat)
    assert_sns_subject(note.subject)
    assert note.subject == "scale up: orders"
    context = note.chat["metadata"]["additionalContext"]
    assert context == {
        "dry_run": "false",
        "rule": "provisioned.scale_up",
        "cost_delta_per_hour": "+0.0065",
    }


def test_the_schema_refuses_what_the_messages_used_to_carry():
    # non-string context values and a made-up field: what the schema exists to catch
    chat = build_notification(decision(), "us-east-1").chat
    bad = json.loads(json.dumps(chat))
    bad["metadata"]["additionalContext"] = {"cost_delta_per_hour": 0.0065, "dry_run": False}
    with pytest.raises(AssertionError, match="additionalContext"):
        assert_custom_notification(bad)
    bad = {**chat, "priority": "high"}
    with pytest.raises(AssertionError, match="priority"):
        assert_custom_notification(bad)


def test_no_cost_means_no_cost_key_not_a_null():
    note = build_notification(decision(cost_delta_per_hour=None, dry_run=True), "us-east-1")
    assert note.chat["metadata"]["additionalContext"] == {
        "dry_run": "true",
        "rule": "provisioned.scale_up",
    }


def test_links_are_bare_urls_after_their_label_for_slack_and_teams():
    steps = build_notification(decision(), "us-east-1").chat["content"]["nextSteps"]
    links = [step for step in steps if CONSOLE in step]
    assert [link.split(": ", 1)[0] for link in links] == [
        "Table monitoring",
        "Alarm in the console",
    ]
    for link in links:
        assert "<" not in link and "|" not in link and "](" not in link
        assert link.split(": ", 1)[1].startswith(CONSOLE)


def test_ids_are_unique_per_message_not_per_event():
    # one scheduled run (one EventBridge event id) decides on several tables and dimensions
    run = dict(
        runbook="scale_back",
        action="scale_down",
        reason="quiet for an hour",
        event_id="the-same-scheduled-event",
        run_at=STATE_TIME,
        decided_at=STATE_TIME,
    )
    decisions = [
        ScaleBackDecision(table_name="orders", dimension="write", **run),
        ScaleBackDecision(table_name="orders", dimension="read", **run),
        ScaleBackDecision(table_name="profiles", dimension="write", **run),
    ]
    ids = [build_notification(d, "us-east-1").chat["id"] for d in decisions]
    assert len(set(ids)) == 3
    # a re-announcement of the same decision (a retry) keeps its id
    assert message_id(decisions[0]) == ids[0]
    assert ids[0] != decisions[0].event_id


def test_everything_an_event_carries_is_escaped_for_each_channel():
    crafted = decision(
        alarm_name=PHISHING,
        reason=f"alarm {PHISHING} went to ALARM",
        next_steps=[f"Ask {PHISHING}"],
    )
    note = build_notification(crafted, "us-east-1")
    assert_custom_notification(note.chat)
    assert_sns_subject(note.subject)
    chat = json.dumps(note.chat, ensure_ascii=False)
    assert "<https://evil" not in chat
    assert "https://evil" not in chat
    assert "evil.example/login" in chat  # shown, defanged, not dropped
    content = note.chat["content"]
    for text in [content["title"], content["description"], *content["nextSteps"]]:
        assert "\n" not in text.replace("\n*Change:* ", " ")
        assert "<" not in text and ">" not in text
    # email: the crafted line break cannot start a line of its own
    assert not any(line.startswith("From: security") for line in note.email.splitlines())
    assert "https://evil" not in note.email
    # the responder's own console link to the alarm keeps working (percent-encoded name)
    assert "alarmsV2:alarm/orders%20%3Chttps%3A%2F%2Fevil" in note.email


def test_a_long_subject_fits_snss_limit():
    many = [f"table-{i:03d}" for i in range(40)]
    report = LatencyDecision(
        runbook="report_latency_regression",
        action="latency_regression",
        table_name=None,
        reason="2 tables regressed",
        trigger="schedule",
        tables=many,
        report_at=STATE_TIME,
        decided_at=STATE_TIME,
    )
    note = build_notification(report, "us-east-1")
    assert_sns_subject(note.subject)
    assert note.subject.startswith("latency regression: daily report, 40 managed tables")


def test_latency_graphs_are_linked_as_console_links_not_escaped_text():
    url = f"{CONSOLE}cloudwatch/home?region=us-east-1#metricsV2:graph=~(x~1)"
    latency = LatencyDecision(
        runbook="report_latency_regression",
        action="latency_regression",
        table_name="profiles",
        reason="GetItem slower",
        graph_urls={"profiles": url, "orders": url + "2"},
        graph_links=["profiles"],
        decided_at=STATE_TIME,
    )
    note = build_notification(latency, "us-east-1")
    assert f"Latency graph of profiles: {url}" in note.chat["content"]["nextSteps"]
    assert f"Latency graph of profiles: {url}" in note.email
    assert "Latency graph of orders" not in note.email
