"""What the throttle runbook decides before it reads the table."""

from __future__ import annotations

from autoresponder.domain.alarm_target import is_autoscaling_alarm
from autoresponder.domain.scaling.plan import Plan
from autoresponder.models.alarm import AlarmDetail, AlarmStateValue
from autoresponder.models.decision import Action
from autoresponder.models.table import TablePolicy


def triage_alarm(detail: AlarmDetail) -> Plan | None:
    """Alarms the throttle runbook never acts on, known from the event alone."""
    if detail.state.value is not AlarmStateValue.ALARM:
        return Plan(
            Action.SKIP,
            "not_alarm",
            f"alarm {detail.alarm_name} went to {detail.state.value}, not ALARM: nothing to do",
        )
    if is_autoscaling_alarm(detail.alarm_name):
        return Plan(
            Action.SKIP,
            "autoscaling_alarm",
            f"{detail.alarm_name} belongs to Application Auto Scaling's target tracking: "
            "it scales the table itself",
        )
    return None


def gate(table_name: str, table_policy: TablePolicy) -> Plan | None:
    """Tables the responder may not change: reported, never touched."""
    if not table_policy.managed:
        return Plan(
            Action.SKIP,
            "not_managed",
            f"table {table_name} lacks the tag autoresponder:managed=true: reported, not changed",
        )
    return None
