"""Fakes and builders for scale_back: on top of tests/fakes.py (not changing it).

`BudgetedTables` enforces DynamoDB's decrease quota itself, written independently of
`autoresponder.domain.decrease_budget`: a decrease the quota forbids raises
`LimitExceededError` as UpdateTable would, so a test that lets the runbook loose on it sees
every violation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from autoresponder.domain.scaling.history import ScaleHistory
from autoresponder.errors import LimitExceededError, ResourceNotFoundError
from autoresponder.models.alarm import AlarmMetric, Metric, MetricStat
from autoresponder.models.decision import Action
from autoresponder.models.metrics import Series
from autoresponder.models.scale_back import ActiveAlarm
from autoresponder.models.table import Capacity, CapacityUnit, Dimension, TableDescription
from tests.fakes import FakeMetrics, FakeTables, FixedClock

HOUR = timedelta(hours=1)


def quota_allows(decreases: list[datetime], at: datetime) -> bool:
    """DynamoDB's rule, by the book: per UTC day 4 decreases at any time, then one more only
    after an hour without a decrease; 27 at most."""
    today = [d for d in decreases if d.date() == at.date()]
    if len(today) >= 27:
        return False
    if len(today) < 4:
        return True
    return all(at - d >= HOUR for d in decreases if d <= at)


@dataclass
class BudgetedTables(FakeTables):
    """FakeTables that counts decreases per table and per GSI like DynamoDB does."""

    clock: FixedClock | None = None
    decreases: dict[tuple[str, str | None], list[datetime]] = field(default_factory=dict)

    def describe(self, table_name: str) -> TableDescription:
        if table_name not in self.tables and self.describe_error is None:
            raise ResourceNotFoundError("DescribeTable failed: ResourceNotFoundException")
        return super().describe(table_name)

    def set_provisioned(self, table_name: str, index_name: str | None, capacity: Capacity) -> None:
        table = self.tables[table_name]
        unit = table.unit(index_name)
        assert unit is not None and unit.provisioned is not None
        assert self.clock is not None, "BudgetedTables needs the test's clock"
        now = self.clock.now()
        old = unit.provisioned
        lowers = capacity.read < old.read or capacity.write < old.write
        history = self.decreases.setdefault((table_name, index_name), [])
        if lowers and not quota_allows(history, now):
            raise LimitExceededError(
                "UpdateTable failed: LimitExceededException: decrease quota exceeded",
                table=table_name,
            )
        super().set_provisioned(table_name, index_name, capacity)
        if lowers:
            history.append(now)
        today = [d for d in history if d.date() == now.date()]
        update: dict[str, Any] = {
            "decreases_today": len(today),
            "last_decrease_at": history[-1] if history else None,
        }
        if capacity.read > old.read or capacity.write > old.write:
            update["last_increase_at"] = now
        self._update_unit(table_name, index_name, update)

    def set_status(self, table_name: str, status: str) -> None:
        table = self.tables[table_name]
        unit = table.table.model_copy(update={"status": status})
        self.tables[table_name] = table.model_copy(update={"status": status, "table": unit})

    def _update_unit(self, table_name: str, index_name: str | None, update: dict[str, Any]) -> None:
        table = self.tables[table_name]
        if index_name is None:
            unit: CapacityUnit = table.table.model_copy(update=update)
            self.tables[table_name] = table.model_copy(update={"table": unit})
        else:
            indexes = dict(table.indexes)
            indexes[index_name] = indexes[index_name].model_copy(update=update)
            self.tables[table_name] = table.model_copy(update={"indexes": indexes})


@dataclass
class FakeActivity:
    """What a table/index/dimension did over whatever window scale_back reads: the peak
    consumed every minute, and the throttled requests in the last minute (on the fake
    CloudWatch)."""

    metrics: FakeMetrics

    def set(
        self,
        table: str,
        dimension: Dimension,
        peak: float | None,
        throttled: float = 0.0,
        index: str | None = None,
    ) -> None:
        prefix = "Read" if dimension is Dimension.READ else "Write"
        consumed = f"Consumed{prefix}CapacityUnits"
        for stat in ("Sum", "SampleCount"):
            series = Series(table, consumed, stat, index_name=index)
            if peak is None:
                self.metrics.steady.pop(series, None)
            else:
                self.metrics.steady[series] = peak * 60
        generic = Series(table, f"{prefix}ThrottleEvents", "Sum", index_name=index)
        cause = Series(
            table, f"{prefix}ProvisionedThroughputThrottleEvents", "Sum", index_name=index
        )
        for series in (generic, cause):
            if throttled:
                self.metrics.latest[series] = throttled
            else:
                self.metrics.latest.pop(series, None)


@dataclass
class FakeActiveAlarms:
    alarms: dict[str, ActiveAlarm] = field(default_factory=dict)

    def raise_alarm(
        self,
        table: str,
        since: datetime,
        metric: str = "WriteProvisionedThroughputThrottleEvents",
        *,
        index: str | None = None,
        value: float = 42.0,
        name: str | None = None,
    ) -> str:
        dimensions = {"TableName": table}
        if index:
            dimensions["GlobalSecondaryIndexName"] = index
        alarm_name = name or f"autoresponder-{table}{'-' + index if index else ''}-{metric}"
        self.alarms[alarm_name] = ActiveAlarm(
            alarm_name=alarm_name,
            metrics=[
                AlarmMetric(
                    id="m1",
                    metric_stat=MetricStat(
                        metric=Metric(namespace="AWS/DynamoDB", name=metric, dimensions=dimensions)
                    ),
                )
            ],
            since=since,
            recent_datapoints=[value],
        )
        return alarm_name

    def clear(self, name: str | None = None) -> None:
        if name is None:
            self.alarms.clear()
        else:
            self.alarms.pop(name, None)

    def alarms_in_alarm(self) -> list[ActiveAlarm]:
        return list(self.alarms.values())


def scheduled_event(when: datetime, /, **overrides: Any) -> dict[str, Any]:
    """EventBridge's "Scheduled Event", as a schedule rule delivers it."""
    event: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/scale-back-schedule"],
        "detail": {},
    }
    event.update(overrides)
    return event


def raised(
    before: Any,
    after: Any,
    *,
    at: datetime,
    original: Any | None = None,
    action: Action = Action.SCALE_UP,
    key: str = "seeded",
) -> ScaleHistory:
    """A scale history as scale_on_throttle leaves it."""
    return ScaleHistory(
        scaled_at=at,
        event_key=key,
        action=action,
        before=before,
        after=after,
        original=original if original is not None else before,
    )
