"""The scale_back runbook: which tables a run looks at, and what the run answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import override

from pydantic import ValidationError

from autoresponder.domain.scale_back.alarms import (
    FOLLOW_UP_CAUSES,
    ThrottlingAlarm,
    throttling_alarms,
)
from autoresponder.models.decision import Action, Decision
from autoresponder.models.recheck import RECHECK_SOURCE, RecheckEvent
from autoresponder.models.scale_back import ScheduledEvent
from autoresponder.observability import logger
from autoresponder.services.decisions import build_decision
from autoresponder.services.ports import (
    ActiveAlarmReader,
    AutoScalingPort,
    CapacityWriter,
    Clock,
    MetricDataReader,
    Rechecks,
    ScaleHistoryStore,
    TableLocks,
    TableReader,
)
from autoresponder.services.rechecks import LookAgain
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import Origin
from autoresponder.services.runbook import Runbook
from autoresponder.services.scale_back.config import RUNBOOK, Run, ScaleBackConfig
from autoresponder.services.scale_back.ports import RunPorts
from autoresponder.services.scale_back.raised import by_table
from autoresponder.services.scale_back.result import RunResult
from autoresponder.services.scale_back.run_records import NotRecorded
from autoresponder.services.scale_back.table_run import TableRun
from autoresponder.services.throttle_pass import ThrottlePass


class ScaleBack(Runbook[Run]):
    """The capacity lifecycle's use case. Ports are passed in; the handler builds the real ones."""

    name = RUNBOOK
    expected = "an EventBridge Scheduled Event or a re-check of a table"

    def __init__(
        self,
        *,
        tables: TableReader,
        capacity: CapacityWriter,
        autoscaling: AutoScalingPort,
        metrics: MetricDataReader,
        alarms: ActiveAlarmReader,
        history: ScaleHistoryStore,
        locks: TableLocks,
        recorder: DecisionRecorder,
        clock: Clock,
        config: ScaleBackConfig,
        rechecks: Rechecks | None = None,
    ) -> None:
        self._alarms = alarms
        self._history = history
        self._clock = clock
        self._config = config
        throttle_pass = ThrottlePass.over(
            tables=tables,
            capacity=capacity,
            autoscaling=autoscaling,
            metrics=metrics,
            history=history,
            clock=clock,
            config=config.pass_config,
        )
        self._ports = RunPorts(
            tables=tables,
            autoscaling=autoscaling,
            history=history,
            locks=locks,
            recorder=recorder,
            clock=clock,
            changer=throttle_pass.changer,
            throttle_pass=throttle_pass,
            looks=LookAgain(rechecks, clock),
            config=config,
        )

    @staticmethod
    def parse(raw: object) -> Run:
        """The schedule's "Scheduled Event", or a re-check of one table."""
        try:
            return ScheduledEvent.model_validate(raw)
        except ValidationError:
            if not (isinstance(raw, Mapping) and raw.get("source") == RECHECK_SOURCE):
                raise
        return RecheckEvent.model_validate(raw)

    @staticmethod
    def rejected(decision: Decision) -> RunResult:
        return RunResult((decision,))

    @override
    def respond(self, event: Run, origin: Origin) -> RunResult:
        """One run; the re-checks it schedules invoke `recheck_target`, else this function."""
        recheck_target = self._config.recheck_target or origin.function_arn
        now = self._clock.now()
        raised = by_table(self._history.all_scale_history())
        alarms: dict[str, list[ThrottlingAlarm]] = {}
        for alarm in throttling_alarms(self._alarms.alarms_in_alarm()):
            alarms.setdefault(alarm.target.table_name, []).append(alarm)
        decisions: list[Decision] = []
        looks: list[tuple[str, datetime]] = []
        tables = (
            [event.detail.table_name]
            if isinstance(event, RecheckEvent)
            else sorted(set(raised) | _due(alarms))
        )
        for table_name in tables:
            run = TableRun(self._ports, event, now, table_name)
            try:
                decisions += run.table(raised.get(table_name, {}), alarms.get(table_name, []))
            except NotRecorded as failed:
                raise failed.error from failed
            if (at := run.look_again(recheck_target)) is not None:
                looks.append((table_name, at))
        result = RunResult(
            tuple(decisions),
            None if decisions else self._nothing(event, now),
            tuple(looks),
        )
        logger.info(
            "scale_back run finished",
            run=event.run_key,
            tables=len(tables),
            raised=sum(len(r) for r in raised.values()),
            alarms_in_alarm=sum(len(a) for a in alarms.values()),
            counts=result.counts(),
        )
        return result

    def _nothing(self, event: Run, now: datetime) -> Decision:
        """Logged and returned, not recorded: most runs have nothing to do."""
        return build_decision(
            Decision,
            RUNBOOK,
            event,
            action=Action.SKIP,
            table_name=None,
            reason="nothing to follow up or scale back: no raise to undo and no throttling "
            "alarm in ALARM",
            rule="nothing_to_do",
            dry_run=self._config.dry_run,
            decided_at=now,
        )


def _due(alarms: Mapping[str, list[ThrottlingAlarm]]) -> set[str]:
    """The tables with a throttling alarm in ALARM that a follow-up answers."""
    return {
        alarm.target.table_name
        for found in alarms.values()
        for alarm in found
        if alarm.signal.cause in FOLLOW_UP_CAUSES
    }
