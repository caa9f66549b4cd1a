"""Where hot keys get decided: the pure flag_hot_keys runbook.

A hot partition throttles however much capacity the table has: one partition serves at most
3,000 read units and 1,000 write units per second. From the Contributor Insights reports of the
alarm's window this module ranks the keys, flags the hot ones (share of the traffic or rate
against the per-partition limit above a threshold) and recommends, for each, write sharding
(with a suffix count), caching (hot reads) or a key redesign (skew below the limit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from autoresponder.domain.alarm_target import AlarmTarget, is_autoscaling_alarm, resolve_target
from autoresponder.domain.throttling import ThrottleCause, classify
from autoresponder.models.alarm import AlarmDetail, AlarmStateValue
from autoresponder.models.decision import Severity
from autoresponder.models.hot_keys import (
    HotKey,
    HotKeyAction,
    InsightsMode,
    InsightsStatus,
    KeyLevel,
    Recommendation,
    RecommendationKind,
    RuleKind,
    RuleReport,
)
from autoresponder.models.table import Dimension

PARTITION_READ_LIMIT = 3_000
"""Read units per second one partition serves at most."""
PARTITION_WRITE_LIMIT = 1_000
"""Write units per second one partition serves at most."""
HOURS_PER_MONTH = 730
REPORT_PERIOD_SECONDS = 60
MAX_RESOURCE_CANDIDATES = 5

_RULE_NAME = re.compile(r"^DynamoDBContributorInsights-(PKC|PKT|SKC|SKT)-(.+)-(\d+)$")
_INSIGHT_RULE_METRIC = re.compile(r"INSIGHT_RULE_METRIC\(\s*['\"]([^'\"]+)['\"]")


# ------------------------------------------------------------------------------------------
# Policy
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HotKeyThresholds:
    """When a key is hot, and how much headroom a sharding suggestion leaves."""

    min_share: float = 0.25
    """A key with at least this fraction of the traffic (or of the throttles) is hot."""
    min_partition_fraction: float = 0.5
    """A key at or above this fraction of the per-partition limit is hot."""
    headroom_percent: float = 50.0
    """Suffix count = ceil(rate ÷ partition limit × (1 + headroom))."""
    max_listed: int = 10
    min_suffix_count: int = 2


@dataclass(frozen=True)
class InsightsPrices:
    """CloudWatch Contributor Insights for DynamoDB (us-east-1, USD)."""

    rule_month: float = 0.50
    per_million_events: float = 0.03


# ------------------------------------------------------------------------------------------
# Which alarms this runbook looks at
# ------------------------------------------------------------------------------------------
class TriggerKind(StrEnum):
    KEY_RANGE = "key_range"
    """`Read/WriteKeyRangeThroughputThrottleEvents`: a hot partition, by definition."""
    GENERIC = "generic"
    """`Read/WriteThrottleEvents`, `ThrottledRequests`: a hot key is one possible cause."""
    INSIGHT_RULE = "insight_rule"
    """A metric-math alarm on a Contributor Insights rule (`INSIGHT_RULE_METRIC`)."""


@dataclass(frozen=True)
class HotKeyTrigger:
    kind: TriggerKind
    metric_name: str
    dimension: Dimension | None
    table_name: str | None = None
    """None for an insight-rule alarm until the rule's table is found."""
    index_name: str | None = None
    rule_name: str | None = None

    @property
    def expects_hot_key(self) -> bool:
        return self.kind is not TriggerKind.GENERIC


@dataclass(frozen=True)
class Unrelated:
    """An alarm this runbook does not look into (recorded as `skip`)."""

    rule: str
    reason: str


def triage(detail: AlarmDetail) -> Unrelated | None:
    """Alarms never looked into, known from the event alone."""
    if detail.state.value is not AlarmStateValue.ALARM:
        return Unrelated(
            "not_alarm",
            f"alarm {detail.alarm_name} went to {detail.state.value}, not ALARM: nothing to do",
        )
    if is_autoscaling_alarm(detail.alarm_name):
        return Unrelated(
            "autoscaling_alarm",
            f"{detail.alarm_name} belongs to Application Auto Scaling's target tracking",
        )
    return None


