"""onboard_tables: give every covered table the alarms the runbooks listen to, and take them
away again when it is no longer covered. read → plan (pure) → act → record → notify.

One table at a time, each under its own lock (`LOCK` / `ONBOARD#<table>` in the decision table)
so a tag-change event and the hourly schedule never both announce the same change:

1. read the table's tags and description, the operations it serves, the alarms under the prefix;
2. plan the wanted alarms and diff them with what exists (`domain.alarm_plan`);
3. nothing to change → no decision (a log line). Otherwise, under the lock, read the table's
   alarms again, record the decision (not yet notified: the intent), apply the change, then
   announce it. A retry of the same trigger finds the intent, finishes the change and announces
   it once; a trigger that finds the change already made announces nothing.

DRY_RUN: nothing is created or deleted; the planned change is announced once (keyed by its
fingerprint, so the hourly schedule does not repeat it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import override

from autoresponder.domain.alarm_plan import (
    AlarmDiff,
    AlarmPolicy,
    coverage_of,
    desired_alarms,
    diff_table,
    insights_to_enable,
    offboard_diff,
    served_operations,
    tables_with_alarms,
)
from autoresponder.domain.cost import PRICE_PER_ALARM_MONTH, AlarmCost, alarm_cost
from autoresponder.errors import PermanentError, ResourceNotFoundError, RetryableError
from autoresponder.models.decision import Action, Decision, Severity
from autoresponder.models.hot_keys import InsightsMode, InsightsStatus
from autoresponder.models.onboarding import (
    RUNBOOK,
    Coverage,
    ObservedAlarm,
    ObservedScalableTarget,
    OnboardAction,
    OnboardDecision,
    ScheduledEvent,
    TagChangeEvent,
    parse_trigger,
)
from autoresponder.models.table import TableDescription, TablePolicy
from autoresponder.observability import logger
from autoresponder.services.decisions import build_decision
from autoresponder.services.ports import (
    AlarmRegistry,
    Clock,
    ContributorInsightsPort,
    DecisionRecords,
    LatencyOperationsReader,
    ScalableTargetTagger,
    TableCatalog,
    TableLocks,
)
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import Origin
from autoresponder.services.runbook import Runbook

Trigger = ScheduledEvent | TagChangeEvent


@dataclass(frozen=True)
class OnboardConfig:
    policy: AlarmPolicy = field(default_factory=AlarmPolicy)
    watch_list: frozenset[str] = frozenset()
    dry_run: bool = False
    contributor_insights: bool = False
    lock_seconds: int = 120
    price_per_alarm_month: float = PRICE_PER_ALARM_MONTH


@dataclass(frozen=True)
class _Plan:
    """What one table should look like, and the change to get there."""

    diff: AlarmDiff
    coverage: Coverage | None
    operations: tuple[str, ...] = ()
    gone: bool = False
    """The table does not exist (any more)."""


class OnboardTables(Runbook[Trigger]):
    """The onboarding use case. Ports are passed in; the handler builds the real ones."""

    name = RUNBOOK
    expected = "the hourly schedule nor a DynamoDB table's Tag Change on Resource event"

    def __init__(
        self,
        *,
        tables: TableCatalog,
        alarms: AlarmRegistry,
        operations: LatencyOperationsReader,
        insights: ContributorInsightsPort,
        decisions: DecisionRecords,
        locks: TableLocks,
        recorder: DecisionRecorder,
        clock: Clock,
        config: OnboardConfig,
        targets: ScalableTargetTagger | None = None,
    ) -> None:
        self._tables = tables
        self._targets = targets
        self._alarms = alarms
        self._operations = operations
        self._insights = insights
        self._decisions = decisions
        self._locks = locks
        self._recorder = recorder
        self._clock = clock
        self._config = config

    # -- entry points --------------------------------------------------------------------------

    @staticmethod
    def parse(raw: object) -> Trigger:
        """One of the two triggers (`ValueError` for anything else)."""
        return parse_trigger(raw)

    @override
    def respond(self, trigger: Trigger, origin: Origin) -> Decision:
        """Reconcile every table (schedule) or the one table whose tags changed (idempotent by
        itself: a duplicate delivery finds nothing left to change and announces nothing)."""
        prefix = self._config.policy.prefix
        try:
            if isinstance(trigger, TagChangeEvent):
                names = [trigger.table_name]
                existing = self._alarms.alarms(prefix + trigger.table_name)
                listed = self._operations.latency_operations(trigger.table_name)
            else:
                existing = self._alarms.alarms(prefix)
                listed = self._operations.latency_operations()
                names = sorted(set(self._tables.list_table_names()) | tables_with_alarms(existing))
        except PermanentError as exc:
            # nothing can be reconciled (IAM, most often): one fail a day, never a crash loop
            table = trigger.table_name if isinstance(trigger, TagChangeEvent) else None
            failed = self._fail(trigger, table, exc)
            return self._summary(trigger, [], [failed] if failed else [])
        decisions: list[OnboardDecision] = []
        retry: RetryableError | None = None
        for name in names:
            try:
                decision = self._reconcile_table(trigger, name, existing, listed)
            except RetryableError as exc:
                logger.warning("table reconcile will be retried", table=name, error=str(exc))
                retry = retry or exc
                continue
            except PermanentError as exc:
                decision = self._fail(trigger, name, exc)
            if decision is not None:
                decisions.append(decision)
        if retry is not None:
            # the other tables are done; Lambda retries the trigger, which changes only what
            # is still missing and announces what was not announced yet
            raise retry
        return self._summary(trigger, names, decisions)

    # -- one table -----------------------------------------------------------------------------

    def _reconcile_table(
        self,
        trigger: Trigger,
        name: str,
        existing: Mapping[str, ObservedAlarm],
        listed: Mapping[str, set[str]],
    ) -> OnboardDecision | None:
        plan = self._plan(trigger, name, existing, listed)
        if plan is None:
            return None
        key = (f"DECISION#{name}", _trigger_sk(trigger))
        if plan.diff.empty:
            self._log_unchanged(plan)
            resumed = self._recorder.resume(key, OnboardDecision)
            return resumed if isinstance(resumed, OnboardDecision) else None
        if self._config.dry_run:
            return self._dry_run(trigger, name, plan)
        owner = f"{trigger.id or '-'}@{trigger.time.isoformat()}"
        lock = f"ONBOARD#{name}"
        if not self._locks.acquire_lock(lock, owner, self._config.lock_seconds, self._now()):
            logger.info("table reconciled by another invocation", table=name)
            return None
        try:
            # under the lock: what exists now (another invocation may just have changed it)
            own = (self._config.policy.prefix + name)[:255]
            fresh = {n: a for n, a in existing.items() if not n.startswith(own)}
            fresh.update(self._alarms.alarms(own))
            plan = self._plan(trigger, name, fresh, listed)
            if plan is None or plan.diff.empty:
                return None
            previous = self._decisions.recorded(key)
            decision = (
                OnboardDecision.model_validate(previous[0].model_dump())
                if previous is not None and previous[0].action != Action.FAIL
                else self._decision(trigger, name, plan, key[1])
            )
            self._decisions.record(decision)  # the intent, before any change
            try:
                self._apply(name, plan.diff)
            except PermanentError as exc:
                return self._fail(trigger, name, exc, decision=decision)
            return self._finish(decision)
        finally:
            self._locks.release_lock(lock, owner)

    def _plan(
        self,
        trigger: Trigger,
        name: str,
        existing: Mapping[str, ObservedAlarm],
        listed: Mapping[str, set[str]],
    ) -> _Plan | None:
        arn = f"arn:{_partition(trigger)}:dynamodb:{trigger.region}:{trigger.account}:table/{name}"
        table: TableDescription | None = None
        coverage: Coverage | None = None
        tags: dict[str, str] = {}
        gone = False
        try:
            tags = self._tables.tags(arn)
            coverage = coverage_of(name, tags, self._config.watch_list)
            if coverage is not None:
                table = self._tables.describe(name)
        except ResourceNotFoundError:
            table, gone = None, True  # deleted (or being deleted)
        if table is None or coverage is None:
            if name not in tables_with_alarms(existing):
                return None  # not covered, nothing of ours: not the responder's business
            if not gone and self._targets is not None:
                try:
                    table = self._tables.describe(name)  # its indexes: their targets
                except ResourceNotFoundError:
                    table, gone = None, True
            targets = self._scalable_targets(table) if table is not None else []
            return _Plan(offboard_diff(name, existing, targets), None, gone=gone)
        operations = served_operations(listed.get(name, ()), self._config.policy)
        wanted = desired_alarms(
            table, operations, self._config.policy, managed=coverage is Coverage.MANAGED
        )
        insights = insights_to_enable(
            table,
            coverage,
            self._insights_statuses(table, coverage, tags),
            setting_on=self._config.contributor_insights,
            table_dry_run=TablePolicy.from_tags(tags).dry_run,
        )
        diff = diff_table(
            name,
            wanted,
            existing,
            enable_insights=insights,
            targets=self._scalable_targets(table),
            managed=coverage is Coverage.MANAGED,
        )
        return _Plan(diff, coverage, operations)

    def _scalable_targets(self, table: TableDescription) -> list[ObservedScalableTarget]:
        """The table's and its GSIs' scalable targets (an on-demand table has none)."""
        if self._targets is None or table.is_on_demand:
            return []
        return self._targets.targets(table.table_name, sorted(table.indexes))

    def _insights_statuses(
        self, table: TableDescription, coverage: Coverage, tags: dict[str, str]
    ) -> dict[str | None, InsightsStatus]:
        if (
            not self._config.contributor_insights
            or coverage is not Coverage.MANAGED
            or TablePolicy.from_tags(tags).dry_run
        ):
            return {}
        return {
            unit: self._insights.describe(table.table_name, unit)
            for unit in (None, *sorted(table.indexes))
        }

    def _apply(self, name: str, diff: AlarmDiff) -> None:
        # tags first: an offboarded table is not looked at again once its alarms are gone
        if self._targets is not None:
            for target in diff.tag_targets:
                self._targets.tag(target)
            for target in diff.untag_targets:
                self._targets.untag(target)
        for alarm in (*diff.create, *diff.update):
            self._alarms.put(alarm)
        if diff.delete:
            self._alarms.delete(diff.delete)
        for index in diff.enable_insights:
            self._insights.enable(name, index, InsightsMode.THROTTLED_KEYS)
        logger.info(
            "table alarms reconciled",
            table=name,
            alarms_created=len(diff.create),
            alarms_updated=len(diff.update),
            alarms_deleted=len(diff.delete),
            insights_enabled=len(diff.enable_insights),
            scalable_targets_tagged=len(diff.tag_targets),
            scalable_targets_untagged=len(diff.untag_targets),
        )

    # -- outcomes ------------------------------------------------------------------------------

    def _decision(
        self, trigger: Trigger, name: str, plan: _Plan, record_sk: str, *, dry_run: bool = False
    ) -> OnboardDecision:
        diff = plan.diff
        action = diff.action
        assert action is not None
        rule, reason, steps = _explain(action, name, plan, self._config.policy.prefix)
        price = self._config.price_per_alarm_month
        after, metrics, cost, priced = _priced(action, diff, price)
        reason = f"{reason}; {priced}"
        return build_decision(
            OnboardDecision,
            RUNBOOK,
            trigger,
            action=action.value,
            table_name=name,
            reason=reason,
            dry_run=dry_run,
            rule=rule,
            severity=Severity.INFO,
            next_steps=steps,
            coverage=plan.coverage,
            created=[a.name for a in diff.create],
            updated=[a.name for a in diff.update],
            deleted=list(diff.delete),
            unchanged=list(diff.unchanged),
            conflicts=list(diff.conflicts),
            insights_enabled=[name if i is None else f"{name}/{i}" for i in diff.enable_insights],
            scalable_targets_tagged=[t.label for t in diff.tag_targets],
            scalable_targets_untagged=[t.label for t in diff.untag_targets],
            alarm_count=after,
            alarm_metrics=metrics,
            alarm_cost_per_month=cost.per_month,
            record_sk=record_sk,
            trigger=_trigger_kind(trigger),
            inputs={
                "trigger": _trigger_kind(trigger),
                "trigger_time": trigger.time.isoformat(),
                "coverage": plan.coverage.value if plan.coverage else None,
                "operations": list(plan.operations),
                "alarm_name_prefix": self._config.policy.prefix,
                "fingerprint": diff.fingerprint(),
                "price_per_alarm_month": price,
            },
            decided_at=self._now(),
        )

    def _finish(self, decision: OnboardDecision) -> OnboardDecision:
        finished = self._recorder.finish(decision)
        assert isinstance(finished, OnboardDecision)
        return finished

    def _dry_run(self, trigger: Trigger, name: str, plan: _Plan) -> OnboardDecision | None:
        """Announce the planned change once per distinct change; make none of it."""
        sk = f"ONBOARD-DRYRUN#{plan.diff.fingerprint()}"
        if self._decisions.recorded((f"DECISION#{name}", sk)) is not None:
            logger.info("dry-run change already announced", table=name, record_key=sk)
            return None
        return self._finish(self._decision(trigger, name, plan, sk, dry_run=True))

    def _fail(
        self,
        trigger: Trigger,
        name: str | None,
        error: PermanentError,
        *,
        decision: OnboardDecision | None = None,
    ) -> OnboardDecision | None:
        """A permanent error: announced once per table, error kind and UTC day."""
        now = self._now()
        kind = type(error).__name__
        if decision is not None:
            # the intent record must not claim a change that did not happen
            self._decisions.record(
                decision.model_copy(
                    update={"action": Action.FAIL.value, "reason": f"not applied: {error}"}
                )
            )
        failed = build_decision(
            OnboardDecision,
            RUNBOOK,
            trigger,
            action=Action.FAIL.value,
            table_name=name,
            reason=f"could not reconcile the alarms of {name or 'the tables'}: {error}",
            rule=f"error.{kind}",
            severity=Severity.CRITICAL,
            next_steps=_advice_for(error),
            record_sk=f"ONBOARD-FAIL#{now.date().isoformat()}#{kind}",
            trigger=_trigger_kind(trigger),
            inputs={"error": str(error), "trigger": _trigger_kind(trigger)},
            decided_at=now,
        )
        if self._decisions.recorded(failed.record_key()) is not None:
            logger.warning("failure already announced today", table=name, error=str(error))
            return None
        return self._finish(failed)

    def _summary(
        self, trigger: Trigger, names: Sequence[str], decisions: list[OnboardDecision]
    ) -> Decision:
        """The handler's answer: the one table's decision, or a summary of the run."""
        if isinstance(trigger, TagChangeEvent) and len(decisions) == 1:
            return decisions[0]
        counts: dict[str, int] = {}
        for decision in decisions:
            counts[decision.action] = counts.get(decision.action, 0) + 1
        checked = f"{len(names)} table(s) checked"
        reason = (
            f"{checked}: " + ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
            if decisions
            else f"{checked}: every covered table already has its alarms"
        )
        if not decisions:
            logger.info("nothing to reconcile", tables=len(names), trigger=_trigger_kind(trigger))
        return build_decision(
            Decision,
            RUNBOOK,
            trigger,
            action="reconcile" if decisions else Action.SKIP.value,
            table_name=trigger.table_name if isinstance(trigger, TagChangeEvent) else None,
            reason=reason,
            dry_run=self._config.dry_run,
            rule="reconcile.summary" if decisions else "reconcile.unchanged",
            inputs={"trigger": _trigger_kind(trigger), "tables_checked": len(names)},
            decided_at=self._now(),
            counts=counts,
            decisions=[d.as_result() for d in decisions],
        )

    def _log_unchanged(self, plan: _Plan) -> None:
        diff = plan.diff
        if diff.conflicts:
            logger.warning(
                "alarm names taken by alarms the responder did not make",
                table=diff.table_name,
                alarms=list(diff.conflicts),
            )
        logger.debug("table alarms unchanged", table=diff.table_name, alarms=len(diff.unchanged))

    def _now(self) -> datetime:
        return self._clock.now()


# ----------------------------------------------------------------------------------------------
def _trigger_kind(trigger: Trigger) -> str:
    return "tag-change" if isinstance(trigger, TagChangeEvent) else "schedule"


def _trigger_sk(trigger: Trigger) -> str:
    """Record sort key of a change made for this trigger: the same on every retry of it."""
    return f"ONBOARD#{trigger.time.isoformat()}#{trigger.id or '-'}"


def _partition(trigger: Trigger) -> str:
    for arn in trigger.resources:
        parts = arn.split(":")
        if len(parts) > 2 and parts[0] == "arn" and parts[1]:
            return parts[1]
    return "aws"


def _priced(
    action: OnboardAction, diff: AlarmDiff, price: float
) -> tuple[int, int, AlarmCost, str]:
    """The table's alarms and alarm metrics after the change, their cost, and its words (the
    monthly cost of what is in place, or what offboarding saves)."""
    if action is OnboardAction.OFFBOARD:
        cost = alarm_cost(len(diff.delete), price, diff.deleted_alarm_metrics)
        return 0, 0, cost, cost.describe_saving()
    cost = alarm_cost(diff.alarm_count, price, diff.alarm_metrics)
    return diff.alarm_count, diff.alarm_metrics, cost, cost.describe()


def _counts(diff: AlarmDiff) -> str:
    """What a reconcile changed, e.g. "12 created, 1 scalable target(s) tagged"."""
    return ", ".join(
        f"{n} {what}"
        for n, what in (
            (len(diff.create), "created"),
            (len(diff.update), "updated"),
            (len(diff.delete), "deleted"),
            (len(diff.enable_insights), "Contributor Insights turned on"),
            (len(diff.tag_targets), "scalable target(s) tagged"),
            (len(diff.untag_targets), "scalable target(s) untagged"),
        )
        if n
    )


def _explain_offboard(plan: _Plan, counts: str) -> tuple[str, str, list[str]]:
    why = (
        "the table no longer exists"
        if plan.gone
        else "the table is no longer tagged autoresponder:managed=true nor on the watch list"
    )
    return (
        "offboard.deleted" if plan.gone else "offboard.uncovered",
        f"{why}: the alarms the responder made for it are removed ({counts})",
        [
            "Alarms made by people are untouched",
            "Contributor Insights, if the responder turned it on, stays on: "
            "turn it off with UpdateContributorInsights DISABLE if nobody needs it",
        ],
    )


def _explain(
    action: OnboardAction, name: str, plan: _Plan, prefix: str
) -> tuple[str, str, list[str]]:
    """The rule, the reason and the next steps of a change to a table's alarms."""
    diff = plan.diff
    counts = _counts(diff)
    if action is OnboardAction.OFFBOARD:
        return _explain_offboard(plan, counts)
    covered = (
        "tagged autoresponder:managed=true"
        if plan.coverage is Coverage.MANAGED
        else "on the stack's watch list (reported on, never changed)"
    )
    steps = [
        f"Alarms are named {prefix}{name}[-<index>]-<kind> and tagged "
        "autoresponder:created-by=onboard_tables; the runbooks receive their state changes",
    ]
    if diff.conflicts:
        steps.append(
            "Rename or delete the alarms listed as left alone if the responder should own them"
        )
    if action is OnboardAction.ONBOARD:
        return (
            f"onboard.{plan.coverage.value if plan.coverage else 'covered'}",
            f"table {name} is {covered}: its alarms are in place ({counts})",
            steps,
        )
    if diff.tag_targets or diff.untag_targets:
        steps.append(
            "Scalable targets of managed tables carry autoresponder:managed=true: the runbooks "
            "may change their limits (RegisterScalableTarget) only on targets carrying it"
        )
    return (
        "update_alarms.drift",
        f"table {name} is {covered}; its alarms or scalable target tags did not match the "
        f"table (indexes, operations, tags or settings changed, or an alarm was edited): {counts}",
        steps,
    )


def _advice_for(error: PermanentError) -> list[str]:
    name = type(error).__name__
    if name == "AccessDeniedError":
        return [
            "Check the function role allows cloudwatch:PutMetricAlarm/TagResource/DeleteAlarms "
            "on alarms named with AlarmNamePrefix, and application-autoscaling:"
            "DescribeScalableTargets/ListTagsForResource/TagResource/UntagResource",
        ]
    if name == "LimitExceededError":
        return ["Check the account's CloudWatch alarm quota"]
    return ["Read the decision record and the function's log for the AWS error"]
