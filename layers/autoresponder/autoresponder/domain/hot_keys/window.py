"""The window of the Contributor Insights reports the runbook reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from autoresponder.models.alarm import AlarmDetail

REPORT_PERIOD_SECONDS = 60


@dataclass(frozen=True)
class ReportWindow:
    start: datetime
    end: datetime
    period_seconds: int = REPORT_PERIOD_SECONDS


def report_window(detail: AlarmDetail, minimum: timedelta) -> ReportWindow:
    """The alarm's evaluation window (from `reasonData`), at least `minimum` long, ending at
    the state change."""
    end = detail.state.timestamp
    data = detail.state.reason_data
    start: datetime | None = None
    raw_start = data.get("startDate")
    if isinstance(raw_start, str):
        try:
            start = datetime.fromisoformat(raw_start)
        except ValueError:
            start = None
    if start is None or start.tzinfo is None or start >= end:
        periods = [
            m.metric_stat.period
            for m in detail.configuration.metrics
            if m.metric_stat is not None and m.metric_stat.period
        ]
        period = periods[0] if periods else int(data.get("period") or REPORT_PERIOD_SECONDS)
        points = max(1, len(detail.state.recent_datapoints))
        start = end - timedelta(seconds=period * points)
    return ReportWindow(start=min(start, end - minimum), end=end)
