"""The EventBridge "CloudWatch Alarm State Change" event, parsed at the edge.

Powertools' `CloudWatchAlarmEvent` models an alarm invoking Lambda directly; EventBridge wraps
the alarm in a different envelope, modelled here.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from autoresponder.models.names import NAMED_DIMENSIONS, name_problem

DYNAMODB_NAMESPACE = "AWS/DynamoDB"
_TIMESTAMP: TypeAdapter[AwareDatetime] = TypeAdapter(AwareDatetime)


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")


class AlarmStateValue(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmState(_Model):
    value: AlarmStateValue
    reason: str = ""
    reason_data: dict[str, Any] = Field(default_factory=dict, alias="reasonData")
    timestamp: AwareDatetime

    @field_validator("reason_data", mode="before")
    @classmethod
    def _decode_reason_data(cls, value: object) -> object:
        """`reasonData` arrives as a JSON *string*; an unreadable one is kept as text."""
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except json.JSONDecodeError:
                return {"unparsed": value}
            return decoded if isinstance(decoded, dict) else {"value": decoded}
        return value

    @property
    def recent_datapoints(self) -> list[float]:
        points = self.reason_data.get("recentDatapoints") or []
        return [float(p) for p in points if isinstance(p, int | float)]

    @property
    def evaluated(self) -> bool:
        """Whether CloudWatch evaluated the alarm (`reasonData` present); `set-alarm-state`
        gives none unless the caller passes one."""
        return bool(self.reason_data)

    @property
    def evaluated_at(self) -> datetime | None:
        """The newest datapoint the evaluation looked at (`evaluatedDatapoints`), if said."""
        found = []
        for point in self.reason_data.get("evaluatedDatapoints") or []:
            raw = point.get("timestamp") if isinstance(point, dict) else None
            try:
                found.append(_TIMESTAMP.validate_python(raw))
            except ValidationError:
                continue
        return max(found, default=None)

    @property
    def triggering_alarm_names(self) -> list[str]:
        """Child alarms named by a composite alarm's `reasonData`."""
        names = []
        for child in self.reason_data.get("triggeringAlarms") or []:
            arn = child.get("arn", "") if isinstance(child, dict) else ""
            if ":alarm:" in arn:
                names.append(arn.split(":alarm:", 1)[1])
        return names


class Metric(_Model):
    namespace: str
    name: str
    dimensions: dict[str, str] = Field(default_factory=dict)


class MetricStat(_Model):
    metric: Metric
    period: int | None = None
    stat: str | None = None


class AlarmMetric(_Model):
    id: str = ""
    metric_stat: MetricStat | None = Field(default=None, alias="metricStat")
    expression: str | None = None
    return_data: bool | None = Field(default=None, alias="returnData")
    label: str | None = None


class AlarmConfiguration(_Model):
    description: str | None = None
    metrics: list[AlarmMetric] = Field(default_factory=list)
    alarm_rule: str | None = Field(default=None, alias="alarmRule")

    @property
    def is_composite(self) -> bool:
        return self.alarm_rule is not None and not self.metrics

    @model_validator(mode="after")
    def _dynamodb_names(self) -> AlarmConfiguration:
        """Table and index names follow DynamoDB's own rules, or the event is not a DynamoDB
        alarm: a `TableName` such as `orders <https://evil.example|Approve>` (with a line
        break) never reaches a runbook, a log line or a notification."""
        for metric in self.metrics:
            stat = metric.metric_stat
            if stat is None or stat.metric.namespace != DYNAMODB_NAMESPACE:
                continue
            for dimension in NAMED_DIMENSIONS:
                value = stat.metric.dimensions.get(dimension)
                problem = None if value is None else name_problem(dimension, value)
                if problem is not None:
                    raise ValueError(problem)
        return self


class AlarmDetail(_Model):
    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=255)
    """CloudWatch allows 255 characters: anything longer is not an alarm's."""
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)
    alarm_tags: dict[str, str] = Field(default_factory=dict, alias="alarmTags")

    @field_validator("alarm_tags", mode="before")
    @classmethod
    def _tags_as_dict(cls, value: object) -> object:
        """Accept `{"k": "v"}` and the API's `[{"Key": k, "Value": v}]`."""
        if isinstance(value, list):
            return {t.get("Key"): t.get("Value") for t in value if isinstance(t, dict)}
        return value or {}


class AlarmStateChangeEvent(_Model):
    """The whole EventBridge event (source `aws.cloudwatch`)."""

    id: str = ""
    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    time: AwareDatetime | None = None
    resources: list[str] = Field(default_factory=list)
    detail: AlarmDetail

    @property
    def alarm_name(self) -> str:
        return self.detail.alarm_name

    @property
    def partition(self) -> str:
        """`aws`, `aws-cn`, `aws-us-gov`: read off the alarm's ARN."""
        for arn in self.resources:
            parts = arn.split(":")
            if len(parts) > 2 and parts[0] == "arn" and parts[1]:
                return parts[1]
        return "aws"

    def table_arn(self, table_name: str) -> str:
        """The ARN of a table in the alarm's account and region."""
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{table_name}"

    @property
    def idempotency_key(self) -> str:
        """Same alarm, same state timestamp: the same delivery (EventBridge is at least once)."""
        return f"{self.detail.alarm_name}@{self.detail.state.timestamp.isoformat()}"
