"""scale_back: on a schedule, keep capacity up while throttling lasts, step it back after.

One run, for every table with a raise to undo or a throttling alarm still in ALARM:

1. under the table's lock, describe it once;
2. follow-ups first (increases are never blocked by a decrease): a throttling alarm still in
   ALARM after the cooldown runs the throttle runbook again (`decide_throttle`, same
   guardrails as scale_on_throttle);
3. then each raise the scale history holds gets a scale-back decision (`decide_scale_back`);
   at most one capacity change per table and run (the table goes UPDATING and refuses a second
   one; a table and a GSI decrease never share a call); the others wait for the next run.

Every decision is recorded under a key made of the run's scheduled time and the
table/index/dimension, so a retried or duplicated run resumes what it already decided; a
change made but not yet recorded is recognised by the intent in the scale history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.scale_back import (
    BACK_ACTIONS,
    BackPlan,
    ScaleBackCase,
    ScaleBackPolicy,
    ThrottlingAlarm,
    decide_scale_back,
    follow_ups,
    pick_change,
    precheck,
    throttling_alarms,
    wait_for_other_change,
)
from autoresponder.domain.scaling import (
    Plan,
    ScaleHistory,
    ScalingPolicy,
    ThrottleCase,
    decide_throttle,
)
from autoresponder.errors import (
    AutoresponderError,
    PermanentError,
    ResourceNotFoundError,
    RetryableError,
    TableBusyError,
)
from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.models.scale_back import (
    RecordKind,
    ScaleBackDecision,
    ScheduledEvent,
    run_record_key,
)
from autoresponder.models.table import Dimension, TableDescription, TablePolicy
from autoresponder.observability import logger
from autoresponder.services.capacity_change import (
    CapacityChange,
    CapacityChanger,
    sizing_peak,
    table_lock,
)
from autoresponder.services.ports import (
    ActiveAlarmReader,
    ActivityReader,
    AutoScalingPort,
    CapacityWriter,
    Clock,
    MetricsReader,
    ScaleHistoryStore,
    TableReader,
)
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import reject
from autoresponder.services.scale_on_throttle import throttle_change

RUNBOOK = "scale_back"

Raised = dict[tuple[str | None, Dimension], ScaleHistory]

# Which decision of a run the handler returns first: what people most need to see.
_SIGNIFICANCE: dict[str, int] = {
    Action.FAIL: 0,
    Action.REJECT: 0,
    Action.SCALE_UP: 1,
    Action.RAISE_AUTOSCALING_MIN: 1,
    Action.RAISE_ON_DEMAND_MAX: 1,
    Action.SCALE_DOWN: 2,
    Action.RESTORE_AUTOSCALING: 2,
    Action.RESTORE_ON_DEMAND_MAX: 2,
    Action.DEFER: 3,
    Action.HOLD: 4,
    Action.SKIP: 5,
}


class _NotRecorded(Exception):
    """A decision could not be recorded or announced: the whole run must be retried (Lambda
    retries the scheduled event; the retry resumes the decisions already recorded)."""

    def __init__(self, error: AutoresponderError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class ScaleBackConfig:
    policy: ScaleBackPolicy
    throttle: ScalingPolicy
    """The throttle runbook's policy: follow-ups keep the same guardrails."""
    prices: Prices
    dry_run: bool = False
    lookback: timedelta = timedelta(minutes=15)
    """Follow-up sizing: the consumed peak over this long (as scale_on_throttle)."""
    lock_seconds: int = 60


@dataclass(frozen=True)
class RunResult:
    """The decisions of one run; the handler returns the most significant one first."""

    decisions: tuple[Decision, ...]
    nothing_to_do: Decision | None = None

    @property
    def headline(self) -> Decision:
        if not self.decisions:
            assert self.nothing_to_do is not None
            return self.nothing_to_do
        return min(self.decisions, key=lambda d: _SIGNIFICANCE.get(d.action, 9))

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for decision in self.decisions:
            counts[decision.action] = counts.get(decision.action, 0) + 1
        return counts

    def as_result(self) -> dict[str, Any]:
        """The headline decision (DESIGN.md's handler contract), with every decision of the
        run under `decisions` and the number per action under `counts`."""
        return {
            **self.headline.as_result(),
            "decisions": [d.as_result() for d in self.decisions],
            "counts": self.counts(),
        }


