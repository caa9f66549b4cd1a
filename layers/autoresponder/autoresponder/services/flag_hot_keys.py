"""flag_hot_keys: find → report → decide → record → notify, for one alarm state change.

Reads only, except the optional enabling of Contributor Insights (a setting, off by default,
and only on tables tagged `autoresponder:managed=true`). A Contributor Insights call that
fails (denied, timed out, throttled) ends in a recorded and notified `fail` decision; the
handler returns, so the failure is announced once and not raised into Lambda's retries (the
report is advice: a retry minutes later reads a different window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, NamedTuple, override

from autoresponder.domain.hot_keys.decision import HotKeyPlan, decide_hot_keys
from autoresponder.domain.hot_keys.insights import InsightsPrices, insights_off
from autoresponder.domain.hot_keys.policy import HotKeyThresholds
from autoresponder.domain.hot_keys.trigger import (
    HotKeyTrigger,
    Unrelated,
    candidate_resources,
    resolve_trigger,
    rule_kind,
    triage,
)
from autoresponder.domain.hot_keys.window import ReportWindow, report_window
from autoresponder.domain.scaling.words import where
from autoresponder.errors import (
    AccessDeniedError,
    AutoresponderError,
    InvalidChangeError,
    ResourceNotFoundError,
    RetryableError,
)
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.decision import Decision, Severity, decision_key
from autoresponder.models.hot_keys import (
    RUNBOOK,
    ExaminedRule,
    HotKeyAction,
    HotKeyDecision,
    InsightsMode,
    InsightsStatus,
    RuleReport,
)
from autoresponder.models.table import TablePolicy
from autoresponder.observability import logger
from autoresponder.services.decisions import Outcome, build_decision
from autoresponder.services.ports import Clock, ContributorInsightsPort, TableReader
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import Origin
from autoresponder.services.runbook import Runbook


@dataclass(frozen=True)
class HotKeyRunbookConfig:
    thresholds: HotKeyThresholds = field(default_factory=HotKeyThresholds)
    prices: InsightsPrices = field(default_factory=InsightsPrices)
    min_window: timedelta = timedelta(minutes=5)
    max_contributors: int = 10
    show_key_values: bool = False
    enable_insights: bool = False
    dry_run: bool = False


class Examined(NamedTuple):
    """What the runbook read of Contributor Insights (the decision record keeps it)."""

    status: InsightsStatus
    window: ReportWindow | None = None
    reports: Sequence[RuleReport] = ()


HotKeyOutcome = Outcome[HotKeyPlan, Examined]


class FlagHotKeys(Runbook[AlarmStateChangeEvent]):
    """The hot-key runbook's use case. Ports are passed in; the handler builds the real ones."""

    name = RUNBOOK

    def __init__(
        self,
        *,
        insights: ContributorInsightsPort,
        tables: TableReader,
        recorder: DecisionRecorder,
        clock: Clock,
        config: HotKeyRunbookConfig,
    ) -> None:
        self._insights = insights
        self._tables = tables
        self._recorder = recorder
        self._clock = clock
        self._config = config

    @staticmethod
    def parse(raw: object) -> AlarmStateChangeEvent:
        return AlarmStateChangeEvent.model_validate(raw)

    @override
    def respond(self, event: AlarmStateChangeEvent, origin: Origin) -> Decision:
        unrelated = triage(event.detail)
        if unrelated is not None:
            return self._skip(event, None, unrelated)
        trigger = resolve_trigger(event.detail)
        if isinstance(trigger, Unrelated):
            return self._skip(event, None, trigger)
        status: InsightsStatus | None = None
        if trigger.table_name is None:
            try:
                located = self._locate(trigger)
            except AutoresponderError as exc:
                return self._fail(event, trigger, exc)
            if located is None:
                return self._skip(
                    event,
                    trigger,
                    Unrelated(
                        "rule_not_found",
                        f"no table or index lists Contributor Insights rule {trigger.rule_name}",
                    ),
                )
            trigger, status = located
        assert trigger.table_name is not None
        key = decision_key(
            trigger.table_name, RUNBOOK, event.alarm_name, event.detail.state.timestamp
        )
        if key is not None:
            previous = self._recorder.resume(key, HotKeyDecision)
            if previous is not None:
                return previous
        try:
            outcome = self._examine(event, trigger, status)
        except ResourceNotFoundError as exc:
            return self._skip(event, trigger, Unrelated("not_found", f"{exc}: nothing to examine"))
        except AutoresponderError as exc:
            return self._fail(event, trigger, exc)
        # Recording and notifying stay outside the try: a failed publish must raise (Lambda
        # retries, and the retry announces the recorded decision), not turn into a `fail`.
        return self._finish(event, trigger, outcome)

    # -- steps -------------------------------------------------------------------------------

    def _locate(self, trigger: HotKeyTrigger) -> tuple[HotKeyTrigger, InsightsStatus] | None:
        """The table or index whose rule list holds the alarm's rule (its name says where to
        look; the table's own `ContributorInsightsRuleList` confirms it)."""
        assert trigger.rule_name is not None
        for table_name, index_name in candidate_resources(trigger.rule_name):
            try:
                status = self._insights.describe(table_name, index_name)
            except (ResourceNotFoundError, InvalidChangeError):
                continue  # no such table, or no such index on it: the next split
            if trigger.rule_name in status.rule_names:
                found = replace(trigger, table_name=table_name, index_name=index_name)
                return found, status
        return None

    def _examine(
        self,
        event: AlarmStateChangeEvent,
        trigger: HotKeyTrigger,
        status: InsightsStatus | None,
    ) -> HotKeyOutcome:
        assert trigger.table_name is not None
        if status is None:
            status = self._insights.describe(trigger.table_name, trigger.index_name)
        if not status.enabled:
            return self._insights_off(event, trigger, status)
        window = report_window(event.detail, self._config.min_window)
        reports = []
        for rule_name in dict.fromkeys(status.rule_names):  # one call per rule, in order
            kind = rule_kind(rule_name)
            if kind is None:
                logger.info("rule skipped: not a DynamoDB key rule", rule=rule_name)
                continue
            reports.append(
                self._insights.report(
                    rule_name,
                    kind,
                    start=window.start,
                    end=window.end,
                    period_seconds=window.period_seconds,
                    max_contributors=self._config.max_contributors,
                )
            )
        plan = decide_hot_keys(
            trigger,
            reports,
            window,
            self._config.thresholds,
            show_key_values=self._config.show_key_values,
        )
        return Outcome(plan, Examined(status, window, reports))

    def _insights_off(
        self, event: AlarmStateChangeEvent, trigger: HotKeyTrigger, status: InsightsStatus
    ) -> HotKeyOutcome:
        assert trigger.table_name is not None
        policy = TablePolicy()
        wants = self._config.enable_insights and status.status == "DISABLED"
        if wants:
            policy = TablePolicy.from_tags(self._tables.tags(event.table_arn(trigger.table_name)))
        dry_run = self._config.dry_run or policy.dry_run
        enable = wants and policy.managed
        if enable and not dry_run:
            new_status = self._insights.enable(
                trigger.table_name, trigger.index_name, InsightsMode.THROTTLED_KEYS
            )
            logger.info(
                "contributor insights enabled",
                table=trigger.table_name,
                index=trigger.index_name,
                mode=InsightsMode.THROTTLED_KEYS.value,
                status=new_status,
            )
        plan = insights_off(
            trigger,
            status,
            event.region,
            self._config.prices,
            has_sort_key=self._has_sort_key(trigger),
            enabled_now=enable and not dry_run,
            would_enable=enable and dry_run,
        )
        inputs = {"managed": policy.managed} if wants else {}
        return Outcome(plan, Examined(status), dry_run=dry_run, inputs=inputs)

    def _has_sort_key(self, trigger: HotKeyTrigger) -> bool | None:
        """For the cost of enabling: the base table's key schema (an index's is not read)."""
        if trigger.index_name is not None or trigger.table_name is None:
            return None
        try:
            return self._tables.describe(trigger.table_name).has_sort_key
        except AutoresponderError:
            return None

    # -- outcomes ----------------------------------------------------------------------------

    def _skip(
        self, event: AlarmStateChangeEvent, trigger: HotKeyTrigger | None, why: Unrelated
    ) -> Decision:
        plan = HotKeyPlan(HotKeyAction.SKIP, why.rule, why.reason)
        return self._finish(event, trigger, Outcome(plan))

    def _fail(
        self, event: AlarmStateChangeEvent, trigger: HotKeyTrigger, error: AutoresponderError
    ) -> Decision:
        place = (
            where(trigger.table_name, trigger.index_name)
            if trigger.table_name
            else f"rule {trigger.rule_name}"
        )
        plan = HotKeyPlan(
            HotKeyAction.FAIL,
            f"error.{type(error).__name__}",
            f"could not read Contributor Insights for {place}: {error}",
            severity=Severity.WARNING,
            next_steps=_advice_for(error),
        )
        inputs = {"error": str(error), "retryable": isinstance(error, RetryableError)}
        return self._finish(event, trigger, Outcome(plan, inputs=inputs))

    def _finish(
        self, event: AlarmStateChangeEvent, trigger: HotKeyTrigger | None, outcome: HotKeyOutcome
    ) -> Decision:
        plan, found = outcome.plan, outcome.found
        decision = build_decision(
            HotKeyDecision,
            RUNBOOK,
            event,
            plan,
            table_name=trigger.table_name if trigger else None,
            index_name=trigger.index_name if trigger else None,
            dry_run=self._config.dry_run if outcome.dry_run is None else outcome.dry_run,
            dimension=trigger.dimension if trigger else None,
            cost_delta_per_hour=plan.cost_delta_per_hour,
            inputs=self._inputs(trigger, outcome),
            decided_at=self._clock.now(),
            hot_keys=list(plan.hot_keys),
            examined=_examined(found),
            mask_key_values=not self._config.show_key_values,
            announce_no_hot_keys=trigger.expects_hot_key if trigger else False,
        )
        if decision.hot_keys:
            # masked whatever SHOW_KEY_VALUES says: logs are read more widely than the record
            logger.info(
                "hot keys flagged",
                table=decision.table_name,
                index=decision.index_name,
                keys=[
                    f"#{k.rank} {k.level.value} {k.label(masked=True)}" for k in decision.hot_keys
                ],
            )
        return self._recorder.finish(decision)

    def _inputs(self, trigger: HotKeyTrigger | None, outcome: HotKeyOutcome) -> dict[str, Any]:
        """What the decision was taken on: the trigger, Contributor Insights, the window."""
        found = outcome.found
        inputs: dict[str, Any] = {}
        if trigger is not None:
            inputs.update(trigger=trigger.kind.value, metric=trigger.metric_name)
            if trigger.rule_name:
                inputs["alarm_rule"] = trigger.rule_name
        if found is not None:
            inputs.update(
                contributor_insights_status=found.status.status,
                contributor_insights_mode=found.status.mode,
                rules=list(found.status.rule_names),
            )
        if found is not None and found.window is not None:
            inputs.update(
                window_start=found.window.start.isoformat(),
                window_end=found.window.end.isoformat(),
                thresholds={
                    "min_share": self._config.thresholds.min_share,
                    "min_partition_fraction": self._config.thresholds.min_partition_fraction,
                    "headroom_percent": self._config.thresholds.headroom_percent,
                },
            )
        inputs.update(outcome.inputs)
        return inputs


def _examined(found: Examined | None) -> list[ExaminedRule]:
    """Each Contributor Insights rule read, summed up (no key values)."""
    return [
        ExaminedRule(
            rule_name=report.rule_name,
            kind=report.kind,
            contributors=len(report.contributors),
            total=report.total,
            unique_contributors=report.unique_contributors,
        )
        for report in (found.reports if found is not None else ())
    ]


def _advice_for(error: AutoresponderError) -> tuple[str, ...]:
    if isinstance(error, AccessDeniedError):
        return (
            "Check the function role allows dynamodb:DescribeContributorInsights on the table "
            "and cloudwatch:GetInsightRuleReport on insight-rule/DynamoDBContributorInsights-*",
            "Meanwhile, read the table's Contributor Insights graphs in the DynamoDB console "
            "(Monitor tab)",
        )
    if isinstance(error, RetryableError):
        return (
            "CloudWatch or DynamoDB did not answer in time: read the table's Contributor "
            "Insights graphs in the DynamoDB console (Monitor tab) for the alarm's window",
            "The next alarm state change runs this report again",
        )
    return ("Read the decision record and the function's log for the AWS error",)
