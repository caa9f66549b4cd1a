"""boto3 clients: one per service per execution environment, created lazily.

Clients honour `AWS_ENDPOINT_URL` (and per-service `AWS_ENDPOINT_URL_<SERVICE>`), so the same
code runs against AWS, the local emulator or moto; the region comes from settings
(`AWS_REGION`, which Lambda sets), else boto3's own `AWS_DEFAULT_REGION`.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any, ClassVar

import boto3
from botocore.config import Config

from autoresponder import __version__

USER_AGENT = f"dynamodb-autoresponder/{__version__}"
"""Appended to every request's user agent: CloudTrail's `userAgent` names the responder and
its version."""

# Standard retry mode with the SDK's default attempts (AWS_MAX_ATTEMPTS overrides), short
# timeouts: a Lambda with a 60 s budget must not hang on one call.
CLIENT_CONFIG = Config(
    retries={"mode": "standard"},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra=USER_AGENT,
)


_CREATING = threading.Lock()


@cache
def session() -> Any:
    """One boto3 session for every client: a session loads the SDK's endpoint and default
    data files once (a session per client paid that again for each one at cold start)."""
    return boto3.session.Session()


@cache
def client(service: str, region: str | None = None) -> Any:
    """The shared client for `service` (created on first use)."""
    with _CREATING:  # a session is not thread-safe; the clients it makes are
        return session().client(service, region_name=region, config=CLIENT_CONFIG)


class AwsAdapter:
    """Base of the adapters: an injected client (tests), else the shared one, made on first use.

    Subclasses name their AWS `service`; those with settings of their own call
    `super().__init__(client, region)`.
    """

    service: ClassVar[str]

    def __init__(self, client: Any = None, region: str | None = None) -> None:
        self._client = client
        self._region = region

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client(self.service, self._region)
        return self._client
