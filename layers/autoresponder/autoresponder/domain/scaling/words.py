"""The wording the throttle runbook's reasons share."""

from __future__ import annotations

from datetime import datetime, timedelta


def where(table_name: str, index_name: str | None) -> str:
    if index_name:
        return f"index {index_name} of table {table_name}"
    return f"table {table_name}"


def resource(index_name: str | None) -> str:
    return f"index {index_name}" if index_name else "the table"


def fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.1f}"


def minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def hhmm(value: datetime) -> str:
    return f"{value:%H:%M} UTC"


def iso_minute(value: datetime | None) -> str:
    return "none" if value is None else hhmm(value)
