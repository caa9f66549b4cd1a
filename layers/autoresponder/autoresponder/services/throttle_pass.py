"""One pass of the throttle runbook over one table: observe, settle, diagnose, plan, act.

The same pass serves an alarm (scale_on_throttle), a re-check and scale_back's follow-up of an
alarm still in ALARM (docs/style.md, habit 10: a retry or a follow-up goes through the same pass):

1. observe the table: DescribeTable, its scalable targets (one DescribeScalableTargets), its
   capacity records (one Query);
2. settle every pending intent against the table (`domain/reconcile.py`): made → applied;
   never made → made now; changed by someone else → dropped and said;
3. read CloudWatch once (GetMetricData, the table and every GSI) and diagnose
   (`domain/diagnosis.py`); CloudWatch unreadable → no diagnosis, the plan falls back;
4. plan (`domain/scaling/`) and make the one change it asks for, intent first.

The caller holds the table's lock and records the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from autoresponder.domain.diagnosis import PERIOD, Diagnosis, diagnose, observed_series
from autoresponder.domain.reconcile import Landing, kind_of, kind_of_limits, settle
from autoresponder.domain.scale_back.policy import ScaleBackPolicy, window_after_raise
from autoresponder.domain.scaling.case import AlarmEvidence, ThrottleCase
from autoresponder.domain.scaling.history import IntentStatus, Limits, ScaleHistory, UnitKey
from autoresponder.domain.scaling.plan import ALREADY_APPLIED, Plan
from autoresponder.domain.scaling.runbook import plan_throttle
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.domain.scaling.words import hhmm, where
from autoresponder.errors import RetryableError
from autoresponder.models.decision import AutoScalingLimits, Severity
from autoresponder.models.metrics import Series
from autoresponder.models.table import (
    Dimension,
    OnDemandLimits,
    ScalableTarget,
    TableDescription,
    TablePolicy,
)
from autoresponder.observability import logger
from autoresponder.services.capacity_change import CapacityChange, CapacityChanger
from autoresponder.services.ports import (
    AutoScalingPort,
    CapacityWriter,
    Clock,
    MetricDataReader,
    ScaleHistoryStore,
    TableReader,
)


@dataclass(frozen=True)
class Trigger:
    """What started the pass: its delivery key (intents remember it), and the alarm if any."""

    event_key: str
    evidence: AlarmEvidence | None = None
    alarm_series: tuple[Series, ...] = ()


@dataclass(frozen=True)
class PassConfig:
    policy: ScalingPolicy
    lookback: timedelta = timedelta(minutes=15)
    dry_run: bool = False
    back: ScaleBackPolicy = field(default_factory=ScaleBackPolicy)
    """The scale-back's window, which a raise soon after a decrease doubles."""


@dataclass(frozen=True)
class PassResult:
    plan: Plan
    dry_run: bool
    table: TableDescription
    diagnosis: Diagnosis | None = None
    settled: tuple[str, ...] = ()
    """What settling the pending intents found (made, dropped), one line each."""
    observed: bool = True
    """Whether CloudWatch was read (False: unreadable, or the pass reported a settled change)."""
    settled_intent: str | None = None
    """The delivery key of the intent whose change the plan reports (made now or found made)."""
    observation: Diagnosis | None = None
    """The whole read (`observe_for` when longer than the lookback); `diagnosis` is its last
    lookback, which the plan was made on."""


