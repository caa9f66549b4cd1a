"""Bad input: a recorded `reject` decision that keeps the raw event, never an exception.

A retry cannot fix a malformed payload, so every runbook answers it the same way: the reason
names the first problems pydantic found, the decision table keeps the payload as received.

Text taken from the event into the decision (its id, names, the places pydantic names) is cut
and made text UTF-8 can hold: JSON may carry lone surrogates (`"\\ud800"`), which the decision's
JSON, its key and every AWS call would otherwise fail to encode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.services.ports import Clock
from autoresponder.services.recording import DecisionRecorder

ALARM_STATE_CHANGE = "a well-formed CloudWatch alarm state change"
REASON_CHARS = 2_000
EVENT_ID_CHARS = 128


def kept(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, each lone surrogate written as its escape (`\\ud800`)."""
    return text[:limit].encode("utf-8", errors="backslashreplace").decode("utf-8")


def describe_problems(error: Exception, limit: int = 5) -> str:
    """`detail.state.value: Field required; ...` for a validation error, else its text."""
    if not isinstance(error, ValidationError):
        return str(error)
    return "; ".join(
        f"{'.'.join(str(p)[:60] for p in e['loc']) or 'event'}: {e['msg'][:200]}"
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
    """Record (and log) a `reject` for a payload that is not `expected`: any size, any shape
    (the record keeps a cut of the raw event with its size and hash, the keys are bounded)."""
    event = raw if isinstance(raw, Mapping) else {"payload": repr(raw)[:10_000]}
    event_id = event.get("id")
    decision = Decision(
        runbook=runbook,
        action=Action.REJECT,
        table_name=None,
        reason=kept(f"not {expected}: {describe_problems(error)}", REASON_CHARS),
        rule="reject",
        severity=Severity.WARNING,
        event_id=kept(event_id, EVENT_ID_CHARS) if isinstance(event_id, str) else None,
        decided_at=clock.now(),
    )
    return recorder.finish(decision, raw_event=event)


@dataclass(frozen=True)
class Origin:
    """Where a function runs: its account and region (from its ARN; the region from settings)
    and its ARN."""

    account: str | None
    region: str | None
    function_arn: str | None = None

    @classmethod
    def of(cls, context: object, region: str | None) -> Origin:
        arn = getattr(context, "invoked_function_arn", None)
        parts = arn.split(":") if isinstance(arn, str) else []
        account = parts[4] if len(parts) > 4 and parts[4] else None
        arn_region = parts[3] if len(parts) > 3 and parts[3] else None
        return cls(account, region or arn_region, arn if isinstance(arn, str) else None)


def foreign_reason(raw: object, own: Origin) -> str | None:
    """Why an event is not this function's to act on: it comes from another account or region
    (cross-account EventBridge keeps the source `account`; its table is not ours, even when a
    local table has the same name). None when it is ours, or says nothing of its origin."""
    if not isinstance(raw, Mapping):
        return None
    account, region = raw.get("account"), raw.get("region")
    wrong = []
    if isinstance(account, str) and own.account and account != own.account:
        wrong.append(f"account {kept(account, 20)}")
    if isinstance(region, str) and own.region and region != own.region:
        wrong.append(f"region {kept(region, 30)}")
    if not wrong:
        return None
    return (
        f"the event comes from {' and '.join(wrong)}, not this function's own "
        f"(account {own.account or '?'}, region {own.region or '?'}): a forwarded event names "
        "another account's table; nothing was read or changed"
    )


def skip_foreign(
    runbook: str, raw: object, own: Origin, recorder: DecisionRecorder, clock: Clock
) -> Decision | None:
    """A recorded `skip` for an event from another account or region, before any AWS call on a
    table (docs/architecture.md contract); None when the event is the function's own."""
    reason = foreign_reason(raw, own)
    if reason is None:
        return None
    assert isinstance(raw, Mapping)
    detail = raw.get("detail")
    alarm = detail.get("alarmName") if isinstance(detail, Mapping) else None
    event_id = raw.get("id")
    decision = Decision(
        runbook=runbook,
        action=Action.SKIP,
        table_name=None,
        reason=reason,
        rule="foreign_event",
        severity=Severity.INFO,
        alarm_name=kept(alarm, 255) if isinstance(alarm, str) else None,
        event_id=kept(event_id, EVENT_ID_CHARS) if isinstance(event_id, str) else None,
        account=kept(str(raw.get("account")), 20),
        region=kept(str(raw.get("region")), 30),
        decided_at=clock.now(),
    )
    return recorder.finish(decision)
