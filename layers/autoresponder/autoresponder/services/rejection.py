"""Bad input: a recorded `reject` decision that keeps the raw event, never an exception.

A retry cannot fix a malformed payload, so every runbook answers it the same way: the reason
names the first problems pydantic found, the decision table keeps the payload as received.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.services.ports import Clock
from autoresponder.services.recording import DecisionRecorder

ALARM_STATE_CHANGE = "a well-formed CloudWatch alarm state change"


def describe_problems(error: Exception, limit: int = 5) -> str:
    """`detail.state.value: Field required; ...` for a validation error, else its text."""
    if not isinstance(error, ValidationError):
        return str(error)
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}"
        for e in error.errors()[:limit]
    )


def reject(
    runbook: str,
    raw: object,
    error: Exception,
    recorder: DecisionRecorder,
    clock: Clock,
    *,
    expected: str = ALARM_STATE_CHANGE,
) -> Decision:
    """Record (and log) a `reject` for a payload that is not `expected`."""
    event = raw if isinstance(raw, Mapping) else {"payload": repr(raw)[:10_000]}
    event_id = event.get("id")
    decision = Decision(
        runbook=runbook,
        action=Action.REJECT,
        table_name=None,
        reason=f"not {expected}: {describe_problems(error)}",
        rule="reject",
        severity=Severity.WARNING,
        event_id=event_id if isinstance(event_id, str) else None,
        decided_at=clock.now(),
    )
    return recorder.finish(decision, raw_event=event)
