"""Which alarm events reach flag_hot_keys, and the key-range hand-off from scale_on_throttle."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .cfn import ROOT
from .routing import alarm_state_change, expression, matches, metric_stat, resolve_refs, rules_for

pytestmark = pytest.mark.template

EVENTS = ROOT / "events"
PKC = "DynamoDBContributorInsights-PKC-orders-1763600000000"


def pattern_of(cfn: dict[str, Any], function_id: str, parameters: dict[str, Any]) -> dict:
    (rule,) = rules_for(cfn, function_id).values()
    return resolve_refs(rule["Properties"]["EventPattern"], parameters)


@pytest.fixture(scope="module")
def flag_hot_keys(cfn: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return pattern_of(cfn, "FlagHotKeysFunction", defaults)


@pytest.fixture(scope="module")
def scale_on_throttle(cfn: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return pattern_of(cfn, "ScaleOnThrottleFunction", defaults)


def _metric(name: str, **dimensions: str) -> list[dict[str, Any]]:
    return [metric_stat(name, dimensions={"TableName": "orders", **dimensions})]


def _insight(expr: str) -> list[dict[str, Any]]:
    return [expression(expr)]


CASES = [
    pytest.param(_metric("WriteKeyRangeThroughputThrottleEvents"), True, id="key-range-write"),
    pytest.param(
        _metric("ReadKeyRangeThroughputThrottleEvents", GlobalSecondaryIndexName="by-customer"),
        True,
        id="key-range-read-gsi",
    ),
    pytest.param(_metric("WriteThrottleEvents"), True, id="generic-write"),
    pytest.param(_metric("ReadThrottleEvents"), True, id="generic-read"),
    pytest.param(_metric("ThrottledRequests", Operation="PutItem"), True, id="throttled-requests"),
    pytest.param(
        [
            expression("100 * t / (t + c)"),
            metric_stat("ReadThrottleEvents", metric_id="t", return_data=False),
            metric_stat("ConsumedReadCapacityUnits", metric_id="c", return_data=False),
        ],
        True,
        id="metric-math-on-generic-throttle",
    ),
    pytest.param(
        _insight(f"INSIGHT_RULE_METRIC('{PKC}', 'MaxContributorValue')"), True, id="insight-rule"
    ),
    pytest.param(
        _insight(f"IF(INSIGHT_RULE_METRIC('{PKC}', 'Sum') > 100, 1, 0)"),
        True,
        id="insight-rule-inside-math",
    ),
    pytest.param(
        _insight("INSIGHT_RULE_METRIC('errors-by-service', 'Sum')"),
        False,
        id="insight-rule-not-dynamodb",
    ),
    pytest.param(_insight("m1 * 2"), False, id="other-expression"),
    pytest.param(
        _metric("WriteProvisionedThroughputThrottleEvents"), False, id="provisioned-throttle"
    ),
    pytest.param(
        _metric("WriteMaxOnDemandThroughputThrottleEvents"), False, id="on-demand-max-throttle"
    ),
    pytest.param(_metric("SuccessfulRequestLatency", Operation="Query"), False, id="latency"),
    pytest.param([metric_stat("WriteThrottleEvents", "MyApp/Orders")], False, id="other-namespace"),
]


@pytest.mark.parametrize(("metrics", "expected"), CASES)
def test_flag_hot_keys_routing(
    flag_hot_keys: dict[str, Any], metrics: list[dict[str, Any]], expected: bool
) -> None:
    assert matches(flag_hot_keys, alarm_state_change("orders-alarm", metrics=metrics)) is expected


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            alarm_state_change(
                "TargetTracking-table/orders-AlarmHigh-1",
                metrics=_metric("WriteKeyRangeThroughputThrottleEvents"),
            ),
            id="target-tracking",
        ),
        pytest.param(
            alarm_state_change(
                "orders-hot",
                metrics=_metric("WriteKeyRangeThroughputThrottleEvents"),
                state="OK",
                previous_state="ALARM",
            ),
            id="ok-transition",
        ),
        pytest.param(
            alarm_state_change("autoresponder-orders-throttling", alarm_rule='ALARM("x")'),
            id="composite",
        ),
        pytest.param(
            alarm_state_change(
                "orders-hot",
                metrics=_metric("WriteKeyRangeThroughputThrottleEvents"),
                source="custom.cloudwatch",
            ),
            id="other-source",
        ),
    ],
)
def test_flag_hot_keys_ignores(flag_hot_keys: dict[str, Any], event: dict[str, Any]) -> None:
    assert not matches(flag_hot_keys, event)


def _sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def test_key_range_alarm_reaches_both_runbooks(
    flag_hot_keys: dict[str, Any], scale_on_throttle: dict[str, Any]
) -> None:
    # scale_on_throttle answers it with `hand_off_hot_keys` (no capacity for a hot partition);
    # flag_hot_keys, receiving the same event, names the keys. No second hop is needed.
    event = _sample("key_range_throttle.json")
    assert matches(scale_on_throttle, event)
    assert matches(flag_hot_keys, event)


def test_insight_rule_sample_reaches_flag_hot_keys_only(
    flag_hot_keys: dict[str, Any], scale_on_throttle: dict[str, Any]
) -> None:
    event = _sample("insight_rule_alarm.json")
    assert matches(flag_hot_keys, event)
    assert not matches(scale_on_throttle, event)


def test_provisioned_throttle_sample_reaches_scale_on_throttle_only(
    flag_hot_keys: dict[str, Any], scale_on_throttle: dict[str, Any]
) -> None:
    event = _sample("write_throttle_table.json")
    assert matches(scale_on_throttle, event)
    assert not matches(flag_hot_keys, event)
