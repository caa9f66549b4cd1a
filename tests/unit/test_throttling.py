"""Throttle metric names → cause and dimension."""

from __future__ import annotations

import pytest

from autoresponder.domain.throttling import ThrottleCause, classify
from autoresponder.models.table import Dimension

R, W = Dimension.READ, Dimension.WRITE


@pytest.mark.parametrize(
    ("metric", "operation", "cause", "dimension"),
    [
        ("ReadProvisionedThroughputThrottleEvents", None, ThrottleCause.PROVISIONED, R),
        ("WriteProvisionedThroughputThrottleEvents", None, ThrottleCause.PROVISIONED, W),
        ("ReadKeyRangeThroughputThrottleEvents", None, ThrottleCause.KEY_RANGE, R),
        ("WriteKeyRangeThroughputThrottleEvents", None, ThrottleCause.KEY_RANGE, W),
        ("ReadAccountLimitThrottleEvents", None, ThrottleCause.ACCOUNT_LIMIT, R),
        ("WriteMaxOnDemandThroughputThrottleEvents", None, ThrottleCause.ON_DEMAND_MAX, W),
        ("ReadThrottleEvents", None, ThrottleCause.GENERIC, R),
        ("WriteThrottleEvents", None, ThrottleCause.GENERIC, W),
        ("ThrottledRequests", "PutItem", ThrottleCause.GENERIC, W),
        ("ThrottledRequests", "Query", ThrottleCause.GENERIC, R),
        ("ThrottledRequests", None, ThrottleCause.GENERIC, None),
        ("ConsumedReadCapacityUnits", None, ThrottleCause.NOT_THROTTLE, None),
        ("SuccessfulRequestLatency", "GetItem", ThrottleCause.NOT_THROTTLE, None),
    ],
    ids=str,
)
def test_classify(metric, operation, cause, dimension):
    signal = classify(metric, operation)
    assert (signal.cause, signal.dimension) == (cause, dimension)
