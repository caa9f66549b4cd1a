"""When to look at a table again, and when an episode ended (pure).

Where a change has not landed yet, or an episode is not over, the next look is scheduled for
when it should have (docs/architecture.md, "The control loop"): a one-time re-check of that
table, the same pass as an alarm's. The 15-minute schedule stays only as a safety net.

| after this look                                   | look again                                 |
|---------------------------------------------------|--------------------------------------------|
| a change was just asked for                       | when it should have landed                 |
| the table (or the index) is UPDATING              | in a short step, for a while               |
| a raise landed, throttling not yet seen to stop   | in a short step: a shortfall raises again  |
| after a raise, demand climbing into its headroom  | in a short step: raise before it throttles |
| a scale-back waits for a known time               | then (its window ends, a decrease allowed) |

Time to mitigation: from the episode's first throttled datapoint to the minute throttling
stopped (the minute after the last throttled one, once a later minute shows none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from autoresponder.domain.diagnosis import PERIOD, Diagnosis, Trend
from autoresponder.domain.scaling.history import RAISES, ScaleHistory, UnitKey
from autoresponder.models.table import TableDescription


@dataclass(frozen=True)
class LookPolicy:
    after_change: timedelta = timedelta(minutes=2)
    """How long an UpdateTable (or RegisterScalableTarget) takes to land, usually."""
    step: timedelta = timedelta(minutes=1)
    """The short step while UPDATING, or while a landed raise's effect is not yet measured."""
    patience: timedelta = timedelta(minutes=30)
    """How long after the episode's last raise short steps go on (then the schedule)."""
    metrics_delay: timedelta = timedelta(minutes=2)
    """How long after a minute its datapoint is readable."""
    episode_lookback: timedelta = timedelta(hours=3)
    """How far back a look reads to find when an open episode's throttling stopped."""


@dataclass(frozen=True)
class NextLook:
    at: datetime
    reason: str


def next_look(
    now: datetime,
    *,
    changed: bool,
    updating: bool,
    unsettled: bool,
    tight: bool = False,
    last_raise_at: datetime | None,
    holds_until: Iterable[datetime],
    policy: LookPolicy,
) -> NextLook | None:
    """The earliest look a table needs after this one; None when the schedule is enough."""
    fresh = last_raise_at is not None and now - last_raise_at < policy.patience
    found: list[NextLook] = []
    if changed:  # nothing to see before it lands
        found.append(NextLook(now + policy.after_change, "the change should have landed"))
    elif updating and fresh:
        found.append(NextLook(now + policy.step, "the table is UPDATING"))
    elif unsettled and fresh:
        found.append(NextLook(now + policy.step, "the raise has landed: is throttling over?"))
    elif tight and fresh:
        found.append(NextLook(now + policy.step, "the demand is climbing into the headroom"))
    for until in holds_until:
        at = max(until + policy.metrics_delay, now + policy.step)
        found.append(NextLook(at, "a scale-back waits until then"))
    return min(found, key=lambda look: look.at) if found else None


@dataclass(frozen=True)
class Mitigated:
    key: UnitKey
    started_at: datetime
    stopped_at: datetime
    measured: bool = True
    """False: throttling stopped before the first minute this look read (`stopped_at` is
    that minute, an upper bound): no time to mitigation is claimed."""

    @property
    def seconds(self) -> float | None:
        if not self.measured:
            return None
        return (self.stopped_at - self.started_at).total_seconds()


def episode_window(records: Iterable[ScaleHistory], now: datetime, policy: LookPolicy) -> timedelta:
    """How far back to read so that the open episodes' throttling is in view (at most
    `episode_lookback`)."""
    starts = [
        r.episode_start
        for r in records
        if r.action in RAISES and not r.pending and r.mitigated_at is None and r.episode_start
    ]
    if not starts:
        return timedelta(0)
    return min(now - min(starts), policy.episode_lookback)


def mitigated(
    records: Mapping[UnitKey, ScaleHistory], diagnosis: Diagnosis | None
) -> list[Mitigated]:
    """The episodes this observation shows over: the unit was raised, its throttling stopped,
    and a later minute shows traffic without throttling. Each is reported once (the record
    carries `mitigated_at` afterwards). The time counts from the episode's first throttled
    datapoint to the minute throttling stopped, whatever stopped it."""
    if diagnosis is None:
        return []
    found = []
    for key, record in sorted(records.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        if record.action not in RAISES or record.pending or record.mitigated_at is not None:
            continue
        started = record.episode_start
        unit = diagnosis.unit(*key)
        if started is None or unit is None or unit.last_unthrottled_at is None:
            continue
        last = unit.last_throttled_at
        if last is None and started < diagnosis.start:
            # it stopped before the minutes read: when is not known, only that it has
            found.append(Mitigated(key, started, diagnosis.start, measured=False))
            continue
        if last is None:  # nothing throttled since the episode's first minute
            stopped = started + PERIOD
        elif unit.last_unthrottled_at > last:
            stopped = last + PERIOD
        else:
            continue
        found.append(Mitigated(key, started, stopped))
    return found


def headroom_eaten(
    table: TableDescription, diagnosis: Diagnosis | None, headroom_percent: float
) -> bool:
    """Whether a provisioned resource's newest demand, not falling, has eaten more than half
    the headroom a raise gives (a ramp, or burst capacity being spent): another look soon may
    raise before anything throttles, where no alarm would send a new event."""
    if diagnosis is None or table.is_on_demand:
        return False
    for unit in diagnosis.units:
        capacity = table.unit(unit.index_name)
        if capacity is None or capacity.provisioned is None or unit.demand_latest is None:
            continue
        if unit.trend is Trend.FALLING:
            continue
        if unit.demand_latest * (1 + headroom_percent / 200) > capacity.provisioned.of(
            unit.dimension
        ):
            return True
    return False
