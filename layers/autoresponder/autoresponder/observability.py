"""Logger, Tracer and Metrics, created once for the whole package (STYLE.md habit 8)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "dynamodb-autoresponder"
NAMESPACE = "DynamoDBAutoResponder"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
