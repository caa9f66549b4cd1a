"""EventBridge Scheduler's one-time re-checks in memory (the `Rechecks` port): one per table,
delivered when due and deleted after, as a one-time schedule with `ActionAfterCompletion:
DELETE` is. The service tests and the backtest (`bench/backtest`) run the runbooks on it; the
demo and the integration tests use the real adapter on moto."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class InMemoryRechecks:
    scheduled: dict[str, tuple[datetime, dict[str, Any], str | None]] = field(default_factory=dict)
    """Per table: when, the re-check event, the target it invokes."""
    created: int = 0
    fail_with: Exception | None = None
    """Raised by every `put` while set (Scheduler failing)."""

    def pending(self, table_name: str, after: datetime) -> datetime | None:
        found = self.scheduled.get(table_name)
        return found[0] if found and found[0] > after else None

    def put(
        self,
        table_name: str,
        at: datetime,
        event: dict[str, Any],
        *,
        target_arn: str | None = None,
    ) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.created += 1
        self.scheduled[table_name] = (at, event, target_arn)

    def due(self, now: datetime) -> list[dict[str, Any]]:
        """The re-checks due by `now`, removed (a one-time schedule deletes itself)."""
        found = sorted((at, name) for name, (at, _, _) in self.scheduled.items() if at <= now)
        return [self.scheduled.pop(name)[1] for _, name in found]
