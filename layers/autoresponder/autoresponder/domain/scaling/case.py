"""What one pass of the throttle runbook reads: the table, the diagnosis, the alarm's evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from autoresponder.domain.alarm_target import AlarmTarget
from autoresponder.domain.diagnosis import Diagnosis, UnitDiagnosis
from autoresponder.domain.scaling.history import ScaleHistory, UnitKey
from autoresponder.models.table import ScalableTarget, TableDescription, TablePolicy


@dataclass(frozen=True)
class AlarmEvidence:
    """What the alarm event says: it explains why the alarm fired, it never sizes a raise nor
    lifts a cooldown."""

    alarm_name: str
    recent_datapoints: tuple[float, ...] = ()
    manual: bool = False
    """No `reasonData`: the state was set by hand (`set-alarm-state`), not by an evaluation."""
    reason: str = ""
    evaluated_at: datetime | None = None
    """The newest datapoint the alarm evaluated, when its `reasonData` says."""
    targets: tuple[AlarmTarget, ...] = ()
    """The alarm's own DynamoDB metrics (the fallback when CloudWatch is unreadable)."""
    composite: bool = False
    """A composite alarm: its event carries no datapoints of its own."""
    sweep: bool = False
    """Alarms a scheduled run found in ALARM: their datapoints may be old, they name the
    resources the fallback raises when CloudWatch is unreadable, nothing more."""


@dataclass(frozen=True)
class ThrottleCase:
    """Everything one pass of the throttle runbook reads; gathered by the service."""

    table: TableDescription
    table_policy: TablePolicy
    now: datetime
    diagnosis: Diagnosis | None
    """None: CloudWatch could not be read (throttled, down)."""
    evidence: AlarmEvidence | None = None
    """The alarm that triggered the pass; None for a re-check or a scheduled follow-up."""
    scalable_targets: Mapping[UnitKey, ScalableTarget] = field(default_factory=dict)
    records: Mapping[UnitKey, ScaleHistory] = field(default_factory=dict)
    event_key: str = ""
    lookback_minutes: int = 15

    def record(self, unit: UnitDiagnosis) -> ScaleHistory | None:
        """The responder's record of the unit's resource and dimension."""
        return self.records.get((unit.index_name, unit.dimension))
