"""CloudWatch: metric data for sizing decisions, alarm definitions for composite alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.alarm import AlarmMetric, Metric, MetricStat
from autoresponder.models.scale_back import ActiveAlarm, WindowActivity
from autoresponder.models.table import Dimension

DYNAMODB = "AWS/DynamoDB"


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
    """Implements `MetricsReader` and `AlarmReader`."""

    service = "cloudwatch"

    def consumed_peak(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        start: datetime,
        end: datetime,
    ) -> float | None:
        name = (
            "ConsumedReadCapacityUnits"
            if dimension is Dimension.READ
            else "ConsumedWriteCapacityUnits"
        )
        dimensions = [{"Name": "TableName", "Value": table_name}]
        if index_name:
            dimensions.append({"Name": "GlobalSecondaryIndexName", "Value": index_name})
        query = {
            "Id": "consumed",
            "MetricStat": {
                "Metric": {"Namespace": DYNAMODB, "MetricName": name, "Dimensions": dimensions},
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
        try:
            answer = self.client.get_metric_data(
                MetricDataQueries=[query], StartTime=start, EndTime=end
            )
        except AWS_ERRORS as exc:
            raise translate(exc, "GetMetricData", table=table_name, metric=name) from exc
        values = [v for r in answer.get("MetricDataResults", []) for v in r.get("Values", [])]
        return max(values) / 60.0 if values else None

    def metrics_of(self, alarm_names: Sequence[str]) -> Mapping[str, list[AlarmMetric]]:
        try:
            answer = self.client.describe_alarms(
                AlarmNames=list(alarm_names)[:100], AlarmTypes=["MetricAlarm"]
            )
        except AWS_ERRORS as exc:
            raise translate(exc, "DescribeAlarms", alarms=",".join(alarm_names)) from exc
        return {a["AlarmName"]: alarm_metrics(a) for a in answer.get("MetricAlarms", [])}

    # -- scale_back --------------------------------------------------------------------------

    def window_activity(
        self,
        table_name: str,
        index_name: str | None,
        dimension: Dimension,
        start: datetime,
        end: datetime,
    ) -> WindowActivity:
        """Consumed peak and throttled requests of one dimension, in one GetMetricData call."""
        prefix = "Read" if dimension is Dimension.READ else "Write"
        dimensions = [{"Name": "TableName", "Value": table_name}]
        if index_name:
            dimensions.append({"Name": "GlobalSecondaryIndexName", "Value": index_name})
        queries = [
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": DYNAMODB,
                        "MetricName": metric_name,
                        "Dimensions": dimensions,
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for query_id, metric_name in (
                ("consumed", f"Consumed{prefix}CapacityUnits"),
                ("throttled", f"{prefix}ThrottleEvents"),
            )
        ]
        values: dict[str, list[float]] = {"consumed": [], "throttled": []}
        kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        try:
            while True:
                answer = self.client.get_metric_data(**kwargs)
                for result in answer.get("MetricDataResults", []):
                    values.setdefault(result.get("Id", ""), []).extend(result.get("Values", []))
                if not answer.get("NextToken"):
                    break
                kwargs["NextToken"] = answer["NextToken"]
        except AWS_ERRORS as exc:
            raise translate(exc, "GetMetricData", table=table_name, index=index_name) from exc
        consumed = values["consumed"]
        return WindowActivity(
            consumed_peak=max(consumed) / 60.0 if consumed else None,
            throttle_events=float(sum(values["throttled"])),
        )

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
