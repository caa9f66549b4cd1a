"""The embedded local AWS: moto in server mode on 127.0.0.1, with the project's extensions.

`local_aws()` starts the server on a free port, points this process at it (whatever
credentials, profile or endpoint the shell holds) and puts everything back afterwards:

    with local_aws() as aws:
        dynamodb = aws.client("dynamodb")   # clients are created after the server starts

The server runs in a thread of this process, so the functions run in-process against it
exactly as they run in Lambda against AWS: through `AWS_ENDPOINT_URL`, never knowing.

Extending the emulator
----------------------
This module is THE place where the project fills gaps in moto; the shipped layer never knows.
An extension is a subclass of moto's response class of one service, registered with
`@extension("<moto service name>")`:

* a missing operation is a method named after it in snake_case (moto dispatches
  `DescribeContributorInsights` to `describe_contributor_insights`);
* a missing field of an existing operation is an override that calls `super()` and
  completes the answer.

A method reads its input with `self._get_param("Name")` (or `self.body` for DynamoDB) and
returns `ActionResult({...})` shaped like the API's output: moto parses and serialises the
wire protocol (JSON, query, CBOR) from botocore's models, so an extension never does. State an
extension keeps lives on moto's own model objects (a moto reset clears it with them).
Extensions apply to requests this server receives, never to `moto.mock_aws()`. Several
extensions of one service combine (cooperative `super()`); `LocalAws.start()` checks that
each one is installed and fails loudly when moto's routing changed.

Extensions so far:
* `DynamoDBOnDemandThroughput`: `OnDemandThroughput` (a table's or index's own
  MaxRead/WriteRequestUnits) in CreateTable, UpdateTable and DescribeTable; moto 5.2 ignores it.
* `CloudWatchCompositeAlarms`: PutCompositeAlarm (moto 5.2 answers "not implemented").
* `local/contributor_insights.py` (its own module, imported at the end of this one):
  `DynamoDBContributorInsights` (DynamoDB `DescribeContributorInsights`,
  `UpdateContributorInsights`, `ListContributorInsights`) and `CloudWatchInsightRuleReports`
  (CloudWatch `GetInsightRuleReport`), answered from seeded demo traffic.
* `local/scalable_target_tags.py`: `ScalableTargetTags` (Application Auto Scaling
  `ListTagsForResource`, `TagResource`, `UntagResource`, and the `Tags` of
  `RegisterScalableTarget`): onboard_tables tags the scalable targets of managed tables.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import boto3
from flask import Flask
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import convert_to_flask_response
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.sns.models import sns_backends
from werkzeug.serving import BaseWSGIServer, make_server

from local.environ import scoped_environ

REGION = "us-east-1"
ACCOUNT_ID = DEFAULT_ACCOUNT_ID
"""moto's default account: the account of every event in `events/`."""
FAKE_CREDENTIAL = "testing"


class EmulatorError(RuntimeError):
    """The local AWS could not start as designed (for example, moto's routing changed)."""


# ------------------------------------------------------------------------------------------
# Extension mechanism
# ------------------------------------------------------------------------------------------
_Response = TypeVar("_Response", bound=type[BaseResponse])
_EXTENSIONS: dict[str, list[type[BaseResponse]]] = {}


def extension(service: str) -> Callable[[_Response], _Response]:
    """Register a subclass of moto's response class for `service` (moto's backend name, e.g.
    `dynamodb`, `cloudwatch`) that adds or completes operations. See the module docstring."""

    def register(cls: _Response) -> _Response:
        _EXTENSIONS.setdefault(service, []).append(cls)
        return cls

    return register


def registered_extensions() -> dict[str, list[str]]:
    """Service → names of the extensions registered for it (for the demo's banner)."""
    return {service: [c.__name__ for c in classes] for service, classes in _EXTENSIONS.items()}