class ScaleBack:
    """The capacity lifecycle's use case. Ports are passed in; the handler builds the real ones."""

    def __init__(
        self,
        *,
        tables: TableReader,
        capacity: CapacityWriter,
        autoscaling: AutoScalingPort,
        metrics: MetricsReader,
        activity: ActivityReader,
        alarms: ActiveAlarmReader,
        store: ScaleHistoryStore,
        recorder: DecisionRecorder,
        clock: Clock,
        config: ScaleBackConfig,
    ) -> None:
        self._tables = tables
        self._autoscaling = autoscaling
        self._metrics = metrics
        self._activity = activity
        self._alarms = alarms
        self._store = store
        self._recorder = recorder
        self._clock = clock
        self._config = config
        self._changer = CapacityChanger(capacity=capacity, autoscaling=autoscaling, store=store)

    def handle(self, raw: object) -> RunResult:
        """Parse, then run. Anything but an EventBridge Scheduled Event is a recorded `reject`."""
        try:
            event = ScheduledEvent.model_validate(raw)
        except ValidationError as exc:
            return RunResult((self._reject(raw, exc),))
        return self.run(event)

    def run(self, event: ScheduledEvent) -> RunResult:
        now = self._clock.now()
        raised = _by_table(self._store.all_scale_history())
        alarms: dict[str, list[ThrottlingAlarm]] = {}
        for alarm in throttling_alarms(self._alarms.alarms_in_alarm()):
            alarms.setdefault(alarm.target.table_name, []).append(alarm)
        cooldown = self._config.throttle.cooldown
        every = [alarm for found in alarms.values() for alarm in found]
        due = {a.target.table_name for a in follow_ups(every, now, cooldown)}
        decisions: list[Decision] = []
        for table_name in sorted(set(raised) | due):
            try:
                decisions += _Run(self, event, now, table_name).table(
                    raised.get(table_name, {}), alarms.get(table_name, [])
                )
            except _NotRecorded as failed:
                raise failed.error from failed
        result = RunResult(tuple(decisions), None if decisions else self._nothing(event, now))
        logger.info(
            "scale_back run finished",
            run=event.run_key,
            tables=len(set(raised) | due),
            raised=sum(len(r) for r in raised.values()),
            alarms_in_alarm=sum(len(a) for a in alarms.values()),
            counts=result.counts(),
        )
        return result

    # -- outcomes without a table --------------------------------------------------------------

    def _reject(self, raw: object, error: ValidationError) -> Decision:
        return reject(
            RUNBOOK,
            raw,
            error,
            self._recorder,
            self._clock,
            expected="an EventBridge Scheduled Event",
        )

    def _nothing(self, event: ScheduledEvent, now: datetime) -> Decision:
        """Logged and returned, not recorded: most runs have nothing to do."""
        return Decision(
            runbook=RUNBOOK,
            action=Action.SKIP,
            table_name=None,
            reason="nothing to follow up or scale back: no raise to undo and no throttling "
            "alarm in ALARM past the cooldown",
            rule="nothing_to_do",
            dry_run=self._config.dry_run,
            event_id=event.id or None,
            region=event.region,
            account=event.account,
            decided_at=now,
        )


