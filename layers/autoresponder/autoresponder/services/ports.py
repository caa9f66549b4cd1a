"""The ports services depend on (STYLE.md habit 5): adapters implement them, tests fake them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from autoresponder.domain.notification import Notification
from autoresponder.domain.scaling import ScaleHistory
from autoresponder.models.alarm import AlarmMetric
from autoresponder.models.decision import Decision
from autoresponder.models.table import (
    Capacity,
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class TableReader(Protocol):
    def describe(self, table_name: str) -> TableDescription: ...

    def tags(self, table_arn: str) -> dict[str, str]: ...


class CapacityWriter(Protocol):
    def set_provisioned(self, table_name: str, index_name: str | None, capacity: Capacity) -> None:
        """UpdateTable with both read and write units (as the API requires)."""

    def set_on_demand_max(
        self, table_name: str, index_name: str | None, limits: OnDemandLimits
    ) -> None: ...


class AutoScalingPort(Protocol):
    def scalable_target(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> ScalableTarget | None: ...

    def set_limits(self, target: ScalableTarget, min_capacity: int, max_capacity: int) -> None: ...


class MetricsReader(Protocol):
    def consumed_peak(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        start: datetime,
        end: datetime,
    ) -> float | None:
        """Highest consumed units per second (1-minute sums / 60) in the window."""


class AlarmReader(Protocol):
    def metrics_of(self, alarm_names: Sequence[str]) -> Mapping[str, list[AlarmMetric]]:
        """The metrics of each named metric alarm (composite children)."""


class DecisionStore(Protocol):
    def record(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> str:
        """Write the decision record; return its sort key."""

    def recorded(self, decision_key: tuple[str, str]) -> tuple[Decision, bool] | None:
        """A decision already recorded for this key, and whether it was notified."""

    def mark_notified(self, decision_key: tuple[str, str]) -> None: ...

    def scale_history(
        self, table_name: str, index_name: str | None, dimension: Dimension
    ) -> ScaleHistory | None: ...

    def save_scale_history(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        history: ScaleHistory,
    ) -> None: ...

    def restore_scale_history(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        previous: ScaleHistory | None,
    ) -> None: ...

    def acquire_lock(self, table_name: str, owner: str, seconds: int, now: datetime) -> bool: ...

    def release_lock(self, table_name: str, owner: str) -> None: ...

    def count_attempt(self, attempt_key: str, now: datetime) -> int:
        """Count one more delivery attempt of an event; return the count so far."""


class Notifier(Protocol):
    def publish(self, notification: Notification) -> None: ...
