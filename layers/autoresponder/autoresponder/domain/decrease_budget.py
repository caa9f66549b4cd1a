"""DynamoDB's daily budget of provisioned-throughput decreases, per table and per GSI.

The rule (Service quotas, "Decreasing provisioned throughput"): in one UTC day a table, and
separately each of its global secondary indexes, may be decreased 4 times at any time, plus
once more in every hour that follows an hour without a decrease: at most 27 a day (4 in the
first hour, then 1 per hour). `DescribeTable` reports `NumberOfDecreasesToday` and
`LastDecreaseDateTime` for the table and each index; increases are never limited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class DecreaseRules:
    free_per_day: int = 4
    """Decreases allowed at any time of the day."""
    max_per_day: int = 27
    spacing: timedelta = timedelta(hours=1)
    """Past the free ones, a decrease needs this long without another one before it."""


@dataclass(frozen=True)
class DecreaseBudget:
    """What a table or index may still spend today, seen at `now`."""

    now: datetime
    used_today: int
    last_decrease_at: datetime | None
    allowed_now: bool
    next_allowed_at: datetime
    """`now` when allowed; else the earliest time a decrease is allowed again."""
    left_after_one: int
    """Decreases still possible later today if one is spent now (0 when not allowed now)."""

    @property
    def is_last_of_day(self) -> bool:
        """Spending a decrease now leaves none for the rest of the UTC day."""
        return self.allowed_now and self.left_after_one == 0

    def describe(self) -> str:
        used = f"{self.used_today} decrease(s) used today"
        if self.allowed_now:
            return f"{used}, {self.left_after_one} more possible today after this one"
        return f"{used}, next one possible at {self.next_allowed_at:%Y-%m-%d %H:%M} UTC"


def start_of_day(when: datetime) -> datetime:
    """Midnight UTC of the day `when` falls in."""
    utc = when.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC)


def decrease_budget(
    decreases_today: int,
    last_decrease_at: datetime | None,
    now: datetime,
    rules: DecreaseRules | None = None,
) -> DecreaseBudget:
    """The budget from `NumberOfDecreasesToday` / `LastDecreaseDateTime` at `now`.

    A count reported with a last decrease before today's midnight belongs to a previous day.
    """
    rules = rules or DecreaseRules()
    today = start_of_day(now)
    tomorrow = today + timedelta(days=1)
    stale = last_decrease_at is not None and last_decrease_at < today
    used = 0 if stale else max(decreases_today, 0)
    rested = last_decrease_at is None or now - last_decrease_at >= rules.spacing
    allowed = used < rules.max_per_day and (used < rules.free_per_day or rested)
    if allowed:
        next_at = now
    elif used >= rules.max_per_day or last_decrease_at is None:
        next_at = tomorrow
    else:
        next_at = min(last_decrease_at + rules.spacing, tomorrow)
    return DecreaseBudget(
        now=now,
        used_today=used,
        last_decrease_at=last_decrease_at,
        allowed_now=allowed,
        next_allowed_at=next_at,
        left_after_one=_left_after_one(used, now, tomorrow, rules) if allowed else 0,
    )


def _left_after_one(used: int, now: datetime, tomorrow: datetime, rules: DecreaseRules) -> int:
    """Decreases still possible today after one at `now`: the free ones left at once, then one
    per `spacing` strictly before midnight, never more than the daily maximum."""
    spent = used + 1
    free_left = max(rules.free_per_day - spent, 0)
    hourly = max(math.ceil((tomorrow - now) / rules.spacing) - 1, 0)
    return max(min(rules.max_per_day - spent, free_left + hourly), 0)
