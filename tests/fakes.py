"""In-memory fakes of the service ports (docs/style.md habit 5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from autoresponder.domain.notification import Notification
from autoresponder.domain.scaling import ScaleHistory
from autoresponder.errors import AutoresponderError
from autoresponder.models.alarm import AlarmMetric
from autoresponder.models.decision import Decision
from autoresponder.models.table import (
    Capacity,
    CapacityUnit,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
)


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

    def set_limits(self, target: ScalableTarget, min_capacity: int, max_capacity: int) -> None:
        self.registered.append((target.resource_id, min_capacity, max_capacity))
        for key, value in self.targets.items():
            if value == target:
                self.targets[key] = target.model_copy(
                    update={"min_capacity": min_capacity, "max_capacity": max_capacity}
                )


@dataclass
class FakeMetrics:
    peaks: dict[tuple[str, str | None, Dimension], float] = field(default_factory=dict)
    calls: int = 0
    fail_with: AutoresponderError | None = None

    def consumed_peak(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        start: datetime,
        end: datetime,
    ) -> float | None:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        return self.peaks.get((table_name, index_name, dimension))


@dataclass
class FakeAlarms:
    alarms: dict[str, list[AlarmMetric]] = field(default_factory=dict)

    def metrics_of(self, alarm_names: Sequence[str]) -> Mapping[str, list[AlarmMetric]]:
        return {name: self.alarms[name] for name in alarm_names if name in self.alarms}


@dataclass
class InMemoryDecisionStore:
    records: dict[tuple[str, str], tuple[Decision, bool, Any]] = field(default_factory=dict)
    history: dict[tuple[str, str | None, Dimension], ScaleHistory] = field(default_factory=dict)
    locks: dict[str, tuple[str, float]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)

    def record(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> str:
        key = decision.record_key()
        self.records[key] = (decision, False, raw_event)
        return key[1]

    def recorded(self, decision_key: tuple[str, str]) -> tuple[Decision, bool] | None:
        found = self.records.get(decision_key)
        return (found[0], found[1]) if found else None

    def mark_notified(self, decision_key: tuple[str, str]) -> None:
        decision, _, raw = self.records[decision_key]
        self.records[decision_key] = (decision, True, raw)

    def scale_history(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> ScaleHistory | None:
        return self.history.get((table_name, index_name, dimension))

    def save_scale_history(
        self, table_name: str, index_name: str | None, dimension: Dimension, history: ScaleHistory
    ) -> None:
        self.history[(table_name, index_name, dimension)] = history

    def restore_scale_history(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        previous: ScaleHistory | None,
    ) -> None:
        if previous is None:
            self.history.pop((table_name, index_name, dimension), None)
        else:
            self.history[(table_name, index_name, dimension)] = previous

    def acquire_lock(self, table_name: str, owner: str, seconds: int, now: datetime) -> bool:
        held = self.locks.get(table_name)
        if held and held[0] != owner and held[1] > now.timestamp():
            return False
        self.locks[table_name] = (owner, now.timestamp() + seconds)
        return True

    def release_lock(self, table_name: str, owner: str) -> None:
        if self.locks.get(table_name, ("",))[0] == owner:
            del self.locks[table_name]

    def count_attempt(self, attempt_key: str, now: datetime) -> int:
        self.attempts[attempt_key] = self.attempts.get(attempt_key, 0) + 1
        return self.attempts[attempt_key]

    @property
    def decisions(self) -> list[Decision]:
        return [decision for decision, _, _ in self.records.values()]


@dataclass
class RecordingNotifier:
    sent: list[Notification] = field(default_factory=list)
    fail_next: AutoresponderError | None = None

    def publish(self, notification: Notification) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.sent.append(notification)
