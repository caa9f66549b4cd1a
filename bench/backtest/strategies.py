"""Who changes the simulated table's capacity: nobody, native auto scaling, or this responder.

The responder strategy runs THE SAME DOMAIN CODE as the Lambda functions:

- the throttle alarm (`Sum` of write throttle events `> 0` over 1 minute, 1 of 1 datapoints) is
  evaluated every minute on the readable datapoints; its OK → ALARM transition is the event
  `scale_on_throttle` receives: `decide_throttle` (with the consumed peak over the lookback
  when it plans a change, as the service reads it), `throttle_change` for the scale history,
  Lambda's asynchronous retries (after 1 and 2 more minutes) when it defers (UPDATING);
- every `schedule_minutes` (template.yaml `ScaleBackSchedule`, rate(15 minutes)) the
  `scale_back` run: follow-ups of an alarm still in ALARM after the cooldown (`follow_ups`,
  `decide_throttle` again), then the scale-back (`precheck` / `decide_scale_back` with the
  window's activity), one capacity change per table and run.

Its settings are the functions' own defaults (`Settings`, read from the environment like the
functions read theirs, so `COOLDOWN_MINUTES=2 make backtest` tries another setting).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime

from autoresponder.domain.alarm_target import AlarmTarget
from autoresponder.domain.scale_back import (
    ScaleBackCase,
    decide_scale_back,
    follow_ups,
    precheck,
    throttling_alarms,
)
from autoresponder.domain.scaling import Plan, ScaleHistory, ThrottleCase, decide_throttle
from autoresponder.domain.throttling import classify
from autoresponder.models.alarm import AlarmMetric, AlarmStateValue, Metric, MetricStat
from autoresponder.models.decision import Action
from autoresponder.models.scale_back import ActiveAlarm, WindowActivity
from autoresponder.models.table import Capacity, Dimension, TablePolicy
from autoresponder.services.scale_back import ScaleBackConfig
from autoresponder.services.scale_on_throttle import ThrottleRunbookConfig, throttle_change
from autoresponder.settings import Settings
from bench.backtest.simulator import (
    TABLE_NAME,
    DecreaseRefused,
    SameValue,
    SimTable,
    TableBusy,
    ceil_units,
)

ALARM_NAME = f"autoresponder-{TABLE_NAME}-write-throttle"
THROTTLE_METRIC = "WriteProvisionedThroughputThrottleEvents"
SCHEDULE_MINUTES = 15
"""template.yaml: ScaleBackSchedule's default, rate(15 minutes)."""
RETRY_DELAYS = (1, 2)
"""Lambda's asynchronous retries: about 1 minute, then 2 more (MaximumRetryAttempts 2)."""


class NoAutomation:
    """The provisioned capacity stays what it is."""

    name = "none"

    def act(self, minute: int, table: SimTable) -> None:
        del minute, table


@dataclass
class NativeAutoScaling:
    """A model of DynamoDB auto scaling (Application Auto Scaling target tracking).

    - utilization = consumed units per second / provisioned units (the alarms' thresholds
      follow the provisioned value, so readable datapoints are judged against the current one);
    - scale out when the last `out_datapoints` readable datapoints are all above `target`:
      to consumed / target (the latest datapoint), at most `max_capacity`;
    - scale in when the last `in_datapoints` are all below `target - in_margin` (70 % - 20
      points = 50 %): to consumed / target, at least `min_capacity`, within the daily decrease
      budget (DynamoDB refuses the rest);
    - nothing while the table is UPDATING; no cooldowns (DynamoDB's target tracking default).
    """

    min_capacity: int
    max_capacity: int
    target: float = 0.70
    out_datapoints: int = 2
    in_datapoints: int = 15
    in_margin: float = 0.20
    name: str = "native"
    notes: list[str] = field(default_factory=list)

    def act(self, minute: int, table: SimTable) -> None:
        if table.updating:
            return
        seen = table.visible(minute)
        capacity = table.capacity

        def utilization(points: int) -> list[float]:
            return [p.consumed_per_second / capacity for p in seen[-points:]]

        if len(seen) >= self.out_datapoints and all(
            u > self.target for u in utilization(self.out_datapoints)
        ):
            wanted = min(self.max_capacity, ceil_units(seen[-1].consumed_per_second / self.target))
            if wanted > capacity:
                table.update(minute, wanted, "native.scale_out")
            return
        if len(seen) >= self.in_datapoints and all(
            u < self.target - self.in_margin for u in utilization(self.in_datapoints)
        ):
            wanted = max(self.min_capacity, ceil_units(seen[-1].consumed_per_second / self.target))
            if wanted < capacity:
                # refused past the budget: Application Auto Scaling tries again next minute
                with suppress(DecreaseRefused):
                    table.update(minute, wanted, "native.scale_in")


