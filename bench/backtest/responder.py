"""This responder in the backtest: its two functions' services, run on the simulated table.

`ScaleOnThrottle` and `ScaleBack` are built as their handlers build them (the functions' own
config from `Settings`, run by the functions' own runner), with the ports of
`bench/backtest/ports.py` in place of AWS. Nothing
of the decision is re-implemented here: every minute the harness only delivers what AWS would
deliver, at the simulated minute:

- each alarm's OK → ALARM event (`bench/backtest/alarms.py`: the throttle alarm and the
  pre-throttle alarm) to scale_on_throttle;
- the one-time re-checks the services scheduled (EventBridge Scheduler), when due, to
  scale_back as its `RecheckEvent`;
- the 15-minute schedule's "Scheduled Event" to scale_back (template.yaml `rate(15 minutes)`);
- a delivery whose handler raised, again after 1 and then 2 more minutes (Lambda's asynchronous
  retries, MaximumRetryAttempts 2).

Settings come from the environment like the functions' (`COOLDOWN_MINUTES=2 make backtest`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from autoresponder.errors import AutoresponderError
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Decision
from autoresponder.observability import metrics
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.scale_back import Run, RunResult, ScaleBack, ScaleBackConfig
from autoresponder.services.scale_on_throttle import ScaleOnThrottle, ThrottleRunbookConfig
from autoresponder.settings import Settings
from autoresponder.wiring.runner import Runner
from bench.backtest.alarms import (
    ACCOUNT,
    REGION,
    SimAlarm,
    pre_throttle_alarm,
    throttle_alarm,
)
from bench.backtest.ports import (
    CountingNotifier,
    SimAccount,
    SimAlarmsInAlarm,
)
from bench.backtest.simulator import SimTable
from local.memory_decision_table import InMemoryDecisionTable
from local.memory_rechecks import InMemoryRechecks

SCHEDULE_MINUTES = 15
"""template.yaml: the scale_back schedule, rate(15 minutes)."""
RETRY_DELAYS = (1, 2)
"""Lambda's asynchronous retries: about 1 minute, then 2 more (MaximumRetryAttempts 2)."""
SCALE_ON_THROTTLE = "scale_on_throttle"
SCALE_BACK = "scale_back"
SCALE_BACK_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:autoresponder-scale-back"


def default_settings() -> Settings:
    """The functions' settings: documented defaults, or the environment's values."""
    return Settings(
        decision_table_name="backtest-decisions",
        notification_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:backtest",
    )


def responder_configs(settings: Settings) -> tuple[ThrottleRunbookConfig, ScaleBackConfig]:
    """The two runbooks' configs, built by the functions' own wiring."""
    from autoresponder.wiring.scale_back import scale_back_config  # noqa: PLC0415
    from autoresponder.wiring.scale_on_throttle import throttle_config  # noqa: PLC0415

    return throttle_config(settings), scale_back_config(settings)