def resolve_trigger(detail: AlarmDetail) -> HotKeyTrigger | Unrelated:
    """What the alarm is about: a DynamoDB throttle metric, or a Contributor Insights rule."""
    target = resolve_target(detail.configuration.metrics)
    if isinstance(target, AlarmTarget):
        signal = classify(target.metric_name, target.operation)
        if signal.cause in {ThrottleCause.KEY_RANGE, ThrottleCause.GENERIC}:
            kind = (
                TriggerKind.KEY_RANGE
                if signal.cause is ThrottleCause.KEY_RANGE
                else TriggerKind.GENERIC
            )
            return HotKeyTrigger(
                kind=kind,
                metric_name=target.metric_name,
                dimension=signal.dimension,
                table_name=target.table_name,
                index_name=target.index_name,
            )
    rules = insight_rule_names(m.expression for m in detail.configuration.metrics)
    dynamodb_rules = [name for name in rules if rule_kind(name) is not None]
    if dynamodb_rules:
        return HotKeyTrigger(
            kind=TriggerKind.INSIGHT_RULE,
            metric_name="INSIGHT_RULE_METRIC",
            dimension=None,
            rule_name=dynamodb_rules[0],
        )
    if rules:
        return Unrelated(
            "not_dynamodb_rule",
            f"the alarm watches Contributor Insights rule {rules[0]}, not one DynamoDB manages",
        )
    if isinstance(target, AlarmTarget):
        return Unrelated(
            "not_hot_key_metric",
            f"{target.metric_name} does not point at a hot key "
            "(capacity, quota or on-demand cap: scale_on_throttle handles it)",
        )
    return Unrelated("unresolved", target.reason)


def insight_rule_names(expressions: Iterable[str | None]) -> list[str]:
    """Rule names inside `INSIGHT_RULE_METRIC('<rule>', '<metric>')` expressions."""
    return [
        match.group(1)
        for expression in expressions
        if expression
        for match in _INSIGHT_RULE_METRIC.finditer(expression)
    ]


def rule_kind(rule_name: str) -> RuleKind | None:
    """PKC/PKT/SKC/SKT from a DynamoDB-managed rule name; None for any other rule."""
    match = _RULE_NAME.match(rule_name)
    return RuleKind(match.group(1)) if match else None


def candidate_resources(rule_name: str) -> list[tuple[str, str | None]]:
    """The (table, index) pairs a DynamoDB rule name can belong to, most likely first.

    The name embeds `<table>` or `<table>-<index>`, and both may contain `-`: every split is a
    candidate, to be confirmed by the table's own `ContributorInsightsRuleList` (the name is
    only used to find where to look, never to build a rule name).
    """
    match = _RULE_NAME.match(rule_name)
    if not match:
        return []
    resource = match.group(2)
    candidates: list[tuple[str, str | None]] = [(resource, None)]
    dashes = [i for i, char in enumerate(resource) if char == "-"]
    for i in reversed(dashes):
        table, index = resource[:i], resource[i + 1 :]
        if len(table) >= 3 and len(index) >= 3:
            candidates.append((table, index))
    return candidates[:MAX_RESOURCE_CANDIDATES]


# ------------------------------------------------------------------------------------------
# The report window
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportWindow:
    start: datetime
    end: datetime
    period_seconds: int = REPORT_PERIOD_SECONDS


