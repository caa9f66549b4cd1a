"""CloudWatch alarms: the definitions of composite alarms' children, the alarms in ALARM.

Metric data is read by `adapters.metric_data` (one GetMetricData per pass)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.alarm import AlarmMetric, Metric, MetricStat
from autoresponder.models.scale_back import ActiveAlarm


def _dimensions(raw: Sequence[Mapping[str, str]]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in raw}


def alarm_metrics(alarm: Mapping[str, Any]) -> list[AlarmMetric]:
    """A `DescribeAlarms` metric alarm as the event model's metrics list."""
    if alarm.get("MetricName"):
        metric = Metric(
            namespace=alarm.get("Namespace", ""),
            name=alarm["MetricName"],
            dimensions=_dimensions(alarm.get("Dimensions", [])),
        )
        stat = MetricStat(metric=metric, period=alarm.get("Period"), stat=alarm.get("Statistic"))
        return [AlarmMetric(id="m1", metric_stat=stat, return_data=True)]
    metrics = []
    for query in alarm.get("Metrics", []):
        raw_stat = query.get("MetricStat")
        query_stat: MetricStat | None = None
        if raw_stat:
            raw_metric = raw_stat["Metric"]
            query_stat = MetricStat(
                metric=Metric(
                    namespace=raw_metric.get("Namespace", ""),
                    name=raw_metric.get("MetricName", ""),
                    dimensions=_dimensions(raw_metric.get("Dimensions", [])),
                ),
                period=raw_stat.get("Period"),
                stat=raw_stat.get("Stat"),
            )
        metrics.append(
            AlarmMetric(
                id=query.get("Id", ""),
                metric_stat=query_stat,
                expression=query.get("Expression"),
                return_data=query.get("ReturnData"),
            )
        )
    return metrics


class CloudWatchMetrics(AwsAdapter):
    """Implements `AlarmReader` (composite alarms' children) and `ActiveAlarmReader`."""

    service = "cloudwatch"

    def metrics_of(self, alarm_names: Sequence[str]) -> Mapping[str, list[AlarmMetric]]:
        try:
            answer = self.client.describe_alarms(
                AlarmNames=list(alarm_names)[:100], AlarmTypes=["MetricAlarm"]
            )
        except AWS_ERRORS as exc:
            raise translate(exc, "DescribeAlarms", alarms=",".join(alarm_names)) from exc
        return {a["AlarmName"]: alarm_metrics(a) for a in answer.get("MetricAlarms", [])}

    def alarms_in_alarm(self) -> list[ActiveAlarm]:
        """Every metric alarm of the account and region now in ALARM (paginated)."""
        found: list[ActiveAlarm] = []
        kwargs: dict[str, Any] = {"StateValue": "ALARM", "AlarmTypes": ["MetricAlarm"]}
        try:
            while True:
                answer = self.client.describe_alarms(**kwargs)
                found.extend(_active(alarm) for alarm in answer.get("MetricAlarms", []))
                if not answer.get("NextToken"):
                    return found
                kwargs["NextToken"] = answer["NextToken"]
        except AWS_ERRORS as exc:
            raise translate(exc, "DescribeAlarms", state="ALARM") from exc


def _active(alarm: Mapping[str, Any]) -> ActiveAlarm:
    """A `DescribeAlarms` metric alarm in ALARM, with the datapoints its state reason gives."""
    try:
        reason = json.loads(alarm.get("StateReasonData") or "{}")
    except json.JSONDecodeError:
        reason = {}
    points = reason.get("recentDatapoints", []) if isinstance(reason, dict) else []
    since = alarm.get("StateUpdatedTimestamp")
    return ActiveAlarm(
        alarm_name=alarm["AlarmName"],
        metrics=alarm_metrics(alarm),
        since=since if isinstance(since, datetime) else datetime.now(UTC),
        recent_datapoints=[float(p) for p in points if isinstance(p, int | float)],
    )