@dataclass(frozen=True)
class Invocation:
    event_key: str
    throttle_value: float | None
    attempt: int = 1


@dataclass(frozen=True)
class Decided:
    """One decision the responder took (for the report and the plot)."""

    minute: int
    runbook: str
    action: str
    rule: str


def default_settings() -> Settings:
    """The functions' settings: documented defaults, or the environment's values."""
    return Settings(
        decision_table_name="backtest-decisions",
        notification_topic_arn="arn:aws:sns:us-east-1:123456789012:backtest",
    )


def responder_configs(settings: Settings) -> tuple[ThrottleRunbookConfig, ScaleBackConfig]:
    """The two runbooks' configs, built by the functions' own wiring."""
    from autoresponder.wiring.scale_back import scale_back_config  # noqa: PLC0415
    from autoresponder.wiring.scale_on_throttle import throttle_config  # noqa: PLC0415

    return throttle_config(settings), scale_back_config(settings)


@dataclass
class Responder:
    """This project: scale_on_throttle on the alarm, scale_back on its schedule."""

    ceiling: int
    throttle: ThrottleRunbookConfig
    back: ScaleBackConfig | None
    """None: scale-up only (no follow-ups, no scale-back)."""
    schedule_minutes: int = SCHEDULE_MINUTES
    name: str = "responder"
    alarm: AlarmStateValue = AlarmStateValue.OK
    alarm_since: datetime | None = None
    alarm_points: tuple[float, ...] = ()
    history: ScaleHistory | None = None
    queue: list[tuple[int, Invocation]] = field(default_factory=list)
    decided: list[Decided] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def table_policy(self) -> TablePolicy:
        return TablePolicy(managed=True, max_write_units=self.ceiling)

    @property
    def target(self) -> AlarmTarget:
        return AlarmTarget(TABLE_NAME, None, THROTTLE_METRIC)

    def act(self, minute: int, table: SimTable) -> None:
        self._evaluate_alarm(minute, table)
        due = [item for item in self.queue if item[0] <= minute]
        self.queue = [item for item in self.queue if item[0] > minute]
        for _, invocation in due:
            self._respond(minute, table, invocation)
        if self.back is not None and minute > 0 and minute % self.schedule_minutes == 0:
            self._scheduled_run(minute, table)

    # -- the alarm -------------------------------------------------------------------------
    def _evaluate_alarm(self, minute: int, table: SimTable) -> None:
        seen = table.visible(minute)
        breaching = bool(seen) and seen[-1].throttled > 0
        now = table.time_of(minute)
        if breaching and self.alarm is not AlarmStateValue.ALARM:
            self.alarm, self.alarm_since = AlarmStateValue.ALARM, now
            self.alarm_points = (seen[-1].throttled,)
            key = f"{ALARM_NAME}@{now.isoformat()}"
            self.queue.append((minute, Invocation(key, seen[-1].throttled)))
        elif breaching:
            self.alarm_points = (seen[-1].throttled,)
        elif self.alarm is AlarmStateValue.ALARM:
            self.alarm, self.alarm_since, self.alarm_points = AlarmStateValue.OK, now, ()

    # -- scale_on_throttle -----------------------------------------------------------------
    def _respond(self, minute: int, table: SimTable, invocation: Invocation) -> None:
        case = ThrottleCase(
            target=self.target,
            signal=classify(THROTTLE_METRIC),
            table=table.description(minute),
            table_policy=self.table_policy,
            now=table.time_of(minute),
            throttle_value=invocation.throttle_value,
            history=self.history,
            event_key=invocation.event_key,
        )
        plan = self._plan(case, minute, table)
        if plan.action is Action.DEFER:
            self._retry(minute, invocation, plan.rule)
            return
        if plan.mutates and plan.rule != "already_applied":
            try:
                self._raise(case, plan, minute, table)
            except TableBusy:
                self._retry(minute, invocation, "resource_in_use")
                return
        self.decided.append(Decided(minute, "scale_on_throttle", plan.action, plan.rule))

    def _retry(self, minute: int, invocation: Invocation, rule: str) -> None:
        self.decided.append(Decided(minute, "scale_on_throttle", Action.DEFER, rule))
        if invocation.attempt > len(RETRY_DELAYS):
            self.notes.append(f"minute {minute}: {invocation.event_key} failed every attempt")
            return
        delay = RETRY_DELAYS[invocation.attempt - 1]
        self.queue.append((minute + delay, replace(invocation, attempt=invocation.attempt + 1)))

    def _plan(self, case: ThrottleCase, minute: int, table: SimTable) -> Plan:
        """decide_throttle, then again with the consumed peak when it plans a change."""
        plan = decide_throttle(case, self.throttle.policy)
        if plan.mutates and plan.rule != "already_applied":
            lookback = int(self.throttle.lookback.total_seconds() // 60)
            window = table.window(minute, lookback)
            peak = max((p.consumed_per_second for p in window), default=None)
            plan = decide_throttle(replace(case, consumed_peak=peak), self.throttle.policy)
        return plan

    def _raise(self, case: ThrottleCase, plan: Plan, minute: int, table: SimTable) -> None:
        assert isinstance(plan.after, Capacity)
        change = throttle_change(case, plan)
        table.update(minute, plan.after.write, f"responder.{plan.rule}")
        self.history = change.intent

    # -- scale_back ------------------------------------------------------------------------
    def _scheduled_run(self, minute: int, table: SimTable) -> None:
        assert self.back is not None
        now = table.time_of(minute)
        run_key = f"scale_back@{now.isoformat()}"
        changed = self._follow_up(minute, table, now, run_key)
        if self.history is None:
            return
        case = ScaleBackCase(
            table=table.description(minute),
            index_name=None,
            dimension=Dimension.WRITE,
            history=self.history,
            table_policy=self.table_policy,
            now=now,
            alarms_in_alarm=(ALARM_NAME,) if self.alarm is AlarmStateValue.ALARM else (),
            run_key=run_key,
        )
        policy = self.back.policy
        plan = precheck(case, policy)
        if plan is None:
            stabilization = int(policy.stabilization.total_seconds() // 60)
            window = table.window(minute, stabilization)
            activity = WindowActivity(
                consumed_peak=max((p.consumed_per_second for p in window), default=None),
                throttle_events=sum(p.throttled for p in window),
            )
            plan = decide_scale_back(replace(case, activity=activity), policy)
        if plan.mutates and changed:
            self.decided.append(Decided(minute, "scale_back", Action.HOLD, "one_change_per_run"))
            return
        if plan.mutates:
            assert isinstance(plan.after, Capacity)
            try:
                table.update(minute, plan.after.write, f"scale_back.{plan.rule}")
            except (TableBusy, DecreaseRefused, SameValue) as exc:
                self.decided.append(Decided(minute, "scale_back", Action.DEFER, type(exc).__name__))
                return
            self.history = replace(
                self.history,
                event_key=run_key,
                action=plan.action,
                before=plan.before,
                after=plan.after,
            )
        if plan.forget or (plan.mutates and plan.restores_original):
            self.history = None
        self.decided.append(Decided(minute, "scale_back", plan.action, plan.rule))

    def _follow_up(self, minute: int, table: SimTable, now: datetime, run_key: str) -> bool:
        """Follow-ups of the alarm still in ALARM; True when one changed the capacity."""
        if self.alarm is not AlarmStateValue.ALARM or self.alarm_since is None:
            return False
        active = ActiveAlarm(
            alarm_name=ALARM_NAME,
            metrics=[_alarm_metric()],
            since=self.alarm_since,
            recent_datapoints=list(self.alarm_points),
        )
        changed = False
        for alarm in follow_ups(throttling_alarms([active]), now, self.throttle.policy.cooldown):
            case = ThrottleCase(
                target=alarm.target,
                signal=alarm.signal,
                table=table.description(minute),
                table_policy=self.table_policy,
                now=now,
                throttle_value=alarm.alarm.throttle_value,
                history=self.history,
                event_key=f"{run_key}#{alarm.alarm.alarm_name}",
            )
            plan = self._plan(case, minute, table)
            rule = f"follow_up.{plan.rule}"
            if plan.mutates and plan.rule != "already_applied" and not changed:
                try:
                    self._raise(case, plan, minute, table)
                    changed = True
                except TableBusy:
                    rule = "follow_up.resource_in_use"
            self.decided.append(Decided(minute, "scale_back", plan.action, rule))
        return changed


def _alarm_metric() -> AlarmMetric:
    return AlarmMetric(
        id="m1",
        metricStat=MetricStat(
            metric=Metric(
                namespace="AWS/DynamoDB",
                name=THROTTLE_METRIC,
                dimensions={"TableName": TABLE_NAME},
            ),
            period=60,
            stat="Sum",
        ),
        returnData=True,
    )


def strategies(
    initial_capacity: int,
    ceiling: int,
    *,
    settings: Settings | None = None,
    scale_back: bool = True,
) -> list[NoAutomation | NativeAutoScaling | Responder]:
    """The three strategies for a table that starts at `initial_capacity` units."""
    throttle, back = responder_configs(settings or default_settings())
    return [
        NoAutomation(),
        NativeAutoScaling(min_capacity=initial_capacity, max_capacity=ceiling),
        Responder(ceiling=ceiling, throttle=throttle, back=back if scale_back else None),
    ]
