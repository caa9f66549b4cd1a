"""The CloudWatch alarms the responder's functions hear from, evaluated on the simulated table.

Each is evaluated at the start of every simulated minute on the newest datapoint readable then
(the metric delay applies to alarms as to GetMetricData), 1 of 1 one-minute datapoints, missing
data not breaching (DynamoDB publishes throttle events only in minutes with throttling). An
OK → ALARM transition is the EventBridge "CloudWatch Alarm State Change" event the function
receives, built in the shape of `events/*.json` and parsed by the function's own model.

- the throttle alarm onboard_tables creates: `Sum(WriteProvisionedThroughputThrottleEvents)
  > 0` (`events/write_throttle_table.json`);
- the pre-throttle alarm (issue 13 part 3; `events/catalog_write_above_provisioned.json`):
  metric math `100 * consumed / PERIOD(consumed) / FILL(provisioned, REPEAT) > 100`, consumed
  capacity above provisioned for one minute: burst capacity is being spent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from autoresponder.domain.alarm_plan import PRE_THROTTLE_EXPRESSION, PRE_THROTTLE_THRESHOLD
from autoresponder.models.alarm import AlarmMetric, AlarmStateValue
from autoresponder.models.scale_back import ActiveAlarm
from bench.backtest.simulator import SECONDS, TABLE_NAME, Datapoint, SimTable

ACCOUNT = "123456789012"
REGION = "us-east-1"
THROTTLE_METRIC = "WriteProvisionedThroughputThrottleEvents"


def _metric(metric_id: str, name: str, stat: str, *, returned: bool) -> dict[str, Any]:
    return {
        "id": metric_id,
        "metricStat": {
            "metric": {
                "namespace": "AWS/DynamoDB",
                "name": name,
                "dimensions": {"TableName": TABLE_NAME},
            },
            "period": SECONDS,
            "stat": stat,
        },
        "returnData": returned,
    }


def _throttle_value(point: Datapoint) -> float | None:
    return point.throttled if point.throttled > 0 else None


def _utilization(point: Datapoint) -> float | None:
    if point.consumed <= 0 or point.capacity <= 0:
        return None
    return 100 * point.consumed / SECONDS / point.capacity


@dataclass
class SimAlarm:
    """One metric alarm: `value_of` a datapoint (None: no datapoint) `> threshold`."""

    name: str
    description: str
    metrics: tuple[dict[str, Any], ...]
    threshold: float
    value_of: Callable[[Datapoint], float | None]
    state: AlarmStateValue = AlarmStateValue.OK
    since: datetime | None = None
    last_value: float | None = None
    fired: int = 0

    def evaluate(self, minute: int, table: SimTable) -> dict[str, Any] | None:
        """The alarm's state at `minute`; the event of an OK → ALARM transition, else None."""
        seen = table.visible(minute)
        newest = seen[-1] if seen else None
        value = self.value_of(newest) if newest is not None else None
        now = table.time_of(minute)
        if value is None or value <= self.threshold:
            if self.state is AlarmStateValue.ALARM:
                self.state, self.since, self.last_value = AlarmStateValue.OK, now, None
            return None
        self.last_value = value
        if self.state is AlarmStateValue.ALARM:
            return None
        assert newest is not None
        previous = self.since or table.time_of(0)
        self.state, self.since = AlarmStateValue.ALARM, now
        self.fired += 1
        return self._event(now, table.time_of(newest.minute), value, previous)

    def active(self) -> ActiveAlarm | None:
        """As `DescribeAlarms StateValue=ALARM` lists it (None while OK)."""
        if self.state is not AlarmStateValue.ALARM or self.since is None:
            return None
        return ActiveAlarm(
            alarm_name=self.name,
            metrics=[AlarmMetric.model_validate(m) for m in self.metrics],
            since=self.since,
            recent_datapoints=[self.last_value] if self.last_value is not None else [],
        )

    def _event(
        self, now: datetime, evaluated: datetime, value: float, previous: datetime
    ) -> dict[str, Any]:
        reason_data = {
            "version": "1.0",
            "queryDate": now.isoformat(),
            "startDate": evaluated.isoformat(),
            "period": SECONDS,
            "recentDatapoints": [round(value, 2)],
            "threshold": self.threshold,
            "evaluatedDatapoints": [{"timestamp": evaluated.isoformat(), "value": value}],
        }
        return {
            "version": "0",
            "id": f"{self.name}-{now:%Y%m%dT%H%M}",
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": ACCOUNT,
            "time": now.isoformat(),
            "region": REGION,
            "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{self.name}"],
            "detail": {
                "alarmName": self.name,
                "state": {
                    "value": "ALARM",
                    "reason": f"Threshold Crossed: 1 out of the last 1 datapoints [{value:.1f}] "
                    f"was greater than the threshold ({self.threshold:g})",
                    "reasonData": json.dumps(reason_data),
                    "timestamp": now.isoformat(),
                },
                "previousState": {"value": "OK", "timestamp": previous.isoformat()},
                "configuration": {"description": self.description, "metrics": list(self.metrics)},
            },
        }


def throttle_alarm() -> SimAlarm:
    return SimAlarm(
        name=f"autoresponder-{TABLE_NAME}-write-provisioned-throttle",
        description=f"Writes to table {TABLE_NAME} are throttled by its provisioned capacity.",
        metrics=(_metric("m1", THROTTLE_METRIC, "Sum", returned=True),),
        threshold=0.0,
        value_of=_throttle_value,
    )


def pre_throttle_alarm() -> SimAlarm:
    return SimAlarm(
        name=f"autoresponder-{TABLE_NAME}-write-above-provisioned",
        description=f"Consumed write capacity of table {TABLE_NAME} above its provisioned "
        "capacity for 60 s: burst capacity is being spent, throttling comes next.",
        metrics=(
            {
                "id": "utilization",
                "expression": PRE_THROTTLE_EXPRESSION,
                "label": "Consumed write capacity, % of provisioned",
                "returnData": True,
            },
            _metric("consumed", "ConsumedWriteCapacityUnits", "Sum", returned=False),
            _metric("provisioned", "ProvisionedWriteCapacityUnits", "Maximum", returned=False),
        ),
        threshold=PRE_THROTTLE_THRESHOLD,
        value_of=_utilization,
    )
