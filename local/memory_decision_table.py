"""The responder's decision table in memory: one stand-in for the ports over it
(`DecisionRecords`, `ScaleHistoryStore`, `TableLocks`, `DeliveryAttempts`), whose DynamoDB
adapters share one table. The service tests and the backtest (`bench/backtest`) run the
runbooks on it; the demo and the integration tests use the real adapters on moto."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from autoresponder.domain.scaling.history import IntentStatus, ScaleHistory
from autoresponder.models.decision import Decision, Recorded
from autoresponder.models.table import Dimension


@dataclass
class StoredDecision:
    decision: Decision
    raw_event: Any = None
    notification: str = "none"
    attempts: int = 0
    error: str | None = None


@dataclass
class InMemoryDecisionTable:
    """The decision table in memory: one fake for the ports over it (`DecisionRecords`,
    `ScaleHistoryStore`, `TableLocks`, `DeliveryAttempts`), whose adapters share one table."""

    stored: dict[tuple[str, str], StoredDecision] = field(default_factory=dict)
    history: dict[tuple[str, str | None, Dimension], ScaleHistory] = field(default_factory=dict)
    locks: dict[str, tuple[str, float]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)

    def record(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> str:
        key = decision.record_key()
        state = "pending" if decision.notify else "none"
        self.stored[key] = StoredDecision(decision, raw_event, state)
        return key[1]

    def recorded(self, decision_key: tuple[str, str]) -> Recorded | None:
        found = self.stored.get(decision_key)
        if found is None:
            return None
        notified = found.notification == "sent"
        return Recorded(found.decision, notified, found.notification, found.attempts)

    def begin_notification(self, decision_key: tuple[str, str]) -> int:
        self.stored[decision_key].attempts += 1
        return self.stored[decision_key].attempts

    def refused_notification(self, decision_key: tuple[str, str]) -> None:
        self.stored[decision_key].attempts -= 1

    def mark_notified(self, decision_key: tuple[str, str]) -> None:
        self.stored[decision_key].notification = "sent"

    def mark_notification_failed(self, decision_key: tuple[str, str], error: str) -> None:
        self.stored[decision_key].notification = "failed"
        self.stored[decision_key].error = error

    @property
    def records(self) -> dict[tuple[str, str], tuple[Decision, bool, Any]]:
        """(decision, notified, raw event) by record key."""
        return {
            key: (s.decision, s.notification == "sent", s.raw_event)
            for key, s in self.stored.items()
        }

    def scale_records(self, table_name: str) -> dict[tuple[str | None, Dimension], ScaleHistory]:
        return {
            (index, dimension): record
            for (table, index, dimension), record in self.history.items()
            if table == table_name
        }

    def all_scale_history(self) -> dict[str, ScaleHistory]:
        return {
            f"{table}#{index or '-'}#{dimension.value}": history
            for (table, index, dimension), history in self.history.items()
        }

    def mark_applied(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        event_key: str,
        at: datetime,
    ) -> None:
        key = (table_name, index_name, dimension)
        record = self.history.get(key)
        if record is not None and record.event_key == event_key:
            self.history[key] = replace(record, status=IntentStatus.APPLIED, applied_at=at)

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

    def count_attempt(self, attempt_key: str, now: datetime) -> int:  # noqa: ARG002 (no expiry here)
        self.attempts[attempt_key] = self.attempts.get(attempt_key, 0) + 1
        return self.attempts[attempt_key]

    @property
    def decisions(self) -> list[Decision]:
        return [decision for decision, _, _ in self.records.values()]
