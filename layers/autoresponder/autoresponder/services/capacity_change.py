"""Make one capacity change: intent first, then AWS, then the intent settled by the table.

Shared by the throttle pass (raises) and scale_back (scale-backs):

- the per-table lock serializes read-modify-write of a table's capacity across invocations
  (ProvisionedThroughput always carries both read and write units: two concurrent updates of
  different dimensions would overwrite each other);
- the intent (a `pending` capacity record) is written BEFORE the change: it is a desired state,
  not proof. Whoever looks next (a retry, a re-check, the schedule) settles it against the
  table (`domain/reconcile.py`), so a change is never lost and never made twice;
- AWS refusing the change (validation, access, limits, table in use, throttling) restores the
  record as it was; an ambiguous answer (timeout, reset, 5xx) is settled by looking at the
  table again: in flight or at the target → applied; still at the start → the intent stays
  pending and the error is retried (the next attempt applies it), never a blind second call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from autoresponder.domain.reconcile import Landing, settle
from autoresponder.domain.scaling.history import Limits, ScaleHistory
from autoresponder.errors import (
    AutoresponderError,
    AwsUnavailableError,
    OutcomeUnknownError,
    TableBusyError,
)
from autoresponder.models.decision import AutoScalingLimits
from autoresponder.models.table import Capacity, Dimension, OnDemandLimits, ScalableTarget
from autoresponder.observability import logger
from autoresponder.services.ports import (
    AutoScalingPort,
    CapacityWriter,
    Clock,
    ScaleHistoryStore,
    TableLocks,
    TableReader,
)


@contextmanager
def table_lock(
    locks: TableLocks, table_name: str, owner: str, seconds: int, now: datetime
) -> Iterator[None]:
    """Hold the table's lock for the block; `TableBusyError` when someone else holds it.

    A failed release is logged, never raised: the work under the lock is done, and the lock
    expires by itself after `seconds`."""
    if not locks.acquire_lock(table_name, owner, seconds, now):
        raise TableBusyError("another change of this table is in progress", table=table_name)
    try:
        yield
    finally:
        try:
            locks.release_lock(table_name, owner)
        except AutoresponderError as exc:
            logger.warning(
                "lock not released: it expires by itself", table=table_name, error=str(exc)
            )


@dataclass(frozen=True)
class CapacityChange:
    """One call's worth of change: one resource, one or both dimensions."""

    table_name: str
    index_name: str | None
    after: Limits
    """Units (UpdateTable), Auto Scaling limits (RegisterScalableTarget) or on-demand caps."""
    intents: Mapping[Dimension, ScaleHistory]
    """The record of each dimension once the change is made (written first, pending)."""
    previous: Mapping[Dimension, ScaleHistory | None]
    """The records before, restored when AWS refuses the change."""
    scalable_target: ScalableTarget | None = None

    @property
    def event_key(self) -> str:
        return next(iter(self.intents.values())).event_key


class CapacityChanger:
    def __init__(
        self,
        *,
        tables: TableReader,
        capacity: CapacityWriter,
        autoscaling: AutoScalingPort,
        history: ScaleHistoryStore,
        clock: Clock,
    ) -> None:
        self._tables = tables
        self._capacity = capacity
        self._autoscaling = autoscaling
        self._history = history
        self._clock = clock

    def apply(self, change: CapacityChange, *, write_intent: bool = True) -> Landing:
        """Record the intent, make the change, settle it; raise when AWS refused it or its
        outcome is still unknown (the intent then stays pending for the next look)."""
        table, index = change.table_name, change.index_name
        if write_intent:
            for dimension, intent in change.intents.items():
                self._history.save_scale_history(table, index, dimension, intent)
        try:
            self._call(change)
        except AwsUnavailableError as exc:
            landing = self._look_again(change, exc)
        except AutoresponderError:
            self._restore(change)
            raise
        else:
            landing = Landing.IN_FLIGHT
        self.mark_applied(change)
        logger.info(
            "capacity changed",
            table=table,
            index=index,
            dimensions=sorted(d.value for d in change.intents),
            after=change.after.model_dump(),
            landing=landing.value,
        )
        return landing

    def mark_applied(self, change: CapacityChange) -> None:
        """Settle the intents as applied; a failure is logged (the next look settles them)."""
        now = self._clock.now()
        for dimension in change.intents:
            try:
                self._history.mark_applied(
                    change.table_name, change.index_name, dimension, change.event_key, now
                )
            except AutoresponderError as exc:
                logger.warning(
                    "intent not marked applied: the next look settles it",
                    table=change.table_name,
                    index=change.index_name,
                    error=str(exc),
                )

    def forget(self, table_name: str, index_name: str | None, dimension: Dimension) -> None:
        """Stop tracking a raise: its original is restored, or it is no longer ours."""
        self._history.restore_scale_history(table_name, index_name, dimension, None)

    def _call(self, change: CapacityChange) -> None:
        table, index, after = change.table_name, change.index_name, change.after
        if isinstance(after, Capacity):
            self._capacity.set_provisioned(table, index, after)
        elif isinstance(after, AutoScalingLimits):
            assert change.scalable_target is not None
            self._autoscaling.set_limits(
                change.scalable_target, after.min_capacity, after.max_capacity
            )
        elif isinstance(after, OnDemandLimits):
            self._capacity.set_on_demand_max(table, index, after)

    def _look_again(self, change: CapacityChange, error: AwsUnavailableError) -> Landing:
        """AWS did not say whether it made the change: the table does."""
        table_name, index = change.table_name, change.index_name
        try:
            table = self._tables.describe(table_name)
            target = (
                self._autoscaling.scalable_targets(table_name, [index] if index else []).get(
                    (index, next(iter(change.intents)))
                )
                if change.scalable_target is not None
                else None
            )
        except AutoresponderError as exc:
            raise OutcomeUnknownError(
                f"{error}; the table could not be read again ({exc}): the next attempt settles it",
                table=table_name,
            ) from error
        landings = {
            settle(intent, table, index, dimension, target)
            for dimension, intent in change.intents.items()
        }
        if landings <= {Landing.IN_FLIGHT, Landing.LANDED}:
            logger.warning(
                "the change was made although AWS's answer was lost",
                table=table_name,
                index=index,
                error=str(error),
            )
            return Landing.LANDED if landings == {Landing.LANDED} else Landing.IN_FLIGHT
        raise OutcomeUnknownError(
            f"{error}; the table does not show the change yet: the intent stays pending and "
            "the next attempt settles it",
            table=table_name,
        ) from error

    def _restore(self, change: CapacityChange) -> None:
        for dimension, previous in change.previous.items():
            try:
                self._history.restore_scale_history(
                    change.table_name, change.index_name, dimension, previous
                )
            except AutoresponderError as exc:
                logger.warning(
                    "record not restored after a refused change: the next look settles it",
                    table=change.table_name,
                    error=str(exc),
                )
