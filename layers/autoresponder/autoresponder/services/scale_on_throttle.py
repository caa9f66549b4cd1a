"""scale_on_throttle: read → decide → act → record → notify, for one alarm state change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from autoresponder.domain.alarm_target import AlarmTarget, Unresolved, resolve_target
from autoresponder.domain.cost import Prices, hourly_delta
from autoresponder.domain.scaling import (
    Plan,
    ScaleHistory,
    ScalingPolicy,
    ThrottleCase,
    decide_throttle,
    gate,
    triage_alarm,
    triage_target,
)
from autoresponder.domain.throttling import ThrottleSignal, classify
from autoresponder.errors import (
    PermanentError,
    ResourceNotFoundError,
    RetryableError,
    TableBusyError,
)
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import (
    Action,
    Decision,
    Severity,
    decision_key,
)
from autoresponder.models.table import TablePolicy
from autoresponder.services.capacity_change import (
    CapacityChange,
    CapacityChanger,
    sizing_peak,
    table_lock,
)
from autoresponder.services.ports import (
    AlarmReader,
    AutoScalingPort,
    CapacityWriter,
    Clock,
    DecisionStore,
    MetricsReader,
    TableReader,
)
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import reject

RUNBOOK = "scale_on_throttle"


@dataclass(frozen=True)
class ThrottleRunbookConfig:
    policy: ScalingPolicy
    prices: Prices
    dry_run: bool = False
    lookback: timedelta = timedelta(minutes=15)
    lock_seconds: int = 60
    max_attempts: int = 3


def throttle_change(case: ThrottleCase, plan: Plan) -> CapacityChange:
    """The change a mutating throttle plan makes, with the history it leaves (the original is
    kept across raises for the scale-back)."""
    dimension = plan.dimension
    assert dimension is not None and plan.before is not None and plan.after is not None
    previous = case.history
    intent = ScaleHistory(
        scaled_at=case.now,
        event_key=case.event_key,
        action=plan.action,
        before=plan.before,
        after=plan.after,
        original=previous.original if previous is not None else plan.before,
        throttle_value=case.throttle_value,
    )
    return CapacityChange(
        table_name=case.target.table_name,
        index_name=case.target.index_name,
        dimension=dimension,
        after=plan.after,
        intent=intent,
        previous=previous,
        scalable_target=case.scalable_target,
    )


class ScaleOnThrottle:
    """The throttle runbook's use case. Ports are passed in; the handler builds the real ones."""

    def __init__(
        self,
        *,
        tables: TableReader,
        capacity: CapacityWriter,
        autoscaling: AutoScalingPort,
        metrics: MetricsReader,
        alarms: AlarmReader,
        store: DecisionStore,
        recorder: DecisionRecorder,
        clock: Clock,
        config: ThrottleRunbookConfig,
    ) -> None:
        self._tables = tables
        self._autoscaling = autoscaling
        self._metrics = metrics
        self._alarms = alarms
        self._store = store
        self._recorder = recorder
        self._clock = clock
        self._config = config
        self._changer = CapacityChanger(capacity=capacity, autoscaling=autoscaling, store=store)

    def handle(self, raw: object) -> Decision:
        """Parse, then respond. Anything unparseable is a recorded `reject`."""
        try:
            event = AlarmStateChangeEvent.model_validate(raw)
        except ValidationError as exc:
            return reject(RUNBOOK, raw, exc, self._recorder, self._clock)
        return self.respond(event)

    def respond(self, event: AlarmStateChangeEvent) -> Decision:
        early = triage_alarm(event.detail)
        if early is not None:
            return self._finish(event, None, early)
        target = self._resolve(event)
        if isinstance(target, Unresolved):
            return self._finish(event, None, Plan(Action.SKIP, "unresolved", target.reason))
        key = decision_key(
            target.table_name, RUNBOOK, event.alarm_name, event.detail.state.timestamp
        )
        if key is not None and (previous := self._recorder.resume(key)) is not None:
            return previous
        signal = classify(target.metric_name, target.operation)
        early = triage_target(target, signal)
        if early is not None:
            return self._finish(event, target, early)
        try:
            return self._decide_and_act(event, target, signal)
        except RetryableError as exc:
            return self._defer(event, target, signal, exc)
        except ResourceNotFoundError as exc:
            plan = Plan(Action.SKIP, "not_found", f"{exc}: nothing to scale")
            return self._finish(event, target, plan)
        except PermanentError as exc:
            return self._fail(event, target, signal, exc)

    # -- steps -------------------------------------------------------------------------------

    def _resolve(self, event: AlarmStateChangeEvent) -> AlarmTarget | Unresolved:
        configuration = event.detail.configuration
        if not configuration.is_composite:
            return resolve_target(configuration.metrics)
        children = event.detail.state.triggering_alarm_names
        if not children:
            return Unresolved("composite alarm without triggering child alarms in reasonData")
        found = self._alarms.metrics_of(children)
        for name in children:
            target = resolve_target(found.get(name, []))
            if isinstance(target, AlarmTarget):
                return target
        return Unresolved(
            f"no triggering child alarm ({', '.join(children)}) watches one DynamoDB table"
        )

    def _decide_and_act(
        self, event: AlarmStateChangeEvent, target: AlarmTarget, signal: ThrottleSignal
    ) -> Decision:
        arn = event.table_arn(target.table_name)
        table_policy = TablePolicy.from_tags(self._tables.tags(arn))
        refused = gate(target, signal, table_policy)
        if refused is not None:
            return self._finish(event, target, refused)
        owner = event.idempotency_key
        now = self._clock.now()
        with table_lock(self._store, target.table_name, owner, self._config.lock_seconds, now):
            case = self._gather(event, target, signal, table_policy)
            plan = decide_throttle(case, self._config.policy)
            if plan.to_apply:
                case = replace(case, consumed_peak=self._peak(case))
                plan = decide_throttle(case, self._config.policy)
            if plan.action is Action.DEFER:
                raise TableBusyError(plan.reason, table=target.table_name)
            dry_run = self._config.dry_run or table_policy.dry_run
            if plan.to_apply and not dry_run:
                self._changer.apply(throttle_change(case, plan))
            return self._finish(event, target, plan, dry_run=dry_run, case=case)

    def _gather(
        self,
        event: AlarmStateChangeEvent,
        target: AlarmTarget,
        signal: ThrottleSignal,
        table_policy: TablePolicy,
    ) -> ThrottleCase:
        table = self._tables.describe(target.table_name)
        dimension = signal.dimension
        scalable = (
            self._autoscaling.scalable_target(target.table_name, target.index_name, dimension)
            if dimension is not None and not table.is_on_demand
            else None
        )
        history = (
            self._store.scale_history(target.table_name, target.index_name, dimension)
            if dimension is not None
            else None
        )
        points = event.detail.state.recent_datapoints
        return ThrottleCase(
            target=target,
            signal=signal,
            table=table,
            table_policy=table_policy,
            now=self._clock.now(),
            scalable_target=scalable,
            throttle_value=max(points) if points else None,
            history=history,
            event_key=event.idempotency_key,
        )

    def _peak(self, case: ThrottleCase) -> float | None:
        assert case.signal.dimension is not None
        return sizing_peak(
            self._metrics,
            case.target.table_name,
            case.target.index_name,
            case.signal.dimension,
            start=case.now - self._config.lookback,
            end=case.now,
        )

    # -- outcomes ----------------------------------------------------------------------------

    def _defer(
        self,
        event: AlarmStateChangeEvent,
        target: AlarmTarget,
        signal: ThrottleSignal,
        error: RetryableError,
    ) -> Decision:
        """Record the defer and raise, so Lambda retries; the last attempt is announced."""
        attempt = self._store.count_attempt(f"{RUNBOOK}#{event.idempotency_key}", self._clock.now())
        exhausted = attempt >= self._config.max_attempts
        plan = Plan(
            Action.DEFER,
            "retryable_error",
            f"{error}: will retry (attempt {attempt} of {self._config.max_attempts})"
            if not exhausted
            else f"{error}: gave up after {attempt} attempts; the event goes to the failure queue",
            dimension=signal.dimension,
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
            target,
            plan,
            extra_inputs={"attempt": attempt, "retries_exhausted": exhausted, "error": str(error)},
        )
        raise error

    def _fail(
        self,
        event: AlarmStateChangeEvent,
        target: AlarmTarget,
        signal: ThrottleSignal,
        error: PermanentError,
    ) -> Decision:
        plan = Plan(
            Action.FAIL,
            f"error.{type(error).__name__}",
            f"could not act on {target.table_name}: {error}",
            dimension=signal.dimension,
            severity=Severity.CRITICAL,
            next_steps=_advice_for(error),
        )
        return self._finish(event, target, plan, extra_inputs={"error": str(error)})

    def _finish(
        self,
        event: AlarmStateChangeEvent,
        target: AlarmTarget | None,
        plan: Plan,
        *,
        dry_run: bool | None = None,
        case: ThrottleCase | None = None,
        extra_inputs: Mapping[str, Any] | None = None,
    ) -> Decision:
        inputs: dict[str, Any] = {"metric": target.metric_name if target else None}
        if case is not None:
            inputs.update(
                consumed_peak_per_second=case.consumed_peak,
                throttle_value=case.throttle_value,
                table_status=case.table.status,
                billing_mode=case.table.billing_mode.value,
                scalable_target=case.scalable_target.model_dump() if case.scalable_target else None,
                last_scale_up=case.history.scaled_at.isoformat() if case.history else None,
                policy=case.table_policy.model_dump(),
            )
        inputs.update(extra_inputs or {})
        decision = Decision(
            runbook=RUNBOOK,
            action=plan.action,
            table_name=target.table_name if target else None,
            index_name=target.index_name if target else None,
            reason=plan.reason,
            dry_run=self._config.dry_run if dry_run is None else dry_run,
            rule=plan.rule,
            severity=plan.severity,
            dimension=plan.dimension,
            before=plan.before,
            after=plan.after,
            cost_delta_per_hour=hourly_delta(plan.added_units, plan.dimension, self._config.prices)
            if plan.added_units
            else None,
            next_steps=list(plan.next_steps),
            alarm_name=event.alarm_name,
            state_timestamp=event.detail.state.timestamp,
            event_id=event.id or None,
            region=event.region,
            account=event.account,
            inputs=inputs,
            decided_at=self._clock.now(),
        )
        return self._recorder.finish(decision)


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
