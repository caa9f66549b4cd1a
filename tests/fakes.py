"""In-memory fakes of the service ports (docs/style.md habit 5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from autoresponder.domain.notification import Notification
from autoresponder.errors import AutoresponderError
from autoresponder.models.alarm import AlarmMetric
from autoresponder.models.metrics import Points, Series
from autoresponder.models.table import (
    Capacity,
    CapacityUnit,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
)
from autoresponder.services.ports import Clock
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.runbook import Runbook
from autoresponder.wiring.runner import Runner
from tests.chatbot import assert_custom_notification, assert_sns_subject


def deliver(
    runbook: Runbook[Any],
    raw: object,
    recorder: DecisionRecorder,
    clock: Clock,
    context: Any = None,
) -> Any:
    """Deliver `raw` to `runbook` as its function does: through the one runner the handlers use
    (`wiring/runner.py`: the foreign-event skip, the parse or `reject`, the response, the outcome
    metric), without Powertools Idempotency (DynamoDB-backed: the handler tests cover it).
    Returns the runbook's answer as an object (a decision, or a scale_back run)."""
    runner = Runner(type(runbook), lambda: runbook, recorder=recorder, clock=clock)
    return runner.run(raw, context)


@dataclass
class FixedClock:
    current: datetime

    def now(self) -> datetime:
        return self.current


@dataclass
class FakeTables:
    """Tables, tags and capacity changes; `fail_with` makes the next change raise."""

    tables: dict[str, TableDescription] = field(default_factory=dict)
    tags_by_table: dict[str, dict[str, str]] = field(default_factory=dict)
    changes: list[tuple[str, str | None, Any]] = field(default_factory=list)
    fail_with: AutoresponderError | None = None
    describe_error: AutoresponderError | None = None

    def add(self, table: TableDescription, tags: dict[str, str] | None = None) -> None:
        self.tables[table.table_name] = table
        self.tags_by_table[table.table_name] = tags or {}

    def describe(self, table_name: str) -> TableDescription:
        if self.describe_error is not None:
            raise self.describe_error
        return self.tables[table_name]

    def tags(self, table_arn: str) -> dict[str, str]:
        return dict(self.tags_by_table.get(table_arn.rsplit("/", 1)[-1], {}))

    def _raise(self) -> None:
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error

    def set_provisioned(self, table_name: str, index_name: str | None, capacity: Capacity) -> None:
        self._raise()
        self.changes.append((table_name, index_name, capacity))
        table = self.tables[table_name]
        if index_name is None:
            unit = table.table.model_copy(update={"provisioned": capacity})
            self.tables[table_name] = table.model_copy(update={"table": unit})
        else:
            indexes = dict(table.indexes)
            indexes[index_name] = indexes[index_name].model_copy(update={"provisioned": capacity})
            self.tables[table_name] = table.model_copy(update={"indexes": indexes})

    def set_on_demand_max(
        self, table_name: str, index_name: str | None, limits: OnDemandLimits
    ) -> None:
        self._raise()
        self.changes.append((table_name, index_name, limits))
        table = self.tables[table_name]
        unit: CapacityUnit = table.table.model_copy(update={"on_demand_max": limits})
        self.tables[table_name] = table.model_copy(update={"table": unit})


@dataclass
class FakeAutoScaling:
    targets: dict[tuple[str, str | None, Dimension], ScalableTarget] = field(default_factory=dict)
    registered: list[tuple[str, int, int]] = field(default_factory=list)

    def scalable_target(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> ScalableTarget | None:
        return self.targets.get((table_name, index_name, dimension))

    def scalable_targets(
        self, table_name: str, index_names: Sequence[str]
    ) -> dict[tuple[str | None, Dimension], ScalableTarget]:
        wanted = {None, *index_names}
        return {
            (index, dimension): target
            for (table, index, dimension), target in self.targets.items()
            if table == table_name and index in wanted
        }

    def set_limits(self, target: ScalableTarget, min_capacity: int, max_capacity: int) -> None:
        self.registered.append((target.resource_id, min_capacity, max_capacity))
        for key, value in self.targets.items():
            if value == target:
                self.targets[key] = target.model_copy(
                    update={"min_capacity": min_capacity, "max_capacity": max_capacity}
                )


@dataclass
class FakeMetrics:
    """GetMetricData over canned points (`tests.builders.published`), plus `steady` series
    (the same value every minute of whatever window is asked) and `latest` ones (one value, in
    the window's last whole minute)."""

    points: dict[Series, dict[datetime, float]] = field(default_factory=dict)
    steady: dict[Series, float] = field(default_factory=dict)
    latest: dict[Series, float] = field(default_factory=dict)
    calls: int = 0
    fail_with: AutoresponderError | None = None
    asked: list[list[Series]] = field(default_factory=list)

    def read(
        self, wanted: Sequence[Series], start: datetime, end: datetime, period: timedelta
    ) -> Points:
        self.calls += 1
        self.asked.append(list(wanted))
        if self.fail_with is not None:
            raise self.fail_with
        minutes = []
        at = start
        while at < end - period:
            minutes.append(at)
            at += period
        found: dict[Series, dict[datetime, float]] = {}
        for series in wanted:
            values = {t: v for t, v in self.points.get(series, {}).items() if start <= t < end}
            if series in self.steady:
                values.update(dict.fromkeys(minutes, self.steady[series]))
            if series in self.latest and minutes:
                values[minutes[-1]] = self.latest[series]
            found[series] = values
        return found


@dataclass
class FakeAlarms:
    alarms: dict[str, list[AlarmMetric]] = field(default_factory=dict)

    def metrics_of(self, alarm_names: Sequence[str]) -> Mapping[str, list[AlarmMetric]]:
        return {name: self.alarms[name] for name in alarm_names if name in self.alarms}


@dataclass
class RecordingNotifier:
    sent: list[Notification] = field(default_factory=list)
    fail_next: AutoresponderError | None = None

    def publish(self, notification: Notification) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        # every message a runbook produces conforms (tests/chatbot.py)
        assert_custom_notification(notification.chat)
        assert_sns_subject(notification.subject)
        self.sent.append(notification)
