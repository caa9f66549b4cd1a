"""Which alarm events reach which function: the rule patterns of the translated template."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from .cfn import resources_of_type
from .routing import (
    alarm_state_change,
    expression,
    field_paths,
    matches,
    metric_stat,
    resolve_refs,
    rules_for,
)

pytestmark = pytest.mark.template


def pattern_of(cfn: dict[str, Any], function_id: str, parameters: dict[str, Any]) -> dict:
    (rule,) = rules_for(cfn, function_id).values()
    return resolve_refs(rule["Properties"]["EventPattern"], parameters)


@pytest.fixture(scope="module")
def scale_on_throttle(cfn: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return pattern_of(cfn, "ScaleOnThrottleFunction", defaults)


TABLE_THROTTLE = [metric_stat("WriteProvisionedThroughputThrottleEvents")]


def above(units: str = "Write", dimensions: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The metrics of onboarding's pre-throttle alarm (domain/alarm_plan.py)."""
    return [
        expression(
            "100 * consumed / PERIOD(consumed) / FILL(provisioned, REPEAT)", metric_id="utilization"
        ),
        metric_stat(
            f"Consumed{units}CapacityUnits",
            dimensions=dimensions,
            metric_id="consumed",
            return_data=False,
        ),
        metric_stat(
            f"Provisioned{units}CapacityUnits",
            dimensions=dimensions,
            metric_id="provisioned",
            return_data=False,
        ),
    ]


ABOVE = above()

