"""Shared pieces of every runbook's wiring: settings, the decision store, the notifier."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from autoresponder.adapters.clients import client
from autoresponder.adapters.clock import SystemClock
from autoresponder.adapters.decision_store import DynamoDBDecisionStore
from autoresponder.adapters.sns_notifier import SnsNotifier
from autoresponder.models.alarm import AlarmStateChangeEvent
from autoresponder.services.recording import DecisionRecorder
from autoresponder.settings import Settings, get_settings


@lru_cache(maxsize=1)
def decision_store() -> DynamoDBDecisionStore:
    settings = get_settings()
    return DynamoDBDecisionStore(
        settings.decision_table_name,
        decision_ttl=timedelta(days=settings.decision_ttl_days),
        region=settings.aws_region,
    )


@lru_cache(maxsize=1)
def recorder() -> DecisionRecorder:
    settings = get_settings()
    notifier = SnsNotifier(settings.notification_topic_arn, region=settings.aws_region)
    return DecisionRecorder(decision_store(), notifier, region_of(settings))


def region_of(settings: Settings) -> str:
    return settings.aws_region or client("sts", None).meta.region_name or "us-east-1"


def clock() -> SystemClock:
    return SystemClock()


Respond = Callable[[AlarmStateChangeEvent], dict[str, Any]]


def idempotent(runbook: str, respond: Respond) -> Callable[..., dict[str, Any]]:
    """Wrap `respond` with Powertools Idempotency keyed by (runbook, alarm, state timestamp).

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
    config = IdempotencyConfig(expires_after_seconds=settings.idempotency_ttl_minutes * 60)

    def run(*, key: dict[str, str], event: AlarmStateChangeEvent) -> dict[str, Any]:
        del key  # only the idempotency key: Powertools hashes it
        return respond(event)

    wrapped = idempotent_function(
        data_keyword_argument="key", persistence_store=persistence, config=config
    )(run)

    def call(event: AlarmStateChangeEvent, context: Any = None) -> dict[str, Any]:
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            config.register_lambda_context(context)
        key = {"runbook": runbook, "event": event.idempotency_key}
        result: dict[str, Any] = wrapped(key=key, event=event)
        return result

    return call
