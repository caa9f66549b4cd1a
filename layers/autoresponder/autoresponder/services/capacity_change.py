"""Apply one capacity change with its intent recorded first, under the table's lock.

Shared by scale_on_throttle (raises) and scale_back (follow-up raises, scale-backs):

- the per-table lock serializes read-modify-write of a table's capacity across invocations
  (ProvisionedThroughput always carries both read and write units: two concurrent updates of
  different dimensions would overwrite each other);
- the scale history is written BEFORE the change, so a retry of the same event or run sees the
  change as its own and never repeats it; a change that fails restores the previous history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from autoresponder.domain.scaling import Limits, ScaleHistory
from autoresponder.errors import RetryableError, TableBusyError
from autoresponder.models.decision import AutoScalingLimits
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits, ScalableTarget
from autoresponder.observability import logger
from autoresponder.services.ports import (
    AutoScalingPort,
    CapacityWriter,
    DecisionStore,
    MetricsReader,
)


@contextmanager
def table_lock(
    store: DecisionStore, table_name: str, owner: str, seconds: int, now: datetime
) -> Iterator[None]:
    """Hold the table's lock for the block; `TableBusyError` when someone else holds it."""
    if not store.acquire_lock(table_name, owner, seconds, now):
        raise TableBusyError("another change of this table is in progress", table=table_name)
    try:
        yield
    finally:
        store.release_lock(table_name, owner)


def sizing_peak(
    metrics: MetricsReader,
    table_name: str,
    index_name: str | None,
    dimension: Dimension,
    *,
    start: datetime,
    end: datetime,
) -> float | None:
    """The consumed peak a raise is sized on; None (the minimum step alone) when CloudWatch is
    throttled or down: in a region-wide incident GetMetricData's quota must not stop a raise."""
    try:
        return metrics.consumed_peak(table_name, index_name, dimension, start, end)
    except RetryableError as exc:
        logger.warning(
            "consumed peak unavailable: sizing by the minimum step",
            table=table_name,
            index=index_name,
            error=str(exc),
        )
        return None


@dataclass(frozen=True)
class CapacityChange:
    table_name: str
    index_name: str | None
    dimension: Dimension
    after: Limits
    """Units (UpdateTable), Auto Scaling limits (RegisterScalableTarget) or on-demand caps."""
    intent: ScaleHistory
    """The scale history once the change is made (written first)."""
    previous: ScaleHistory | None
    """The scale history before, restored when the change fails."""
    scalable_target: ScalableTarget | None = None


class CapacityChanger:
    def __init__(
        self, *, capacity: CapacityWriter, autoscaling: AutoScalingPort, store: DecisionStore
    ) -> None:
        self._capacity = capacity
        self._autoscaling = autoscaling
        self._store = store

    def apply(self, change: CapacityChange) -> None:
        """Record the intent, make the change; on any error restore the history and re-raise."""
        table, index, dimension = change.table_name, change.index_name, change.dimension
        self._store.save_scale_history(table, index, dimension, change.intent)
        try:
            after = change.after
            if isinstance(after, Capacity):
                self._capacity.set_provisioned(table, index, after)
            elif isinstance(after, AutoScalingLimits):
                assert change.scalable_target is not None
                self._autoscaling.set_limits(
                    change.scalable_target, after.min_capacity, after.max_capacity
                )
            elif isinstance(after, OnDemandLimits):
                self._capacity.set_on_demand_max(table, index, after)
        except Exception:
            self._store.restore_scale_history(table, index, dimension, change.previous)
            raise
        logger.info(
            "capacity changed",
            table=table,
            index=index,
            dimension=dimension,
            before=change.intent.before.model_dump(),
            after=change.after.model_dump(),
        )

    def forget(self, table_name: str, index_name: str | None, dimension: Dimension) -> None:
        """Stop tracking a raise: its original is restored, or it is no longer ours."""
        self._store.restore_scale_history(table_name, index_name, dimension, None)