SCALE_ON_THROTTLE_CASES = [
    pytest.param(
        alarm_state_change("orders-write-throttling", metrics=TABLE_THROTTLE),
        True,
        id="dynamodb-write-provisioned-throttle",
    ),
    pytest.param(
        alarm_state_change(
            "orders-gsi-read-throttling",
            metrics=[
                metric_stat(
                    "ReadProvisionedThroughputThrottleEvents",
                    dimensions={"TableName": "orders", "GlobalSecondaryIndexName": "by-customer"},
                )
            ],
        ),
        True,
        id="dynamodb-gsi-read-throttle",
    ),
    pytest.param(
        alarm_state_change(
            "orders-throttled-requests",
            metrics=[
                metric_stat(
                    "ThrottledRequests", dimensions={"TableName": "orders", "Operation": "PutItem"}
                )
            ],
        ),
        True,
        id="dynamodb-throttled-requests-per-operation",
    ),
    pytest.param(
        alarm_state_change(
            "TargetTracking-table/orders-AlarmHigh-2b0a6c1e",
            metrics=[metric_stat("ConsumedWriteCapacityUnits")],
        ),
        False,
        id="target-tracking-alarm",
    ),
    pytest.param(
        alarm_state_change(
            "TargetTracking-table/orders-AlarmHigh-2b0a6c1e", metrics=TABLE_THROTTLE
        ),
        False,
        id="target-tracking-name-wins-over-throttle-metric",
    ),
    pytest.param(
        alarm_state_change(
            "orders-write-throttling", metrics=TABLE_THROTTLE, state="OK", previous_state="ALARM"
        ),
        False,
        id="ok-transition",
    ),
    pytest.param(
        alarm_state_change(
            "orders-write-throttling", metrics=TABLE_THROTTLE, state="INSUFFICIENT_DATA"
        ),
        False,
        id="insufficient-data-transition",
    ),
    pytest.param(
        alarm_state_change(
            "web-cpu-high",
            metrics=[metric_stat("CPUUtilization", "AWS/EC2", {"InstanceId": "i-0123456789"})],
        ),
        False,
        id="ec2-alarm",
    ),
    pytest.param(
        alarm_state_change(
            "orders-latency",
            metrics=[
                metric_stat(
                    "SuccessfulRequestLatency",
                    dimensions={"TableName": "orders", "Operation": "Query"},
                )
            ],
        ),
        False,
        id="dynamodb-non-throttle-metric",
    ),
    pytest.param(
        alarm_state_change(
            "custom-write-throttles",
            metrics=[metric_stat("WriteThrottleEvents", "MyApp/Orders")],
        ),
        False,
        id="throttle-metric-name-in-another-namespace",
    ),
    pytest.param(
        alarm_state_change(
            "orders-throttle-ratio",
            metrics=[
                expression("100 * throttles / requests"),
                metric_stat("WriteThrottleEvents", metric_id="throttles", return_data=False),
                metric_stat("ConsumedWriteCapacityUnits", metric_id="requests", return_data=False),
            ],
        ),
        True,
        id="metric-math-with-dynamodb-throttle-metric",
    ),
    pytest.param(
        alarm_state_change(
            "mixed-math",
            metrics=[
                expression("a + b"),
                metric_stat("ConsumedWriteCapacityUnits", metric_id="a", return_data=False),
                metric_stat(
                    "WriteThrottleEvents", "MyApp/Orders", metric_id="b", return_data=False
                ),
            ],
        ),
        False,
        # namespace and name must come from the same metrics[] element (array consistency)
        id="metric-math-namespace-and-name-from-different-metrics",
    ),
    # onboarding's pre-throttle alarms: consumed above provisioned (burst being spent)
    pytest.param(
        alarm_state_change("autoresponder-orders-write-above-provisioned", metrics=ABOVE),
        True,
        id="pre-throttle-alarm",
    ),
    pytest.param(
        alarm_state_change(
            "autoresponder-orders-by-customer-read-above-provisioned",
            metrics=above(
                "Read", {"TableName": "orders", "GlobalSecondaryIndexName": "by-customer"}
            ),
        ),
        True,
        id="pre-throttle-alarm-gsi-reads",
    ),
    pytest.param(
        alarm_state_change(
            "autoresponder-orders-write-above-provisioned",
            metrics=ABOVE,
            state="OK",
            previous_state="ALARM",
        ),
        False,
        id="pre-throttle-ok-transition",
    ),
    pytest.param(
        alarm_state_change("orders-write-utilization", metrics=ABOVE),
        False,
        # someone's own utilization alarm (consumed over provisioned): not named with the prefix
        id="consumed-over-provisioned-without-prefix",
    ),
    pytest.param(
        alarm_state_change(
            "autoresponder-orders-consumed-writes",
            metrics=[metric_stat("ConsumedWriteCapacityUnits")],
        ),
        False,
        id="consumed-capacity-alarm-with-prefix",
    ),
    pytest.param(
        alarm_state_change(
            "TargetTracking-table/orders-ProvisionedCapacityLow-7f1a9c2d",
            metrics=[metric_stat("ProvisionedWriteCapacityUnits")],
        ),
        False,
        id="target-tracking-provisioned-capacity-alarm",
    ),
    pytest.param(
        alarm_state_change(
            "autoresponder-orders-write-above-provisioned",
            metrics=[
                expression("100 * consumed / 60 / provisioned"),
                metric_stat(
                    "ConsumedWriteCapacityUnits",
                    "MyApp/Orders",
                    metric_id="consumed",
                    return_data=False,
                ),
                metric_stat(
                    "ProvisionedWriteCapacityUnits",
                    "MyApp/Orders",
                    metric_id="provisioned",
                    return_data=False,
                ),
            ],
        ),
        False,
        id="provisioned-metric-name-in-another-namespace",
    ),
    pytest.param(
        alarm_state_change(
            "autoresponder-orders-throttling",
            alarm_rule='ALARM("orders-write-throttling") OR ALARM("orders-read-throttling")',
        ),
        True,
        id="composite-alarm-with-prefix",
    ),
    pytest.param(
        alarm_state_change("orders-any-throttling", alarm_rule='ALARM("orders-write-throttling")'),
        False,
        id="composite-alarm-without-prefix",
    ),
    pytest.param(
        alarm_state_change("autoresponder-orders-throttling", metrics=[]),
        False,
        id="prefixed-name-but-not-composite",
    ),
    pytest.param(
        alarm_state_change(
            "orders-write-throttling", metrics=TABLE_THROTTLE, source="custom.cloudwatch"
        ),
        False,
        id="other-source",
    ),
]


