"""Wiring of onboard_tables."""

from __future__ import annotations

from functools import lru_cache

from autoresponder.adapters.alarm_registry import CloudWatchAlarmRegistry
from autoresponder.adapters.contributor_insights import ContributorInsights
from autoresponder.adapters.dynamodb_tables import DynamoDBTables
from autoresponder.adapters.scalable_target_tags import ScalableTargetTags
from autoresponder.domain.alarm_plan import (
    DEFAULT_LATENCY_TARGETS_MS,
    AlarmPolicy,
    parse_watch_list,
)
from autoresponder.services.onboard_tables import OnboardConfig, OnboardTables, Trigger
from autoresponder.settings import Settings, get_settings
from autoresponder.wiring.common import (
    clock,
    decision_records,
    forced_dry_run,
    recorder,
    runner_for,
    table_locks,
    with_dry_run,
)
from autoresponder.wiring.runner import Runner


def onboard_config(settings: Settings) -> OnboardConfig:
    operations = tuple(sorted(parse_watch_list(settings.onboard_default_operations)))
    return OnboardConfig(
        policy=AlarmPolicy(
            prefix=settings.alarm_name_prefix,
            throttle_threshold=settings.onboard_throttle_threshold,
            throttle_periods=settings.onboard_throttle_periods,
            latency_periods=settings.onboard_latency_periods,
            latency_targets_ms={**DEFAULT_LATENCY_TARGETS_MS, **settings.latency_sla_ms},
            latency_default_ms=settings.onboard_latency_default_ms,
            default_operations=operations or AlarmPolicy().default_operations,
        ),
        watch_list=parse_watch_list(settings.watch_tables),
        dry_run=settings.dry_run,
        contributor_insights=settings.enable_contributor_insights,
        lock_seconds=max(settings.lock_seconds, 120),
        price_per_alarm_month=settings.price_per_alarm_month,
    )


@lru_cache(maxsize=2)
def service(dry_run: bool = False) -> OnboardTables:
    """The runbook; `dry_run=True` forces dry run (the kill switch) whatever `DRY_RUN` says."""
    settings = get_settings()
    region = settings.aws_region
    registry = CloudWatchAlarmRegistry(region=region)
    return OnboardTables(
        tables=DynamoDBTables(region=region),
        alarms=registry,
        operations=registry,
        insights=ContributorInsights(region=region),
        decisions=decision_records(),
        locks=table_locks(),
        recorder=recorder(),
        clock=clock(),
        config=with_dry_run(onboard_config(settings), dry_run),
        targets=ScalableTargetTags(region=region),
    )


@lru_cache(maxsize=1)
def runner() -> Runner[Trigger]:
    """The handler's whole job: parse, reconcile, answer (reconcile is idempotent by itself:
    a duplicate delivery finds nothing left to change and announces nothing)."""
    return runner_for(OnboardTables, lambda: service(forced_dry_run()))
