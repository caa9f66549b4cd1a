"""From a runbook's outcome to the `Decision` the recorder records: one builder for the fields
every runbook fills the same way.

A decision says what the plan said (action, rule, reason, severity, next steps) about one
delivery (its event id, account and region; an alarm's name and state time). The runbook adds
where (table, index), whether it was a dry run, when, and its own fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Decision, Severity

D = TypeVar("D", bound=Decision)
P = TypeVar("P")
F = TypeVar("F")


class Ruling(Protocol):
    """What every runbook's plan says (`scaling.Plan`, `HotKeyPlan`, `LatencyPlan`, `BackPlan`)."""

    @property
    def action(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def next_steps(self) -> Sequence[str]: ...


class Delivery(Protocol):
    """The event a decision answers: an alarm state change, a scheduled run, a tag change."""

    @property
    def id(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def region(self) -> str: ...


@dataclass(frozen=True)
class Outcome(Generic[P, F]):
    """A runbook's plan with what it found on the way, before it becomes a decision."""

    plan: P
    found: F | None = None
    """What the runbook read to make the plan (its record keeps it)."""
    dry_run: bool | None = None
    """None: the runbook's configured dry run."""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """More of what the decision was based on."""


def build_decision(
    kind: type[D], runbook: str, event: Delivery, plan: Ruling | None = None, /, **fields: Any
) -> D:
    """The `kind` decision of `runbook` on `event`: the plan's ruling and the delivery's
    fields, then `fields` (table, index, dry run, decided_at and the runbook's own), which win."""
    common: dict[str, Any] = {
        "runbook": runbook,
        "event_id": event.id or None,
        "region": event.region,
        "account": event.account,
    }
    if isinstance(event, AlarmStateChangeEvent):
        common.update(alarm_name=event.alarm_name, state_timestamp=event.detail.state.timestamp)
    if plan is not None:
        common.update(
            action=plan.action,
            rule=plan.rule,
            reason=plan.reason,
            severity=plan.severity,
            next_steps=list(plan.next_steps),
        )
    return kind(**{**common, **fields})
