"""Contributor Insights: DynamoDB's rules for a table or index, and CloudWatch's rule reports.

Rule names come from `DescribeContributorInsights`' `ContributorInsightsRuleList` only; each
report is one `GetInsightRuleReport` call (no pagination exists, and none is attempted again
here: the SDK's standard retry mode is the only retry).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import client as default_client
from autoresponder.models.hot_keys import (
    Contributor,
    InsightsMode,
    InsightsStatus,
    RuleKind,
    RuleReport,
)


def parse_status(raw: Mapping[str, Any], table_name: str, index_name: str | None) -> InsightsStatus:
    """A `DescribeContributorInsights` answer."""
    failure = raw.get("FailureException") or {}
    mode = raw.get("ContributorInsightsMode")
    return InsightsStatus(
        table_name=raw.get("TableName") or table_name,
        index_name=raw.get("IndexName") or index_name,
        status=str(raw.get("ContributorInsightsStatus") or "DISABLED"),
        mode=InsightsMode(mode) if mode in {m.value for m in InsightsMode} else None,
        rule_names=tuple(raw.get("ContributorInsightsRuleList") or ()),
        failure=(
            f"{failure.get('ExceptionName', '')}: {failure.get('ExceptionDescription', '')}"
            if failure
            else None
        ),
    )


def parse_report(
    raw: Mapping[str, Any],
    rule_name: str,
    kind: RuleKind,
    *,
    start: datetime,
    end: datetime,
    period_seconds: int,
) -> RuleReport:
    """A `GetInsightRuleReport` answer."""
    contributors = []
    for entry in raw.get("Contributors") or []:
        points = [
            max(float(p["ApproximateValue"]), 0.0)
            for p in entry.get("Datapoints") or []
            if isinstance(p.get("ApproximateValue"), int | float)
        ]
        contributors.append(
            Contributor(
                keys=tuple(str(k) for k in entry.get("Keys") or ()),
                value=max(float(entry.get("ApproximateAggregateValue") or 0.0), 0.0),
                peak=max(points) if points else None,
            )
        )
    aggregate = raw.get("AggregateValue")
    unique = raw.get("ApproximateUniqueCount")
    return RuleReport(
        rule_name=rule_name,
        kind=kind,
        key_labels=tuple(str(label) for label in raw.get("KeyLabels") or ()),
        aggregate_value=float(aggregate) if isinstance(aggregate, int | float) else None,
        unique_contributors=int(unique) if isinstance(unique, int | float) else None,
        contributors=tuple(contributors),
        period_seconds=period_seconds,
        start=start,
        end=end,
    )


class ContributorInsights:
    """Implements `ContributorInsightsPort`."""

    def __init__(
        self, dynamodb: Any = None, cloudwatch: Any = None, region: str | None = None
    ) -> None:
        self._dynamodb = dynamodb
        self._cloudwatch = cloudwatch
        self._region = region

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = default_client("dynamodb", self._region)
        return self._dynamodb

    @property
    def cloudwatch(self) -> Any:
        if self._cloudwatch is None:
            self._cloudwatch = default_client("cloudwatch", self._region)
        return self._cloudwatch

    def describe(self, table_name: str, index_name: str | None) -> InsightsStatus:
        kwargs: dict[str, Any] = {"TableName": table_name}
        if index_name:
            kwargs["IndexName"] = index_name
        try:
            raw = self.dynamodb.describe_contributor_insights(**kwargs)
        except AWS_ERRORS as exc:
            raise translate(
                exc, "DescribeContributorInsights", table=table_name, index=index_name
            ) from exc
        return parse_status(raw, table_name, index_name)

    def report(
        self,
        rule_name: str,
        kind: RuleKind,
        *,
        start: datetime,
        end: datetime,
        period_seconds: int,
        max_contributors: int,
    ) -> RuleReport:
        try:
            raw = self.cloudwatch.get_insight_rule_report(
                RuleName=rule_name,
                StartTime=start,
                EndTime=end,
                Period=period_seconds,
                MaxContributorCount=max_contributors,
                OrderBy="Sum",
            )
        except AWS_ERRORS as exc:
            raise translate(exc, "GetInsightRuleReport", rule=rule_name) from exc
        return parse_report(
            raw, rule_name, kind, start=start, end=end, period_seconds=period_seconds
        )

    def enable(self, table_name: str, index_name: str | None, mode: InsightsMode) -> str:
        kwargs: dict[str, Any] = {
            "TableName": table_name,
            "ContributorInsightsAction": "ENABLE",
            "ContributorInsightsMode": mode.value,
        }
        if index_name:
            kwargs["IndexName"] = index_name
        try:
            answer = self.dynamodb.update_contributor_insights(**kwargs)
        except AWS_ERRORS as exc:
            raise translate(
                exc, "UpdateContributorInsights", table=table_name, index=index_name
            ) from exc
        return str(answer.get("ContributorInsightsStatus") or "ENABLING")
