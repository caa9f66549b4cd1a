"""scale_back: on a schedule, the safety net of the capacity lifecycle for every table.

One run, for every table with a capacity record or a throttling alarm still in ALARM:

1. under the table's lock, the throttle runbook's own pass (`services/throttle_pass.py`):
   describe the table, settle pending intents, ONE GetMetricData over the table and its GSIs
   (over the stabilization window), diagnose, raise where the diagnosis shows a shortfall —
   the same decision path as an alarm's, never a copy;
2. then each raise the records hold gets a scale-back decision (`decide_scale_back`) on the
   same diagnosis; at most one capacity change per table and run (the table goes UPDATING and
   refuses a second one; a table and a GSI decrease never share a call); the others wait.

Every decision is recorded under a key made of the run's scheduled time and the
table/index/dimension, so a retried or duplicated run resumes what it already decided; a
change asked for but not yet recorded is settled by the table itself (its intent).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, override

from pydantic import ValidationError

from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.diagnosis import Diagnosis
from autoresponder.domain.next_look import (
    LookPolicy,
    Mitigated,
    episode_window,
    headroom_eaten,
    mitigated,
    next_look,
)
from autoresponder.domain.scale_back.alarms import (
    FOLLOW_UP_CAUSES,
    ThrottlingAlarm,
    throttling_alarms,
)
from autoresponder.domain.scale_back.decision import decide_scale_back
from autoresponder.domain.scale_back.one_change import pick_change, wait_for_other_change
from autoresponder.domain.scale_back.plan import BACK_ACTIONS, BackPlan, ScaleBackCase
from autoresponder.domain.scale_back.policy import ScaleBackPolicy, stabilization_for
from autoresponder.domain.scale_back.precheck import precheck
from autoresponder.domain.scaling.case import AlarmEvidence
from autoresponder.domain.scaling.history import RAISES, UPDATING, IntentStatus, ScaleHistory
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.errors import (
    AutoresponderError,
    PermanentError,
    ResourceNotFoundError,
    RetryableError,
    TableBusyError,
)
from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.models.recheck import RECHECK_SOURCE, RecheckEvent
from autoresponder.models.scale_back import (
    RecordKind,
    ScaleBackDecision,
    ScheduledEvent,
    WindowActivity,
    run_record_key,
)
from autoresponder.models.table import Dimension, TableDescription, TablePolicy
from autoresponder.observability import logger
from autoresponder.services.capacity_change import CapacityChange, CapacityChanger, table_lock
from autoresponder.services.decisions import Ruling, build_decision
from autoresponder.services.ports import (
    ActiveAlarmReader,
    AutoScalingPort,
    CapacityWriter,
    Clock,
    MetricDataReader,
    Rechecks,
    ScaleHistoryStore,
    TableLocks,
    TableReader,
)
from autoresponder.services.rechecks import LookAgain
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import Origin
from autoresponder.services.runbook import Runbook
from autoresponder.services.throttle_pass import PassConfig, PassResult, ThrottlePass, Trigger

RUNBOOK = "scale_back"

Run = ScheduledEvent | RecheckEvent
"""What runs scale_back: the 15-minute schedule (every table) or a re-check (one table)."""
TriggerKind = Literal["schedule", "recheck"]
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
    """The throttle pass's window (as scale_on_throttle); one read per table covers it and the
    longest window of the table's raised units."""
    lock_seconds: int = 60
    looks: LookPolicy = field(default_factory=LookPolicy)
    """When to look at a table again (a one-time re-check)."""
    recheck_target: str | None = None
    """Where the re-checks run; None: this function itself (its own ARN)."""

    @property
    def pass_config(self) -> PassConfig:
        """The throttle pass decides over the lookback; the scale-back reads each unit's own
        window from the same observation (`observe_for`)."""
        return PassConfig(
            policy=self.throttle, lookback=self.lookback, dry_run=self.dry_run, back=self.policy
        )


