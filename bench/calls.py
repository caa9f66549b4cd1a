"""Every AWS call the project's clients make, seen through botocore's event hooks.

`CallLog.installed()` adds a `before-parameter-build` handler to botocore's built-in handlers
(the hook moto itself uses), so every session created afterwards, the functions' own included,
reports each API call once, with its parameters (retries are attempts of one call). Only the
project's clients count: their config carries the user agent `dynamodb-autoresponder`
(adapters/clients.py), which tells them from the clients that seed or read back the emulated
account.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore import handlers

PROJECT_AGENT = "dynamodb-autoresponder"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    at: float
    """time.monotonic() when the call started."""
    table: str | None = None
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


class CallLog:
    def __init__(self, *, keep_params: bool = False) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._keep_params = keep_params
        self.recording = True

    def _hook(self, model: Any, params: Any, context: Any = None, **kwargs: Any) -> None:
        del kwargs
        config = (context or {}).get("client_config")
        if not self.recording or PROJECT_AGENT not in (
            getattr(config, "user_agent_extra", "") or ""
        ):
            return
        body = params if isinstance(params, dict) else {}
        call = Call(
            service=model.service_model.service_name,
            operation=model.name,
            at=time.monotonic(),
            table=body.get("TableName") if isinstance(body.get("TableName"), str) else None,
            params=dict(body) if self._keep_params else {},
        )
        with self._lock:
            self.calls.append(call)

    @contextmanager
    def installed(self) -> Iterator[CallLog]:
        spec = ("before-parameter-build", self._hook)
        handlers.BUILTIN_HANDLERS.append(spec)
        try:
            yield self
        finally:
            handlers.BUILTIN_HANDLERS.remove(spec)

    @contextmanager
    def window(self) -> Iterator[list[Call]]:
        """The calls made during the block."""
        with self._lock:
            start = len(self.calls)
        found: list[Call] = []
        try:
            yield found
        finally:
            with self._lock:
                found.extend(self.calls[start:])

    def counts(self) -> Counter[str]:
        return Counter(call.name for call in self.calls)
