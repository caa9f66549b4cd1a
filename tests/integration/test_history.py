"""`make history TABLE=<name>`: a table's last decisions, for the person on call."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from autoresponder.adapters.decision_table.decisions import DynamoDBDecisions
from autoresponder.models.decision import Decision
from local import history
from tests.conftest import DECISION_TABLE, REGION

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def decision(minutes: int, action: str, *, table: str = "orders", **extra) -> Decision:
    return Decision(
        runbook="scale_on_throttle",
        action=action,
        table_name=table,
        reason=f"{action} at +{minutes} min",
        rule=f"rule.{action}",
        dry_run=False,
        decided_at=T0 + timedelta(minutes=minutes),
        event_id=f"event-{minutes}",
        **extra,
    )


def test_the_last_decisions_of_one_table_newest_first(aws):
    store = DynamoDBDecisions(DECISION_TABLE, region=REGION)
    store.record(decision(0, "scale_up", alarm_name="a", state_timestamp=T0))
    store.record(decision(5, "skip", alarm_name="b", state_timestamp=T0 + timedelta(minutes=5)))
    store.record(decision(9, "scale_up", alarm_name="c", state_timestamp=T0 + timedelta(minutes=9)))
    store.record(decision(7, "scale_up", table="other", alarm_name="d", state_timestamp=T0))
    store.record(decision(60, "hold"))  # a scheduled run's: no alarm

    entries = history.last_decisions(aws.dynamodb, DECISION_TABLE, "orders", limit=3)

    assert [(e.action, e.reason) for e in entries] == [
        ("hold", "hold at +60 min"),
        ("scale_up", "scale_up at +9 min"),
        ("skip", "skip at +5 min"),
    ]
    assert entries[0].correlation_id == "event-60"
    lines = history.render_history("orders", entries, "moto")
    assert "2026-11-20 15:00:00 UTC  scale_on_throttle: HOLD" in "\n".join(lines)
    assert history.last_decisions(aws.dynamodb, DECISION_TABLE, "nothing-here", limit=3) == []


def test_against_an_account_it_needs_the_decision_table(monkeypatch):
    monkeypatch.delenv("DECISION_TABLE_NAME", raising=False)
    with pytest.raises(SystemExit, match="DecisionTableName"):
        history.main(["--table", "orders", "--real-account"], io.StringIO())


def test_by_default_it_reads_the_embedded_local_aws_after_the_demo():
    out = io.StringIO()
    assert history.main(["--table", "orders", "--limit", "50"], out) == 0
    text = out.getvalue()
    assert "embedded local AWS" in text
    assert "onboard_tables: ONBOARD" in text  # onboarding ran first
    assert "scale_on_throttle: SCALE UP  write  [announced]" in text
    assert "scale_back: SCALE DOWN" in text  # the epilogue's run, two hours later
    assert text.index("scale_back: SCALE DOWN") < text.index("onboard_tables: ONBOARD")
