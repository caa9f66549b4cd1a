"""Test helpers for onboard_tables: its two trigger events, in-memory ports, and the alarm state
change event a created alarm would emit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autoresponder.errors import AutoresponderError, ResourceNotFoundError
from autoresponder.models.hot_keys import InsightsMode, InsightsStatus
from autoresponder.models.onboarding import (
    AlarmDefinition,
    AlarmSpec,
    MetricQuery,
    ObservedAlarm,
    ObservedScalableTarget,
)
from autoresponder.models.table import TableDescription

ACCOUNT = "123456789012"
REGION = "us-east-1"
MANAGED_KEY = "autoresponder:managed"
MANAGED = {MANAGED_KEY: "true"}
SCHEDULE_TIME = "2026-11-20T15:00:00Z"


# --------------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------------
def scheduled_event(
    event_id: str = "sched-1", time: str = SCHEDULE_TIME, source: str = "aws.scheduler"
) -> dict[str, Any]:
    """The hourly schedule, as the template's EventBridge Scheduler `Input` builds it."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": source,
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/onboard-hourly"],
        "detail": {},
    }


def tag_change_event(
    table: str,
    tags: dict[str, str],
    changed: Sequence[str] = ("autoresponder:managed",),
    *,
    event_id: str = "tag-1",
    service: str = "dynamodb",
    resource_type: str = "table",
    time: str = "2026-11-20T15:10:00Z",
) -> dict[str, Any]:
    """EventBridge "Tag Change on Resource" (source aws.tag) for one DynamoDB table."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Tag Change on Resource",
        "source": "aws.tag",
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"],
        "detail": {
            "changed-tag-keys": list(changed),
            "service": service,
            "resource-type": resource_type,
            "version": 3,
            "tags": tags,
        },
    }


def state_change_event(alarm: AlarmDefinition, state: str = "ALARM") -> dict[str, Any]:
    """The "CloudWatch Alarm State Change" a created alarm emits (same shape as events/*.json),
    with `configuration.metrics` built from the alarm's definition (one metric, or the
    expression and the metrics of a metric-math alarm)."""
    spec = alarm.spec
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm.name}"
    reason: dict[str, Any] = {"version": "1.0", "queryDate": "2026-11-20T14:05:12.347+0000"}
    if spec.metrics:
        reason["period"] = next(q.period for q in spec.metrics if q.period)
        metrics = [_event_query(query) for query in spec.metrics]
    else:
        reason |= {"statistic": spec.statistic, "period": spec.period}
        metrics = [
            {
                "id": "m1",
                "metricStat": {
                    "metric": {
                        "namespace": spec.namespace,
                        "name": spec.metric_name,
                        "dimensions": dict(spec.dimensions),
                    },
                    "period": spec.period,
                    "stat": spec.statistic,
                },
                "returnData": True,
            }
        ]
    reason |= {"recentDatapoints": [spec.threshold + 1], "threshold": spec.threshold}
    return {
        "version": "0",
        "id": "6e0c2b3e-0000-4000-8000-000000000001",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": "2026-11-20T14:05:12Z",
        "region": REGION,
        "resources": [arn],
        "detail": {
            "alarmName": alarm.name,
            "state": {
                "value": state,
                "reason": "Threshold Crossed: 1 datapoint was greater than the threshold",
                "reasonData": json.dumps(reason),
                "timestamp": "2026-11-20T14:05:12.347+0000",
            },
            "previousState": {
                "value": "OK",
                "reason": "Threshold Crossed",
                "timestamp": "2026-11-20T13:05:12.347+0000",
            },
            "configuration": {"description": spec.description, "metrics": metrics},
            "alarmTags": [{"Key": k, "Value": v} for k, v in sorted(alarm.tags.items())],
        },
    }


def _event_query(query: MetricQuery) -> dict[str, Any]:
    """One `configuration.metrics` entry of a metric-math alarm's event."""
    entry: dict[str, Any] = {"id": query.id, "returnData": query.return_data}
    if query.expression is not None:
        entry |= {"expression": query.expression, "label": query.label}
    if query.metric_name is not None:
        entry["metricStat"] = {
            "metric": {
                "namespace": query.namespace,
                "name": query.metric_name,
                "dimensions": dict(query.dimensions),
            },
            "period": query.period,
            "stat": query.stat,
        }
    return entry


# --------------------------------------------------------------------------------------------
# fakes
# --------------------------------------------------------------------------------------------
@dataclass
class FakeCatalog:
    """Tables and their tags; a missing table answers ResourceNotFound, like DynamoDB."""

    tables: dict[str, TableDescription] = field(default_factory=dict)
    tags_by_table: dict[str, dict[str, str]] = field(default_factory=dict)
    error: AutoresponderError | None = None

    def add(self, table: TableDescription, tags: dict[str, str] | None = None) -> None:
        self.tables[table.table_name] = table
        self.tags_by_table[table.table_name] = dict(tags or {})

    def remove(self, name: str) -> None:
        self.tables.pop(name)
        self.tags_by_table.pop(name)

    def list_table_names(self) -> list[str]:
        return sorted(self.tables)

    def describe(self, table_name: str) -> TableDescription:
        if self.error is not None:
            raise self.error
        if table_name not in self.tables:
            raise ResourceNotFoundError("DescribeTable failed", table=table_name)
        return self.tables[table_name]

    def tags(self, table_arn: str) -> dict[str, str]:
        name = table_arn.rsplit("/", 1)[-1]
        if name not in self.tags_by_table:
            raise ResourceNotFoundError("ListTagsOfResource failed", resource=table_arn)
        return dict(self.tags_by_table[name])


@dataclass
class FakeAlarmRegistry:
    """CloudWatch alarms as PutMetricAlarm treats them: tags are set on creation only."""

    alarms_by_name: dict[str, ObservedAlarm] = field(default_factory=dict)
    puts: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    fail_put: list[AutoresponderError] = field(default_factory=list)
    """Errors raised by the next PutMetricAlarm calls, one each."""
    fail_put_after: int = 0
    """How many puts succeed before the first error of `fail_put`."""
    latency: dict[str, set[str]] = field(default_factory=dict)
    list_error: AutoresponderError | None = None
    """Raised by every DescribeAlarms."""

    def human_alarm(self, name: str, spec: AlarmSpec | None = None) -> None:
        """An alarm someone made by hand (no responder tag)."""
        self.alarms_by_name[name] = ObservedAlarm(name=name, tags={"team": "db"}, spec=spec)

    def alarms(self, name_prefix: str) -> dict[str, ObservedAlarm]:
        if self.list_error is not None:
            raise self.list_error
        return {n: a for n, a in self.alarms_by_name.items() if n.startswith(name_prefix)}

    def put(self, alarm: AlarmDefinition) -> None:
        if self.fail_put and self.fail_put_after <= 0:
            raise self.fail_put.pop(0)
        self.fail_put_after -= 1
        self.puts.append(alarm.name)
        found = self.alarms_by_name.get(alarm.name)
        tags = found.tags if found is not None else alarm.tags
        self.alarms_by_name[alarm.name] = ObservedAlarm(name=alarm.name, tags=tags, spec=alarm.spec)

    def delete(self, names: Sequence[str]) -> None:
        for name in names:
            self.deletes.append(name)
            self.alarms_by_name.pop(name, None)

    def latency_operations(self, table_name: str | None = None) -> dict[str, set[str]]:
        return {t: set(ops) for t, ops in self.latency.items() if table_name in (None, t)}

    @property
    def names(self) -> set[str]:
        return set(self.alarms_by_name)


@dataclass
class FakeInsights:
    statuses: dict[tuple[str, str | None], str] = field(default_factory=dict)
    enabled: list[tuple[str, str | None, InsightsMode]] = field(default_factory=list)

    def describe(self, table_name: str, index_name: str | None) -> InsightsStatus:
        return InsightsStatus(
            table_name=table_name,
            index_name=index_name,
            status=self.statuses.get((table_name, index_name), "DISABLED"),
        )

    def enable(self, table_name: str, index_name: str | None, mode: InsightsMode) -> str:
        self.enabled.append((table_name, index_name, mode))
        self.statuses[(table_name, index_name)] = "ENABLING"
        return "ENABLING"

    def report(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


@dataclass
class FakeScalableTargets:
    """Application Auto Scaling targets with their tags; records every tag change."""

    by_arn: dict[str, ObservedScalableTarget] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(`tag` or `untag`, resource id + dimension label) in call order."""
    error: AutoresponderError | None = None
    """Raised by every TagResource/UntagResource."""

    def register(
        self,
        table: str,
        index: str | None = None,
        tags: dict[str, str] | None = None,
        units: Sequence[str] = ("Read", "Write"),
    ) -> None:
        """The table's (or GSI's) read and write scalable targets."""
        rid = f"table/{table}" + (f"/index/{index}" if index else "")
        kind = "index" if index else "table"
        for unit in units:
            arn = f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/{rid}{unit}"
            self.by_arn[arn] = ObservedScalableTarget(
                resource_id=rid,
                scalable_dimension=f"dynamodb:{kind}:{unit}CapacityUnits",
                arn=arn,
                tags=dict(tags or {}),
            )

    def targets(self, table_name: str, index_names: Sequence[str]) -> list[ObservedScalableTarget]:
        ids = {f"table/{table_name}", *(f"table/{table_name}/index/{i}" for i in index_names)}
        return [t for t in self.by_arn.values() if t.resource_id in ids]

    def tag(self, target: ObservedScalableTarget) -> None:
        self._change("tag", target, {**self.by_arn[target.arn].tags, MANAGED_KEY: "true"})

    def untag(self, target: ObservedScalableTarget) -> None:
        tags = {k: v for k, v in self.by_arn[target.arn].tags.items() if k != MANAGED_KEY}
        self._change("untag", target, tags)

    def _change(self, what: str, target: ObservedScalableTarget, tags: dict[str, str]) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append((what, target.label))
        self.by_arn[target.arn] = self.by_arn[target.arn].model_copy(update={"tags": tags})

    def tags_of(self, resource_id: str) -> list[dict[str, str]]:
        """The tags of each target of that resource, by dimension."""
        found = [t for t in self.by_arn.values() if t.resource_id == resource_id]
        return [t.tags for t in sorted(found, key=lambda t: t.scalable_dimension)]
