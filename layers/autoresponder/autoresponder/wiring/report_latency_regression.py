"""Wiring of the report_latency_regression runbook."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from autoresponder.adapters.dynamodb_tables import DynamoDBTables
from autoresponder.adapters.metric_data import CloudWatchMetricData
from autoresponder.domain.latency.policy import DEFAULT_SLA_MS, LatencyPolicy
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.models.latency import ScheduledEvent
from autoresponder.services.report_latency_regression import (
    LatencyRunbookConfig,
    ReportLatencyRegression,
)
from autoresponder.settings import Settings, get_settings
from autoresponder.wiring.common import (
    clock,
    decision_records,
    forced_dry_run,
    recorder,
    runner_for,
    with_dry_run,
)
from autoresponder.wiring.runner import Runner


def latency_config(settings: Settings) -> LatencyRunbookConfig:
    return LatencyRunbookConfig(
        policy=LatencyPolicy(
            regression_ratio=settings.latency_regression_ratio,
            regression_floor_ms=settings.latency_regression_floor_ms,
            min_samples=settings.latency_min_samples,
            sla_min_samples=settings.latency_sla_min_samples,
            sla_targets_ms={**DEFAULT_SLA_MS, **settings.latency_sla_ms},
            capacity_near_percent=settings.latency_capacity_near_percent,
            many_items_per_request=settings.latency_many_items_per_request,
            recent_change=timedelta(hours=settings.latency_recent_change_hours),
        ),
        alarm_window=timedelta(minutes=settings.latency_window_minutes),
        report_window=timedelta(hours=settings.latency_report_window_hours),
        dry_run=settings.dry_run,
    )


@lru_cache(maxsize=2)
def service(dry_run: bool = False) -> ReportLatencyRegression:
    """The runbook; `dry_run=True` forces dry run (the kill switch) whatever `DRY_RUN` says."""
    settings = get_settings()
    region = settings.aws_region
    return ReportLatencyRegression(
        tables=DynamoDBTables(region=region),
        metrics=CloudWatchMetricData(region=region),
        history=decision_records(),
        recorder=recorder(),
        clock=clock(),
        config=with_dry_run(latency_config(settings), dry_run),
    )


@lru_cache(maxsize=1)
def runner() -> Runner[AlarmStateChangeEvent | ScheduledEvent]:
    """The handler's whole job: parse either trigger, then respond once per delivery."""
    return runner_for(
        ReportLatencyRegression, lambda: service(forced_dry_run()), once_per_delivery=True
    )