def report_window(detail: AlarmDetail, minimum: timedelta) -> ReportWindow:
    """The alarm's evaluation window (from `reasonData`), at least `minimum` long, ending at
    the state change."""
    end = detail.state.timestamp
    data = detail.state.reason_data
    start: datetime | None = None
    raw_start = data.get("startDate")
    if isinstance(raw_start, str):
        try:
            start = datetime.fromisoformat(raw_start)
        except ValueError:
            start = None
    if start is None or start.tzinfo is None or start >= end:
        periods = [
            m.metric_stat.period
            for m in detail.configuration.metrics
            if m.metric_stat is not None and m.metric_stat.period
        ]
        period = periods[0] if periods else int(data.get("period") or REPORT_PERIOD_SECONDS)
        points = max(1, len(detail.state.recent_datapoints))
        start = end - timedelta(seconds=period * points)
    return ReportWindow(start=min(start, end - minimum), end=end)


# ------------------------------------------------------------------------------------------
# Ranking
# ------------------------------------------------------------------------------------------
def partition_limit(dimension: Dimension | None) -> int:
    """Units per second one partition serves. Unknown dimension: the lower (write) limit,
    which flags more rather than fewer keys."""
    return PARTITION_READ_LIMIT if dimension is Dimension.READ else PARTITION_WRITE_LIMIT


def suffix_count(rate: float, limit: int, headroom_percent: float, minimum: int = 2) -> int:
    """How many suffixes spread `rate` over partitions: ceil(rate ÷ limit × (1 + headroom))."""
    return max(minimum, math.ceil(rate / limit * (1 + headroom_percent / 100) - 1e-9))


@dataclass
class KeyLoad:
    """What the reports say about one key (partition key, or partition and sort key)."""

    level: KeyLevel
    keys: tuple[str, ...]
    names: tuple[str, ...]
    rate: float | None = None
    share: float | None = None
    throttled: float = 0.0
    throttle_share: float | None = None
    throttled_rate: float | None = None
    rules: list[str] = field(default_factory=list)

    def demand(self, limit: int) -> tuple[float | None, bool]:
        """Units per second asked of the key, and whether that is an estimate.

        Without an accessed-keys report (THROTTLED_KEYS mode) a throttled partition served
        about its limit and refused the throttled requests on top."""
        if self.rate is not None:
            return self.rate, False
        if self.throttled_rate:
            return limit + self.throttled_rate, True
        return None, False

    def sort_key(self, limit: int) -> tuple[float, float, float, int, tuple[str, ...]]:
        demand = self.demand(limit)[0] or 0.0
        share = max(self.share or 0.0, self.throttle_share or 0.0)
        return (
            -demand,
            -self.throttled,
            -share,
            0 if self.level is KeyLevel.PARTITION else 1,
            self.keys,
        )


def _names(report: RuleReport, count: int) -> tuple[str, ...]:
    if len(report.key_labels) == count:
        return report.key_labels
    return ("partition key", "sort key")[:count]


def measure_keys(reports: Sequence[RuleReport]) -> list[KeyLoad]:
    """Merge the reports into one load per key: rate and share from the accessed-keys rules
    (PKC/SKC), throttled requests from the throttled-keys rules (PKT/SKT)."""
    loads: dict[tuple[KeyLevel, tuple[str, ...]], KeyLoad] = {}
    for report in reports:
        level = KeyLevel.ITEM if report.kind.item_level else KeyLevel.PARTITION
        total = report.total
        for contributor in report.contributors:
            if not contributor.keys:
                continue
            key = (level, contributor.keys)
            load = loads.get(key)
            if load is None:
                load = KeyLoad(level, contributor.keys, _names(report, len(contributor.keys)))
                loads[key] = load
            share = contributor.value / total if total > 0 else None
            if report.kind.throttled:
                load.throttled += contributor.value
                load.throttle_share = share
                load.throttled_rate = contributor.value / report.window_seconds
            else:
                load.rate = (
                    contributor.peak / report.period_seconds
                    if contributor.peak is not None
                    else contributor.value / report.window_seconds
                )
                load.share = share
            if report.rule_name not in load.rules:
                load.rules.append(report.rule_name)
    return list(loads.values())


