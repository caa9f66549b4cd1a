"""Builders for test inputs: alarm events as EventBridge delivers them, table descriptions."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from autoresponder.models.table import (
    BillingMode,
    Capacity,
    CapacityUnit,
    OnDemandLimits,
    TableDescription,
)
from local.published import Points, merged, minutes_before, put_published
from local.published import published as _published

ACCOUNT = "123456789012"
REGION = "us-east-1"
STATE_TIME = datetime(2026, 11, 20, 14, 5, 12, 347000, tzinfo=UTC)


def cw_time(when: datetime) -> str:
    """CloudWatch's own timestamp format: `2026-11-20T14:05:12.347+0000`."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def reason_data(datapoints: list[float]) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "queryDate": cw_time(STATE_TIME),
            "statistic": "Sum",
            "period": 60,
            "recentDatapoints": datapoints,
            "threshold": 0.0,
        }
    )


def metric(
    name: str,
    table: str,
    index: str | None = None,
    operation: str | None = None,
    namespace: str = "AWS/DynamoDB",
) -> dict[str, Any]:
    dimensions = {"TableName": table}
    if index:
        dimensions["GlobalSecondaryIndexName"] = index
    if operation:
        dimensions["Operation"] = operation
    return {"namespace": namespace, "name": name, "dimensions": dimensions}


def envelope(
    alarm_name: str, state: dict[str, Any], configuration: dict[str, Any], previous: str = "OK"
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": "2026-11-20T14:05:12Z",
        "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm_name}"],
        "detail": {
            "alarmName": alarm_name,
            "state": state,
            "previousState": {
                "value": previous,
                "reason": "Threshold Crossed",
                "reasonData": reason_data([0.0]),
                "timestamp": "2026-11-20T13:05:12.347+0000",
            },
            "configuration": configuration,
        },
    }


def alarm_event(
    metric_name: str = "WriteProvisionedThroughputThrottleEvents",
    table: str = "orders",
    *,
    index: str | None = None,
    operation: str | None = None,
    state: str = "ALARM",
    alarm_name: str | None = None,
    timestamp: datetime = STATE_TIME,
    datapoints: list[float] | None = None,
    namespace: str = "AWS/DynamoDB",
) -> dict[str, Any]:
    """A single-metric alarm's state change, as EventBridge delivers it."""
    name = alarm_name or f"autoresponder-{table}-{metric_name}"
    return envelope(
        name,
        {
            "value": state,
            "reason": "Threshold Crossed: 1 out of the last 1 datapoints was greater than 0.0",
            "reasonData": reason_data([42.0] if datapoints is None else datapoints),
            "timestamp": cw_time(timestamp),
        },
        {
            "description": "throttling",
            "metrics": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": metric(metric_name, table, index, operation, namespace),
                        "period": 60,
                        "stat": "Sum",
                    },
                    "returnData": True,
                }
            ],
        },
    )


def metric_math_event(table: str = "orders", *, other_table: str | None = None) -> dict[str, Any]:
    return envelope(
        f"autoresponder-{table}-read-throttle-rate",
        {
            "value": "ALARM",
            "reason": "Threshold Crossed",
            "reasonData": reason_data([0.2]),
            "timestamp": cw_time(STATE_TIME),
        },
        {
            "metrics": [
                {"id": "e1", "expression": "m1 / (m1 + m2)", "returnData": True},
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": metric("ReadThrottleEvents", table),
                        "period": 60,
                        "stat": "Sum",
                    },
                    "returnData": False,
                },
                {
                    "id": "m2",
                    "metricStat": {
                        "metric": metric("ConsumedReadCapacityUnits", other_table or table),
                        "period": 60,
                        "stat": "Sum",
                    },
                    "returnData": False,
                },
            ]
        },
    )


def composite_event(
    children: list[str], name: str = "autoresponder-orders-composite"
) -> dict[str, Any]:
    triggering = [
        {
            "arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{child}",
            "state": {"value": "ALARM", "timestamp": cw_time(STATE_TIME)},
        }
        for child in children
    ]
    return envelope(
        name,
        {
            "value": "ALARM",
            "reason": "arn:aws:cloudwatch:... transitioned to ALARM",
            "reasonData": json.dumps({"triggeringAlarms": triggering}),
            "timestamp": cw_time(STATE_TIME),
        },
        {"alarmRule": " OR ".join(f'ALARM("{c}")' for c in children)},
    )


def provisioned_table(
    name: str = "orders",
    read: int = 100,
    write: int = 50,
    *,
    status: str = "ACTIVE",
    indexes: dict[str, tuple[int, int]] | None = None,
    index_status: str = "ACTIVE",
) -> TableDescription:
    return TableDescription(
        table_name=name,
        table_arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
        status=status,
        billing_mode=BillingMode.PROVISIONED,
        table=CapacityUnit(status=status, provisioned=Capacity(read=read, write=write)),
        indexes={
            index: CapacityUnit(
                index_name=index,
                status=index_status,
                provisioned=Capacity(read=r, write=w),
            )
            for index, (r, w) in (indexes or {}).items()
        },
        has_sort_key=True,
    )


def on_demand_table(
    name: str = "clickstream", max_read: int | None = 2000, max_write: int | None = 1000
) -> TableDescription:
    return TableDescription(
        table_name=name,
        table_arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
        status="ACTIVE",
        billing_mode=BillingMode.PAY_PER_REQUEST,
        table=CapacityUnit(on_demand_max=OnDemandLimits(read=max_read, write=max_write)),
    )


# -- what DynamoDB publishes (one implementation, shared with the demo: local/published.py) ---
NOW = STATE_TIME + timedelta(seconds=30)
"""The moment the handler runs in the tests: 30 s after the alarm's state change."""


def published(table: str = "orders", *, end: datetime | None = None, **kwargs: Any) -> Points:
    """What DynamoDB would publish for `table` in the minutes before `end` (the tests' NOW)."""
    return _published(table, end=end or NOW, **kwargs)


__all__ = ["NOW", "Points", "merged", "minutes_before", "published", "put_published"]
