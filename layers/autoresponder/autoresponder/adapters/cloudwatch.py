"""CloudWatch: metric data for sizing decisions, alarm definitions for composite alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import client as default_client
from autoresponder.models.alarm import AlarmMetric, Metric, MetricStat
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


class CloudWatchMetrics:
    """Implements `MetricsReader` and `AlarmReader`."""

    def __init__(self, client: Any = None, region: str | None = None) -> None:
        self._client = client
        self._region = region

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = default_client("cloudwatch", self._region)
        return self._client

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