def is_hot(load: KeyLoad, limit: int, thresholds: HotKeyThresholds) -> bool:
    """Hot: a large share of the traffic or of the throttles, or a measured rate near the
    per-partition limit (an estimated rate never makes a key hot on its own: every throttled
    key would be)."""
    return (
        (load.share is not None and load.share >= thresholds.min_share)
        or (load.throttle_share is not None and load.throttle_share >= thresholds.min_share)
        or (load.rate is not None and load.rate >= limit * thresholds.min_partition_fraction)
    )


def recommend(
    load: KeyLoad,
    dimension: Dimension | None,
    limit: int,
    thresholds: HotKeyThresholds,
    *,
    partition_at_limit: bool = False,
) -> Recommendation:
    """Sharding for hot writes, caching for hot reads, a key redesign for skew below the limit.

    `partition_at_limit`: the alarm says the key's partition throttles (key-range or
    Contributor Insights alarm); a throttled key is then at its partition's limit even when its
    rate is below the nominal one (a provisioned table splits its capacity over partitions)."""
    demand, estimated = load.demand(limit)
    near_limit = demand is not None and demand >= limit * thresholds.min_partition_fraction
    throttled_at_limit = partition_at_limit and load.throttled > 0 and demand is not None
    if not (near_limit or throttled_at_limit):
        share = max(load.share or 0.0, load.throttle_share or 0.0)
        return Recommendation(
            kind=RecommendationKind.KEY_REDESIGN,
            summary=(
                f"redesign the key: it concentrates {share:.0%} of the traffic while below the "
                "per-partition limit; a higher-cardinality or composite key spreads it before "
                "growth turns it into throttling"
            ),
        )
    assert demand is not None
    approx = "≈" if estimated else ""
    basis = (
        f"{approx}{demand:,.0f} units/s against {limit:,}/s per partition"
        if near_limit
        else f"its partition throttles at {approx}{demand:,.0f} units/s, below the "
        f"{limit:,}/s a partition serves at most"
    )
    if dimension is Dimension.READ:
        return Recommendation(
            kind=RecommendationKind.CACHING,
            summary=(
                f"cache reads of this {'item' if load.level is KeyLevel.ITEM else 'key'} "
                f"(DAX or an application cache): {basis}; spreading reads over copies of the "
                "key (suffixes) is the alternative"
            ),
        )
    count = suffix_count(demand, limit, thresholds.headroom_percent, thresholds.min_suffix_count)
    target = (
        "split the item into"
        if load.level is KeyLevel.ITEM
        else "append a suffix 0..N-1 to the partition key value, N ="
    )
    summary = (
        f"shard writes: {target} {count} shards ({basis}; "
        f"+{thresholds.headroom_percent:.0f}% headroom); readers query the {count} shards"
    )
    if dimension is None:
        summary += "; if this traffic is reads, cache it instead"
    return Recommendation(
        kind=RecommendationKind.WRITE_SHARDING, summary=summary, suffix_count=count
    )


def rank_hot_keys(
    reports: Sequence[RuleReport],
    dimension: Dimension | None,
    thresholds: HotKeyThresholds,
    *,
    partition_at_limit: bool = False,
) -> list[HotKey]:
    """The hot keys, hottest first (demand, then throttles, then share), at most `max_listed`."""
    limit = partition_limit(dimension)
    loads = sorted(measure_keys(reports), key=lambda load: load.sort_key(limit))
    hot = [load for load in loads if is_hot(load, limit, thresholds)][: thresholds.max_listed]
    return [
        HotKey(
            rank=rank,
            level=load.level,
            key_values=list(load.keys),
            key_names=list(load.names),
            rate_per_second=_round(load.demand(limit)[0]),
            rate_estimated=load.demand(limit)[1],
            share=_round(load.share, 4),
            throttled=load.throttled,
            throttle_share=_round(load.throttle_share, 4),
            partition_limit=limit,
            rules=list(load.rules),
            recommendation=recommend(
                load, dimension, limit, thresholds, partition_at_limit=partition_at_limit
            ),
        )
        for rank, load in enumerate(hot, start=1)
    ]


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# ------------------------------------------------------------------------------------------
# Decisions
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HotKeyPlan:
    action: HotKeyAction
    rule: str
    reason: str
    severity: Severity = Severity.INFO
    next_steps: tuple[str, ...] = ()
    hot_keys: tuple[HotKey, ...] = ()
    cost_delta_per_hour: float | None = None


