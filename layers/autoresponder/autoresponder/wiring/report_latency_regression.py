"""Wiring of the report_latency_regression runbook."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from autoresponder.adapters.dynamodb_tables import DynamoDBTables
from autoresponder.adapters.metric_data import CloudWatchMetricData
from autoresponder.domain.latency.policy import DEFAULT_SLA_MS, LatencyPolicy
from autoresponder.models.latency import RUNBOOK, TRIGGER
from autoresponder.services.report_latency_regression import (
    EXPECTED_EVENTS,
    LatencyRunbookConfig,
    ReportLatencyRegression,
)
from autoresponder.settings import Settings, get_settings
from autoresponder.wiring.common import (
    clock,
    decision_records,
    forced_dry_run,
    recorder,
    respond_once_per_delivery,
    with_dry_run,
)


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
def runner() -> Callable[[object, Any], dict[str, Any]]:
    """The handler's whole job: parse either trigger, then respond once per delivery."""
    return respond_once_per_delivery(
        RUNBOOK,
        TRIGGER.validate_python,
        lambda event: service(forced_dry_run()).respond(event),
        expected=EXPECTED_EVENTS,
    )
