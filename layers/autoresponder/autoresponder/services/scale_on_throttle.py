"""scale_on_throttle: an alarm names a table; the table's own metrics decide what to do.

One pass per delivery (`services/throttle_pass.py`): observe the table, settle pending intents,
diagnose from one GetMetricData, plan, make the one change, then record and announce. The
alarm is only the trigger: which resource and dimension throttled, by which cause and how much
demand was rejected come from CloudWatch, never from the alarm's metric name or datapoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, override

from autoresponder.domain.alarm_target import AlarmedTable, Unresolved, resolve_table
from autoresponder.domain.cost import Prices
from autoresponder.domain.next_look import LookPolicy, next_look
from autoresponder.domain.scale_back.policy import ScaleBackPolicy
from autoresponder.domain.scaling.case import AlarmEvidence
from autoresponder.domain.scaling.plan import Plan
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.domain.scaling.triage import gate, triage_alarm
from autoresponder.errors import (
    MetricsNotReadyError,
    PermanentError,
    ResourceNotFoundError,
    RetryableError,
    TableBusyError,
)
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Action, Decision, Severity, decision_key
from autoresponder.models.table import TablePolicy
from autoresponder.services.capacity_change import table_lock
from autoresponder.services.decisions import build_decision
from autoresponder.services.ports import (
    AlarmReader,
    AutoScalingPort,
    CapacityWriter,
    Clock,
    DeliveryAttempts,
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
from autoresponder.services.throttle_decision import observed_inputs, pass_fields
from autoresponder.services.throttle_pass import PassConfig, PassResult, ThrottlePass, Trigger

RUNBOOK = "scale_on_throttle"
EVIDENCE_REASON_CHARS = 300
"""How much of the alarm's own state reason a decision quotes."""


@dataclass(frozen=True)
class ThrottleRunbookConfig:
    policy: ScalingPolicy
    prices: Prices
    dry_run: bool = False
    lookback: timedelta = timedelta(minutes=15)
    lock_seconds: int = 60
    max_attempts: int = 3
    back: ScaleBackPolicy = field(default_factory=ScaleBackPolicy)
    """The scale-back's window, which a raise soon after a decrease doubles."""
    looks: LookPolicy = field(default_factory=LookPolicy)
    """When to look at the table again after a change (a one-time re-check)."""
    recheck_target: str | None = None
    """scale_back's ARN: the re-checks run there (the same pass, then the scale-back)."""

    @property
    def pass_config(self) -> PassConfig:
        return PassConfig(
            policy=self.policy, lookback=self.lookback, dry_run=self.dry_run, back=self.back
        )


