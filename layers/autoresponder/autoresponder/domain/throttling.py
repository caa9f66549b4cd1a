"""What a throttle metric says about its cause and the dimension that throttled."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from autoresponder.models.table import Dimension


class ThrottleCause(StrEnum):
    PROVISIONED = "provisioned"
    """Provisioned capacity ran out: more capacity helps."""
    KEY_RANGE = "key_range"
    """A hot partition: capacity does not help."""
    ACCOUNT_LIMIT = "account_limit"
    ON_DEMAND_MAX = "on_demand_max"
    """The table's own `OnDemandThroughput` cap."""
    GENERIC = "generic"
    """`Read/WriteThrottleEvents`, `ThrottledRequests`: the cause depends on the table."""
    NOT_THROTTLE = "not_throttle"


READ_OPERATIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement-read"}
)
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)

_CAUSES = {
    "ProvisionedThroughputThrottleEvents": ThrottleCause.PROVISIONED,
    "KeyRangeThroughputThrottleEvents": ThrottleCause.KEY_RANGE,
    "AccountLimitThrottleEvents": ThrottleCause.ACCOUNT_LIMIT,
    "MaxOnDemandThroughputThrottleEvents": ThrottleCause.ON_DEMAND_MAX,
    "ThrottleEvents": ThrottleCause.GENERIC,
}


@dataclass(frozen=True)
class ThrottleSignal:
    cause: ThrottleCause
    dimension: Dimension | None


def classify(metric_name: str, operation: str | None = None) -> ThrottleSignal:
    """Read the cause and dimension off a DynamoDB metric name (and `Operation` dimension)."""
    if metric_name == "ThrottledRequests":
        return ThrottleSignal(ThrottleCause.GENERIC, _dimension_of_operation(operation))
    for prefix, dimension in (("Read", Dimension.READ), ("Write", Dimension.WRITE)):
        if metric_name.startswith(prefix):
            cause = _CAUSES.get(metric_name.removeprefix(prefix))
            if cause is not None:
                return ThrottleSignal(cause, dimension)
    return ThrottleSignal(ThrottleCause.NOT_THROTTLE, None)


def _dimension_of_operation(operation: str | None) -> Dimension | None:
    if operation in READ_OPERATIONS:
        return Dimension.READ
    if operation in WRITE_OPERATIONS:
        return Dimension.WRITE
    return None
