"""onboard_tables: keep the alarms of covered DynamoDB tables in place (hourly, on tag change)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from autoresponder.observability import logger, metrics, tracer
from autoresponder.wiring.onboard_tables import runner


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Parse the schedule or tag-change event, reconcile, return the decision."""
    return runner()(event, context)