def where(table_name: str, index_name: str | None) -> str:
    return f"index {index_name} of table {table_name}" if index_name else f"table {table_name}"


def decide_hot_keys(
    trigger: HotKeyTrigger,
    reports: Sequence[RuleReport],
    window: ReportWindow,
    thresholds: HotKeyThresholds,
    *,
    show_key_values: bool = False,
) -> HotKeyPlan:
    """`flag_hot_keys` with the ranked hot keys, or `no_hot_keys` with what was examined."""
    place = where(trigger.table_name or "?", trigger.index_name)
    span = f"{window.start:%H:%M}–{window.end:%H:%M} UTC"
    limit = partition_limit(trigger.dimension)
    hot = rank_hot_keys(
        reports, trigger.dimension, thresholds, partition_at_limit=trigger.expects_hot_key
    )
    kinds = ", ".join(sorted({r.kind.value for r in reports})) or "none"
    if not hot:
        loads = sorted(measure_keys(reports), key=lambda load: load.sort_key(limit))
        busiest = ""
        if loads:
            top = loads[0]
            demand, _ = top.demand(limit)
            share = max(top.share or 0.0, top.throttle_share or 0.0)
            busiest = f"; the busiest key had {share:.0%} of the traffic" + (
                f" at {demand:,.1f} units/s" if demand is not None else ""
            )
        checked = (
            f"{len(loads)} keys in {len(reports)} Contributor Insights reports ({kinds}) "
            f"over {span}"
        )
        return HotKeyPlan(
            HotKeyAction.NO_HOT_KEYS,
            "no_hot_keys" if reports else "no_reports",
            f"no hot key on {place}: {checked}; none reached "
            f"{thresholds.min_share:.0%} of the traffic or "
            f"{thresholds.min_partition_fraction:.0%} of the {limit:,}/s partition limit"
            f"{busiest}",
            severity=Severity.WARNING if trigger.expects_hot_key else Severity.INFO,
            next_steps=(
                "The throttling is spread over many keys: capacity, not key design, is the "
                "lever (see scale_on_throttle's decision)",
                "Contributor Insights lags a few minutes: look at its graphs for this window "
                "if the alarm persists",
            )
            if trigger.expects_hot_key
            else (),
        )
    hottest = hot[0]
    kinds_found = sorted({k.recommendation.kind.value.replace("_", " ") for k in hot})
    reason = (
        f"{len(hot)} hot key{'s' if len(hot) > 1 else ''} on {place} over {span} "
        f"(from {kinds}): the hottest {hottest.level.value} key has "
        + _summary(hottest)
        + f"; recommended: {', '.join(kinds_found)}."
    )
    if any(k.recommendation.kind is not RecommendationKind.KEY_REDESIGN for k in hot):
        reason += " More capacity does not help a hot partition."
    steps = tuple(
        f"#{key.rank} {key.label(masked=not show_key_values)}: {key.recommendation.summary}"
        for key in hot
    )
    return HotKeyPlan(
        HotKeyAction.FLAG_HOT_KEYS,
        f"{trigger.kind.value}.flag",
        reason,
        severity=Severity.WARNING,
        next_steps=steps,
        hot_keys=tuple(hot),
    )


def _summary(key: HotKey) -> str:
    parts = []
    if key.rate_per_second is not None:
        parts.append(
            f"{'≈' if key.rate_estimated else ''}{key.rate_per_second:,.1f} units/s "
            f"({key.rate_per_second / key.partition_limit:.0%} of the partition limit)"
        )
    if key.share is not None:
        parts.append(f"{key.share:.0%} of the traffic")
    if key.throttled:
        parts.append(f"{key.throttled:,.0f} throttled requests")
    return ", ".join(parts) or "the most throttles"


