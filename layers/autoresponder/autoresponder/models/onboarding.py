"""Onboarding: what starts a reconcile, the alarms a covered table gets, the decision.

Two events start `onboard_tables`, both parsed here at the edge (anything else is a `reject`):
- the hourly schedule ("Scheduled Event", source `aws.scheduler` or `aws.events`): every table;
- "Tag Change on Resource" (source `aws.tag`) for a DynamoDB table: reconcile that table.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from autoresponder.models.decision import Decision
from autoresponder.models.names import name_problem
from autoresponder.models.tags import MANAGED_TAG, is_managed

RUNBOOK = "onboard_tables"
CREATED_BY_TAG = "autoresponder:created-by"
"""Every alarm onboard_tables makes carries `autoresponder:created-by=onboard_tables`: the only
alarms it ever updates or deletes."""
TABLE_TAG = "autoresponder:table"
INDEX_TAG = "autoresponder:index"
KIND_TAG = "autoresponder:kind"


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")


# --------------------------------------------------------------------------------------------
# triggers
# --------------------------------------------------------------------------------------------
class ScheduledEvent(_Model):
    """The hourly schedule: EventBridge Scheduler with the "Scheduled Event" envelope as input
    (template.yaml), or a classic EventBridge schedule rule (source `aws.events`)."""

    id: str = ""
    source: Literal["aws.scheduler", "aws.events"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    time: AwareDatetime
    resources: list[str] = Field(default_factory=list)


class TagChangeDetail(_Model):
    changed_tag_keys: list[str] = Field(alias="changed-tag-keys")
    service: Literal["dynamodb"]
    resource_type: Literal["table"] = Field(alias="resource-type")
    version: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class TagChangeEvent(_Model):
    """EventBridge "Tag Change on Resource" for one DynamoDB table (best-effort delivery)."""

    id: str = ""
    source: Literal["aws.tag"]
    detail_type: Literal["Tag Change on Resource"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    time: AwareDatetime
    resources: list[str] = Field(min_length=1)
    detail: TagChangeDetail

    @property
    def table_name(self) -> str:
        """The table named by `resources[0]` (`arn:…:dynamodb:…:table/<name>`)."""
        arn = self.resources[0]
        if ":table/" not in arn:
            raise ValueError(f"not a DynamoDB table ARN: {arn}")
        return arn.split(":table/", 1)[1].split("/", 1)[0]

    @model_validator(mode="after")
    def _dynamodb_table_name(self) -> TagChangeEvent:
        """The table's name follows DynamoDB's own rules, or the event is not about a table."""
        arn = self.resources[0]
        if ":table/" in arn:
            problem = name_problem("resources[0] table", self.table_name)
            if problem is not None:
                raise ValueError(problem)
        return self


OnboardTrigger = Annotated[ScheduledEvent | TagChangeEvent, Field(discriminator="source")]
TRIGGER: TypeAdapter[ScheduledEvent | TagChangeEvent] = TypeAdapter(OnboardTrigger)


def parse_trigger(raw: object) -> ScheduledEvent | TagChangeEvent:
    """The trigger model; raises `pydantic.ValidationError` (or ValueError) for anything else."""
    trigger = TRIGGER.validate_python(raw)
    if isinstance(trigger, TagChangeEvent):
        trigger.table_name  # noqa: B018 - validates the ARN
    return trigger


# --------------------------------------------------------------------------------------------
# alarms
# --------------------------------------------------------------------------------------------
class AlarmKind(StrEnum):
    """What an alarm watches; the last part of its name (latency adds the operation)."""

    READ_PROVISIONED = "read-provisioned-throttle"
    WRITE_PROVISIONED = "write-provisioned-throttle"
    READ_KEY_RANGE = "read-key-range-throttle"
    WRITE_KEY_RANGE = "write-key-range-throttle"
    READ_MAX_ON_DEMAND = "read-max-on-demand-throttle"
    WRITE_MAX_ON_DEMAND = "write-max-on-demand-throttle"
    READ_ABOVE_PROVISIONED = "read-above-provisioned"
    WRITE_ABOVE_PROVISIONED = "write-above-provisioned"
    """Pre-throttle: consumed capacity above provisioned for a minute (burst being spent)."""
    LATENCY = "latency"


class Coverage(StrEnum):
    """Why a table is covered: `managed` (tagged; the runbooks may act) or `watch` (the stack's
    watch list: alarms and reports only, the table is never changed)."""

    MANAGED = "managed"
    WATCH = "watch"


class MetricQuery(_Model):
    """One entry of a metric-math alarm's `Metrics`: a metric it reads (`metric_name` set) or
    an expression over them (`expression` set)."""

    id: str
    expression: str | None = None
    label: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    """Sorted (name, value) pairs."""
    stat: str | None = None
    period: int | None = None
    return_data: bool = False


class AlarmSpec(_Model):
    """The part of a metric alarm's definition that PutMetricAlarm sets and reconcile compares:
    one metric (`namespace` ... `period`), or metric math (`metrics`, and those left empty)."""

    namespace: str = ""
    metric_name: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()
    """Sorted (name, value) pairs."""
    statistic: str = ""
    period: int = 0
    metrics: tuple[MetricQuery, ...] = ()
    """A metric-math alarm's queries, in PutMetricAlarm's order (empty for one metric)."""
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison_operator: str
    treat_missing_data: str
    description: str

    @property
    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    @property
    def alarm_metrics(self) -> int:
        """What CloudWatch bills the alarm as: one alarm metric per metric it reads (metric
        math: each metric its expression lists, at most 10), one for a single-metric alarm."""
        if not self.metrics:
            return 1
        return sum(1 for query in self.metrics if query.metric_name)


class AlarmDefinition(_Model):
    """One alarm onboard_tables wants to exist."""

    name: str
    table_name: str
    index_name: str | None = None
    kind: AlarmKind
    operation: str | None = None
    spec: AlarmSpec

    @property
    def tags(self) -> dict[str, str]:
        tags = {CREATED_BY_TAG: RUNBOOK, TABLE_TAG: self.table_name, KIND_TAG: self.kind.value}
        if self.index_name:
            tags[INDEX_TAG] = self.index_name
        return tags


class ObservedAlarm(_Model):
    """An alarm found in the account under the prefix, with its tags."""

    name: str
    tags: dict[str, str] = Field(default_factory=dict)
    spec: AlarmSpec | None = None
    """None for a composite alarm (never one of ours)."""

    @property
    def ours(self) -> bool:
        return self.tags.get(CREATED_BY_TAG) == RUNBOOK

    @property
    def table_name(self) -> str | None:
        return self.tags.get(TABLE_TAG) if self.ours else None


# --------------------------------------------------------------------------------------------
# scalable targets
# --------------------------------------------------------------------------------------------
SCALABLE_TARGET_TAG = MANAGED_TAG
"""The tag onboard_tables keeps on the Application Auto Scaling scalable targets of a managed
table (`autoresponder:managed=true`): IAM lets the runbooks call RegisterScalableTarget only on
targets carrying it (`aws:ResourceTag` reads the target's tags, not the table's)."""


class ObservedScalableTarget(_Model):
    """A scalable target of a table or GSI (DescribeScalableTargets), with its tags."""

    resource_id: str
    scalable_dimension: str
    arn: str
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        """`table/<t>[/index/<i>] (dynamodb:<table|index>:<Read|Write>CapacityUnits)`."""
        return f"{self.resource_id} ({self.scalable_dimension})"

    @property
    def tagged(self) -> bool:
        return is_managed(self.tags)


# --------------------------------------------------------------------------------------------
# the decision
# --------------------------------------------------------------------------------------------
class OnboardAction(StrEnum):
    ONBOARD = "onboard"
    UPDATE_ALARMS = "update_alarms"
    OFFBOARD = "offboard"


class OnboardDecision(Decision):
    """What reconcile did to one table's alarms."""

    coverage: Coverage | None = None
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    """Alarm names that exist but were not made by the responder: left alone."""
    insights_enabled: list[str] = Field(default_factory=list)
    """`table` or `table/index` where Contributor Insights (THROTTLED_KEYS) was turned on."""
    scalable_targets_tagged: list[str] = Field(default_factory=list)
    """Scalable targets (`ObservedScalableTarget.label`) given `autoresponder:managed=true`."""
    scalable_targets_untagged: list[str] = Field(default_factory=list)
    """Scalable targets whose `autoresponder:managed` tag was removed (table no longer managed)."""
    alarm_count: int | None = None
    """The responder's alarms on the table once the change is made (0 when offboarded)."""
    alarm_metrics: int | None = None
    """The metrics those alarms read, what CloudWatch bills: one per single-metric alarm, two
    per pre-throttle (metric-math) alarm (0 when offboarded)."""
    alarm_cost_per_month: float | None = None
    """What they cost a month in USD (`alarm_metrics` × `PRICE_PER_ALARM_MONTH`); for an
    offboarding, what the deleted alarms cost (the saving)."""
    record_sk: str = ""
    """Sort key of the record (deterministic per trigger, so a retry finds it)."""
    trigger: str | None = None
    """`schedule` or `tag-change`."""

    def record_key(self) -> tuple[str, str]:
        """`DECISION#<table>` (`ONBOARD` for a failure before any table) / `record_sk`."""
        if not self.record_sk:
            return super().record_key()
        pk = f"DECISION#{self.table_name}" if self.table_name else "ONBOARD"
        return pk, self.record_sk

    def detail_lines(self) -> list[str]:
        lines = []
        for label, names in (
            ("Alarms created", self.created),
            ("Alarms updated", self.updated),
            ("Alarms deleted", self.deleted),
            ("Left alone (not made by the responder)", self.conflicts),
        ):
            if names:
                lines += ["", f"{label} ({len(names)}):", *[f"  - {name}" for name in names]]
        if self.insights_enabled:
            lines += ["", "Contributor Insights (THROTTLED_KEYS) turned on for:"]
            lines += [f"  - {where}" for where in self.insights_enabled]
        for label, names in (
            ("Scalable targets tagged autoresponder:managed=true", self.scalable_targets_tagged),
            ("Scalable targets untagged (autoresponder:managed)", self.scalable_targets_untagged),
        ):
            if names:
                lines += ["", f"{label} ({len(names)}):", *[f"  - {name}" for name in names]]
        if self.coverage is Coverage.WATCH:
            lines += ["", "Watch only: the runbooks report on this table and never change it."]
        price = self.inputs.get("price_per_alarm_month")
        if self.alarm_cost_per_month is not None and price is not None:
            metrics = self.alarm_metrics if self.alarm_metrics is not None else self.alarm_count
            lines += [
                "",
                f"Alarm cost: {self.alarm_count} alarm(s) now, reading {metrics} metric(s); "
                f"CloudWatch bills ${price:,.2f} a month per metric a standard-resolution alarm "
                "reads (PRICE_PER_ALARM_MONTH; the first 10 alarm metrics of an account are "
                "free): "
                + (
                    f"about ${self.alarm_cost_per_month:,.2f} a month less"
                    if self.action == OnboardAction.OFFBOARD
                    else f"about ${self.alarm_cost_per_month:,.2f} a month"
                ),
            ]
        return lines
