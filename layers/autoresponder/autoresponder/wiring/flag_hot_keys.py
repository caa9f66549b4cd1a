"""Wiring of the flag_hot_keys runbook."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from autoresponder.adapters.contributor_insights import ContributorInsights
from autoresponder.adapters.dynamodb_tables import DynamoDBTables
from autoresponder.domain.hot_keys.insights import InsightsPrices
from autoresponder.domain.hot_keys.policy import HotKeyThresholds
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.services.flag_hot_keys import FlagHotKeys, HotKeyRunbookConfig
from autoresponder.settings import Settings, get_settings
from autoresponder.wiring.common import (
    clock,
    forced_dry_run,
    recorder,
    runner_for,
    with_dry_run,
)
from autoresponder.wiring.runner import Runner


def hot_key_config(settings: Settings) -> HotKeyRunbookConfig:
    return HotKeyRunbookConfig(
        thresholds=HotKeyThresholds(
            min_share=settings.hot_key_min_share,
            min_partition_fraction=settings.hot_key_min_partition_fraction,
            headroom_percent=settings.hot_key_headroom_percent,
        ),
        prices=InsightsPrices(
            rule_month=settings.price_per_insight_rule_month,
            per_million_events=settings.price_per_million_insight_events,
        ),
        min_window=timedelta(minutes=settings.hot_key_min_window_minutes),
        max_contributors=settings.hot_key_max_contributors,
        show_key_values=settings.show_key_values,
        enable_insights=settings.enable_contributor_insights,
        dry_run=settings.dry_run,
    )


@lru_cache(maxsize=2)
def service(dry_run: bool = False) -> FlagHotKeys:
    """The runbook; `dry_run=True` forces dry run (the kill switch) whatever `DRY_RUN` says."""
    settings = get_settings()
    region = settings.aws_region
    return FlagHotKeys(
        insights=ContributorInsights(region=region),
        tables=DynamoDBTables(region=region),
        recorder=recorder(),
        clock=clock(),
        config=with_dry_run(hot_key_config(settings), dry_run),
    )


@lru_cache(maxsize=1)
def runner() -> Runner[AlarmStateChangeEvent]:
    """The handler's whole job: parse, then respond once per delivery."""
    return runner_for(FlagHotKeys, lambda: service(forced_dry_run()), once_per_delivery=True)
