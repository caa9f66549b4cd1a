"""Run a function's `lambda_handler` in-process, the way Lambda would call it.

Lambda gives each execution environment fresh module state and calls the handler with an
event and a context. Here one process plays a warm execution environment: the function's
environment variables are set once (`function_environment`), its module-level caches are
cleared on entry and exit (a cold start, so no client outlives the endpoint it was made for),
and `invoke` calls the handler with a `LocalLambdaContext`. A handler that raises is what
Lambda retries (asynchronous invocation): `invoke` reports it, it does not re-raise.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from autoresponder.observability import logger, metrics
from autoresponder.settings import Settings
from local import FUNCTIONS
from local.environ import scoped_environ

SERVICE = "dynamodb-autoresponder"
METRICS_NAMESPACE = "DynamoDBAutoResponder"
MEMORY_MB = 256
TIMEOUT_SECONDS = 60
"""template.yaml Globals: MemorySize and Timeout."""


def function_names() -> list[str]:
    """Every function folder with an `app.py` (the docs/architecture.md contract)."""
    return sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py"))


@dataclass
class LocalLambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    region: str = "us-east-1"
    account_id: str = "123456789012"
    memory_limit_in_mb: int = MEMORY_MB
    function_version: str = "$LATEST"
    timeout_seconds: int = TIMEOUT_SECONDS
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[{self.function_version}]local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """What one call of the handler produced: its return value, or what it raised."""

    function: str
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    output: str = ""
    """What the handler printed, when it was kept (`quiet`)."""

    @property
    def raised(self) -> bool:
        return self.error is not None


def cold_start() -> None:
    """Forget the functions' module-level caches (settings, clients, services), as a new
    execution environment would: every `functools.cache`/`lru_cache` defined in the shipped
    package or a function module."""
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("autoresponder.", "functions.")):
            continue
        for value in list(vars(module).values()):
            is_cache = hasattr(value, "cache_info") and not isinstance(value, type)
            if is_cache and getattr(value, "__module__", None) == name:
                value.cache_clear()


def setting_names() -> set[str]:
    """The environment variables the shipped package reads as settings."""
    return {name.upper() for name in Settings.model_fields} | {"LOG_LEVEL", "STAGE"}


@contextmanager
def function_environment(
    settings: Mapping[str, str], *, show_logs: bool = False, isolated: bool = False
) -> Iterator[None]:
    """The environment a function sees in Lambda (template.yaml Globals), plus `settings`.

    `isolated` first sets aside the shell's own values of the function's settings (DRY_RUN,
    COOLDOWN_MINUTES, ...), so the run uses `settings` and the documented defaults only.
    By default the functions' structured logs are limited to warnings and their EMF metrics
    are not printed, so the demo's own output stays readable; `show_logs` keeps both.
    """
    values = {
        "POWERTOOLS_SERVICE_NAME": SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        "POWERTOOLS_LOG_LEVEL": "INFO" if show_logs else "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "false" if show_logs else "true",
        **settings,
    }
    names = setting_names() if isolated else set()
    with scoped_environ(values, drop=names.__contains__):
        # The package's Logger may have been built before this environment (its level is read
        # once, at import): apply the level to it too.
        previous_level = logger.log_level
        logger.setLevel(values["POWERTOOLS_LOG_LEVEL"])
        cold_start()
        try:
            yield
        finally:
            cold_start()
            logger.setLevel(previous_level)


def load_handler(function: str) -> Any:
    """`functions.<function>.app.lambda_handler`, imported on first use."""
    if function not in function_names():
        known = ", ".join(function_names()) or "none"
        raise SystemExit(f"no function {function!r} under functions/ (known: {known})")
    return importlib.import_module(f"functions.{function}.app").lambda_handler


def invoke(
    function: str,
    event: object,
    context: LocalLambdaContext | None = None,
    *,
    quiet: bool = True,
) -> Invocation:
    """Call the handler once. Whatever it raises is returned, as Lambda would record it.

    `quiet` keeps what the handler prints (Powertools' EMF metrics, such as the cold-start
    metric, which no setting silences) in `Invocation.output` instead of on stdout.
    """
    handler = load_handler(function)
    context = context or LocalLambdaContext(function_name=function)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed) if quiet else contextlib.nullcontext():
        try:
            result = handler(event, context)
        except Exception as exc:
            return Invocation(function, error=exc, output=printed.getvalue())
        finally:
            _forget_metrics()
    return Invocation(function, result=result, output=printed.getvalue())


def _forget_metrics() -> None:
    """Drop what the invocation left in Powertools' shared metric set: with
    POWERTOOLS_METRICS_DISABLED the flush at the end of a handler does not clear it, and the
    next function run in this process (another runbook) would inherit its dimensions."""
    metrics.clear_metrics()
