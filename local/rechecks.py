"""EventBridge Scheduler's delivery, played locally: the one-time re-checks that are due.

The emulator stores the schedules the functions create (`CreateSchedule` in the stack's
re-check group, `at(...)`, `ActionAfterCompletion: DELETE`) but never fires them. Here the demo
does what Scheduler does once a schedule is due: it invokes the target function (scale_back)
with the schedule's `Input`, then deletes the schedule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from autoresponder.models.recheck import RECHECK_DETAIL_TYPE
from local import render

_AT = re.compile(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")


@dataclass(frozen=True)
class Scheduled:
    """One one-time schedule of the group: its name, when it is due, what it delivers."""

    name: str
    due: datetime
    target_arn: str
    event: dict[str, Any]


def scheduled(scheduler: Any, group: str) -> list[Scheduled]:
    """Every one-time schedule of `group`, the soonest first."""
    found: list[Scheduled] = []
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        for summary in page.get("Schedules", []):
            schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=group)
            at = _AT.match(str(schedule.get("ScheduleExpression", "")))
            if at is None:
                continue
            found.append(
                Scheduled(
                    name=schedule["Name"],
                    due=datetime.fromisoformat(at.group(1)).replace(tzinfo=UTC),
                    target_arn=schedule["Target"]["Arn"],
                    event=json.loads(schedule["Target"].get("Input") or "{}"),
                )
            )
    return sorted(found, key=lambda s: s.due)


def deliver_due(
    scheduler: Any,
    group: str,
    now: datetime,
    invoke: Callable[[Scheduled], object],
) -> list[Scheduled]:
    """Deliver every schedule due by `now` (its event to `invoke`), deleting each once run."""
    delivered: list[Scheduled] = []
    for schedule in scheduled(scheduler, group):
        if schedule.due > now:
            break
        invoke(schedule)
        scheduler.delete_schedule(Name=schedule.name, GroupName=group)
        delivered.append(schedule)
    return delivered


def is_recheck(event: Mapping[str, Any]) -> bool:
    return event.get("detail-type") == RECHECK_DETAIL_TYPE


def recheck_summary(event: Mapping[str, Any], ahead: timedelta | None) -> list[str]:
    detail = event.get("detail") if isinstance(event.get("detail"), Mapping) else {}
    assert isinstance(detail, Mapping)
    lines = [
        render.field(
            "re-check",
            f"EventBridge Scheduler one-time schedule (at {event.get('time', '?')}): look at "
            f"table {detail.get('table_name', '?')} again ({detail.get('reason') or '-'})",
        )
    ]
    if ahead:
        lines.append(
            render.field(
                "clock",
                f"the responder's clock {ahead.total_seconds() / 60:g} minutes ahead of real "
                "time: the schedule is due",
            )
        )
    return lines
