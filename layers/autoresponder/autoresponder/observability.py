"""Logger, Tracer and Metrics, created once for the whole package (STYLE.md habit 8)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "dynamodb-autoresponder"
NAMESPACE = "DynamoDBAutoResponder"

logger = Logger(service=SERVICE)
# Only the SDK is patched for X-Ray (the one library the package calls out with); patching
# every supported library would import requests, sqlite3, ... at every cold start.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
