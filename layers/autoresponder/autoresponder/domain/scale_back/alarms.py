"""The throttling alarms still in ALARM: they keep a table from being scaled back, and the
follow-up raises again for the causes more capacity helps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autoresponder.domain.alarm_target import AlarmTarget, is_autoscaling_alarm, resolve_target
from autoresponder.domain.throttling import ThrottleCause, ThrottleSignal, classify
from autoresponder.models.scale_back import ActiveAlarm
from autoresponder.models.table import Dimension

FOLLOW_UP_CAUSES = frozenset(
    {ThrottleCause.PROVISIONED, ThrottleCause.GENERIC, ThrottleCause.ON_DEMAND_MAX}
)
"""Causes more capacity can help; hot partitions and account limits are other runbooks' job."""


@dataclass(frozen=True)
class ThrottlingAlarm:
    alarm: ActiveAlarm
    target: AlarmTarget
    signal: ThrottleSignal

    @property
    def unit_key(self) -> tuple[str, str | None, Dimension | None]:
        return self.target.table_name, self.target.index_name, self.signal.dimension


def throttling_alarms(alarms: Sequence[ActiveAlarm]) -> list[ThrottlingAlarm]:
    """The alarms in ALARM that watch a DynamoDB throttle metric of one table (any cause)."""
    found = []
    for alarm in alarms:
        if is_autoscaling_alarm(alarm.alarm_name):
            continue
        target = resolve_target(alarm.metrics)
        if not isinstance(target, AlarmTarget):
            continue
        signal = classify(target.metric_name, target.operation)
        if signal.cause is ThrottleCause.NOT_THROTTLE:
            continue
        found.append(ThrottlingAlarm(alarm, target, signal))
    return found
