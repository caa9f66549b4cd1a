"""The decision every runbook returns, records and announces."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from autoresponder.models.table import Capacity, Dimension, OnDemandLimits


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Action(StrEnum):
    """Actions of every runbook (docs/architecture.md contract)."""

    SCALE_UP = "scale_up"
    RAISE_AUTOSCALING_MIN = "raise_autoscaling_min"
    RAISE_ON_DEMAND_MAX = "raise_on_demand_max"
    HAND_OFF_HOT_KEYS = "hand_off_hot_keys"
    SKIP = "skip"
    DEFER = "defer"
    FAIL = "fail"
    REJECT = "reject"
    # scale_back
    SCALE_DOWN = "scale_down"
    RESTORE_AUTOSCALING = "restore_autoscaling"
    RESTORE_ON_DEMAND_MAX = "restore_on_demand_max"
    HOLD = "hold"
    """Not yet: still busy, decrease budget, or stabilizing (recorded and logged, not notified)."""


MUTATING_ACTIONS = frozenset(
    {Action.SCALE_UP, Action.RAISE_AUTOSCALING_MIN, Action.RAISE_ON_DEMAND_MAX}
)


class AutoScalingLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_capacity: int
    max_capacity: int


class Decision(BaseModel):
    """A JSON-serialisable decision: `model_dump(mode="json")` is the handler's return value.

    Runbooks add their own fields in subclasses (`hot_keys`, `operations`, ...).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    runbook: str
    action: str
    table_name: str | None
    index_name: str | None = None
    reason: str
    dry_run: bool = False
    rule: str = ""
    """The runbook rule that produced the action, e.g. `provisioned.scale_up`."""
    severity: Severity = Severity.INFO
    dimension: Dimension | None = None
    before: Capacity | AutoScalingLimits | OnDemandLimits | None = None
    after: Capacity | AutoScalingLimits | OnDemandLimits | None = None
    cost_delta_per_hour: float | None = None
    """Estimated change of the hourly bill in USD (positive: more expensive)."""
    next_steps: list[str] = Field(default_factory=list)
    alarm_name: str | None = None
    state_timestamp: datetime | None = None
    event_id: str | None = None
    region: str | None = None
    account: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    """What the decision was based on (metrics read, cooldown state, policy)."""
    findings: list[str] = Field(default_factory=list)
    """What the metrics show, one line a person understands per resource and dimension."""
    diagnosis: list[dict[str, Any]] | None = None
    """Per resource and dimension: cause, throttled events, consumed, estimated demand
    (`domain/diagnosis.py`); None when the decision read no metrics."""
    time_to_mitigation: float | None = None
    """Seconds from the episode's first throttled datapoint to the minute throttling stopped,
    once the episode is over."""
    next_look_at: datetime | None = None
    """When the responder looks at the table again (a one-time re-check it scheduled)."""
    notification_failed: str | None = None
    """Why the notification could not be sent (the decision is still what was done)."""
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def notify(self) -> bool:
        """Actions, failures, exhausted defers and skips that need a person (warning or worse)
        are announced; routine skips, holds and rejects are recorded and logged only."""
        if self.action == Action.DEFER:
            return bool(self.inputs.get("retries_exhausted"))
        if self.action == Action.SKIP:
            return self.severity is not Severity.INFO  # e.g. at the ceiling, account quota
        return self.action not in {Action.REJECT, Action.HOLD}

    def record_key(self) -> tuple[str, str]:
        """(pk, sk) of the decision record: deterministic for an alarm event, so a retry of
        the same delivery finds the decision it already took."""
        if self.action == Action.REJECT:
            event = bounded(self.event_id or "-")
            return "REJECT", f"{self.decided_at.isoformat()}#{self.runbook}#{event}"
        if self.table_name is None:
            when = self.state_timestamp or self.decided_at
            return f"ALARM#{bounded(self.alarm_name or '-')}", f"{when.isoformat()}#{self.runbook}"
        return decision_key(
            self.table_name, self.runbook, self.alarm_name, self.state_timestamp
        ) or (
            f"DECISION#{self.table_name}",
            f"RUN#{self.decided_at.isoformat()}#{self.runbook}",
        )

    def detail_lines(self) -> list[str]:
        """Runbook-specific lines for the notification body (subclasses add theirs)."""
        if not self.findings:
            return []
        return ["", "What CloudWatch shows:", *(f"  - {line}" for line in self.findings)]

    def links(self) -> list[tuple[str, str]]:
        """(label, URL) of console pages the runbook built itself, linked in the notification
        beside the table's and the alarm's (never inside `next_steps`, which is escaped)."""
        return []

    def subject(self) -> str:
        """What the decision is about, for the notification's title: the table (and index).
        A decision about several tables (a daily report) names them instead."""
        where = self.table_name or "unknown table"
        return f"{where}/{self.index_name}" if self.index_name else where

    def as_result(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def as_event_detail(self) -> dict[str, Any]:
        """The `detail` of the decision's EventBridge event (docs/architecture.md): the
        handler's decision dict. A runbook whose decision holds table data masks it here, as in
        notifications."""
        return self.as_result()


def decision_key(
    table_name: str, runbook: str, alarm_name: str | None, state_timestamp: datetime | None
) -> tuple[str, str] | None:
    """The record key of the decision an alarm event leads to (None without an alarm)."""
    if alarm_name is None or state_timestamp is None:
        return None
    return (
        f"DECISION#{bounded(table_name)}",
        f"ALARM#{state_timestamp.isoformat()}#{bounded(alarm_name)}#{runbook}",
    )


KEY_PART_BYTES = 300
"""Longest name kept as it is in a key: DynamoDB allows 1,024 bytes in a sort key."""


def bounded(name: str, limit: int = KEY_PART_BYTES) -> str:
    """`name` when it fits `limit` UTF-8 bytes, else its start and a hash of the whole: keys
    built from names an event carries stay within DynamoDB's key limits and stay unique."""
    encoded = name.encode("utf-8")
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:32]
    head = encoded[: limit - len(digest) - 1].decode("utf-8", errors="ignore")
    return f"{head}~{digest}"


class Recorded(NamedTuple):
    """A decision record as stored: the decision and its notification's state."""

    decision: Decision
    notified: bool
    """The notification was sent."""
    notification: str = "none"
    """`none` (nothing to announce), `pending`, `sent` or `failed`."""
    notification_attempts: int = 0
    """Publish attempts begun: more than one means a person may already have the message."""
