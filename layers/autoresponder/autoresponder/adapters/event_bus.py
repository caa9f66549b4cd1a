"""EventBridge: every decision is also an event on the account's default bus (docs/architecture.md).

source `dynamodb-autoresponder`, detail-type `DynamoDB Auto-Responder Decision`, detail = the
handler's decision dict (`Decision.as_event_detail()`: hot key values masked unless
`SHOW_KEY_VALUES`). An organisation routes them with rules: the stack's own forwards them to a
central bus when `CentralEventBusArn` is set (examples/monitoring-account/ receives them).

The event is a copy of the decision record, published after the record is written. Putting it
never raises: see `EventBridgeDecisionBus.put`.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.decision import Decision
from autoresponder.observability import NAMESPACE, logger

SOURCE = "dynamodb-autoresponder"
DETAIL_TYPE = "DynamoDB Auto-Responder Decision"
DEFAULT_BUS = "default"
NOT_PUT_METRIC = "DecisionEventNotPut"
"""Counted (namespace `DynamoDBAutoResponder`, dimension `service`) for each decision whose event
could not be put: the decision record has it, the central view misses it."""

MAX_ENTRY_BYTES = 256 * 1024
"""PutEvents' limit for one entry (source, detail-type, detail and the rest, UTF-8)."""
_ENVELOPE_BYTES = 1024
"""Room kept for the entry's other fields."""
_SUMMARY_FIELDS = (
    "runbook",
    "action",
    "table_name",
    "index_name",
    "reason",
    "dry_run",
    "rule",
    "severity",
    "dimension",
    "alarm_name",
    "state_timestamp",
    "event_id",
    "region",
    "account",
    "decided_at",
)


def event_detail(decision: Decision, max_bytes: int = MAX_ENTRY_BYTES - _ENVELOPE_BYTES) -> str:
    """The event's `detail` (JSON). A decision too large for one entry (a run's decisions, a
    long hot key report) keeps the contract fields (docs/architecture.md), `truncated: true`
    and the record key, so a reader knows where the whole decision is."""
    detail = json.dumps(decision.as_event_detail(), separators=(",", ":"), ensure_ascii=False)
    if len(detail.encode()) <= max_bytes:
        return detail
    full = decision.as_event_detail()
    pk, sk = decision.record_key()
    summary: dict[str, Any] = {k: full.get(k) for k in _SUMMARY_FIELDS}
    summary["reason"] = str(summary["reason"] or "")[:4096]
    summary.update(truncated=True, record_key={"pk": pk, "sk": sk})
    return json.dumps(summary, separators=(",", ":"), ensure_ascii=False)


class EventBridgeDecisionBus(AwsAdapter):
    """Implements `DecisionBus` with one PutEvents call per decision."""

    service = "events"

    def __init__(
        self, bus_name: str = DEFAULT_BUS, client: Any = None, region: str | None = None
    ) -> None:
        self.bus_name = bus_name
        super().__init__(client, region)

    def put(self, decision: Decision) -> None:
        """Put the decision on the bus. Never raises.

        The decision record is already written when this runs, and the action (if any) already
        taken: raising here would make Lambda retry an invocation whose work is done (a retry
        finds the record and announces at most once, but it is still a second run for nothing),
        and a notification still to come would wait for it. So a failure (an AWS error, a
        timeout, an entry EventBridge refused) is logged as a warning with the error and
        counted in the `DecisionEventNotPut` metric, and the recorder carries on: no decision is
        lost (the record is the truth) and no action is repeated. The event itself is not
        retried beyond the SDK's own retries; the record says what the central view missed.
        """
        try:
            answer = self.client.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": DETAIL_TYPE,
                        "Detail": event_detail(decision),
                        "EventBusName": self.bus_name,
                        "Time": decision.decided_at,
                    }
                ]
            )
        except Exception as exc:  # any failure (see the docstring): a copy never fails the run
            self._not_put(decision, type(exc).__name__, str(exc))
            return
        if answer.get("FailedEntryCount", 0):
            (entry,) = answer.get("Entries", [{}]) or [{}]
            self._not_put(
                decision, str(entry.get("ErrorCode", "Unknown")), str(entry.get("ErrorMessage"))
            )

    def _not_put(self, decision: Decision, code: str, message: str) -> None:
        logger.warning(
            "decision event not put on the event bus",
            bus=self.bus_name,
            runbook=decision.runbook,
            action=decision.action,
            table=decision.table_name,
            error_code=code,
            error=message[:500],
        )
        # its own EMF blob, without the runbook dimension: the dashboard's per-runbook widgets
        # (SEARCH on runbook + service) show decisions, not this
        with single_metric(
            name=NOT_PUT_METRIC, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
        ):
            pass