def scheduled_event(account: SimAccount) -> dict[str, Any]:
    """The schedule's "Scheduled Event" at the current minute (`events/scheduled_scale_back`)."""
    now = account.now()
    return {
        "version": "0",
        "id": f"scale-back-{now:%Y%m%dT%H%M}",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT,
        "time": now.isoformat(),
        "region": REGION,
        "resources": [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/scale-back"],
        "detail": {},
    }


@dataclass(frozen=True)
class Delivery:
    due: int
    """The minute it is delivered."""
    runbook: str
    event: dict[str, Any]
    attempt: int = 1


@dataclass(frozen=True)
class Decided:
    """One decision the responder took (for the tests, the report and the plot)."""

    minute: int
    runbook: str
    action: str
    rule: str
    trigger: str
    """What delivered it: an alarm's name, `recheck`, `schedule`, or `retry <n>` of one."""


@dataclass
class _World:
    """The simulated account and the two functions, bound to one table."""

    table: SimTable
    account: SimAccount
    store: InMemoryDecisionTable
    scheduler: InMemoryRechecks
    in_alarm: SimAlarmsInAlarm
    throttle: Runner[AlarmStateChangeEvent]
    back: Runner[Run] | None


@dataclass
class Responder:
    """This project: scale_on_throttle on its alarms, scale_back on re-checks and the schedule.

    `scale_back=False`: scale_on_throttle alone (no re-check, no schedule, no scale-back);
    `pre_throttle=False`: the throttle alarm alone; `rechecks=False`: no one-time re-checks
    (the 15-minute schedule only)."""

    ceiling: int
    throttle: ThrottleRunbookConfig
    back: ScaleBackConfig | None
    pre_throttle: bool = True
    rechecks: bool = True
    schedule_minutes: int = SCHEDULE_MINUTES
    name: str = "responder"
    alarms: list[SimAlarm] = field(default_factory=list)
    queue: list[Delivery] = field(default_factory=list)
    decided: list[Decided] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    world: _World | None = None

    def __post_init__(self) -> None:
        if not self.alarms:
            self.alarms = [throttle_alarm()] + ([pre_throttle_alarm()] if self.pre_throttle else [])

    @property
    def calls(self) -> Counter[str]:
        """The AWS calls the functions made (and the re-checks scheduled)."""
        if self.world is None:
            return Counter()
        found = Counter(self.world.account.calls)
        found["scheduler:CreateSchedule"] = self.world.scheduler.created
        return found

    @property
    def decisions(self) -> list[Decision]:
        """Every decision record, in the order written."""
        return self.world.store.decisions if self.world is not None else []

    def act(self, minute: int, table: SimTable) -> None:
        world = self._bind(table)
        world.account.minute = minute
        for alarm in self.alarms:
            event = alarm.evaluate(minute, table)
            if event is not None:
                self.queue.append(Delivery(minute, SCALE_ON_THROTTLE, event))
        world.in_alarm.active = {
            a.name: active for a in self.alarms if (active := a.active()) is not None
        }
        if world.back is not None:
            for event in world.scheduler.due(world.account.now()):
                self.queue.append(Delivery(minute, SCALE_BACK, event))
            if minute > 0 and minute % self.schedule_minutes == 0:
                self.queue.append(Delivery(minute, SCALE_BACK, scheduled_event(world.account)))
        due = [d for d in self.queue if d.due <= minute]
        self.queue = [d for d in self.queue if d.due > minute]
        for delivery in due:
            self._deliver(minute, world, delivery)

    # -- invocations -------------------------------------------------------------------------

    def _deliver(self, minute: int, world: _World, delivery: Delivery) -> None:
        """One invocation of a function; Lambda retries it if it raises."""
        trigger = _trigger(delivery)
        try:
            if delivery.runbook == SCALE_ON_THROTTLE:
                decided = world.throttle.run(delivery.event)
                assert isinstance(decided, Decision)
                decisions: tuple[Decision, ...] = (decided,)
            else:
                assert world.back is not None
                run = world.back.run(delivery.event)
                assert isinstance(run, RunResult)
                decisions = run.decisions
        except AutoresponderError as exc:
            self.decided.append(
                Decided(minute, delivery.runbook, "raised", type(exc).__name__, trigger)
            )
            self._retry(minute, delivery)
            return
        finally:
            metrics.clear_metrics()  # the handler's log_metrics flushes once per invocation
        for decision in decisions:
            self.decided.append(
                Decided(minute, decision.runbook, decision.action, decision.rule or "", trigger)
            )

    def _retry(self, minute: int, delivery: Delivery) -> None:
        if delivery.attempt > len(RETRY_DELAYS):
            self.notes.append(
                f"minute {minute}: {delivery.runbook} failed every attempt "
                "(the event goes to the failure queue)"
            )
            return
        delay = RETRY_DELAYS[delivery.attempt - 1]
        self.queue.append(replace(delivery, due=minute + delay, attempt=delivery.attempt + 1))

    # -- the world ---------------------------------------------------------------------------

    def _bind(self, table: SimTable) -> _World:
        if self.world is not None and self.world.table is table:
            return self.world
        account = SimAccount(table, self.ceiling)
        store = InMemoryDecisionTable()
        scheduler = InMemoryRechecks()
        in_alarm = SimAlarmsInAlarm()
        recorder = DecisionRecorder(store, CountingNotifier(), REGION)
        rechecks = scheduler if self.rechecks and self.back is not None else None
        throttle = ScaleOnThrottle(
            tables=account,
            capacity=account,
            autoscaling=account,
            metrics=account,
            alarms=account,
            history=store,
            locks=store,
            attempts=store,
            recorder=recorder,
            clock=account,
            config=replace(self.throttle, recheck_target=SCALE_BACK_ARN),
            rechecks=rechecks,
        )
        back = (
            ScaleBack(
                tables=account,
                capacity=account,
                autoscaling=account,
                metrics=account,
                alarms=in_alarm,
                history=store,
                locks=store,
                recorder=recorder,
                clock=account,
                config=replace(self.back, recheck_target=SCALE_BACK_ARN),
                rechecks=rechecks,
            )
            if self.back is not None
            else None
        )
        self.world = _World(
            table,
            account,
            store,
            scheduler,
            in_alarm,
            Runner(ScaleOnThrottle, lambda: throttle, recorder=recorder, clock=account),
            Runner(ScaleBack, lambda: back, recorder=recorder, clock=account) if back else None,
        )
        return self.world


def _trigger(delivery: Delivery) -> str:
    event = delivery.event
    if event.get("source") == "aws.cloudwatch":
        found = str(event["detail"]["alarmName"])
    elif event.get("detail-type") == "Scheduled Event":
        found = "schedule"
    else:
        found = "recheck"
    return found if delivery.attempt == 1 else f"{found} (retry {delivery.attempt - 1})"
