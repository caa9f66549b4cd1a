"""Shared pieces of every runbook's wiring: settings, the decision table's stores, the notifier,
the decision bus, once per delivery (Powertools Idempotency), and `runner_for`: a function's
runner (`wiring/runner.py`) over the real ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    IdempotentHookFunction,
    idempotent_function,
)

from autoresponder.adapters.autoscaling import ApplicationAutoScaling
from autoresponder.adapters.clients import client
from autoresponder.adapters.clock import SystemClock
from autoresponder.adapters.cloudwatch import CloudWatchMetrics
from autoresponder.adapters.decision_table.attempts import DynamoDBDeliveryAttempts
from autoresponder.adapters.decision_table.decisions import DynamoDBDecisions
from autoresponder.adapters.decision_table.locks import DynamoDBTableLocks
from autoresponder.adapters.decision_table.scale_history import DynamoDBScaleHistory
from autoresponder.adapters.decision_table.table import DecisionTableAdapter
from autoresponder.adapters.dynamodb_tables import DynamoDBTables
from autoresponder.adapters.event_bus import EventBridgeDecisionBus
from autoresponder.adapters.metric_data import CloudWatchMetricData
from autoresponder.adapters.scheduler import EventBridgeScheduler
from autoresponder.adapters.sns_notifier import SnsNotifier
from autoresponder.adapters.ssm_switch import NoDryRunSwitch, SsmDryRunSwitch
from autoresponder.domain.next_look import LookPolicy
from autoresponder.observability import DUPLICATE_DELIVERY, count_outcome, logger
from autoresponder.services.ports import DryRunSwitch
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import Origin
from autoresponder.services.runbook import Event, Runbook
from autoresponder.settings import Settings, get_settings
from autoresponder.wiring.runner import OncePerDelivery, Respond, Runner

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@lru_cache(maxsize=1)
def decision_records() -> DynamoDBDecisions:
    settings = get_settings()
    return DynamoDBDecisions(
        settings.decision_table_name,
        decision_ttl=timedelta(days=settings.decision_ttl_days),
        region=settings.aws_region,
    )


@lru_cache(maxsize=1)
def scale_history() -> DynamoDBScaleHistory:
    return _on_decision_table(DynamoDBScaleHistory)


@lru_cache(maxsize=1)
def table_locks() -> DynamoDBTableLocks:
    return _on_decision_table(DynamoDBTableLocks)


@lru_cache(maxsize=1)
def delivery_attempts() -> DynamoDBDeliveryAttempts:
    return _on_decision_table(DynamoDBDeliveryAttempts)


class CapacityPorts(TypedDict):
    """The ports both capacity runbooks (scale_on_throttle, scale_back) are built over."""

    tables: DynamoDBTables
    capacity: DynamoDBTables
    autoscaling: ApplicationAutoScaling
    metrics: CloudWatchMetricData
    alarms: CloudWatchMetrics
    history: DynamoDBScaleHistory
    locks: DynamoDBTableLocks
    recorder: DecisionRecorder
    clock: SystemClock
    rechecks: EventBridgeScheduler | None


@lru_cache(maxsize=1)
def capacity_ports() -> CapacityPorts:
    """Built once per container (the kill switch's dry-run service shares them)."""
    region = get_settings().aws_region
    tables = DynamoDBTables(region=region)
    return CapacityPorts(
        tables=tables,
        capacity=tables,
        autoscaling=ApplicationAutoScaling(region=region),
        metrics=CloudWatchMetricData(region=region),
        alarms=CloudWatchMetrics(region=region),
        history=scale_history(),
        locks=table_locks(),
        recorder=recorder(),
        clock=clock(),
        rechecks=rechecks(),
    )


Store = TypeVar("Store", bound=DecisionTableAdapter)


def _on_decision_table(store: type[Store]) -> Store:
    settings = get_settings()
    return store(settings.decision_table_name, region=settings.aws_region)


@lru_cache(maxsize=1)
def recorder() -> DecisionRecorder:
    settings = get_settings()
    notifier = SnsNotifier(settings.notification_topic_arn, region=settings.aws_region)
    store = decision_records()
    # Console links need a region: Lambda sets AWS_REGION; elsewhere the region the decision
    # table's own client resolved (no extra client just for this).
    region = settings.aws_region or store.client.meta.region_name or "us-east-1"
    bus = EventBridgeDecisionBus(region=settings.aws_region)
    return DecisionRecorder(store, notifier, region, bus)


def clock() -> SystemClock:
    return SystemClock()


@lru_cache(maxsize=1)
def rechecks() -> EventBridgeScheduler | None:
    """One-time re-checks of a table (EventBridge Scheduler), or none when not configured."""
    settings = get_settings()
    if not settings.recheck_schedule_group or not settings.recheck_role_arn:
        return None
    return EventBridgeScheduler(
        settings.recheck_schedule_group,
        settings.recheck_role_arn,
        region=settings.aws_region,
    )


def look_policy(settings: Settings) -> LookPolicy:
    return LookPolicy(
        after_change=timedelta(seconds=settings.recheck_after_change_seconds),
        step=timedelta(seconds=settings.recheck_step_seconds),
        patience=timedelta(minutes=settings.recheck_patience_minutes),
    )


@lru_cache(maxsize=1)
def dry_run_switch() -> DryRunSwitch:
    """The kill switch (`DRY_RUN_PARAMETER_NAME`), or none when no parameter is configured."""
    settings = get_settings()
    if not settings.dry_run_parameter_name:
        return NoDryRunSwitch()
    return SsmDryRunSwitch(
        settings.dry_run_parameter_name,
        max_age_seconds=settings.dry_run_parameter_max_age_seconds,
        region=settings.aws_region,
    )


def forced_dry_run() -> bool:
    """Whether this invocation is a dry run whatever the table says: `DRY_RUN`, or the kill
    switch (read only when `DRY_RUN` is off). Each runbook adds the table tag itself."""
    return get_settings().dry_run or dry_run_switch().engaged()


Config = TypeVar("Config", bound="DataclassInstance")


def with_dry_run(config: Config, dry_run: bool) -> Config:
    """A runbook's config with `dry_run` forced on (kill switch), else unchanged."""
    return replace(config, dry_run=True) if dry_run else config


class Keyed(Protocol):
    """An event that knows its delivery key (an alarm state change, a scheduled run)."""

    @property
    def idempotency_key(self) -> str: ...


def idempotent(runbook: str, respond: Respond) -> OncePerDelivery:
    """Wrap `respond` with Powertools Idempotency keyed by (runbook, `event.idempotency_key`):
    alarm and state timestamp for an alarm, schedule and scheduled time for a scheduled run.

    A duplicate delivery returns the first result without acting or notifying again; a
    concurrent duplicate raises `IdempotencyAlreadyInProgressError`, so Lambda retries it.
    Records live in the decision table under `IDEMPOTENCY#<runbook>`.
    """
    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.decision_table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=f"IDEMPOTENCY#{runbook}",
        expiry_attr="expires_at",
        boto3_client=client("dynamodb", settings.aws_region),
    )
    config = IdempotencyConfig(
        expires_after_seconds=settings.idempotency_ttl_minutes * 60,
        response_hook=_duplicate_delivery(runbook),
    )

    def run(*, key: dict[str, str], event: Keyed, origin: Origin) -> dict[str, Any]:
        del key  # only the idempotency key: Powertools hashes it
        return respond(event, origin)

    wrapped = idempotent_function(
        data_keyword_argument="key", persistence_store=persistence, config=config
    )(run)

    def call(event: Keyed, origin: Origin, context: Any) -> dict[str, Any]:
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            config.register_lambda_context(context)
        key = {"runbook": runbook, "event": event.idempotency_key}
        result: dict[str, Any] = wrapped(key=key, event=event, origin=origin)
        return result

    return call


def _duplicate_delivery(runbook: str) -> IdempotentHookFunction:
    """Powertools' hook for a delivery answered from the idempotency record: logged and counted
    (`duplicate_delivery`); the first delivery's decision is returned as it was."""

    def answered_again(response: Any, idempotent_data: object) -> Any:
        del idempotent_data  # the record itself: the response is all that is needed
        logger.info(
            "duplicate delivery: the first delivery's decision is returned",
            runbook=runbook,
            action=response.get("action") if isinstance(response, dict) else None,
        )
        count_outcome(runbook, DUPLICATE_DELIVERY)
        return response

    return answered_again


def runner_for(
    kind: type[Runbook[Event]],
    build: Callable[[], Runbook[Event]],
    *,
    once_per_delivery: bool = False,
) -> Runner[Event]:
    """The function's runner over the real recorder and clock; `once_per_delivery`: answer a
    duplicate delivery from the first one's result (Powertools Idempotency)."""
    return Runner(
        kind,
        build,
        recorder=recorder(),
        clock=clock(),
        region=get_settings().aws_region,
        once=partial(idempotent, kind.name) if once_per_delivery else None,
    )
