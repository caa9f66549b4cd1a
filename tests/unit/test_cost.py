"""domain/cost.py: what alarms cost, in words people read."""

from __future__ import annotations

import pytest

from autoresponder.domain.cost import PRICE_PER_ALARM_MONTH, alarm_cost


@pytest.mark.parametrize(
    ("count", "price", "text", "per_month"),
    [
        pytest.param(11, PRICE_PER_ALARM_MONTH, "11 alarms, about $1.10 a month", 1.1, id="issue"),
        pytest.param(1, 0.10, "1 alarm, about $0.10 a month", 0.1, id="one"),
        pytest.param(0, 0.10, "0 alarms, about $0.00 a month", 0.0, id="none"),
        pytest.param(12, 0.3, "12 alarms, about $3.60 a month", 3.6, id="other-price"),
        pytest.param(3, 0.1, "3 alarms, about $0.30 a month", 0.3, id="float-rounding"),
        pytest.param(-2, 0.1, "0 alarms, about $0.00 a month", 0.0, id="never-negative"),
    ],
)
def test_alarm_cost(count, price, text, per_month):
    cost = alarm_cost(count, price)
    assert cost.describe() == text
    assert cost.per_month == per_month


@pytest.mark.parametrize(
    ("count", "metrics", "text", "per_month"),
    [
        # a provisioned table with a GSI, 3 operations: 11 single-metric alarms and 4
        # pre-throttle alarms of 2 metrics each (CloudWatch bills each metric an alarm reads)
        pytest.param(
            15, 19, "15 alarms (19 alarm metrics), about $1.90 a month", 1.9, id="pre-throttle"
        ),
        pytest.param(1, 2, "1 alarm (2 alarm metrics), about $0.20 a month", 0.2, id="one-math"),
        pytest.param(4, 4, "4 alarms, about $0.40 a month", 0.4, id="single-metric"),
        pytest.param(2, -1, "2 alarms (0 alarm metrics), about $0.00 a month", 0.0, id="never-neg"),
    ],
)
def test_alarm_cost_is_per_alarm_metric(count, metrics, text, per_month):
    cost = alarm_cost(count, PRICE_PER_ALARM_MONTH, metrics)
    assert cost.describe() == text
    assert cost.per_month == per_month


def test_a_saving_reads_as_one():
    assert alarm_cost(8).describe_saving() == "8 alarms fewer, about $0.80 a month less"
    assert alarm_cost(4, 0.1, 6).describe_saving() == (
        "4 alarms (6 alarm metrics) fewer, about $0.60 a month less"
    )


def test_the_default_price_is_cloudwatchs_standard_resolution_alarm():
    assert PRICE_PER_ALARM_MONTH == 0.10