class ThrottlePass:
    def __init__(
        self,
        *,
        tables: TableReader,
        changer: CapacityChanger,
        autoscaling: AutoScalingPort,
        metrics: MetricDataReader,
        history: ScaleHistoryStore,
        clock: Clock,
        config: PassConfig,
    ) -> None:
        self._tables = tables
        self._changer = changer
        self._autoscaling = autoscaling
        self._metrics = metrics
        self._history = history
        self._clock = clock
        self._config = config

    @classmethod
    def over(
        cls,
        *,
        tables: TableReader,
        capacity: CapacityWriter,
        autoscaling: AutoScalingPort,
        metrics: MetricDataReader,
        history: ScaleHistoryStore,
        clock: Clock,
        config: PassConfig,
    ) -> ThrottlePass:
        """The pass over these ports, with its own capacity changer (`changer`)."""
        changer = CapacityChanger(
            tables=tables, capacity=capacity, autoscaling=autoscaling, history=history, clock=clock
        )
        return cls(
            tables=tables,
            changer=changer,
            autoscaling=autoscaling,
            metrics=metrics,
            history=history,
            clock=clock,
            config=config,
        )

    @property
    def changer(self) -> CapacityChanger:
        """What applies the pass's changes (scale_back's decreases go through it too)."""
        return self._changer

    def run(
        self,
        table_name: str,
        table_policy: TablePolicy,
        trigger: Trigger,
        *,
        table: TableDescription | None = None,
        act: bool = True,
        observe_for: timedelta | None = None,
    ) -> PassResult:
        """`act=False`: observe and plan only (a resumed run that already decided).
        `observe_for`: read CloudWatch this far back when longer than the lookback (the
        scale-back's windows); the plan still looks at the lookback."""
        dry_run = self._config.dry_run or table_policy.dry_run or not act
        table = table or self._tables.describe(table_name)
        targets = self._scalable_targets(table)
        records = dict(self._history.scale_records(table_name))
        settled, notes, key = (
            self._settle(table, targets, records, trigger) if act else (None, (), None)
        )
        if settled is not None:
            return PassResult(
                settled, dry_run, table, settled=notes, observed=False, settled_intent=key
            )
        window = max(self._config.lookback, observe_for or timedelta(0))
        observation = self._observe(table, trigger, window)
        diagnosis = observation.over_last(self._config.lookback) if observation else None
        case = ThrottleCase(
            table=table,
            table_policy=table_policy,
            now=self._clock.now(),
            diagnosis=diagnosis,
            evidence=trigger.evidence,
            scalable_targets=targets,
            records=records,
            event_key=trigger.event_key,
            lookback_minutes=int(self._config.lookback.total_seconds() // 60),
        )
        plan = plan_throttle(case, self._config.policy)
        if notes:
            plan = replace(plan, lines=(*notes, *plan.lines))
        if plan.to_apply and not dry_run:
            self._changer.apply(self._change(case, plan, trigger, records))
        return PassResult(
            plan,
            dry_run,
            table,
            diagnosis,
            notes,
            observed=diagnosis is not None,
            observation=observation,
        )

    def _scalable_targets(self, table: TableDescription) -> dict[UnitKey, ScalableTarget]:
        """The Auto Scaling targets of a provisioned table and its GSIs (none on demand)."""
        if table.is_on_demand:
            return {}
        return dict(self._autoscaling.scalable_targets(table.table_name, sorted(table.indexes)))

    # -- observe -----------------------------------------------------------------------------

    def _observe(
        self, table: TableDescription, trigger: Trigger, window: timedelta
    ) -> Diagnosis | None:
        """One GetMetricData over `window`; None when CloudWatch is throttled or down."""
        end = _minute(self._clock.now()) + PERIOD
        start = end - window - PERIOD
        wanted = observed_series(table, trigger.alarm_series)
        try:
            points = self._metrics.read(wanted, start, end, PERIOD)
        except RetryableError as exc:
            logger.warning(
                "CloudWatch unreadable: the alarm's own metric decides",
                table=table.table_name,
                error=str(exc),
            )
            return None
        return diagnose(table, points, start, end, trigger.alarm_series)

    # -- settle ------------------------------------------------------------------------------

    def _settle(
        self,
        table: TableDescription,
        targets: dict[UnitKey, ScalableTarget],
        records: dict[UnitKey, ScaleHistory],
        trigger: Trigger,
    ) -> tuple[Plan | None, tuple[str, ...], str | None]:
        """Settle every pending intent. Returns the plan to report when this pass made (or
        found made) a change an intent asked for, and a line per intent settled."""
        notes: list[str] = []
        report: Plan | None = None
        key_of_report: str | None = None
        pending = _group([(k, r) for k, r in sorted(records.items(), key=_order) if r.pending])
        for (index_name, event_key), group in pending.items():
            landing = {
                key: settle(record, table, index_name, key[1], targets.get(key))
                for key, record in group
            }
            intents = dict(group)
            first = next(iter(intents.values()))
            place = where(table.table_name, index_name)
            if set(landing.values()) <= {Landing.IN_FLIGHT, Landing.LANDED}:
                self._mark(table.table_name, index_name, intents, records)
                if event_key == trigger.event_key and report is None:
                    report = _replayed(first, index_name, intents, "already made")
                    key_of_report = event_key
                else:
                    notes.append(f"{place}: the change asked for at {hhmm(first.scaled_at)} landed")
            elif set(landing.values()) == {Landing.TO_APPLY} and report is None:
                self._apply_intents(table, index_name, intents, targets.get(next(iter(intents))))
                self._mark(table.table_name, index_name, intents, records)
                report = _replayed(first, index_name, intents, "made now")
                key_of_report = event_key
            else:
                notes += self._forget_elsewhere(table, index_name, intents, landing, records)
        if report is None:
            report = self._own_change(records, trigger)
            key_of_report = trigger.event_key if report is not None else None
        return report, tuple(notes), key_of_report

    def _apply_intents(
        self,
        table: TableDescription,
        index_name: str | None,
        intents: dict[UnitKey, ScaleHistory],
        scalable_target: ScalableTarget | None,
    ) -> None:
        """Make the change pending intents asked for and the table does not show yet (their
        intent is already written: an earlier attempt died or lost its answer before)."""
        first = next(iter(intents.values()))
        change = CapacityChange(
            table_name=table.table_name,
            index_name=index_name,
            after=_only_asked(first.after, table, index_name, intents),
            intents={key[1]: record for key, record in intents.items()},
            previous=dict.fromkeys((key[1] for key in intents), None),
            scalable_target=scalable_target,
        )
        self._changer.apply(change, write_intent=False)

    def _forget_elsewhere(
        self,
        table: TableDescription,
        index_name: str | None,
        intents: dict[UnitKey, ScaleHistory],
        landing: Mapping[UnitKey, Landing],
        records: dict[UnitKey, ScaleHistory],
    ) -> list[str]:
        """Intents whose unit someone else changed first: no longer tracked, said once."""
        place = where(table.table_name, index_name)
        first = next(iter(intents.values()))
        notes = []
        for key in intents:
            if landing[key] is Landing.ELSEWHERE:
                self._changer.forget(table.table_name, index_name, key[1])
                records.pop(key, None)
                notes.append(
                    f"{place} {key[1]}: changed outside the responder before its change "
                    f"to {_value(first.after, key[1])} was made: no longer tracked"
                )
        return notes

    @staticmethod
    def _own_change(records: Mapping[UnitKey, ScaleHistory], trigger: Trigger) -> Plan | None:
        """A change this very delivery made on an earlier attempt (it died, or lost its
        answer, before recording the decision): report it, never make it again."""
        own = [
            (k, r)
            for k, r in sorted(records.items(), key=_order)
            if r.event_key == trigger.event_key
        ]
        if not own or own[0][1].pending:
            return None
        index_name = own[0][0][0]
        intents = {k: r for k, r in own if k[0] == index_name}
        return _replayed(own[0][1], index_name, intents, "already made")

    def _mark(
        self,
        table_name: str,
        index_name: str | None,
        intents: Mapping[UnitKey, ScaleHistory],
        records: dict[UnitKey, ScaleHistory],
    ) -> None:
        now = self._clock.now()
        for key, record in intents.items():
            records[key] = replace(record, status=IntentStatus.APPLIED, applied_at=now)
        first = next(iter(intents.values()))
        self._changer.mark_applied(
            CapacityChange(
                table_name=table_name,
                index_name=index_name,
                after=first.after,
                intents={key[1]: record for key, record in intents.items()},
                previous={},
            )
        )

    # -- act ---------------------------------------------------------------------------------

    def _change(
        self,
        case: ThrottleCase,
        plan: Plan,
        trigger: Trigger,
        records: Mapping[UnitKey, ScaleHistory],
    ) -> CapacityChange:
        change = plan.change
        assert change is not None
        intents: dict[Dimension, ScaleHistory] = {}
        previous: dict[Dimension, ScaleHistory | None] = {}
        for dimension in change.dimensions:
            key = (change.index_name, dimension)
            before = records.get(key)
            same_episode = before is not None and kind_of(before) is kind_of_limits(change.after)
            unit = case.diagnosis.unit(*key) if case.diagnosis else None
            started = unit.first_throttled_at if unit and unit.first_throttled_at else case.now
            intents[dimension] = ScaleHistory(
                scaled_at=case.now,
                event_key=trigger.event_key,
                action=change.action,
                before=change.before,
                after=change.after,
                original=before.original if same_episode and before else change.before,
                status=IntentStatus.PENDING,
                episode_start=before.episode_start if same_episode and before else started,
                stabilization_minutes=window_after_raise(
                    before,
                    _last_decrease(case.table, change.index_name),
                    case.now,
                    self._config.back,
                ),
                decreased_at=before.decreased_at if before else None,
                rule=plan.rule,
            )
            previous[dimension] = before
        return CapacityChange(
            table_name=case.table.table_name,
            index_name=change.index_name,
            after=change.after,
            intents=intents,
            previous=previous,
            scalable_target=change.scalable_target,
        )


def _only_asked(
    after: Limits,
    table: TableDescription,
    index_name: str | None,
    intents: Mapping[UnitKey, ScaleHistory],
) -> Limits:
    """What to ask for when an intent is made on a later look: the table as it is now, with
    only the intent's own dimension(s) changed (the other one may have moved since)."""
    unit = table.unit(index_name)
    if isinstance(after, AutoScalingLimits) or unit is None:
        return after
    now: Limits | None = (
        unit.on_demand_max if isinstance(after, OnDemandLimits) else unit.provisioned
    )
    if now is None or isinstance(now, AutoScalingLimits):
        return after
    for _, dimension in intents:
        value = after.of(dimension)
        if value is not None:
            now = now.with_(dimension, value)
    return now


def _last_decrease(table: TableDescription, index_name: str | None) -> datetime | None:
    unit = table.unit(index_name)
    return unit.last_decrease_at if unit is not None else None


def _replayed(
    record: ScaleHistory,
    index_name: str | None,
    intents: Mapping[UnitKey, ScaleHistory],
    how: str,
) -> Plan:
    """The report of a change an intent asked for: made on a later look, or found made."""
    dimensions = sorted((key[1] for key in intents), key=lambda d: d.value)
    dimension = dimensions[0] if len(dimensions) == 1 else None
    rule = ALREADY_APPLIED if how == "already made" else record.rule or "reconcile.applied"
    return Plan(
        record.action,
        rule,
        f"{_where_short(index_name)} {'/'.join(d.value for d in dimensions)}: the change asked "
        f"for at {hhmm(record.scaled_at)} ({_value(record.before, dimensions[0])} → "
        f"{_value(record.after, dimensions[0])}) was {how}",
        dimension=dimension,
        before=record.before,
        after=record.after,
        severity=Severity.WARNING,
        index_name=index_name,
    )


def _group(
    items: Sequence[tuple[UnitKey, ScaleHistory]],
) -> dict[tuple[str | None, str], list[tuple[UnitKey, ScaleHistory]]]:
    """Intents by (resource, event): one event's change of both dimensions is one call."""
    found: dict[tuple[str | None, str], list[tuple[UnitKey, ScaleHistory]]] = {}
    for key, record in items:
        found.setdefault((key[0], record.event_key), []).append((key, record))
    return found


def _order(item: tuple[UnitKey, ScaleHistory]) -> tuple[str, str]:
    return item[0][0] or "", item[0][1].value


def _value(limits: Limits, dimension: Dimension) -> str:
    if isinstance(limits, AutoScalingLimits):
        return f"min {limits.min_capacity}"
    return str(limits.of(dimension))


def _where_short(index_name: str | None) -> str:
    return f"index {index_name}" if index_name else "table"


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)
