"""`make demo`'s scale-back step: the responder's clock fast-forwarded, the run's decisions shown.

scale_back acts on raises older than its stabilization window (60 minutes) whose table has
been quiet since. The demo cannot wait that long, so for that one step it moves the
responder's wall clock (`autoresponder.adapters.clock.SystemClock`, in this process only) two
hours ahead. The local AWS keeps real time: the raises made minutes ago by the earlier steps
are now two hours old, and CloudWatch holds no datapoint in the fast-forwarded window (the
spike is over), so every raise is stepped back toward its original value: a provisioned
decrease, an Auto Scaling minimum, an on-demand cap. Production code does not know about this.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from autoresponder.adapters.clock import SystemClock
from local import render

SCHEDULED_EVENT = "Scheduled Event"


@contextmanager
def fast_forward(ahead: timedelta) -> Iterator[None]:
    """The responder's wall clock `ahead` of real time, for the block."""
    real_now = SystemClock.now

    def later(self: SystemClock) -> datetime:
        return real_now(self) + ahead

    with mock.patch.object(SystemClock, "now", later):
        yield


def is_scheduled(event: Mapping[str, Any]) -> bool:
    return event.get("detail-type") == SCHEDULED_EVENT


def schedule_summary(event: Mapping[str, Any], ahead: timedelta | None) -> list[str]:
    lines = [
        render.field(
            "schedule",
            f"{event.get('source', '?')} Scheduled Event, scheduled time {event.get('time', '?')}",
        )
    ]
    if ahead:
        hours = ahead.total_seconds() / 3600
        lines.append(
            render.field(
                "clock",
                f"the responder's clock fast-forwarded {hours:g} hours: the raises above are "
                "now older than the stabilization window and the spike is over",
            )
        )
    return lines


def run_decisions(result: Mapping[str, Any]) -> list[str]:
    """Every decision of a scheduled run, one line each (the headline is printed above)."""
    decisions = result.get("decisions")
    if not isinstance(decisions, list) or len(decisions) < 2:
        return []
    lines = [render.field("run", f"{len(decisions)} decisions: {_counts(result)}")]
    for decision in decisions:
        action = str(decision.get("action", "?"))
        where = decision.get("table_name") or "-"
        if decision.get("index_name"):
            where += f"/{decision['index_name']}"
        if decision.get("dimension"):
            where += f" {decision['dimension']}"
        change = render.change_text(action, decision.get("before"), decision.get("after"))
        text = f"{action} {where}: {decision.get('rule', '')}"
        text += f", {change}" if change else f", {decision.get('reason', '')}"
        lines.append(render.field("  ·", text))
    return lines


def _counts(result: Mapping[str, Any]) -> str:
    counts = result.get("counts") or {}
    return ", ".join(f"{count} {action}" for action, count in sorted(counts.items()))
