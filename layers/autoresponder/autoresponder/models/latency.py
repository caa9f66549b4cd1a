"""The latency runbook's inputs and decision: what triggers it and the per-operation table.

Two shapes reach `report_latency_regression`: a CloudWatch alarm on `SuccessfulRequestLatency`
entering ALARM (EventBridge), and the daily schedule. Both are parsed at the edge into
`LatencyTrigger`, a union discriminated by `detail-type`; anything else is rejected.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    computed_field,
)

from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Action, Decision

RUNBOOK = "report_latency_regression"
REPORT_PK = f"REPORT#{RUNBOOK}"


class LatencyAction(StrEnum):
    """The runbook's own actions (besides the shared `skip`, `fail` and `reject`)."""

    LATENCY_REGRESSION = "latency_regression"
    NO_REGRESSION = "no_regression"


BaselineLabel = Literal["1d", "7d"]


class Verdict(StrEnum):
    REGRESSION = "regression"
    """The current average exceeds a baseline by the ratio and the floor (SLA or not)."""
    SLA_BREACH = "sla_breach"
    """Over the operation's target, but no slower than the baselines."""
    OK = "ok"
    NO_TRAFFIC = "no_traffic"
    """No successful request of this operation in the current window."""


# --------------------------------------------------------------------------------------------
# triggers
# --------------------------------------------------------------------------------------------
class ScheduledEvent(BaseModel):
    """The daily run, shaped like EventBridge's "Scheduled Event" envelope.

    A schedule rule sends it with source `aws.events`; the EventBridge Scheduler schedule in
    template.yaml sends the same envelope as its `Input`, with source `aws.scheduler` and the
    scheduler's context attributes (`<aws.scheduler.scheduled-time>`, ...) filled in.
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    id: str = ""
    source: Literal["aws.events", "aws.scheduler"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    time: AwareDatetime
    """The scheduled time: the end of the reported window."""
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def partition(self) -> str:
        for arn in self.resources:
            parts = arn.split(":")
            if len(parts) > 2 and parts[0] == "arn" and parts[1]:
                return parts[1]
        return "aws"

    def table_arn(self, table_name: str) -> str:
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{table_name}"

    @property
    def idempotency_key(self) -> str:
        """Same schedule, same scheduled time: the same run (delivered at least once)."""
        origin = self.resources[0] if self.resources else self.source
        return f"{origin}@{self.time.isoformat()}"


LatencyTrigger = Annotated[
    AlarmStateChangeEvent | ScheduledEvent, Field(discriminator="detail_type")
]
TRIGGER: TypeAdapter[AlarmStateChangeEvent | ScheduledEvent] = TypeAdapter(LatencyTrigger)
"""`TRIGGER.validate_python(raw)` parses either shape; a `ValidationError` means reject."""


# --------------------------------------------------------------------------------------------
# the per-operation table
# --------------------------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class WindowStats(_Model):
    """`SuccessfulRequestLatency` of one operation over one window (None: no data)."""

    avg_ms: float | None = None
    max_ms: float | None = None
    samples: int = 0

    @property
    def has_traffic(self) -> bool:
        return self.samples > 0 and self.avg_ms is not None


class OperationLatency(_Model):
    """One row of the report: an operation of a table, now against its baselines."""

    table_name: str
    operation: str
    now: WindowStats
    baseline_1d: WindowStats
    """The same window one day earlier."""
    baseline_7d: WindowStats
    """The same window seven days earlier."""
    change_1d_percent: float | None = None
    change_7d_percent: float | None = None
    sla_target_ms: float | None = None
    verdict: Verdict
    regressed_against: list[BaselineLabel] = Field(default_factory=list)
    note: str = ""
    """Why the verdict, in words (e.g. "too few samples to compare")."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def change_percent(self) -> float | None:
        """The larger change of the two baselines (None when neither can be compared)."""
        changes = [c for c in (self.change_1d_percent, self.change_7d_percent) if c is not None]
        return max(changes) if changes else None


class LikelyCause(_Model):
    """One thing that often explains high latency, and whether it held in the window."""

    table_name: str
    cause: Literal[
        "throttling", "capacity_near_provisioned", "many_items", "updating", "recent_change"
    ]
    holds: bool
    detail: str


class ComparedWindows(_Model):
    window_minutes: int
    current_start: datetime
    current_end: datetime
    baseline_1d_start: datetime
    baseline_7d_start: datetime


# --------------------------------------------------------------------------------------------
# the decision
# --------------------------------------------------------------------------------------------
def report_key(report_at: datetime) -> tuple[str, str]:
    """(pk, sk) of a daily report's record: one per scheduled time, so a retry finds it."""
    return REPORT_PK, f"RUN#{report_at.isoformat()}"


