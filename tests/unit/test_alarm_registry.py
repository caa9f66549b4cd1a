"""adapters.alarm_registry: DescribeAlarms answers in the comparable form, PutMetricAlarm args."""

from __future__ import annotations

import pytest

from autoresponder.adapters.alarm_registry import observed_spec, put_request
from autoresponder.domain.alarm_plan import AlarmPolicy, desired_alarms
from tests.builders import provisioned_table

ALARM = desired_alarms(
    provisioned_table("orders", indexes={"gsi": (5, 5)}), ("Query",), AlarmPolicy()
)
SINGLE = [a for a in ALARM if not a.spec.metrics]
MATH = [a for a in ALARM if a.spec.metrics]


def described(request: dict) -> dict:
    """What DescribeAlarms answers for an alarm PutMetricAlarm made from `request`."""
    answer = {k: v for k, v in request.items() if k != "Tags"}
    answer |= {"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x", "Dimensions": []}
    answer.setdefault("Metrics", [])
    if "Dimensions" in request:
        answer["Dimensions"] = request["Dimensions"]
    return answer


@pytest.mark.parametrize("alarm", ALARM, ids=[a.name for a in ALARM])
def test_a_put_alarm_reads_back_as_its_definition(alarm):
    # what makes reconcile idempotent: the alarm it put compares equal to the one it wants
    assert observed_spec(described(put_request(alarm))) == alarm.spec


def test_put_request_tags_the_alarm_as_the_responders():
    request = put_request(SINGLE[0])
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["autoresponder:created-by"] == "onboard_tables"
    assert tags["autoresponder:table"] == "orders"
    assert "AlarmActions" not in request  # EventBridge routes state changes, no action needed


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        pytest.param({"DatapointsToAlarm": None}, "datapoints_to_alarm", 1, id="m-of-n-default"),
        pytest.param({"TreatMissingData": None}, "treat_missing_data", "missing", id="missing"),
        pytest.param({"AlarmDescription": None}, "description", "", id="no-description"),
        pytest.param(
            {"Statistic": None, "ExtendedStatistic": "p99"}, "statistic", "p99", id="percentile"
        ),
    ],
)
def test_hand_made_alarm_fields_default_as_cloudwatch_does(changes, field, expected):
    raw = described(put_request(SINGLE[0])) | changes
    spec = observed_spec(raw)
    assert spec is not None
    assert getattr(spec, field) == expected


def test_a_pre_throttle_alarm_is_put_as_metric_math_only():
    (alarm,) = [a for a in MATH if a.name == "autoresponder-orders-write-above-provisioned"]
    request = put_request(alarm)
    # PutMetricAlarm rejects the single-metric parameters beside Metrics
    assert not {"Namespace", "MetricName", "Dimensions", "Statistic", "Period"} & set(request)
    assert request["Metrics"] == [
        {
            "Id": "utilization",
            "ReturnData": True,
            "Expression": "100 * consumed / PERIOD(consumed) / FILL(provisioned, REPEAT)",
            "Label": "Consumed write capacity, % of provisioned",
        },
        {
            "Id": "consumed",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/DynamoDB",
                    "MetricName": "ConsumedWriteCapacityUnits",
                    "Dimensions": [{"Name": "TableName", "Value": "orders"}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        },
        {
            "Id": "provisioned",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/DynamoDB",
                    "MetricName": "ProvisionedWriteCapacityUnits",
                    "Dimensions": [{"Name": "TableName", "Value": "orders"}],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
        },
    ]
    assert (request["Threshold"], request["ComparisonOperator"]) == (100.0, "GreaterThanThreshold")
    assert (request["EvaluationPeriods"], request["DatapointsToAlarm"]) == (1, 1)
    assert request["TreatMissingData"] == "notBreaching"
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["autoresponder:kind"] == "write-above-provisioned"


def test_an_edited_metric_math_alarm_compares_different():
    alarm = MATH[0]
    raw = described(put_request(alarm))
    raw["Metrics"] = [
        {**query, "Expression": "consumed / 60 - provisioned"} if "Expression" in query else query
        for query in raw["Metrics"]
    ]
    spec = observed_spec(raw)
    assert spec is not None
    assert spec != alarm.spec
    assert spec.alarm_metrics == 2


def test_an_alarm_with_neither_a_metric_nor_metrics_is_not_comparable():
    raw = described(put_request(SINGLE[0])) | {"MetricName": None, "Metrics": []}
    assert observed_spec(raw) is None