def _create_app(service: str) -> Flask:
    """moto's Flask app for one service, with that service's extensions installed."""
    app = create_backend_app(service)  # type: ignore[arg-type]
    extensions = _EXTENSIONS.get(service, [])
    if not extensions:
        return app
    installed: set[type[BaseResponse]] = set()
    for endpoint, view in list(app.view_functions.items()):
        # moto routes each URL to `<ResponseClass>.dispatch` (a bound classmethod).
        route_class = getattr(getattr(view, "callback", None), "__self__", None)
        if not isinstance(route_class, type):
            continue
        chain = [cls for cls in extensions if issubclass(cls, route_class)]
        if not chain:
            continue
        combined = (
            chain[0]
            if len(chain) == 1
            else type(f"Extended{route_class.__name__}", tuple(reversed(chain)), {})
        )
        app.view_functions[endpoint] = convert_to_flask_response(combined.dispatch)  # type: ignore[attr-defined]
        installed.update(chain)
    missing = [cls.__name__ for cls in extensions if cls not in installed]
    if missing:
        raise EmulatorError(
            f"moto no longer routes {service} requests through the classes these extensions "
            f"extend: {', '.join(missing)}; update local/emulator.py"
        )
    return app


# ------------------------------------------------------------------------------------------
# Extensions
# ------------------------------------------------------------------------------------------
_ON_DEMAND_ATTR = "_local_on_demand_throughput"


@extension("dynamodb")
class DynamoDBOnDemandThroughput(DynamoHandler):
    """`OnDemandThroughput` in CreateTable, UpdateTable (table and GSI updates) and
    DescribeTable. moto 5.2 accepts the parameter and drops it; here it is kept on moto's
    table and index objects and reported back as DynamoDB does."""

    def create_table(self) -> ActionResult:
        super().create_table()
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        _remember_caps(table, self.body.get("OnDemandThroughput"))
        indexes = {index.name: index for index in table.global_indexes}
        for spec in self.body.get("GlobalSecondaryIndexes") or []:
            _remember_caps(indexes.get(spec.get("IndexName", "")), spec.get("OnDemandThroughput"))
        return DynamoResult(_with_caps(table, table.describe(base_key="TableDescription")))

    def update_table(self) -> ActionResult:
        super().update_table()
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        _remember_caps(table, self.body.get("OnDemandThroughput"))
        indexes = {index.name: index for index in table.global_indexes}
        for update in self.body.get("GlobalSecondaryIndexUpdates") or []:
            for kind in ("Create", "Update"):
                spec = update.get(kind) or {}
                _remember_caps(
                    indexes.get(spec.get("IndexName", "")), spec.get("OnDemandThroughput")
                )
        return DynamoResult(_with_caps(table, table.describe(base_key="TableDescription")))

    def describe_table(self) -> ActionResult:
        super().describe_table()  # moto's own errors for a missing table
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        return DynamoResult(_with_caps(table, table.describe(base_key="Table")))


def _remember_caps(holder: object | None, caps: dict[str, Any] | None) -> None:
    if holder is None or not caps:
        return
    for key in ("MaxReadRequestUnits", "MaxWriteRequestUnits"):
        value = caps.get(key)
        if value is not None and (not isinstance(value, int) or (value < 1 and value != -1)):
            raise MockValidationException(
                f"OnDemandThroughput.{key} must be -1 (no limit) or at least 1, got {value}"
            )
    merged = {**getattr(holder, _ON_DEMAND_ATTR, {}), **caps}
    setattr(holder, _ON_DEMAND_ATTR, merged)


def _with_caps(table: Any, description: dict[str, Any]) -> dict[str, Any]:
    body = next(iter(description.values()))
    caps = getattr(table, _ON_DEMAND_ATTR, None)
    if caps:
        body["OnDemandThroughput"] = dict(caps)
    by_name = {index.name: index for index in table.global_indexes}
    for index in body.get("GlobalSecondaryIndexes") or []:
        index_caps = getattr(by_name.get(index.get("IndexName")), _ON_DEMAND_ATTR, None)
        if index_caps:
            index["OnDemandThroughput"] = dict(index_caps)
    return description


@extension("cloudwatch")
class CloudWatchCompositeAlarms(CloudWatchResponse):
    """PutCompositeAlarm. moto 5.2 keeps composite alarms (DescribeAlarms lists them under
    `CompositeAlarms`) and its PutMetricAlarm handler already reads `AlarmRule`, but nothing
    routes PutCompositeAlarm to it."""

    def put_composite_alarm(self) -> ActionResult:
        return self.put_metric_alarm()


# ------------------------------------------------------------------------------------------
# The server
# ------------------------------------------------------------------------------------------
class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's access log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        del code, size


