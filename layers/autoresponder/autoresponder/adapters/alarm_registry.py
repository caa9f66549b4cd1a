"""CloudWatch alarms under the responder's prefix: read with their tags, create, update, delete.

Only `onboard_tables` writes here. What it may touch is decided by the tag
`autoresponder:created-by=onboard_tables` (read with ListTagsForResource), never by the name:
an alarm someone made under the same prefix is listed, compared and left alone. IAM backs this
up: DeleteAlarms is allowed only on alarms carrying that tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.onboarding import (
    AlarmDefinition,
    AlarmSpec,
    MetricQuery,
    ObservedAlarm,
)

LATENCY_METRIC = "SuccessfulRequestLatency"
DYNAMODB = "AWS/DynamoDB"
MAX_NAMES_PER_CALL = 100
MAX_PREFIX = 255


def observed_spec(raw: Mapping[str, Any]) -> AlarmSpec | None:
    """A `DescribeAlarms` metric alarm in the comparable form (one metric, or metric math);
    None when it has neither."""
    queries = tuple(_query(q) for q in raw.get("Metrics") or ())
    if not raw.get("MetricName") and not queries:
        return None
    evaluation_periods = int(raw.get("EvaluationPeriods", 1))
    single: dict[str, Any] = {}
    if not queries:
        single = {
            "namespace": str(raw.get("Namespace", "")),
            "metric_name": str(raw["MetricName"]),
            "dimensions": _pairs(raw.get("Dimensions", [])),
            "statistic": str(raw.get("Statistic") or raw.get("ExtendedStatistic") or ""),
            "period": int(raw.get("Period", 0)),
        }
    return AlarmSpec(
        **single,
        metrics=queries,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=int(raw.get("DatapointsToAlarm") or evaluation_periods),
        threshold=float(raw.get("Threshold", 0.0)),
        comparison_operator=str(raw.get("ComparisonOperator", "")),
        treat_missing_data=str(raw.get("TreatMissingData") or "missing"),
        description=str(raw.get("AlarmDescription") or ""),
    )


def _pairs(dimensions: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d["Name"], d["Value"]) for d in dimensions or ()))


def _query(raw: Mapping[str, Any]) -> MetricQuery:
    """One `Metrics` entry of DescribeAlarms (the fields PutMetricAlarm sets)."""
    stat = raw.get("MetricStat") or {}
    metric = stat.get("Metric") or {}
    return MetricQuery(
        id=str(raw.get("Id", "")),
        expression=raw.get("Expression"),
        label=raw.get("Label"),
        namespace=metric.get("Namespace"),
        metric_name=metric.get("MetricName"),
        dimensions=_pairs(metric.get("Dimensions")),
        stat=stat.get("Stat"),
        period=stat.get("Period"),
        return_data=bool(raw.get("ReturnData", True)),
    )


def _query_request(query: MetricQuery) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": query.id, "ReturnData": query.return_data}
    if query.expression is not None:
        entry["Expression"] = query.expression
    if query.label is not None:
        entry["Label"] = query.label
    if query.metric_name is not None:
        entry["MetricStat"] = {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": query.metric_name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions],
            },
            "Period": query.period,
            "Stat": query.stat,
        }
    return entry


def put_request(alarm: AlarmDefinition) -> dict[str, Any]:
    """The PutMetricAlarm arguments of a wanted alarm (no actions: EventBridge routes it)."""
    spec = alarm.spec
    if spec.metrics:
        # metric math: the metrics are in `Metrics`, never beside it (PutMetricAlarm rejects
        # Namespace, MetricName, Dimensions, Period or Statistic with Metrics)
        what: dict[str, Any] = {"Metrics": [_query_request(q) for q in spec.metrics]}
    else:
        what = {
            "Namespace": spec.namespace,
            "MetricName": spec.metric_name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in spec.dimensions],
            "Statistic": spec.statistic,
            "Period": spec.period,
        }
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": spec.description,
        "ActionsEnabled": True,
        **what,
        "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints_to_alarm,
        "Threshold": spec.threshold,
        "ComparisonOperator": spec.comparison_operator,
        "TreatMissingData": spec.treat_missing_data,
        # Applied when the alarm is created; PutMetricAlarm ignores them on an update.
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(alarm.tags.items())],
    }


class CloudWatchAlarmRegistry(AwsAdapter):
    """Implements `AlarmRegistry` and `LatencyOperationsReader`."""

    service = "cloudwatch"

    # -- alarms ------------------------------------------------------------------------------

    def alarms(self, name_prefix: str) -> dict[str, ObservedAlarm]:
        """Every alarm whose name starts with `name_prefix`, metric alarms with their tags."""
        prefix = name_prefix[:MAX_PREFIX]
        found: dict[str, ObservedAlarm] = {}
        try:
            pages = self.client.get_paginator("describe_alarms").paginate(
                AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
            )
            for page in pages:
                for raw in page.get("MetricAlarms", []):
                    found[raw["AlarmName"]] = ObservedAlarm(
                        name=raw["AlarmName"],
                        tags=self._tags(raw["AlarmArn"]),
                        spec=observed_spec(raw),
                    )
                for raw in page.get("CompositeAlarms", []):
                    # never one of ours (the responder makes metric alarms only)
                    found[raw["AlarmName"]] = ObservedAlarm(name=raw["AlarmName"])
        except AWS_ERRORS as exc:
            raise translate(exc, "DescribeAlarms", prefix=prefix) from exc
        return found

    def _tags(self, alarm_arn: str) -> dict[str, str]:
        try:
            answer = self.client.list_tags_for_resource(ResourceARN=alarm_arn)
        except AWS_ERRORS as exc:
            raise translate(exc, "ListTagsForResource", alarm=alarm_arn) from exc
        return {t["Key"]: t["Value"] for t in answer.get("Tags", [])}

    def put(self, alarm: AlarmDefinition) -> None:
        try:
            self.client.put_metric_alarm(**put_request(alarm))
        except AWS_ERRORS as exc:
            raise translate(exc, "PutMetricAlarm", alarm=alarm.name) from exc

    def delete(self, names: Sequence[str]) -> None:
        for start in range(0, len(names), MAX_NAMES_PER_CALL):
            batch = list(names[start : start + MAX_NAMES_PER_CALL])
            try:
                self.client.delete_alarms(AlarmNames=batch)
            except AWS_ERRORS as exc:
                raise translate(exc, "DeleteAlarms", alarms=",".join(batch)) from exc

    # -- operations a table serves -----------------------------------------------------------

    def latency_operations(self, table_name: str | None = None) -> dict[str, set[str]]:
        """Operations CloudWatch lists a `SuccessfulRequestLatency` metric for, per table
        (every table when `table_name` is None). ListMetrics is free and lists a metric for two
        weeks after its last datapoint."""
        kwargs: dict[str, Any] = {"Namespace": DYNAMODB, "MetricName": LATENCY_METRIC}
        if table_name is not None:
            kwargs["Dimensions"] = [{"Name": "TableName", "Value": table_name}]
        found: dict[str, set[str]] = {}
        try:
            for page in self.client.get_paginator("list_metrics").paginate(**kwargs):
                for metric in page.get("Metrics", []):
                    dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
                    if set(dimensions) == {"TableName", "Operation"}:
                        found.setdefault(dimensions["TableName"], set()).add(
                            dimensions["Operation"]
                        )
        except AWS_ERRORS as exc:
            raise translate(exc, "ListMetrics", table=table_name or "*") from exc
        return found
