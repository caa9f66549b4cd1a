"""One runner for the five functions: the handler's whole job around a runbook.

1. An event from another account or region is a recorded `skip`, before any AWS call on a
   table (docs/architecture.md contract).
2. The runbook parses the payload; anything else is a recorded `reject`, never an exception.
3. The runbook responds: once per delivery where `once` is given (Powertools Idempotency, for
   the alarm-driven runbooks); the scheduled ones are idempotent by their own records.
4. Every invocation counts its outcome (docs/architecture.md, Operability): a decision recorded
   in it is counted by the recorder; one that recorded none counts `duplicate_delivery` when it
   returned what an earlier delivery decided (decided before this invocation began, or a run
   whose every decision was), else its action (a quiet scheduled run's `skip`, logged, not
   recorded); one that raised counts `retry` (a transient error: Lambda delivers the event
   again) or `error`.

The runbook is built per delivery (`build`, e.g. with the kill switch read), after the payload
parsed: a foreign or malformed event reads nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol

from autoresponder.errors import RetryableError
from autoresponder.observability import DUPLICATE_DELIVERY, count_outcome, outcome_counted
from autoresponder.services.ports import Clock
from autoresponder.services.recording import DecisionRecorder
from autoresponder.services.rejection import Origin, reject, skip_foreign
from autoresponder.services.runbook import Answer, Event, Runbook

RETRY = "retry"
"""The outcome of an invocation that raised a transient error and recorded nothing."""
ERROR = "error"
"""The outcome of an invocation that raised anything else and recorded nothing."""

Respond = Callable[[Any, Origin], dict[str, Any]]
"""A runbook's response as the handler returns it (JSON)."""


class OncePerDelivery(Protocol):
    """`respond`, answered from the first delivery's result for a duplicate delivery."""

    def __call__(self, event: Any, origin: Origin, context: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Answered:
    """An answer already in JSON (the idempotency layer returns the result it saved)."""

    result: dict[str, Any]

    def as_result(self) -> dict[str, Any]:
        return self.result


@dataclass
class Runner(Generic[Event]):
    """`runner(raw, context)`: the handler's answer; `runner.run(...)`: the same, as objects."""

    kind: type[Runbook[Event]]
    build: Callable[[], Runbook[Event]]
    """The runbook for one delivery (built once the payload parsed)."""
    _: KW_ONLY
    recorder: DecisionRecorder
    clock: Clock
    region: str | None = None
    """The function's own region (an event from another is skipped)."""
    once: Callable[[Respond], OncePerDelivery] | None = None
    """Wraps the response so that a duplicate delivery is answered from the first one."""
    _respond_once: OncePerDelivery | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if self.once is not None:
            self._respond_once = self.once(self._respond_json)

    def __call__(self, raw: object, context: Any = None) -> dict[str, Any]:
        return self.run(raw, context).as_result()

    def run(self, raw: object, context: Any = None) -> Answer:
        """Answer one delivery (see the module docstring), counting its outcome."""
        started = self.clock.now()
        try:
            answer = self._answer(raw, context)
        except Exception as exc:
            if not outcome_counted():
                count_outcome(self.kind.name, RETRY if isinstance(exc, RetryableError) else ERROR)
            raise
        if not outcome_counted():
            result = answer.as_result()
            resumed = bool(result.get("decisions")) or _decided_before(result, started)
            count_outcome(
                self.kind.name, DUPLICATE_DELIVERY if resumed else str(result.get("action"))
            )
        return answer

    def _answer(self, raw: object, context: Any) -> Answer:
        name = self.kind.name
        origin = Origin.of(context, self.region)
        foreign = skip_foreign(name, raw, origin, self.recorder, self.clock)
        if foreign is not None:
            return foreign
        try:
            event = self.kind.parse(raw)
        except ValueError as exc:
            rejected = reject(
                name, raw, exc, self.recorder, self.clock, expected=self.kind.expected
            )
            return self.kind.rejected(rejected)
        if self._respond_once is not None:
            return Answered(self._respond_once(event, origin, context))
        return self.build().respond(event, origin)

    def _respond_json(self, event: Event, origin: Origin) -> dict[str, Any]:
        return self.build().respond(event, origin).as_result()


def _decided_before(result: dict[str, Any], moment: datetime) -> bool:
    decided_at = result.get("decided_at")
    if not isinstance(decided_at, str):
        return False
    try:
        return datetime.fromisoformat(decided_at) < moment
    except (TypeError, ValueError):  # not a time, or one without a time zone
        return False