class LatencyDecision(Decision):
    """`latency_regression` or `no_regression`, with the per-operation table.

    An alarm decision is about one table (`table_name`); the daily report covers every managed
    table (`table_name` is null, `tables` lists them) and is keyed by its scheduled time.
    """

    trigger: Literal["alarm", "schedule"] = "alarm"
    operations: list[OperationLatency] = Field(default_factory=list)
    causes: list[LikelyCause] = Field(default_factory=list)
    windows: ComparedWindows | None = None
    tables: list[str] = Field(default_factory=list)
    graph_urls: dict[str, str] = Field(default_factory=dict)
    """CloudWatch console graph of `SuccessfulRequestLatency`, per table."""
    graph_links: list[str] = Field(default_factory=list)
    """Tables whose graph the notification links (email and chat): the alarm's table, or the
    tables of the daily report that regressed or breached a target."""
    report_at: datetime | None = None
    """The scheduled time of a daily report (its record key)."""

    @property
    def notify(self) -> bool:
        """Regressions and failures are announced; `no_regression` is routine (recorded and
        logged only), as are skips and rejects."""
        return self.action in {LatencyAction.LATENCY_REGRESSION, Action.FAIL}

    def record_key(self) -> tuple[str, str]:
        if self.trigger == "schedule" and self.report_at is not None:
            return report_key(self.report_at)
        return super().record_key()

    def links(self) -> list[tuple[str, str]]:
        return [
            (f"Latency graph of {table}", self.graph_urls[table])
            for table in self.graph_links
            if table in self.graph_urls
        ]

    def subject(self) -> str:
        if self.trigger != "schedule":
            return super().subject()
        regressed = sorted({op.table_name for op in self.regressions})
        count = f"{len(self.tables)} managed table{'s' if len(self.tables) != 1 else ''}"
        return f"daily report, {count}" + (f" ({', '.join(regressed)})" if regressed else "")

    @property
    def regressions(self) -> list[OperationLatency]:
        return [op for op in self.operations if op.verdict is Verdict.REGRESSION]

    def detail_lines(self) -> list[str]:
        lines: list[str] = []
        if self.windows is not None:
            w = self.windows
            lines += [
                "",
                f"Compared: the {_words(w.window_minutes)} window "
                f"{w.current_start:%Y-%m-%d %H:%M}–{w.current_end:{_end_format(w)}} UTC with the "
                "same window "
                f"1 day ({w.baseline_1d_start:%Y-%m-%d %H:%M}) and 7 days "
                f"({w.baseline_7d_start:%Y-%m-%d %H:%M}) earlier.",
            ]
        shown = [op for op in self.operations if op.verdict is not Verdict.NO_TRAFFIC]
        if shown:
            lines += ["", "Latency (ms: average / maximum, samples):"]
            lines += [_row(op, several_tables=len(self.tables) > 1) for op in shown]
        quiet = [op for op in self.operations if op.verdict is Verdict.NO_TRAFFIC]
        if quiet:
            names = ", ".join(_name(op, len(self.tables) > 1) for op in quiet)
            lines.append(f"No traffic now: {names}")
        held = [c for c in self.causes if c.holds]
        if self.causes:
            lines += ["", "Likely causes:"]
            lines += [f"  - [holds] {c.table_name}: {c.detail}" for c in held] or [
                "  - none of the usual causes holds"
            ]
        return lines


def _end_format(windows: ComparedWindows) -> str:
    same_day = windows.current_start.date() == windows.current_end.date()
    return "%H:%M" if same_day else "%Y-%m-%d %H:%M"


def _words(minutes: int) -> str:
    return f"{minutes // 60}-hour" if minutes >= 60 and not minutes % 60 else f"{minutes}-minute"


def _name(op: OperationLatency, several_tables: bool) -> str:
    return f"{op.table_name}/{op.operation}" if several_tables else op.operation


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0f}%"


def _stats(stats: WindowStats) -> str:
    if not stats.has_traffic:
        return "no data"
    return f"{_ms(stats.avg_ms)} / {_ms(stats.max_ms)} ({stats.samples})"


def _row(op: OperationLatency, *, several_tables: bool) -> str:
    target = f", target {op.sla_target_ms:g} ms" if op.sla_target_ms is not None else ""
    return (
        f"  - {_name(op, several_tables)}: {op.verdict.value.upper()}  now {_stats(op.now)}; "
        f"1 day earlier {_stats(op.baseline_1d)} [{_pct(op.change_1d_percent)}]; "
        f"7 days earlier {_stats(op.baseline_7d)} [{_pct(op.change_7d_percent)}]{target}"
    )
