"""boto3 clients: one per service per execution environment, created lazily.

Clients honour `AWS_ENDPOINT_URL` (and per-service `AWS_ENDPOINT_URL_<SERVICE>`), so the same
code runs against AWS, the local emulator or moto; the region comes from settings
(`AWS_REGION`, which Lambda sets), else boto3's own `AWS_DEFAULT_REGION`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode with the SDK's default attempts (AWS_MAX_ATTEMPTS overrides), short
# timeouts: a Lambda with a 60 s budget must not hang on one call.
CLIENT_CONFIG = Config(
    retries={"mode": "standard"},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra="dynamodb-autoresponder",
)


@cache
def client(service: str, region: str | None = None) -> Any:
    """The shared client for `service` (created on first use)."""
    session: Any = boto3.session.Session()
    return session.client(service, region_name=region, config=CLIENT_CONFIG)