class ScaleOnThrottle(Runbook[AlarmStateChangeEvent]):
    """The throttle runbook's use case. Ports are passed in; the handler builds the real ones."""

    name = RUNBOOK

    def __init__(
        self,
        *,
        tables: TableReader,
        capacity: CapacityWriter,
        autoscaling: AutoScalingPort,
        metrics: MetricDataReader,
        alarms: AlarmReader,
        history: ScaleHistoryStore,
        locks: TableLocks,
        attempts: DeliveryAttempts,
        recorder: DecisionRecorder,
        clock: Clock,
        config: ThrottleRunbookConfig,
        rechecks: Rechecks | None = None,
    ) -> None:
        self._tables = tables
        self._alarms = alarms
        self._looks = LookAgain(rechecks, clock)
        self._locks = locks
        self._attempts = attempts
        self._recorder = recorder
        self._clock = clock
        self._config = config
        self._pass = ThrottlePass.over(
            tables=tables,
            capacity=capacity,
            autoscaling=autoscaling,
            metrics=metrics,
            history=history,
            clock=clock,
            config=config.pass_config,
        )

    @staticmethod
    def parse(raw: object) -> AlarmStateChangeEvent:
        return AlarmStateChangeEvent.model_validate(raw)

    @override
    def respond(self, event: AlarmStateChangeEvent, origin: Origin) -> Decision:
        early = triage_alarm(event.detail)
        if early is not None:
            return self._finish(event, None, early)
        alarmed = self._resolve(event)
        if isinstance(alarmed, Unresolved):
            return self._finish(event, None, Plan(Action.SKIP, "unresolved", alarmed.reason))
        key = decision_key(
            alarmed.table_name, RUNBOOK, event.alarm_name, event.detail.state.timestamp
        )
        if key is not None and (previous := self._recorder.resume(key)) is not None:
            return previous
        try:
            plan, result, look = self._act(event, alarmed)
        except RetryableError as exc:
            return self._defer(event, alarmed, exc)
        except ResourceNotFoundError as exc:
            plan = Plan(Action.SKIP, "not_found", f"{exc}: nothing to scale")
            return self._finish(event, alarmed, plan)
        except PermanentError as exc:
            return self._fail(event, alarmed, exc)
        # Recording and notifying stay outside the try: a failed publish raises (Lambda retries,
        # the retry announces the recorded decision), it never turns it into a defer or a fail.
        return self._finish(event, alarmed, plan, result=result, next_look_at=look)

    # -- steps -------------------------------------------------------------------------------

    def _resolve(self, event: AlarmStateChangeEvent) -> AlarmedTable | Unresolved:
        configuration = event.detail.configuration
        if not configuration.is_composite:
            return resolve_table(configuration.metrics)
        children = event.detail.state.triggering_alarm_names
        if not children:
            return Unresolved("composite alarm without triggering child alarms in reasonData")
        found = self._alarms.metrics_of(children)
        for name in children:
            alarmed = resolve_table(found.get(name, []))
            if isinstance(alarmed, AlarmedTable):
                return alarmed
        return Unresolved(
            f"no triggering child alarm ({', '.join(children)}) watches one DynamoDB table"
        )

    def _act(
        self, event: AlarmStateChangeEvent, alarmed: AlarmedTable
    ) -> tuple[Plan, PassResult | None, datetime | None]:
        table_name = alarmed.table_name
        table_policy = TablePolicy.from_tags(self._tables.tags(event.table_arn(table_name)))
        refused = gate(table_name, table_policy)
        if refused is not None:
            return refused, None, None
        trigger = Trigger(event.idempotency_key, _evidence(event, alarmed), alarmed.series)
        now = self._clock.now()
        owner = event.idempotency_key
        look = None
        # the look is asked under the table's lock: two invocations never both find none
        with table_lock(self._locks, table_name, owner, self._config.lock_seconds, now):
            result = self._pass.run(table_name, table_policy, trigger)
            plan = result.plan
            if plan.action is Action.DEFER and plan.rule == "updating.defer":
                self._look_again(event, table_name, updating=True)  # besides Lambda's retries
            # a change this delivery made, now or on an attempt that died before its look
            elif (plan.to_apply or result.settled_intent is not None) and not result.dry_run:
                look = self._look_again(event, table_name, updating=False)
        if plan.action is Action.DEFER:
            if plan.rule == "updating.defer":
                raise TableBusyError(plan.reason, table=table_name)
            raise MetricsNotReadyError(plan.reason, table=table_name)
        return plan, result, look

    def _look_again(
        self, event: AlarmStateChangeEvent, table_name: str, *, updating: bool
    ) -> datetime | None:
        """The table's re-check: when the change should have landed (or, UPDATING, soon)."""
        now = self._clock.now()
        look = next_look(
            now,
            changed=not updating,
            updating=updating,
            unsettled=False,
            last_raise_at=now,
            holds_until=(),
            policy=self._config.looks,
        )
        if look is None:
            return None
        return self._looks.ask(
            table_name,
            look,
            account=event.account,
            region=event.region,
            target_arn=self._config.recheck_target,
        )

    # -- outcomes ----------------------------------------------------------------------------

    def _defer(
        self, event: AlarmStateChangeEvent, alarmed: AlarmedTable, error: RetryableError
    ) -> Decision:
        """Record the defer and raise, so Lambda retries; the last attempt is announced."""
        attempt = self._attempts.count_attempt(
            f"{RUNBOOK}#{event.idempotency_key}", self._clock.now()
        )
        exhausted = attempt >= self._config.max_attempts
        plan = Plan(
            Action.DEFER,
            "retryable_error",
            f"{error}: will retry (attempt {attempt} of {self._config.max_attempts})"
            if not exhausted
            else f"{error}: gave up after {attempt} attempts; the event goes to the failure queue",
            severity=Severity.CRITICAL if exhausted else Severity.INFO,
            next_steps=(
                "Check the table's status and recent UpdateTable calls",
                "Replay the event from the failure queue once the table is ACTIVE",
            )
            if exhausted
            else (),
        )
        self._finish(
            event,
            alarmed,
            plan,
            extra_inputs={"attempt": attempt, "retries_exhausted": exhausted, "error": str(error)},
        )
        raise error

    def _fail(
        self, event: AlarmStateChangeEvent, alarmed: AlarmedTable, error: PermanentError
    ) -> Decision:
        plan = Plan(
            Action.FAIL,
            f"error.{type(error).__name__}",
            f"could not act on {alarmed.table_name}: {error}",
            severity=Severity.CRITICAL,
            next_steps=_advice_for(error),
        )
        return self._finish(event, alarmed, plan, extra_inputs={"error": str(error)})

    def _finish(
        self,
        event: AlarmStateChangeEvent,
        alarmed: AlarmedTable | None,
        plan: Plan,
        *,
        result: PassResult | None = None,
        extra_inputs: Mapping[str, Any] | None = None,
        next_look_at: datetime | None = None,
    ) -> Decision:
        inputs: dict[str, Any] = {
            "metrics": sorted({t.metric_name for t in alarmed.targets}) if alarmed else [],
        }
        if result is not None:
            inputs.update(observed_inputs(result), verdicts=_verdicts(plan))
        inputs.update(extra_inputs or {})
        decision = build_decision(
            Decision,
            RUNBOOK,
            event,
            plan,
            table_name=alarmed.table_name if alarmed else None,
            **pass_fields(plan, result, self._config.prices, dry_run=self._config.dry_run),
            inputs=inputs,
            next_look_at=next_look_at,
            decided_at=self._clock.now(),
        )
        return self._recorder.finish(decision)


def _verdicts(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "index_name": v.index_name,
            "dimension": v.dimension.value,
            "verdict": v.kind.value,
            "rule": v.rule,
            "current": v.current,
            "wanted": v.wanted,
        }
        for v in plan.verdicts
    ]


def _evidence(event: AlarmStateChangeEvent, alarmed: AlarmedTable) -> AlarmEvidence:
    state = event.detail.state
    composite = event.detail.configuration.is_composite
    return AlarmEvidence(
        alarm_name=event.alarm_name,
        recent_datapoints=tuple(state.recent_datapoints),
        manual=not state.evaluated,
        reason=state.reason[:EVIDENCE_REASON_CHARS],
        evaluated_at=state.evaluated_at,
        targets=alarmed.targets,
        composite=composite,
    )


def _advice_for(error: PermanentError) -> tuple[str, ...]:
    name = type(error).__name__
    if name == "AccessDeniedError":
        return (
            "Check the table carries autoresponder:managed=true (IAM allows changes only then)",
            "Check the function role's policy in the stack",
        )
    if name == "LimitExceededError":
        return ("Check the account's DynamoDB quotas and the table's decrease/increase limits",)
    return ("Read the decision record and the function's log for the AWS error",)