@dataclass(frozen=True)
class RunResult:
    """The decisions of one run; the handler returns the most significant one first."""

    decisions: tuple[Decision, ...]
    nothing_to_do: Decision | None = None
    next_looks: tuple[tuple[str, datetime], ...] = ()
    """(table, when): the one-time re-checks this run scheduled."""

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
        """The headline decision (docs/architecture.md: the handler contract), with every
        decision of the run under `decisions` and the number per action under `counts`."""
        return {
            **self.headline.as_result(),
            "decisions": [d.as_result() for d in self.decisions],
            "counts": self.counts(),
            "next_looks": {table: at.isoformat() for table, at in self.next_looks},
        }


class ScaleBack(Runbook[Run]):
    """The capacity lifecycle's use case. Ports are passed in; the handler builds the real ones."""

    name = RUNBOOK
    expected = "an EventBridge Scheduled Event or a re-check of a table"

    def __init__(
        self,
        *,
        tables: TableReader,
        capacity: CapacityWriter,
        autoscaling: AutoScalingPort,
        metrics: MetricDataReader,
        alarms: ActiveAlarmReader,
        history: ScaleHistoryStore,
        locks: TableLocks,
        recorder: DecisionRecorder,
        clock: Clock,
        config: ScaleBackConfig,
        rechecks: Rechecks | None = None,
    ) -> None:
        self._tables = tables
        self._autoscaling = autoscaling
        self._alarms = alarms
        self._looks = LookAgain(rechecks, clock)
        self._history = history
        self._locks = locks
        self._recorder = recorder
        self._clock = clock
        self._config = config
        self._changer = CapacityChanger(
            tables=tables, capacity=capacity, autoscaling=autoscaling, history=history, clock=clock
        )
        self._pass = ThrottlePass(
            tables=tables,
            changer=self._changer,
            autoscaling=autoscaling,
            metrics=metrics,
            history=history,
            clock=clock,
            config=config.pass_config,
        )

    @staticmethod
    def parse(raw: object) -> Run:
        """The schedule's "Scheduled Event", or a re-check of one table."""
        try:
            return ScheduledEvent.model_validate(raw)
        except ValidationError:
            if not (isinstance(raw, Mapping) and raw.get("source") == RECHECK_SOURCE):
                raise
        return RecheckEvent.model_validate(raw)

    @staticmethod
    def rejected(decision: Decision) -> RunResult:
        return RunResult((decision,))

    @override
    def respond(self, event: Run, origin: Origin) -> RunResult:
        """One run; the re-checks it schedules invoke `recheck_target`, else this function."""
        recheck_target = self._config.recheck_target or origin.function_arn
        now = self._clock.now()
        raised = _by_table(self._history.all_scale_history())
        alarms: dict[str, list[ThrottlingAlarm]] = {}
        for alarm in throttling_alarms(self._alarms.alarms_in_alarm()):
            alarms.setdefault(alarm.target.table_name, []).append(alarm)
        due = {
            alarm.target.table_name
            for found in alarms.values()
            for alarm in found
            if alarm.signal.cause in FOLLOW_UP_CAUSES
        }
        decisions: list[Decision] = []
        looks: list[tuple[str, datetime]] = []
        tables = (
            [event.detail.table_name]
            if isinstance(event, RecheckEvent)
            else sorted(set(raised) | due)
        )
        for table_name in tables:
            run = _Run(self, event, now, table_name)
            try:
                decisions += run.table(raised.get(table_name, {}), alarms.get(table_name, []))
            except _NotRecorded as failed:
                raise failed.error from failed
            if (at := run.look_again(recheck_target)) is not None:
                looks.append((table_name, at))
        result = RunResult(
            tuple(decisions),
            None if decisions else self._nothing(event, now),
            tuple(looks),
        )
        logger.info(
            "scale_back run finished",
            run=event.run_key,
            tables=len(tables),
            raised=sum(len(r) for r in raised.values()),
            alarms_in_alarm=sum(len(a) for a in alarms.values()),
            counts=result.counts(),
        )
        return result

    # -- outcomes without a table --------------------------------------------------------------

    def _nothing(self, event: Run, now: datetime) -> Decision:
        """Logged and returned, not recorded: most runs have nothing to do."""
        return build_decision(
            Decision,
            RUNBOOK,
            event,
            action=Action.SKIP,
            table_name=None,
            reason="nothing to follow up or scale back: no raise to undo and no throttling "
            "alarm in ALARM",
            rule="nothing_to_do",
            dry_run=self._config.dry_run,
            decided_at=now,
        )