def enable_command(table_name: str, index_name: str | None, region: str) -> str:
    """The one command that turns Contributor Insights on, in the cheaper mode."""
    index = f" --index-name {index_name}" if index_name else ""
    return (
        f"aws dynamodb update-contributor-insights --table-name {table_name}{index} "
        "--contributor-insights-action ENABLE "
        f"--contributor-insights-mode {InsightsMode.THROTTLED_KEYS.value} --region {region}"
    )


def insights_off(
    trigger: HotKeyTrigger,
    status: InsightsStatus,
    region: str,
    prices: InsightsPrices,
    *,
    has_sort_key: bool | None,
    enabled_now: bool = False,
    would_enable: bool = False,
) -> HotKeyPlan:
    """`contributor_insights_disabled`: what it would cost and the command to turn it on."""
    place = where(status.table_name, status.index_name)
    key_rules = 2 if has_sort_key is not False else 1
    throttled_month = key_rules * prices.rule_month
    full_month = 2 * key_rules * prices.rule_month
    up_to = "up to " if has_sort_key is None else ""
    cost = (
        f"{up_to}{key_rules} rule{'s' if key_rules > 1 else ''} × ${prices.rule_month:.2f}/month "
        f"= ${throttled_month:.2f}/month in {InsightsMode.THROTTLED_KEYS.value} mode plus "
        f"${prices.per_million_events:.2f} per million throttled requests "
        f"({InsightsMode.ACCESSED_AND_THROTTLED_KEYS.value}: ${full_month:.2f}/month plus "
        f"${prices.per_million_events:.2f} per million requests)"
    )
    command = enable_command(status.table_name, status.index_name, region)
    severity = Severity.WARNING if trigger.expects_hot_key else Severity.INFO
    hourly = round(throttled_month / HOURS_PER_MONTH, 4)
    if status.status == "ENABLING":
        return HotKeyPlan(
            HotKeyAction.CONTRIBUTOR_INSIGHTS_DISABLED,
            "contributor_insights.enabling",
            f"Contributor Insights is being enabled on {place}: no report yet, hot keys "
            "cannot be named for this alarm",
            severity=severity,
            next_steps=("Look at the Contributor Insights graphs once the status is ENABLED",),
        )
    if enabled_now or would_enable:
        done = "enabled it" if enabled_now else "would enable it (dry run)"
        return HotKeyPlan(
            HotKeyAction.CONTRIBUTOR_INSIGHTS_DISABLED,
            "contributor_insights.enabled_now" if enabled_now else "contributor_insights.dry_run",
            f"Contributor Insights was {status.status} on {place}, so hot keys cannot be named "
            f"for this alarm; the responder {done} in {InsightsMode.THROTTLED_KEYS.value} mode "
            f"(setting ENABLE_CONTRIBUTOR_INSIGHTS, table opted in). Cost: {cost}",
            severity=severity,
            next_steps=(
                "The next throttling alarm gets a hot-key report",
                "To turn it off again: aws dynamodb update-contributor-insights --table-name "
                f"{status.table_name}"
                + (f" --index-name {status.index_name}" if status.index_name else "")
                + " --contributor-insights-action DISABLE",
            ),
            cost_delta_per_hour=hourly,
        )
    failure = f" (last failure: {status.failure})" if status.failure else ""
    return HotKeyPlan(
        HotKeyAction.CONTRIBUTOR_INSIGHTS_DISABLED,
        "contributor_insights.disabled",
        f"Contributor Insights is {status.status} on {place}{failure}: hot keys cannot be "
        f"named. Enabling it costs {cost}",
        severity=severity,
        next_steps=(
            f"Enable it: {command}",
            "Key values appear in plaintext in Contributor Insights: do not enable it on a "
            "table whose keys must stay encrypted",
        ),
    )
