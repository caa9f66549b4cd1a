"""One table in one run: under its lock, the follow-up, the episodes over, the scale-back;
an error becomes the table's decision (busy: hold; transient: defer; gone: forget; else fail)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from autoresponder.domain.next_look import headroom_eaten
from autoresponder.domain.scale_back.alarms import ThrottlingAlarm
from autoresponder.domain.scaling.history import UPDATING
from autoresponder.errors import (
    PermanentError,
    ResourceNotFoundError,
    RetryableError,
    TableBusyError,
)
from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.models.table import Dimension, TableDescription, TablePolicy
from autoresponder.services.capacity_change import table_lock
from autoresponder.services.scale_back.config import Run
from autoresponder.services.scale_back.follow_up import FollowedUp, follow_up, observe_window
from autoresponder.services.scale_back.mitigation import record_mitigated
from autoresponder.services.scale_back.next_look import Seen, look_again
from autoresponder.services.scale_back.ports import RunPorts
from autoresponder.services.scale_back.raised import Raised, unit_order
from autoresponder.services.scale_back.run_records import RunRecords
from autoresponder.services.scale_back.scale_down import ScaleDown


class TableRun:
    """One table in one run; `seen` is what the look found (None: no look, no re-check)."""

    def __init__(self, ports: RunPorts, event: Run, now: datetime, table_name: str) -> None:
        self._ports = ports
        self._now = now
        self._table_name = table_name
        self._owner = f"{event.run_key}#{uuid.uuid4().hex}"
        self._records = RunRecords(
            ports.recorder, ports.clock, event, table_name, dry_run=ports.config.dry_run
        )
        self._raised: Raised = {}
        """The raises the run knows of: the run's read, then the table's records as the
        follow-up left them (an error's decision names these)."""
        self.seen: Seen | None = None

    def table(self, raised: Raised, alarms: Sequence[ThrottlingAlarm]) -> list[Decision]:
        event = self._records.event
        arn = f"arn:aws:dynamodb:{event.region}:{event.account}:table/{self._table_name}"
        ports = self._ports
        self._raised = raised
        try:
            policy = TablePolicy.from_tags(ports.tables.tags(arn))
            if not policy.managed and not raised:
                return []  # a throttling alarm on a table the responder does not manage
            with table_lock(
                ports.locks, self._table_name, self._owner, ports.config.lock_seconds, self._now
            ):
                return self._look(policy, alarms)
        except TableBusyError as exc:
            return [self._outcome(Action.HOLD, "hold.locked", f"still busy: {exc}")]
        except RetryableError as exc:
            reason = f"{exc}: the next run tries again"
            return [self._outcome(Action.DEFER, "retryable_error", reason)]
        except ResourceNotFoundError as exc:
            units = sorted(self._raised, key=unit_order)
            return [self._forget_missing(index, dim, exc) for index, dim in units]
        except PermanentError as exc:
            reason = f"could not scale back or follow up {self._table_name}: {exc}"
            rule = f"error.{type(exc).__name__}"
            return [self._outcome(Action.FAIL, rule, reason, severity=Severity.CRITICAL)]

    def look_again(self, recheck_target: str | None) -> datetime | None:
        """The table's next look, asked for after a look at a managed table."""
        if self.seen is None:
            return None
        return look_again(
            self._ports.looks,
            self._records,
            self.seen,
            now=self._now,
            policy=self._ports.config.looks,
            target_arn=recheck_target,
        )

    def _look(self, policy: TablePolicy, alarms: Sequence[ThrottlingAlarm]) -> list[Decision]:
        """Under the table's lock: the follow-up and the episodes over (managed tables), then
        the scale-back of every raise the records hold."""
        ports, config, name = self._ports, self._ports.config, self._table_name
        description = ports.tables.describe(name)
        decisions: list[Decision] = []
        followed = FollowedUp([], None)
        if policy.managed:
            followed = follow_up(
                ports.throttle_pass,
                self._records,
                description,
                policy,
                alarms=alarms,
                prices=config.prices,
                observe_for=observe_window(self._raised, self._now, config.policy, config.looks),
            )
            decisions += followed.decisions
            self._raised = dict(ports.history.scale_records(name))
            decisions += record_mitigated(
                ports.history, self._records, self._raised, followed.observation
            )
            if followed.changed:
                description = ports.tables.describe(name)
        in_alarm = tuple(sorted({a.alarm.alarm_name for a in alarms}))
        down = ScaleDown(ports, self._records, self._now, changed=followed.changed)
        decisions += down.run(description, policy, self._raised, in_alarm, followed.observation)
        if policy.managed:
            self.seen = self._seen(description, followed, down.holds_until)
        return decisions

    def _seen(
        self, table: TableDescription, followed: FollowedUp, holds_until: Sequence[datetime]
    ) -> Seen:
        config = self._ports.config
        diagnosis = followed.observation
        return Seen(
            records=self._raised,
            raised_now=followed.raised_now,
            updating=_updating(table),
            tight=headroom_eaten(
                table,
                diagnosis.over_last(config.lookback) if diagnosis else None,
                config.throttle.headroom_percent,
            ),
            holds_until=tuple(holds_until),
        )

    # -- the table's own outcomes --------------------------------------------------------------

    def _outcome(
        self,
        action: Action,
        rule: str,
        reason: str,
        *,
        severity: Severity = Severity.INFO,
    ) -> Decision:
        decision = self._records.build(
            "table",
            action=action,
            rule=rule,
            reason=reason,
            severity=severity,
            dry_run=self._records.dry_run,
            inputs={"raised": [f"{i or '-'}#{d}" for i, d in sorted(self._raised, key=unit_order)]},
            hold_reason="still_busy" if action is Action.HOLD else None,
        )
        return self._records.record(decision)

    def _forget_missing(
        self, index: str | None, dimension: Dimension, error: Exception
    ) -> Decision:
        decision = self._records.build(
            "back",
            index_name=index,
            dimension=dimension,
            action=Action.SKIP,
            rule="forget.table_missing",
            reason=f"{error}: the raise is no longer tracked",
            dry_run=self._records.dry_run,
            inputs={"forget": True},
        )
        recorded = self._records.record(decision)
        self._ports.changer.forget(self._table_name, index, dimension)
        return recorded


def _updating(table: TableDescription) -> bool:
    units = [table.table, *table.indexes.values()]
    return table.status == UPDATING or any(u.status == UPDATING for u in units)
