"""Contributor Insights off on the table: what it would cost, and the command to turn it on."""

from __future__ import annotations

from dataclasses import dataclass

from autoresponder.domain.hot_keys.decision import HotKeyPlan
from autoresponder.domain.hot_keys.trigger import HotKeyTrigger
from autoresponder.domain.scaling.words import where
from autoresponder.models.decision import Severity
from autoresponder.models.hot_keys import HotKeyAction, InsightsMode, InsightsStatus

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class InsightsPrices:
    """CloudWatch Contributor Insights for DynamoDB (us-east-1, USD)."""

    rule_month: float = 0.50
    per_million_events: float = 0.03


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
    severity = Severity.WARNING if trigger.expects_hot_key else Severity.INFO
    if status.status == "ENABLING":
        return HotKeyPlan(
            HotKeyAction.CONTRIBUTOR_INSIGHTS_DISABLED,
            "contributor_insights.enabling",
            f"Contributor Insights is being enabled on {place}: no report yet, hot keys "
            "cannot be named for this alarm",
            severity=severity,
            next_steps=("Look at the Contributor Insights graphs once the status is ENABLED",),
        )
    key_rules = 2 if has_sort_key is not False else 1
    cost = _cost(prices, key_rules, has_sort_key)
    if enabled_now or would_enable:
        return _turned_on(
            status,
            place,
            cost,
            severity=severity,
            enabled_now=enabled_now,
            per_hour=round(key_rules * prices.rule_month / HOURS_PER_MONTH, 4),
        )
    failure = f" (last failure: {status.failure})" if status.failure else ""
    return HotKeyPlan(
        HotKeyAction.CONTRIBUTOR_INSIGHTS_DISABLED,
        "contributor_insights.disabled",
        f"Contributor Insights is {status.status} on {place}{failure}: hot keys cannot be "
        f"named. Enabling it costs {cost}",
        severity=severity,
        next_steps=(
            f"Enable it: {enable_command(status.table_name, status.index_name, region)}",
            "Key values appear in plaintext in Contributor Insights: do not enable it on a "
            "table whose keys must stay encrypted",
        ),
    )


def _turned_on(
    status: InsightsStatus,
    place: str,
    cost: str,
    *,
    severity: Severity,
    enabled_now: bool,
    per_hour: float,
) -> HotKeyPlan:
    """The responder turned Contributor Insights on (or, in dry run, would have)."""
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
        cost_delta_per_hour=per_hour,
    )


def _cost(prices: InsightsPrices, key_rules: int, has_sort_key: bool | None) -> str:
    """The monthly cost of the `key_rules` rules, in both modes."""
    throttled_month = key_rules * prices.rule_month
    full_month = 2 * key_rules * prices.rule_month
    up_to = "up to " if has_sort_key is None else ""
    return (
        f"{up_to}{key_rules} rule{'s' if key_rules > 1 else ''} × ${prices.rule_month:.2f}/month "
        f"= ${throttled_month:.2f}/month in {InsightsMode.THROTTLED_KEYS.value} mode plus "
        f"${prices.per_million_events:.2f} per million throttled requests "
        f"({InsightsMode.ACCESSED_AND_THROTTLED_KEYS.value}: ${full_month:.2f}/month plus "
        f"${prices.per_million_events:.2f} per million requests)"
    )