@pytest.mark.parametrize(("event", "expected"), SCALE_ON_THROTTLE_CASES)
def test_scale_on_throttle_routing(
    scale_on_throttle: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    assert matches(scale_on_throttle, event) is expected


def test_composite_prefix_follows_the_parameter(
    cfn: dict[str, Any], defaults: dict[str, Any]
) -> None:
    pattern = pattern_of(cfn, "ScaleOnThrottleFunction", defaults | {"AlarmNamePrefix": "ops-"})
    composite = alarm_state_change("ops-orders-throttling", alarm_rule='ALARM("x")')
    assert matches(pattern, composite)
    assert not matches(pattern, alarm_state_change("autoresponder-x", alarm_rule='ALARM("x")'))


def test_pre_throttle_prefix_follows_the_parameter(
    cfn: dict[str, Any], defaults: dict[str, Any]
) -> None:
    pattern = pattern_of(cfn, "ScaleOnThrottleFunction", defaults | {"AlarmNamePrefix": "ops-"})
    assert matches(pattern, alarm_state_change("ops-orders-write-above-provisioned", metrics=ABOVE))
    default_named = alarm_state_change(
        "autoresponder-orders-write-above-provisioned", metrics=ABOVE
    )
    assert not matches(pattern, default_named)


def test_no_field_repeats_within_a_pattern_branch(cfn: dict[str, Any]) -> None:
    # EventBridge compiles each $or branch into one map of field -> conditions: a field named
    # twice on a branch keeps only one of its conditions, so the pattern would not mean what it
    # reads. (moto would AND both, hiding the problem from the routing tests.)
    for rule_id, rule in resources_of_type(cfn, "AWS::Events::Rule").items():
        for branch in field_paths(rule["Properties"]["EventPattern"]):
            repeated = [path for path, count in Counter(branch).items() if count > 1]
            assert repeated == [], rule_id


# --------------------------------------------------------------------------------------------
# the matcher itself, on Event Ruler's documented examples
# --------------------------------------------------------------------------------------------
EMPLOYEES = {
    "employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"},
    ]
}


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        pytest.param({"employees": {"firstName": ["Anna"]}}, EMPLOYEES, True, id="array-crushed"),
        pytest.param(
            {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}},
            EMPLOYEES,
            True,
            id="array-same-element",
        ),
        pytest.param(
            {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
            EMPLOYEES,
            False,
            id="array-consistency",
        ),
        pytest.param(
            {"resources": ["arn:b"]}, {"resources": ["arn:a", "arn:b"]}, True, id="scalar-array"
        ),
        pytest.param(
            {"a": [{"anything-but": {"prefix": "x-"}}]},
            {"a": "x-1"},
            False,
            id="anything-but-prefix",
        ),
        pytest.param(
            {"a": [{"anything-but": {"prefix": "x-"}}]},
            {"a": "y-1"},
            True,
            id="anything-but-prefix-other",
        ),
        pytest.param(
            {"a": [{"anything-but": {"prefix": "x-"}}]},
            {"b": "y"},
            False,
            id="anything-but-missing-field",
        ),
        pytest.param({"a": [{"exists": True}]}, {"a": "1"}, True, id="exists"),
        pytest.param({"a": [{"exists": False}]}, {"b": "1"}, True, id="exists-false"),
        pytest.param({"a": [{"exists": True}]}, {"a": []}, False, id="exists-empty-array"),
        pytest.param({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": "2"}, True, id="or"),
        pytest.param({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": "3"}, False, id="or-neither"),
    ],
)
def test_matcher(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, event) is expected


def test_resolve_refs_rejects_other_intrinsics() -> None:
    with pytest.raises(ValueError, match="Fn::Sub"):
        resolve_refs({"a": [{"prefix": {"Fn::Sub": "${AWS::StackName}-"}}]}, {})
