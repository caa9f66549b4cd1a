"""The ports services depend on (docs/style.md habit 5): adapters implement them, tests fake
them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: a runbook does not import the other runbooks' models
    from autoresponder.domain.notification import Notification
    from autoresponder.domain.scaling.history import ScaleHistory, UnitKey
    from autoresponder.models.alarm import AlarmMetric
    from autoresponder.models.decision import Decision, Recorded
    from autoresponder.models.hot_keys import InsightsMode, InsightsStatus, RuleKind, RuleReport
    from autoresponder.models.metrics import Points, Series
    from autoresponder.models.onboarding import (
        AlarmDefinition,
        ObservedAlarm,
        ObservedScalableTarget,
    )
    from autoresponder.models.scale_back import ActiveAlarm
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

    def scalable_targets(
        self, table_name: str, index_names: Sequence[str]
    ) -> Mapping[UnitKey, ScalableTarget]:
        """Every scalable target of the table and those GSIs (one DescribeScalableTargets)."""

    def set_limits(self, target: ScalableTarget, min_capacity: int, max_capacity: int) -> None: ...


class AlarmReader(Protocol):
    def metrics_of(self, alarm_names: Sequence[str]) -> Mapping[str, list[AlarmMetric]]:
        """The metrics of each named metric alarm (composite children)."""


# the decision table: one port per concern ---------------------------------------------------


class DecisionRecords(Protocol):
    """Decision records, each with its notification's own state."""

    def record(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> str:
        """Write the decision record; return its sort key."""

    def recorded(self, decision_key: tuple[str, str]) -> Recorded | None:
        """A decision already recorded for this key, with its notification's state."""

    def begin_notification(self, decision_key: tuple[str, str]) -> int:
        """Count one more Publish attempt of the record's notification; return the count."""

    def refused_notification(self, decision_key: tuple[str, str]) -> None:
        """SNS refused the Publish attempt just counted (the message never left): uncount it."""

    def mark_notified(self, decision_key: tuple[str, str]) -> None: ...

    def mark_notification_failed(self, decision_key: tuple[str, str], error: str) -> None: ...


class RecentDecisions(Protocol):
    def decisions_since(self, table_name: str, since: datetime) -> list[Decision]:
        """The decisions recorded for a table since `since` (the decision table knows)."""


class ScaleHistoryStore(Protocol):
    """Capacity records: the intent of a change, then its history."""

    def scale_records(self, table_name: str) -> Mapping[UnitKey, ScaleHistory]:
        """Every capacity record (intent and history) of one table and its GSIs."""

    def all_scale_history(self) -> dict[str, ScaleHistory]:
        """Every table/index/dimension the responder raised, by `<table>#<index or ->#<dim>`."""

    def mark_applied(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        event_key: str,
        at: datetime,
    ) -> None:
        """The intent `event_key` wrote was made."""

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


class TableLocks(Protocol):
    """One change of a table at a time across invocations."""

    def acquire_lock(self, table_name: str, owner: str, seconds: int, now: datetime) -> bool: ...

    def release_lock(self, table_name: str, owner: str) -> None: ...


class DeliveryAttempts(Protocol):
    def count_attempt(self, attempt_key: str, now: datetime) -> int:
        """Count one more delivery attempt of an event; return the count so far."""


# notifying ----------------------------------------------------------------------------------


class Notifier(Protocol):
    def publish(self, notification: Notification) -> None: ...


class DecisionBus(Protocol):
    """Where every decision is also published as an event (EventBridge's default bus), so an
    organisation can route all decisions to one place (docs/architecture.md)."""

    def put(self, decision: Decision) -> None:
        """Publish the decision. Never raises: the decision record is already written and the
        action already taken, so a failure is logged and measured, never retried by Lambda."""


# report_latency_regression ------------------------------------------------------------------


class TableCatalog(TableReader, Protocol):
    def list_table_names(self) -> list[str]: ...


class MetricDataReader(Protocol):
    def read(
        self, wanted: Sequence[Series], start: datetime, end: datetime, period: timedelta
    ) -> Points:
        """Each series' value per period (by period start) in [start, end), in as few
        GetMetricData calls as the API allows."""


LatencyMetricsReader = MetricDataReader


class ContributorInsightsPort(Protocol):
    """DynamoDB's Contributor Insights rules of a table or index, and their reports."""

    def describe(self, table_name: str, index_name: str | None) -> InsightsStatus: ...

    def report(
        self,
        rule_name: str,
        kind: RuleKind,
        *,
        start: datetime,
        end: datetime,
        period_seconds: int,
        max_contributors: int,
    ) -> RuleReport:
        """One `GetInsightRuleReport` call for one rule."""

    def enable(self, table_name: str, index_name: str | None, mode: InsightsMode) -> str:
        """`UpdateContributorInsights` ENABLE; returns the new status."""


# scale_back ---------------------------------------------------------------------------------


class ActiveAlarmReader(Protocol):
    def alarms_in_alarm(self) -> list[ActiveAlarm]:
        """Every metric alarm now in ALARM."""


# onboard_tables -----------------------------------------------------------------------------


class AlarmRegistry(Protocol):
    """CloudWatch alarms under the responder's name prefix."""

    def alarms(self, name_prefix: str) -> dict[str, ObservedAlarm]:
        """Every alarm whose name starts with `name_prefix`, by name, with its tags."""

    def put(self, alarm: AlarmDefinition) -> None:
        """PutMetricAlarm: create, or update a definition (tags are set on creation)."""

    def delete(self, names: Sequence[str]) -> None: ...


class LatencyOperationsReader(Protocol):
    def latency_operations(self, table_name: str | None = None) -> dict[str, set[str]]:
        """Operations with a `SuccessfulRequestLatency` metric listed, per table."""


class ScalableTargetTagger(Protocol):
    """The `autoresponder:managed` tag on the Application Auto Scaling targets of a table."""

    def targets(self, table_name: str, index_names: Sequence[str]) -> list[ObservedScalableTarget]:
        """Every scalable target of the table and those GSIs, with its tags."""

    def tag(self, target: ObservedScalableTarget) -> None:
        """TagResource `autoresponder:managed=true`."""

    def untag(self, target: ObservedScalableTarget) -> None:
        """UntagResource `autoresponder:managed` (that key only)."""


# re-checks ----------------------------------------------------------------------------------


class Rechecks(Protocol):
    """One-time looks at a table (EventBridge Scheduler)."""

    def pending(self, table_name: str, after: datetime) -> datetime | None:
        """The soonest of the table's re-checks due after `after`, if one is scheduled."""

    def put(
        self,
        table_name: str,
        at: datetime,
        event: dict[str, Any],
        *,
        target_arn: str | None = None,
    ) -> None:
        """Schedule a re-check of the table for `at` (asking twice for one moment is one)."""


# every runbook ------------------------------------------------------------------------------


class DryRunSwitch(Protocol):
    """The stack-wide kill switch: engaged → every runbook decides and notifies but changes
    nothing (read once per invocation, before anything is decided)."""

    def engaged(self) -> bool: ...
