"""Record, log, measure and announce a decision: the last steps every runbook shares.

The decision record is the truth and is written first. The notification is a separate step
with its own state in the record (`pending` → `sent`, or `failed`):

- a retryable Publish error (SNS `Throttled`, 5xx, KMS throttling) is raised, so Lambda retries
  the delivery; the retry finds the record and publishes, without deciding or acting again.
  Throttling is a refusal (the message never left), so that retry's message is no repeat; a
  5xx or no answer may have published it, so the retry's message says it may be one;
- a permanent one (KMS access denied, topic gone) leaves the decision as what was done, marks
  the record `failed`, sets `notification_failed` on the returned decision and emits the
  `NotificationFailed` metric (an alarm on it notifies through another path);
- nothing after a successful Publish can cause a second one: a failure to mark the record is
  logged, not raised. The one window left (Publish done, the process dies before the mark)
  repeats the message on the retry, and the repeat says it is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from autoresponder.domain.notification import Notification, build_notification
from autoresponder.errors import AutoresponderError, AwsThrottledError, PermanentError
from autoresponder.models.decision import Decision
from autoresponder.observability import NAMESPACE, SERVICE, count_outcome, logger, metrics
from autoresponder.services.ports import DecisionBus, DecisionRecords, Notifier

NOTIFICATION_FAILED_METRIC = "NotificationFailed"
REPEAT_NOTE = "Repeat: an earlier attempt may already have sent this message."


class DecisionRecorder:
    def __init__(
        self,
        decisions: DecisionRecords,
        notifier: Notifier,
        region: str,
        bus: DecisionBus | None = None,
    ) -> None:
        self._decisions = decisions
        self._notifier = notifier
        self._region = region
        self._bus = bus

    def finish(self, decision: Decision, raw_event: Mapping[str, Any] | None = None) -> Decision:
        key = self._decisions.record(decision, raw_event)
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
            return self._announce(decision, decision.record_key())
        return decision

    def resume(
        self, decision_key: tuple[str, str], decision_type: type[Decision] = Decision
    ) -> Decision | None:
        """The decision already taken for this event, announced now if it was not yet.

        `decision_type`: the runbook's `Decision` subclass, so its own `notify` and notification
        lines apply to the resumed decision too."""
        found = self._decisions.recorded(decision_key)
        if found is None:
            return None
        decision = found.decision
        if decision_type is not type(decision):
            decision = decision_type.model_validate(decision.model_dump())
        if decision.action == "defer":
            return None
        logger.info("decision already taken for this event", record_key=decision_key[1])
        if decision.notify and found.notification == "pending":
            return self._announce(decision, decision_key)
        if found.notification == "failed":
            return decision.model_copy(update={"notification_failed": "see the decision record"})
        return decision

    def _announce(self, decision: Decision, key: tuple[str, str]) -> Decision:
        """Publish once per record (see the module docstring), under `key`: a resumed decision
        is parsed as the base `Decision`, whose `record_key()` may differ from a subclass's."""
        attempt = self._decisions.begin_notification(key)
        notification = build_notification(decision, self._region)
        if attempt > 1:
            notification = as_repeat(notification)
        try:
            self._notifier.publish(notification)
        except PermanentError as exc:
            return self._failed(decision, key, exc)
        except AwsThrottledError:
            self._refused(key)
            raise
        try:
            self._decisions.mark_notified(key)
        except AutoresponderError as exc:
            logger.warning(
                "notification sent but not marked: a retry would repeat it, marked as a repeat",
                record_key=key[1],
                error=str(exc),
            )
        return decision

    def _refused(self, key: tuple[str, str]) -> None:
        """SNS throttled the Publish: the message never left, the attempt does not count."""
        try:
            self._decisions.refused_notification(key)
        except AutoresponderError as exc:
            logger.warning(
                "refused notification still counted: the retry's message says it may be a repeat",
                record_key=key[1],
                error=str(exc),
            )

    def _failed(self, decision: Decision, key: tuple[str, str], error: PermanentError) -> Decision:
        logger.error(
            "notification cannot be sent: the decision stands",
            record_key=key[1],
            action=decision.action,
            error=str(error),
        )
        # its own dimension set (service only), so one alarm watches every runbook's
        with single_metric(
            name=NOTIFICATION_FAILED_METRIC, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=SERVICE)
        try:
            self._decisions.mark_notification_failed(key, str(error))
        except AutoresponderError as exc:
            logger.warning("notification failure not recorded", record_key=key[1], error=str(exc))
        return decision.model_copy(update={"notification_failed": str(error)})

    @staticmethod
    def _measure(decision: Decision) -> None:
        """One metric per outcome (named after the action), per runbook; and the delay."""
        count_outcome(decision.runbook, decision.action)
        if decision.state_timestamp is not None:
            elapsed = (decision.decided_at - decision.state_timestamp).total_seconds()
            metrics.add_metric(
                name="TimeToDecision", unit=MetricUnit.Seconds, value=max(elapsed, 0)
            )
        if decision.time_to_mitigation is not None:
            metrics.add_metric(
                name="TimeToMitigation", unit=MetricUnit.Seconds, value=decision.time_to_mitigation
            )


def as_repeat(notification: Notification) -> Notification:
    """The same notification, saying it may be a repeat (the Publish-then-crash window)."""
    chat = dict(notification.chat)
    content = dict(chat.get("content", {}))
    content["title"] = f"(repeat) {content.get('title', '')}"
    content["description"] = f"{content.get('description', '')}\n{REPEAT_NOTE}"
    chat["content"] = content
    return replace(
        notification,
        subject=f"(repeat) {notification.subject}"[:99],
        email=f"{REPEAT_NOTE}\n\n{notification.email}",
        chat=chat,
    )