class _Run:
    """One table in one run (a helper object: keeps the per-table state out of signatures)."""

    def __init__(self, service: ScaleBack, event: ScheduledEvent, now: datetime, table: str):
        self.s = service
        self.event = event
        self.now = now
        self.table_name = table
        self.owner = f"{event.run_key}#{uuid.uuid4().hex}"
        self.changed = False
        """Whether this table got (or, on a resumed run, already got) a change in this run."""

    @property
    def config(self) -> ScaleBackConfig:
        return self.s._config

    def table(self, raised: Raised, alarms: Sequence[ThrottlingAlarm]) -> list[Decision]:
        arn = f"arn:aws:dynamodb:{self.event.region}:{self.event.account}:table/{self.table_name}"
        try:
            policy = TablePolicy.from_tags(self.s._tables.tags(arn))
            if not policy.managed and not raised:
                return []  # a throttling alarm on a table the responder does not manage
            with table_lock(
                self.s._store, self.table_name, self.owner, self.config.lock_seconds, self.now
            ):
                description = self.s._tables.describe(self.table_name)
                decisions = []
                if policy.managed:
                    due = follow_ups(alarms, self.now, self.config.throttle.cooldown)
                    decisions += [self._follow_up(description, policy, a) for a in due]
                in_alarm = tuple(sorted({a.alarm.alarm_name for a in alarms}))
                decisions += self._scale_back(description, policy, raised, in_alarm)
                return decisions
        except TableBusyError as exc:
            return [self._table_outcome(raised, Action.HOLD, "hold.locked", f"still busy: {exc}")]
        except RetryableError as exc:
            return [
                self._table_outcome(
                    raised, Action.DEFER, "retryable_error", f"{exc}: the next run tries again"
                )
            ]
        except ResourceNotFoundError as exc:
            return [
                self._forget_missing(index, dim, exc)
                for (index, dim) in sorted(raised, key=_key_order)
            ]
        except PermanentError as exc:
            return [
                self._table_outcome(
                    raised,
                    Action.FAIL,
                    f"error.{type(exc).__name__}",
                    f"could not scale back or follow up {self.table_name}: {exc}",
                    severity=Severity.CRITICAL,
                )
            ]

    # -- follow-ups ----------------------------------------------------------------------------

    def _follow_up(
        self, table: TableDescription, policy: TablePolicy, alarm: ThrottlingAlarm
    ) -> Decision:
        dimension = alarm.signal.dimension
        assert dimension is not None  # follow_ups() keeps only alarms with a dimension
        index = alarm.target.index_name
        resumed = self._resume(index, dimension, "followup")
        if resumed is not None:
            return resumed
        scalable = (
            None
            if table.is_on_demand
            else self.s._autoscaling.scalable_target(self.table_name, index, dimension)
        )
        case = ThrottleCase(
            target=alarm.target,
            signal=alarm.signal,
            table=table,
            table_policy=policy,
            now=self.now,
            scalable_target=scalable,
            throttle_value=alarm.alarm.throttle_value,
            history=self.s._store.scale_history(self.table_name, index, dimension),
            event_key=f"{self.event.run_key}#{alarm.alarm.alarm_name}",
        )
        throttle_policy = self.config.throttle
        plan = decide_throttle(case, throttle_policy)
        if plan.to_apply:
            start = self.now - self.config.lookback
            peak = sizing_peak(
                self.s._metrics, self.table_name, index, dimension, start=start, end=self.now
            )
            case = replace(case, consumed_peak=peak)
            plan = decide_throttle(case, throttle_policy)
        if plan.to_apply and self.changed:
            plan = Plan(
                Action.SKIP,
                "table_busy",
                f"{plan.reason}; not now: this table already got a change in this run, "
                "the next run follows up",
                dimension=dimension,
            )
        dry_run = self.config.dry_run or policy.dry_run
        extra: dict[str, Any] = {"alarms": [alarm.alarm.alarm_name]}
        if plan.to_apply and not dry_run:
            try:
                self.s._changer.apply(throttle_change(case, plan))
            except RetryableError as exc:
                return self._follow_up_error(alarm, case, Action.DEFER, exc)
            except PermanentError as exc:
                return self._follow_up_error(alarm, case, Action.FAIL, exc)
        if plan.mutates:
            self.changed = True
        return self._finish_follow_up(alarm, case, plan, dry_run=dry_run, extra=extra)

    def _follow_up_error(
        self, alarm: ThrottlingAlarm, case: ThrottleCase, action: Action, error: Exception
    ) -> Decision:
        permanent = action is Action.FAIL
        plan = Plan(
            action,
            f"error.{type(error).__name__}" if permanent else "retryable_error",
            f"could not follow up {self.table_name}: {error}"
            if permanent
            else f"{error}: the next run follows up",
            dimension=alarm.signal.dimension,
            severity=Severity.CRITICAL if permanent else Severity.INFO,
        )
        return self._finish_follow_up(alarm, case, plan, dry_run=False, extra={"error": str(error)})

    def _finish_follow_up(
        self,
        alarm: ThrottlingAlarm,
        case: ThrottleCase,
        plan: Plan,
        *,
        dry_run: bool,
        extra: Mapping[str, Any],
    ) -> Decision:
        inputs: dict[str, Any] = {
            "follow_up": True,
            "metric": alarm.target.metric_name,
            "alarm_in_alarm_since": alarm.alarm.since.isoformat(),
            "consumed_peak_per_second": case.consumed_peak,
            "throttle_value": case.throttle_value,
            "table_status": case.table.status,
            "billing_mode": case.table.billing_mode.value,
            "scalable_target": case.scalable_target.model_dump() if case.scalable_target else None,
            "last_scale_up": case.history.scaled_at.isoformat() if case.history else None,
            **extra,
        }
        decision = self._decision(
            alarm.target.index_name,
            plan.dimension,
            "followup",
            action=plan.action,
            rule=f"follow_up.{plan.rule}",
            reason=plan.reason,
            severity=plan.severity,
            before=plan.before,
            after=plan.after,
            cost=hourly_delta(plan.added_units, plan.dimension, self.config.prices)
            if plan.added_units
            else None,
            next_steps=plan.next_steps,
            dry_run=dry_run,
            inputs=inputs,
            alarm_name=alarm.alarm.alarm_name,
            state_timestamp=alarm.alarm.since,
        )
        return self._record(decision)

    # -- scale-back ----------------------------------------------------------------------------

    def _scale_back(
        self,
        table: TableDescription,
        policy: TablePolicy,
        raised: Raised,
        in_alarm: tuple[str, ...],
    ) -> list[Decision]:
        decisions: list[Decision] = []
        planned: list[tuple[ScaleBackCase, BackPlan]] = []
        for (index, dimension), history in sorted(raised.items(), key=_order):
            resumed = self._resume(index, dimension, "back")
            if resumed is not None:
                decisions.append(resumed)
                self.changed |= resumed.action in BACK_ACTIONS
                if resumed.inputs.get("forget") and not resumed.dry_run:
                    self.s._changer.forget(self.table_name, index, dimension)
                continue
            case = self._case(
                table,
                policy,
                index=index,
                dimension=dimension,
                history=history,
                in_alarm=in_alarm,
            )
            planned.append(self._plan(case))
        replayed = [i for i, (_, p) in enumerate(planned) if p.replayed]
        chosen = (
            replayed[0]
            if replayed
            else None
            if self.changed
            else pick_change([p for _, p in planned], self.config.prices)
        )
        dry_run = self.config.dry_run or policy.dry_run
        other = planned[chosen][1] if chosen is not None else None
        for i, (case, plan) in enumerate(planned):
            waits = plan.mutates and i != chosen
            decision_plan = wait_for_other_change(plan, other) if waits else plan
            decisions.append(self._act(case, decision_plan, dry_run=dry_run))
        return decisions

    def _case(
        self,
        table: TableDescription,
        policy: TablePolicy,
        *,
        index: str | None,
        dimension: Dimension,
        history: ScaleHistory,
        in_alarm: tuple[str, ...],
    ) -> ScaleBackCase:
        scalable = (
            None
            if table.is_on_demand or table.unit(index) is None
            else self.s._autoscaling.scalable_target(self.table_name, index, dimension)
        )
        return ScaleBackCase(
            table=table,
            index_name=index,
            dimension=dimension,
            history=history,
            table_policy=policy,
            now=self.now,
            scalable_target=scalable,
            alarms_in_alarm=in_alarm,
            run_key=self.event.run_key,
        )

    def _plan(self, case: ScaleBackCase) -> tuple[ScaleBackCase, BackPlan]:
        """The plan, and the case it was made on (with the activity, when it was read)."""
        policy = self.config.policy
        plan = precheck(case, policy)
        if plan is not None:
            return case, plan
        activity = self.s._activity.window_activity(
            self.table_name,
            case.index_name,
            case.dimension,
            self.now - policy.stabilization,
            self.now,
        )
        case = replace(case, activity=activity)
        return case, decide_scale_back(case, policy)

    def _act(self, case: ScaleBackCase, plan: BackPlan, *, dry_run: bool) -> Decision:
        index, dimension = case.index_name, case.dimension
        replay = plan.replayed
        if plan.mutates:
            self.changed = True
        if plan.mutates and not replay and not dry_run:
            assert plan.after is not None and plan.before is not None
            intent = replace(
                case.history,
                event_key=self.event.run_key,
                action=plan.action,
                before=plan.before,
                after=plan.after,
            )  # scaled_at stays the last raise: a decrease never starts a raise's cooldown
            change = CapacityChange(
                table_name=self.table_name,
                index_name=index,
                dimension=dimension,
                after=plan.after,
                intent=intent,
                previous=case.history,
                scalable_target=case.scalable_target,
            )
            try:
                self.s._changer.apply(change)
            except RetryableError as exc:
                return self._back_error(case, plan, Action.DEFER, exc)
            except PermanentError as exc:
                return self._back_error(case, plan, Action.FAIL, exc)
        forget = (plan.forget or (plan.mutates and plan.restores_original)) and not dry_run
        decision = self._finish_back(case, plan, dry_run=dry_run, forget=forget)
        if forget:
            self.s._changer.forget(self.table_name, index, dimension)
        return decision

    def _back_error(
        self, case: ScaleBackCase, plan: BackPlan, action: Action, error: Exception
    ) -> Decision:
        permanent = action is Action.FAIL
        failed = BackPlan(
            action,
            f"error.{type(error).__name__}" if permanent else "retryable_error",
            f"could not {plan.action.replace('_', ' ')} ({plan.reason}): {error}"
            if permanent
            else f"{error}: the next run tries again",
            case.dimension,
            before=plan.before,
            after=plan.after,
            severity=Severity.CRITICAL if permanent else Severity.INFO,
            next_steps=(
                "Check the table's decreases today (DescribeTable NumberOfDecreasesToday)",
                "Read the decision record and the function's log for the AWS error",
            )
            if permanent
            else (),
        )
        return self._finish_back(case, failed, dry_run=False, forget=False, error=str(error))

    def _finish_back(
        self,
        case: ScaleBackCase,
        plan: BackPlan,
        *,
        dry_run: bool,
        forget: bool,
        error: str | None = None,
    ) -> Decision:
        unit = case.table.unit(case.index_name)
        activity = case.activity
        budget = plan.budget
        inputs: dict[str, Any] = {
            "original": case.history.original.model_dump(),
            "raised_to": case.history.after.model_dump(),
            "last_raise": case.history.scaled_at.isoformat(),
            "stabilization_minutes": int(self.config.policy.stabilization.total_seconds() // 60),
            "consumed_peak_per_second": activity.consumed_peak if activity else None,
            "throttle_events": activity.throttle_events if activity else None,
            "alarms_in_alarm": list(case.alarms_in_alarm),
            "table_status": case.table.status,
            "decreases_today": unit.decreases_today if unit else None,
            "last_decrease_at": unit.last_decrease_at.isoformat()
            if unit and unit.last_decrease_at
            else None,
            "decreases_left_after": budget.left_after_one if budget else None,
            "restores_original": plan.restores_original,
            "forget": forget,
        }
        if error is not None:
            inputs["error"] = error
        saving = hourly_delta(plan.removed_units, plan.dimension, self.config.prices)
        decision = self._decision(
            case.index_name,
            case.dimension,
            "back",
            action=plan.action,
            rule=plan.rule,
            reason=plan.reason,
            severity=plan.severity,
            before=plan.before,
            after=plan.after,
            cost=-saving if plan.removed_units and saving else None,
            next_steps=plan.next_steps,
            dry_run=dry_run,
            inputs=inputs,
            hold_reason=plan.hold_reason.value if plan.hold_reason else None,
            announce=plan.announce,
        )
        return self._record(decision)

    # -- shared --------------------------------------------------------------------------------

    def _resume(self, index: str | None, dimension: Dimension, kind: RecordKind) -> Decision | None:
        key = run_record_key(self.table_name, self.event.time, index, dimension, kind)
        try:
            return self.s._recorder.resume(key)
        except AutoresponderError as exc:
            raise _NotRecorded(exc) from exc

    def _record(self, decision: Decision) -> Decision:
        """Record, log, measure and announce; a failure there retries the whole run."""
        try:
            return self.s._recorder.finish(decision)
        except AutoresponderError as exc:
            raise _NotRecorded(exc) from exc

    def _decision(
        self,
        index: str | None,
        dimension: Dimension | None,
        kind: RecordKind,
        *,
        action: Action,
        rule: str,
        reason: str,
        severity: Severity = Severity.INFO,
        before: Any = None,
        after: Any = None,
        cost: float | None = None,
        next_steps: Sequence[str] = (),
        dry_run: bool = False,
        inputs: Mapping[str, Any] | None = None,
        hold_reason: str | None = None,
        announce: bool | None = None,
        alarm_name: str | None = None,
        state_timestamp: datetime | None = None,
    ) -> ScaleBackDecision:
        return ScaleBackDecision(
            runbook=RUNBOOK,
            action=action,
            table_name=self.table_name,
            index_name=index,
            reason=reason,
            dry_run=dry_run,
            rule=rule,
            severity=severity,
            dimension=dimension,
            before=before,
            after=after,
            cost_delta_per_hour=cost,
            next_steps=list(next_steps),
            alarm_name=alarm_name,
            state_timestamp=state_timestamp,
            event_id=self.event.id or None,
            region=self.event.region,
            account=self.event.account,
            inputs=dict(inputs or {}),
            decided_at=self.s._clock.now(),
            run_at=self.event.time,
            kind=kind,
            hold_reason=hold_reason,
            announce=announce,
        )

    def _table_outcome(
        self,
        raised: Raised,
        action: Action,
        rule: str,
        reason: str,
        *,
        severity: Severity = Severity.INFO,
    ) -> Decision:
        decision = self._decision(
            None,
            None,
            "table",
            action=action,
            rule=rule,
            reason=reason,
            severity=severity,
            dry_run=self.config.dry_run,
            inputs={"raised": [f"{i or '-'}#{d}" for i, d in sorted(raised, key=_key_order)]},
            hold_reason="still_busy" if action is Action.HOLD else None,
        )
        return self._record(decision)

    def _forget_missing(
        self, index: str | None, dimension: Dimension, error: Exception
    ) -> Decision:
        decision = self._decision(
            index,
            dimension,
            "back",
            action=Action.SKIP,
            rule="forget.table_missing",
            reason=f"{error}: the raise is no longer tracked",
            dry_run=self.config.dry_run,
            inputs={"forget": True},
        )
        recorded = self._record(decision)
        self.s._changer.forget(self.table_name, index, dimension)
        return recorded


def _by_table(histories: Mapping[str, ScaleHistory]) -> dict[str, Raised]:
    """`<table>#<index or ->#<read/write>` keys (table and index names cannot hold `#`)."""
    raised: dict[str, Raised] = {}
    for key, history in histories.items():
        table_name, index, dimension = key.rsplit("#", 2)
        unit = None if index == "-" else index
        raised.setdefault(table_name, {})[(unit, Dimension(dimension))] = history
    return raised


def _key_order(key: tuple[str | None, Dimension]) -> tuple[str, str]:
    return key[0] or "", key[1].value


def _order(item: tuple[tuple[str | None, Dimension], ScaleHistory]) -> tuple[str, str]:
    return _key_order(item[0])
