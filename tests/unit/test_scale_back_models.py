"""scale_back's event model and decision record: parse at the edge, stable record keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from autoresponder.models.decision import Action, Decision
from autoresponder.models.scale_back import ScaleBackDecision, ScheduledEvent
from tests.builders import alarm_event
from tests.scale_back_fakes import scheduled_event

RUN_AT = datetime(2026, 11, 20, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize("source", ["aws.events", "aws.scheduler"])
def test_a_scheduled_event_parses_and_keys_the_run(source):
    event = ScheduledEvent.model_validate(scheduled_event(RUN_AT, source=source))
    assert event.time == RUN_AT
    assert event.run_key == "scale_back@2026-11-20T14:15:00+00:00"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(alarm_event(), id="alarm-state-change"),
        pytest.param(scheduled_event(RUN_AT, **{"detail-type": "Other"}), id="detail-type"),
        pytest.param(scheduled_event(RUN_AT, source="aws.s3"), id="source"),
        pytest.param(scheduled_event(RUN_AT, time="2026-11-20T14:15:00"), id="naive-time"),
        pytest.param(scheduled_event(RUN_AT, account="me"), id="account"),
        pytest.param({"source": "aws.events", "detail-type": "Scheduled Event"}, id="half"),
    ],
)
def test_anything_else_is_refused(raw):
    with pytest.raises(ValidationError):
        ScheduledEvent.model_validate(raw)


def decision(action: Action, **extra) -> ScaleBackDecision:
    return ScaleBackDecision(
        runbook="scale_back",
        action=action,
        table_name="orders",
        index_name="by-customer",
        dimension="write",
        reason="r",
        run_at=RUN_AT,
        **extra,
    )


def test_the_record_key_is_the_run_and_the_unit_not_the_moment():
    first = decision(Action.SCALE_DOWN, decided_at=datetime(2026, 11, 20, 14, 16, tzinfo=UTC))
    retry = decision(Action.SCALE_DOWN, decided_at=datetime(2026, 11, 20, 14, 19, tzinfo=UTC))
    assert (
        first.record_key()
        == retry.record_key()
        == (
            "DECISION#orders",
            "RUN#2026-11-20T14:15:00+00:00#scale_back#by-customer#write#back",
        )
    )
    assert decision(Action.SCALE_UP, kind="followup").record_key() != first.record_key()


@pytest.mark.parametrize(
    ("action", "announce", "notified"),
    [
        (Action.SCALE_DOWN, None, True),
        (Action.RESTORE_AUTOSCALING, None, True),
        (Action.HOLD, None, False),
        (Action.SKIP, None, False),
        (Action.SKIP, True, True),
    ],
)
def test_who_is_told(action, announce, notified):
    made = decision(action, announce=announce)
    assert made.notify is notified
    # a decision read back from the store (as the base model) keeps holds quiet
    if announce is None:
        assert Decision.model_validate_json(made.model_dump_json()).notify is notified
