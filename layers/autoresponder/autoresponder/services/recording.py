"""Record, log, measure and announce a decision: the last steps every runbook shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from autoresponder.domain.notification import build_notification
from autoresponder.models.decision import Decision
from autoresponder.observability import logger, metrics
from autoresponder.services.ports import DecisionBus, DecisionStore, Notifier


class DecisionRecorder:
    """Writes the decision record first, then notifies, then marks the record notified.

    A notification that fails raises (so Lambda retries); the retry finds the record not yet
    notified and sends it then, without taking the action again.
    """

    def __init__(
        self,
        store: DecisionStore,
        notifier: Notifier,
        region: str,
        bus: DecisionBus | None = None,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._region = region
        self._bus = bus

    def finish(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> Decision:
        key = self._store.record(decision, raw_event)
        if self._bus is not None:
            self._bus.put(decision)  # the record is written: a failed put is logged, never raised
        logger.info(
            "decision taken",
            runbook=decision.runbook,
            action=decision.action,
            table=decision.table_name,
            index=decision.index_name,
            rule=decision.rule,
            reason=decision.reason,
            dry_run=decision.dry_run,
            before=decision.before.model_dump() if decision.before else None,
            after=decision.after.model_dump() if decision.after else None,
            record_key=key,
        )
        self._measure(decision)
        if decision.notify:
            self._announce(decision)
        return decision

    def resume(
        self, decision_key: tuple[str, str], decision_type: type[Decision] = Decision
    ) -> Decision | None:
        """The decision already taken for this event, announced now if it was not yet.

        `decision_type`: the runbook's `Decision` subclass, so its own `notify` and notification
        lines apply to the resumed decision too."""
        found = self._store.recorded(decision_key)
        if found is None:
            return None
        decision, notified = found
        if decision_type is not type(decision):
            decision = decision_type.model_validate(decision.model_dump())
        if decision.action == "defer":
            return None
        logger.info("decision already taken for this event", record_key=decision_key[1])
        if decision.notify and not notified:
            self._announce(decision, decision_key)
        return decision

    def _announce(self, decision: Decision, key: tuple[str, str] | None = None) -> None:
        """Publish, then mark the record notified (under `key`: a resumed decision is parsed as
        the base `Decision`, whose `record_key()` may differ from a subclass's)."""
        self._notifier.publish(build_notification(decision, self._region))
        self._store.mark_notified(key or decision.record_key())

    @staticmethod
    def _measure(decision: Decision) -> None:
        """One metric per outcome (named after the action), per runbook; and the delay."""
        if metrics.dimension_set.get("runbook") != decision.runbook:  # a run has many decisions
            metrics.add_dimension(name="runbook", value=decision.runbook)
        metrics.add_metric(name=decision.action, unit=MetricUnit.Count, value=1)
        if decision.state_timestamp is not None:
            elapsed = (decision.decided_at - decision.state_timestamp).total_seconds()
            metrics.add_metric(
                name="TimeToDecision", unit=MetricUnit.Seconds, value=max(elapsed, 0)
            )