class LocalAws:
    """moto's server (its own WSGI app and request handler, as `moto.server` runs them) in a
    daemon thread of this process, with the registered extensions installed.

    `moto.server.ThreadedMotoServer` builds the same server but offers no hook for the WSGI
    app, which the extensions need; this class is that server with the hook.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise EmulatorError("the local AWS is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        for service in _EXTENSIONS:
            _create_app(service)  # fail here, not on the first request, if one cannot install
        app = DomainDispatcherApplication(_create_app)
        self._server = make_server(
            self._host, self._port, app, threaded=True, request_handler=_QuietRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-aws", daemon=True
        )
        self._thread.start()
        self.reset()

    def reset(self) -> None:
        """Empty every emulated service (moto's backends live in this process and outlive a
        server: a second server in the same process would otherwise see the first one's data)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(request, timeout=10) as answer:
            answer.read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None


@dataclass(frozen=True)
class LocalAccount:
    """The emulated account `local_aws()` points this process at."""

    endpoint_url: str
    region: str = REGION
    account_id: str = ACCOUNT_ID

    def session(self) -> boto3.session.Session:
        """A session on the emulated account (the environment holds its fake credentials)."""
        return boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIAL,
            aws_secret_access_key=FAKE_CREDENTIAL,
            region_name=self.region,
        )

    def client(self, service: str, region: str | None = None) -> Any:
        """A client of this account, in `region` (default: the account's)."""
        session: Any = self.session()
        made = session.client(
            service, endpoint_url=self.endpoint_url, region_name=region or self.region
        )
        if self.account_id != ACCOUNT_ID:
            made.meta.events.register("before-sign", _in_account(self.account_id))
        return made

    def in_account(self, account_id: str) -> LocalAccount:
        """The same local AWS seen from another account (an organisation's member account, a
        monitoring account): moto keeps each account's state apart and reads the account of a
        request from its `x-moto-account-id` header, which this account's clients send."""
        return replace(self, account_id=account_id)

    def published_messages(self, topic_arn: str) -> dict[str, dict[str, Any]]:
        """What SNS kept of every message published to `topic_arn`, by message id: the raw
        `Message` (for `MessageStructure=json`, every protocol's variant, e.g. `email`, which
        an SQS subscriber never sees), `Subject` and `MessageAttributes`."""
        backend = sns_backends[self.account_id][self.region]
        topic = backend.topics.get(topic_arn)
        if topic is None:
            return {}
        return {
            message_id: {"Message": message, "Subject": subject, "MessageAttributes": attrs}
            for message_id, message, subject, attrs, _group in topic.sent_notifications
        }

    def email_variant(self, topic_arn: str, message_id: str) -> str | None:
        """The `email` text of a `MessageStructure=json` message, if it had one."""
        published = self.published_messages(topic_arn).get(message_id)
        if published is None:
            return None
        try:
            variants = json.loads(published["Message"])
        except (TypeError, ValueError):
            return None
        email = variants.get("email") if isinstance(variants, dict) else None
        return email if isinstance(email, str) else None


def _in_account(account_id: str) -> Callable[..., None]:
    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    return add_header


def aws_environment(endpoint_url: str, region: str = REGION) -> dict[str, str]:
    """The AWS settings of a process that must reach the emulated account and nothing else."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
        # the shell's ~/.aws files may name profiles, endpoints or credential processes
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        # an HTTP(S)_PROXY of the shell must not see requests to the local server
        "NO_PROXY": _no_proxy(os.environ.get("NO_PROXY") or os.environ.get("no_proxy")),
        "no_proxy": _no_proxy(os.environ.get("NO_PROXY") or os.environ.get("no_proxy")),
    }


def _no_proxy(current: str | None) -> str:
    hosts = [h for h in (current or "").split(",") if h.strip()]
    return ",".join([*hosts, *(h for h in ("127.0.0.1", "localhost") if h not in hosts)])


@contextmanager
def local_aws(region: str = REGION) -> Iterator[LocalAccount]:
    """Start the local AWS, point this process at it, and undo both on exit.

    Every `AWS_*` variable of the shell (profile, session token, endpoints, ...) is set aside
    for the duration, so nothing can reach a real account by accident.
    """
    server = LocalAws()
    server.start()
    try:
        with scoped_environ(
            aws_environment(server.endpoint_url, region), drop=lambda name: name.startswith("AWS_")
        ):
            yield LocalAccount(endpoint_url=server.endpoint_url, region=region)
    finally:
        server.stop()


# Extensions kept in their own module register themselves when imported (after `extension`
# exists: the import is circular by design).
from local import contributor_insights as _contributor_insights  # noqa: E402, F401
from local import scalable_target_tags as _scalable_target_tags  # noqa: E402, F401