class _Run:
    """One table in one run (a helper object: keeps the per-table state out of signatures)."""

    def __init__(self, service: ScaleBack, event: Run, now: datetime, table: str):
        self.s = service
        self.event = event
        self.trigger: TriggerKind = "recheck" if isinstance(event, RecheckEvent) else "schedule"
        self.now = now
        self.table_name = table
        self.owner = f"{event.run_key}#{uuid.uuid4().hex}"
        self.changed = False
        """Whether this table got (or, on a resumed run, already got) a change in this run."""
        self.raised_now = False
        """Whether this run asked for a raise (its re-check is due when it should land)."""
        self.updating = False
        self.tight = False
        """Whether demand is climbing into a raise's headroom (look again soon)."""
        self.records: Raised = {}
        self.holds_until: list[datetime] = []
        self.looked = False
        """Whether the table was looked at (a re-check is only asked for after a look)."""

    @property
    def config(self) -> ScaleBackConfig:
        return self.s._config

    @property
    def follow_up_key(self) -> str:
        """The delivery key the run's throttle pass leaves on its intents."""
        return f"{self.event.run_key}#follow_up"

    def table(self, raised: Raised, alarms: Sequence[ThrottlingAlarm]) -> list[Decision]:
        arn = f"arn:aws:dynamodb:{self.event.region}:{self.event.account}:table/{self.table_name}"
        try:
            policy = TablePolicy.from_tags(self.s._tables.tags(arn))
            if not policy.managed and not raised:
                return []  # a throttling alarm on a table the responder does not manage
            with table_lock(
                self.s._locks, self.table_name, self.owner, self.config.lock_seconds, self.now
            ):
                description = self.s._tables.describe(self.table_name)
                decisions: list[Decision] = []
                diagnosis: Diagnosis | None = None
                if policy.managed:
                    follow_up, diagnosis = self._follow_up(
                        description, policy, alarms, self._longest_window(raised)
                    )
                    decisions += follow_up
                    raised = _by_unit(self.s._history.scale_records(self.table_name))
                    decisions += self._mitigated(raised, diagnosis)
                    if self.changed:
                        description = self.s._tables.describe(self.table_name)
                in_alarm = tuple(sorted({a.alarm.alarm_name for a in alarms}))
                decisions += self._scale_back(description, policy, raised, in_alarm, diagnosis)
                self.records = raised
                self.updating = _updating(description)
                self.tight = headroom_eaten(
                    description,
                    diagnosis.over_last(self.config.lookback) if diagnosis else None,
                    self.config.throttle.headroom_percent,
                )
                self.looked = policy.managed
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

    # -- the next look ---------------------------------------------------------------------------

    def look_again(self, recheck_target: str | None) -> datetime | None:
        """Schedule the table's next look where a change has not landed yet or an episode is
        not over (docs/architecture.md, "The control loop"); the schedule covers the rest."""
        if not self.looked:
            return None
        raises = [r for r in self.records.values() if r.action in RAISES]
        look = next_look(
            self.now,
            changed=self.raised_now,
            updating=self.updating,
            unsettled=any(not r.pending and r.mitigated_at is None for r in raises),
            tight=self.tight,
            last_raise_at=max((r.scaled_at for r in raises), default=None),
            holds_until=self.holds_until,
            policy=self.config.looks,
        )
        if look is None:
            return None
        return self.s._looks.ask(
            self.table_name,
            look,
            account=self.event.account,
            region=self.event.region,
            target_arn=recheck_target,
        )

    def _mitigated(self, raised: Raised, diagnosis: Diagnosis | None) -> list[Decision]:
        """Episodes this look shows over: their time to mitigation, recorded once."""
        found = []
        for episode in mitigated(raised, diagnosis):
            record = raised[episode.key]
            done = replace(record, mitigated_at=episode.stopped_at)
            self.s._history.save_scale_history(self.table_name, *episode.key, done)
            raised[episode.key] = done
            found.append(self._record(self._mitigation_decision(episode)))
        return found

    def _mitigation_decision(self, episode: Mitigated) -> Decision:
        index, dimension = episode.key
        where = f"{dimension.value}s of {'index ' + index if index else 'the table'}"
        seconds = episode.seconds
        when = (
            f"throttling stopped at {episode.stopped_at:%H:%M} UTC, {seconds / 60:g} min after "
            f"the first throttled minute ({episode.started_at:%H:%M} UTC)"
            if seconds is not None
            else f"throttling that started at {episode.started_at:%H:%M} UTC stopped before "
            f"{episode.stopped_at:%H:%M} UTC, the first minute this look read: the time to "
            "mitigation is not measured"
        )
        return self._decision(
            index,
            dimension,
            "episode",
            action=Action.SKIP,
            rule="episode.mitigated",
            reason=f"{where} of {self.table_name}: {when}",
            dry_run=self.config.dry_run,
            inputs={
                "episode_start": episode.started_at.isoformat(),
                "mitigated_at": episode.stopped_at.isoformat(),
            },
            time_to_mitigation=seconds,
        )

    # -- the throttle pass ---------------------------------------------------------------------

    def _longest_window(self, raised: Raised) -> timedelta:
        """How far back the table is read: the longest window of its raised units, and back
        to the start of an episode still open (when its throttling stopped is measured)."""
        policy = self.config.policy
        windows = [stabilization_for(h, policy) for h in raised.values()]
        return max(
            policy.stabilization,
            *windows,
            episode_window(raised.values(), self.now, self.config.looks),
        )

    def _follow_up(
        self,
        table: TableDescription,
        policy: TablePolicy,
        alarms: Sequence[ThrottlingAlarm],
        observe_for: timedelta,
    ) -> tuple[list[Decision], Diagnosis | None]:
        """The throttle runbook's own pass over the table; its decision is recorded when it
        did something, found something to say, or a throttling alarm of the table is in
        ALARM. Returns the whole observation (`observe_for`) for the scale-back decisions."""
        resumed = self._resume(None, None, "followup")
        due = [a for a in alarms if a.signal.cause in FOLLOW_UP_CAUSES]
        evidence = AlarmEvidence(
            alarm_name=", ".join(sorted(a.alarm.alarm_name for a in due)),
            targets=tuple(a.target for a in due),
            sweep=True,
        )
        trigger = Trigger(self.follow_up_key, evidence if due else None)
        result = self.s._pass.run(
            self.table_name,
            policy,
            trigger,
            table=table,
            act=resumed is None,
            observe_for=observe_for,
        )
        if resumed is not None:
            self.changed |= resumed.action in _CHANGES
            return [resumed], result.observation
        plan = result.plan
        self.changed |= plan.action in _CHANGES  # a raise, or a decrease an intent asked for
        self.raised_now |= plan.to_apply and not result.dry_run
        if result.settled_intent == self.event.run_key:
            # this run's own scale-back, made on a retry: its "back" decision reports it
            return [], result.observation
        quiet = plan.action is Action.SKIP and plan.severity is Severity.INFO
        if quiet and not due and not result.settled:
            return [], result.observation
        return [self._finish_follow_up(result, due)], result.observation

    def _finish_follow_up(self, result: PassResult, due: Sequence[ThrottlingAlarm]) -> Decision:
        plan = result.plan
        change = plan.change
        cost = (
            change.cost_per_hour(self.config.prices)
            if change is not None
            else hourly_delta(plan.added_units, plan.dimension, self.config.prices)
            if plan.added_units
            else None
        )
        inputs: dict[str, Any] = {
            "follow_up": True,
            "alarms": sorted(a.alarm.alarm_name for a in due),
            "table_status": result.table.status,
            "billing_mode": result.table.billing_mode.value,
            "cloudwatch_read": result.observed,
        }
        diagnosis = result.diagnosis
        decision = self._decision(
            plan.index_name,
            plan.dimension,
            "followup",
            plan,
            rule=f"follow_up.{plan.rule}",
            before=plan.before,
            after=plan.after,
            cost_delta_per_hour=cost,
            dry_run=result.dry_run,
            inputs=inputs,
            findings=list(plan.lines),
            diagnosis=diagnosis.as_record() if diagnosis is not None else None,
            alarm_name=due[0].alarm.alarm_name if due else None,
        )
        return self._record(decision)

    # -- scale-back ----------------------------------------------------------------------------

    def _scale_back(
        self,
        table: TableDescription,
        policy: TablePolicy,
        raised: Raised,
        in_alarm: tuple[str, ...],
        diagnosis: Diagnosis | None,
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
            if history.pending:
                continue  # an intent the pass could not settle: the next run does
            case = self._case(
                table,
                policy,
                index=index,
                dimension=dimension,
                history=history,
                in_alarm=in_alarm,
            )
            planned.append(self._plan(case, diagnosis))
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

    def _plan(
        self, case: ScaleBackCase, diagnosis: Diagnosis | None
    ) -> tuple[ScaleBackCase, BackPlan]:
        """The plan, and the case it was made on (with the window's activity)."""
        policy = self.config.policy
        plan = precheck(case, policy)
        if plan is not None:
            if plan.until is not None:
                self.holds_until.append(plan.until)
            return case, plan
        window = stabilization_for(case.history, policy)
        observed = diagnosis.over_last(window) if diagnosis is not None else None
        case = replace(case, activity=_activity(observed, case.index_name, case.dimension))
        plan = decide_scale_back(case, policy)
        if plan.until is not None:
            self.holds_until.append(plan.until)
        return case, plan

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
                status=IntentStatus.PENDING,
                applied_at=None,
                decreased_at=self.now if plan.spends_decrease else case.history.decreased_at,
                rule=plan.rule,
            )  # scaled_at stays the last raise: a decrease never starts a raise's cooldown
            change = CapacityChange(
                table_name=self.table_name,
                index_name=index,
                after=plan.after,
                intents={dimension: intent},
                previous={dimension: case.history},
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
            plan,
            before=plan.before,
            after=plan.after,
            cost_delta_per_hour=-saving if plan.removed_units and saving else None,
            dry_run=dry_run,
            inputs=inputs,
            hold_reason=plan.hold_reason.value if plan.hold_reason else None,
            announce=plan.announce,
        )
        return self._record(decision)

    # -- shared --------------------------------------------------------------------------------

    def _resume(
        self, index: str | None, dimension: Dimension | None, kind: RecordKind
    ) -> Decision | None:
        key = run_record_key(
            self.table_name, self.event.time, index, dimension, kind, trigger=self.trigger
        )
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
        plan: Ruling | None = None,
        /,
        **fields: Any,
    ) -> ScaleBackDecision:
        """A decision of this run about one unit of the table (`fields` win over the plan's)."""
        return build_decision(
            ScaleBackDecision,
            RUNBOOK,
            self.event,
            plan,
            table_name=self.table_name,
            index_name=index,
            dimension=dimension,
            decided_at=self.s._clock.now(),
            run_at=self.event.time,
            kind=kind,
            trigger=self.trigger,
            **fields,
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


_CHANGES = frozenset(
    {Action.SCALE_UP, Action.RAISE_AUTOSCALING_MIN, Action.RAISE_ON_DEMAND_MAX, *BACK_ACTIONS}
)


def _activity(
    diagnosis: Diagnosis | None, index_name: str | None, dimension: Dimension
) -> WindowActivity | None:
    """What the diagnosis saw of one unit over the window (None: CloudWatch unreadable): the
    peak demand (consumed plus rejected) and the throttled requests."""
    if diagnosis is None:
        return None
    unit = diagnosis.unit(index_name, dimension)
    if unit is None:
        return WindowActivity()
    return WindowActivity(
        consumed_peak=unit.demand_peak,
        throttle_events=unit.throttled_events,
        peak_at=unit.demand_peak_at,
        last_throttled_at=unit.last_throttled_at,
    )


def _updating(table: TableDescription) -> bool:
    units = [table.table, *table.indexes.values()]
    return table.status == UPDATING or any(u.status == UPDATING for u in units)


def _by_unit(records: Mapping[tuple[str | None, Dimension], ScaleHistory]) -> Raised:
    return dict(records)


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
