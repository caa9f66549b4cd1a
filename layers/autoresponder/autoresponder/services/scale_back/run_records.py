"""The decisions of one run about one table: built, recorded, and resumed by their run key.

A run's decision is keyed by the run's scheduled time, the trigger and the table/index/dimension
(`run_record_key`): a retried or duplicated run finds what it already decided and resumes it.
"""

from __future__ import annotations

from typing import Any, Literal

from autoresponder.errors import AutoresponderError
from autoresponder.models.decision import Decision
from autoresponder.models.recheck import RecheckEvent
from autoresponder.models.scale_back import RecordKind, ScaleBackDecision, run_record_key
from autoresponder.models.table import Dimension
from autoresponder.services.decisions import Ruling, build_decision
from autoresponder.services.ports import Clock
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.scale_back.config import RUNBOOK, Run

TriggerKind = Literal["schedule", "recheck"]


class NotRecorded(Exception):
    """A decision could not be recorded or announced: the whole run must be retried (Lambda
    retries the scheduled event; the retry resumes the decisions already recorded)."""

    def __init__(self, error: AutoresponderError) -> None:
        super().__init__(str(error))
        self.error = error


class RunRecords:
    """One table's decisions in one run."""

    def __init__(
        self,
        recorder: DecisionRecorder,
        clock: Clock,
        event: Run,
        table_name: str,
        *,
        dry_run: bool,
    ) -> None:
        self._recorder = recorder
        self._clock = clock
        self.event = event
        self.table_name = table_name
        self.dry_run = dry_run
        """The configured dry run (a table's own tag may add one)."""
        self.trigger: TriggerKind = "recheck" if isinstance(event, RecheckEvent) else "schedule"

    def resume(
        self, index: str | None, dimension: Dimension | None, kind: RecordKind
    ) -> Decision | None:
        """The decision this run already recorded for the unit, if any."""
        key = run_record_key(
            self.table_name, self.event.time, index, dimension, kind, trigger=self.trigger
        )
        try:
            return self._recorder.resume(key)
        except AutoresponderError as exc:
            raise NotRecorded(exc) from exc

    def record(self, decision: Decision) -> Decision:
        """Record, log, measure and announce; a failure there retries the whole run."""
        try:
            return self._recorder.finish(decision)
        except AutoresponderError as exc:
            raise NotRecorded(exc) from exc

    def build(
        self,
        kind: RecordKind,
        plan: Ruling | None = None,
        /,
        *,
        index_name: str | None = None,
        dimension: Dimension | None = None,
        **fields: Any,
    ) -> ScaleBackDecision:
        """A decision of this run about one unit of the table (`fields` win over the plan's)."""
        return build_decision(
            ScaleBackDecision,
            RUNBOOK,
            self.event,
            plan,
            table_name=self.table_name,
            index_name=index_name,
            dimension=dimension,
            decided_at=self._clock.now(),
            run_at=self.event.time,
            kind=kind,
            trigger=self.trigger,
            **fields,
        )
