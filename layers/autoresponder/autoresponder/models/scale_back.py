"""scale_back's inputs and decisions: the schedule's event, alarms in ALARM, metric activity."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from autoresponder.models.alarm import AlarmMetric
from autoresponder.models.decision import Decision


class ScheduledEvent(BaseModel):
    """EventBridge's "Scheduled Event", the schedule's only payload.

    A schedule rule sends it with source `aws.events`; template.yaml's EventBridge Scheduler
    schedule sends the same envelope as its `Input` with source `aws.scheduler`. `time` is the
    scheduled time: a retried or duplicated delivery carries the same one, so it keys the run
    (decision records, replays of an interrupted change).
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    id: str = ""
    source: Literal["aws.events", "aws.scheduler"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    time: AwareDatetime
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def run_key(self) -> str:
        return f"scale_back@{self.time.isoformat()}"


class ActiveAlarm(BaseModel):
    """A metric alarm currently in ALARM (from `DescribeAlarms`, `StateValue=ALARM`)."""

    model_config = ConfigDict(frozen=True)

    alarm_name: str
    metrics: list[AlarmMetric]
    since: datetime
    """When the alarm last changed state (`StateUpdatedTimestamp`)."""
    recent_datapoints: list[float] = Field(default_factory=list)

    @property
    def throttle_value(self) -> float | None:
        return max(self.recent_datapoints) if self.recent_datapoints else None


class WindowActivity(BaseModel):
    """What a table or index did over the stabilization window, for one dimension."""

    model_config = ConfigDict(frozen=True)

    consumed_peak: float | None = None
    """Highest demand in units per second: consumed plus rejected, per minute
    (`UnitDiagnosis.demand_peak`); None when nothing was reported (CloudWatch reports no
    datapoint for a minute without requests)."""
    throttle_events: float = 0.0
    """Throttled requests (`Read/WriteThrottleEvents`) summed over the window."""
    peak_at: datetime | None = None
    """The minute of the peak (the peak leaves the window a window's length after it)."""
    last_throttled_at: datetime | None = None


RecordKind = Literal["back", "followup", "table", "episode"]
Trigger = Literal["schedule", "recheck"]


class ScaleBackDecision(Decision):
    """One decision of a scheduled run: keyed by the run and the table/index/dimension, so a
    retried or duplicated run finds the decision it already took instead of taking another."""

    run_at: datetime
    """The schedule's time (the event's `time`), the same for every retry of that run."""
    kind: RecordKind = "back"
    trigger: Trigger = "schedule"
    """What ran it: the 15-minute schedule, or a one-time re-check of the table."""
    hold_reason: str | None = None
    """For a `hold`: still_busy, budget or stabilizing."""
    announce: bool | None = None
    """Overrides the default notification rule (a `skip` that stops tracking a raise)."""

    @property
    def notify(self) -> bool:
        if self.announce is not None:
            return self.announce
        return super().notify

    def record_key(self) -> tuple[str, str]:
        return run_record_key(
            self.table_name or "-",
            self.run_at,
            self.index_name,
            self.dimension,
            self.kind,
            trigger=self.trigger,
        )


def run_record_key(
    table_name: str,
    run_at: datetime,
    index_name: str | None,
    dimension: str | None,
    kind: RecordKind,
    *,
    trigger: Trigger = "schedule",
) -> tuple[str, str]:
    prefix = "RUN" if trigger == "schedule" else "RECHECK"
    return (
        f"DECISION#{table_name}",
        f"{prefix}#{run_at.isoformat()}#scale_back#{index_name or '-'}#{dimension or '-'}#{kind}",
    )
