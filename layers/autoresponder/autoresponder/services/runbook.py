"""The shape every runbook follows: parse (or reject), respond, answer.

A runbook names itself and the events it accepts. `parse` turns the raw payload into its
event; a payload it cannot parse is a recorded `reject` (`services/rejection.py`), never an
exception. `respond` observes, decides once, acts, records, and returns the answer the
handler returns. One runner (`wiring/runner.py`) drives all five, in Lambda and in the
service tests, and adds what every function shares: the foreign-event skip, the reject, once
per delivery where the runbook has it, and the outcome metric.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from autoresponder.models.decision import Decision
from autoresponder.services.rejection import ALARM_STATE_CHANGE, Origin

Event = TypeVar("Event")


class Answer(Protocol):
    """What a runbook answers: a decision, or a run's decisions (scale_back)."""

    def as_result(self) -> dict[str, Any]: ...


class Runbook(ABC, Generic[Event]):
    """One runbook: what it accepts, and its response to one event."""

    name: ClassVar[str]
    """The runbook's name: decisions, records, metrics and idempotency keys carry it."""
    expected: ClassVar[str] = ALARM_STATE_CHANGE
    """What a well-formed event is (the reason of a `reject` quotes it)."""

    @staticmethod
    @abstractmethod
    def parse(raw: object) -> Event:
        """The runbook's event; raises `ValueError` (pydantic's `ValidationError`) otherwise."""

    @staticmethod
    def rejected(decision: Decision) -> Answer:
        """The answer to a payload `parse` refused: its recorded `reject`."""
        return decision

    @abstractmethod
    def respond(self, event: Event, origin: Origin) -> Answer:
        """Observe, decide, act, record; `origin`: where this function runs."""
