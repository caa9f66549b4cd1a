"""Logger, Tracer and Metrics, created once for the whole package (docs/style.md habit 8)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "dynamodb-autoresponder"
NAMESPACE = "DynamoDBAutoResponder"
RUNBOOK_DIMENSION = "runbook"
DUPLICATE_DELIVERY = "duplicate_delivery"
"""The outcome of a delivery answered from what an earlier delivery of it decided."""

logger = Logger(service=SERVICE)
# Only the SDK is patched for X-Ray (the one library the package calls out with); patching
# every supported library would import requests, sqlite3, ... at every cold start.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

_outcome_names: set[str] = set()
"""Every outcome metric name counted in this execution environment (see `outcome_counted`)."""


def count_outcome(runbook: str, outcome: str) -> None:
    """One count of an invocation's outcome: a decision's action, or `DUPLICATE_DELIVERY`.

    The metric is named after the outcome, under the `runbook` dimension (the dashboard's
    decisions per runbook and action). Metrics are flushed once per invocation (the handler's
    `log_metrics`): every invocation counts at least one outcome, so none flushes empty.
    """
    current = metrics.dimension_set.get(RUNBOOK_DIMENSION)
    if current != runbook:
        if current is not None:
            # Another runbook's outcomes are pending (not in a Lambda invocation, where one
            # function is one runbook: a test or a benchmark calling several services in a
            # row): publish them under their own runbook before counting this one's.
            metrics.flush_metrics()
        metrics.add_dimension(name=RUNBOOK_DIMENSION, value=runbook)
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
    _outcome_names.add(outcome)


def outcome_counted() -> bool:
    """Whether an outcome was counted since the metrics were last flushed (this invocation)."""
    return any(name in metrics.metric_set for name in _outcome_names)
