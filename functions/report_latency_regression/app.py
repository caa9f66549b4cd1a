"""report_latency_regression: explain a DynamoDB latency alarm, and report daily on every managed
table, comparing each operation's latency with the same window 1 and 7 days earlier."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from autoresponder.observability import logger, metrics, tracer
from autoresponder.wiring.report_latency_regression import runner


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Parse the alarm event or the scheduled event, respond once, return the decision."""
    return runner()(event, context)
