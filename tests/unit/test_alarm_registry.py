"""adapters.alarm_registry: DescribeAlarms answers in the comparable form, PutMetricAlarm args."""

from __future__ import annotations

import pytest

from autoresponder.adapters.alarm_registry import observed_spec, put_request
from autoresponder.domain.alarm_plan import AlarmPolicy, desired_alarms
from tests.builders import provisioned_table

ALARM = desired_alarms(
    provisioned_table("orders", indexes={"gsi": (5, 5)}), ("Query",), AlarmPolicy()
)


def described(request: dict) -> dict:
    """What DescribeAlarms answers for an alarm PutMetricAlarm made from `request`."""
    answer = {k: v for k, v in request.items() if k != "Tags"}
    answer |= {"AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x", "Metrics": []}
    return answer


@pytest.mark.parametrize("alarm", ALARM, ids=[a.name for a in ALARM])
def test_a_put_alarm_reads_back_as_its_definition(alarm):
    # what makes reconcile idempotent: the alarm it put compares equal to the one it wants
    assert observed_spec(described(put_request(alarm))) == alarm.spec


def test_put_request_tags_the_alarm_as_the_responders():
    request = put_request(ALARM[0])
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
    raw = described(put_request(ALARM[0])) | changes
    spec = observed_spec(raw)
    assert spec is not None
    assert getattr(spec, field) == expected


def test_metric_math_alarm_is_not_comparable():
    raw = described(put_request(ALARM[0])) | {"Metrics": [{"Id": "e1", "Expression": "m1*2"}]}
    assert observed_spec(raw) is None
