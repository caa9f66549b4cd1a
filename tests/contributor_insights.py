"""Test helpers for flag_hot_keys: rule reports, a fake port, and a stub of the AWS calls moto
does not implement (DescribeContributorInsights, UpdateContributorInsights,
GetInsightRuleReport), answered on the responder's own cached clients through botocore event
hooks, so every other call still reaches moto."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from autoresponder.adapters.clients import client
from autoresponder.errors import AutoresponderError, ResourceNotFoundError
from autoresponder.models.hot_keys import (
    Contributor,
    InsightsMode,
    InsightsStatus,
    RuleKind,
    RuleReport,
)
from tests.builders import STATE_TIME, cw_time, envelope, reason_data

RULE_STAMP = "1763600000000"
WINDOW_END = STATE_TIME
WINDOW_START = STATE_TIME - timedelta(minutes=5)

Keys = str | tuple[str, ...]


def rule_name(kind: str, resource: str = "orders", stamp: str = RULE_STAMP) -> str:
    return f"DynamoDBContributorInsights-{kind}-{resource}-{stamp}"


def rule_names(
    resource: str = "orders",
    *,
    sort_key: bool = True,
    mode: InsightsMode = InsightsMode.ACCESSED_AND_THROTTLED_KEYS,
) -> list[str]:
    """The rules DynamoDB creates for a table or index, in the order it lists them."""
    kinds = ["PKC", "PKT", "SKC", "SKT"] if sort_key else ["PKC", "PKT"]
    if mode is InsightsMode.THROTTLED_KEYS:
        kinds = [k for k in kinds if k.endswith("T")]
    return [rule_name(kind, resource) for kind in kinds]


def _keys(keys: Keys) -> tuple[str, ...]:
    return (keys,) if isinstance(keys, str) else tuple(keys)


def report(
    kind: str,
    contributors: Mapping[Keys, float] | Sequence[tuple[Keys, float, float | None]],
    *,
    total: float | None = None,
    resource: str = "orders",
    labels: tuple[str, ...] | None = None,
    start: datetime = WINDOW_START,
    end: datetime = WINDOW_END,
) -> RuleReport:
    """A parsed rule report. `contributors`: {keys: value} (no datapoints, so the rate is the
    value over the window) or [(keys, value, peak per minute)]."""
    rule_kind = RuleKind(kind)
    entries = (
        [(keys, value, None) for keys, value in contributors.items()]
        if isinstance(contributors, Mapping)
        else list(contributors)
    )
    if labels is None:
        labels = ("pk", "sk") if rule_kind.item_level else ("pk",)
    return RuleReport(
        rule_name=rule_name(kind, resource),
        kind=rule_kind,
        key_labels=labels,
        aggregate_value=total,
        contributors=tuple(
            Contributor(keys=_keys(keys), value=value, peak=peak) for keys, value, peak in entries
        ),
        start=start,
        end=end,
    )


def insight_rule_alarm_event(
    rule: str, *, metric: str = "MaxContributorValue", state: str = "ALARM"
) -> dict[str, Any]:
    """A metric-math alarm on a Contributor Insights rule, as EventBridge delivers it."""
    return envelope(
        f"autoresponder-hot-key-{rule.split('-')[1].lower()}",
        {
            "value": state,
            "reason": "Threshold Crossed: 1 out of the last 1 datapoints was greater than 0.0",
            "reasonData": reason_data([1200.0]),
            "timestamp": cw_time(STATE_TIME),
        },
        {
            "description": "a key is hot",
            "metrics": [
                {
                    "id": "e1",
                    "expression": f"INSIGHT_RULE_METRIC('{rule}', '{metric}')",
                    "label": "hottest key",
                    "returnData": True,
                }
            ],
        },
    )


# ------------------------------------------------------------------------------------------
# A fake of the port (service tests)
# ------------------------------------------------------------------------------------------
@dataclass
class FakeInsights:
    """`ContributorInsightsPort` in memory; records every call."""

    statuses: dict[tuple[str, str | None], InsightsStatus] = field(default_factory=dict)
    reports: dict[str, RuleReport | AutoresponderError] = field(default_factory=dict)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    enabled: list[tuple[str, str | None, InsightsMode]] = field(default_factory=list)
    describe_error: AutoresponderError | None = None
    enable_error: AutoresponderError | None = None

    def add(
        self,
        table: str,
        index: str | None = None,
        *,
        status: str = "ENABLED",
        mode: InsightsMode = InsightsMode.ACCESSED_AND_THROTTLED_KEYS,
        rules: Sequence[str] | None = None,
        reports: Sequence[RuleReport] = (),
    ) -> None:
        resource = f"{table}-{index}" if index else table
        self.statuses[(table, index)] = InsightsStatus(
            table_name=table,
            index_name=index,
            status=status,
            mode=mode if status == "ENABLED" else None,
            rule_names=tuple(rules if rules is not None else rule_names(resource, mode=mode))
            if status == "ENABLED"
            else (),
        )
        for rule in self.statuses[(table, index)].rule_names:
            self.reports.pop(rule, None)
        for item in reports:
            self.reports[item.rule_name] = item

    def describe(self, table_name: str, index_name: str | None) -> InsightsStatus:
        self.calls.append(("describe", table_name, index_name or ""))
        if self.describe_error is not None:
            raise self.describe_error
        found = self.statuses.get((table_name, index_name))
        if found is None:
            raise ResourceNotFoundError("no such table", table=table_name)
        return found

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
        self.calls.append(("report", rule_name))
        found = self.reports.get(rule_name)
        if isinstance(found, AutoresponderError):
            raise found
        if found is None:  # a rule without traffic
            return RuleReport(rule_name=rule_name, kind=kind, start=start, end=end)
        return found.model_copy(update={"start": start, "end": end})

    def enable(self, table_name: str, index_name: str | None, mode: InsightsMode) -> str:
        self.calls.append(("enable", table_name, index_name or ""))
        if self.enable_error is not None:
            raise self.enable_error
        self.enabled.append((table_name, index_name, mode))
        return "ENABLING"

    def report_calls(self) -> list[str]:
        return [call[1] for call in self.calls if call[0] == "report"]


# ------------------------------------------------------------------------------------------
# A stub of the AWS API on the responder's own clients (handler tests on moto)
# ------------------------------------------------------------------------------------------
def _answer(status: int, body: Mapping[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {**body, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse("https://example.invalid", status, {}, None), parsed


def _error(code: str, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    return _answer(status, {"Error": {"Code": code, "Message": f"injected {code}"}})


@dataclass
class InsightsStub:
    """Answers DescribeContributorInsights, UpdateContributorInsights and GetInsightRuleReport
    for the handler's clients (moto implements none of them) from seeded data."""

    region: str = "us-east-1"
    statuses: dict[tuple[str, str | None], dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def table(
        self,
        table: str,
        index: str | None = None,
        *,
        status: str = "ENABLED",
        mode: InsightsMode = InsightsMode.ACCESSED_AND_THROTTLED_KEYS,
        sort_key: bool = True,
    ) -> list[str]:
        """Seed a table's (or index's) Contributor Insights status; returns its rule names."""
        resource = f"{table}-{index}" if index else table
        rules = rule_names(resource, sort_key=sort_key, mode=mode) if status == "ENABLED" else []
        answer: dict[str, Any] = {
            "TableName": table,
            "ContributorInsightsStatus": status,
            "ContributorInsightsRuleList": rules,
        }
        if index:
            answer["IndexName"] = index
        if status == "ENABLED":
            answer["ContributorInsightsMode"] = mode.value
        self.statuses[(table, index)] = answer
        return rules

    def report(
        self,
        rule: str,
        contributors: Sequence[tuple[Keys, float, Sequence[float]]],
        *,
        total: float | None = None,
        unique: int | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        """Seed a rule's report: [(keys, aggregate value, per-minute values)]."""
        start = WINDOW_START
        self.reports[rule] = {
            "KeyLabels": list(labels or (["pk", "sk"] if "-SK" in rule else ["pk"])),
            "AggregationStatistic": "Sum",
            "AggregateValue": total if total is not None else sum(c[1] for c in contributors),
            "ApproximateUniqueCount": unique if unique is not None else len(contributors),
            "Contributors": [
                {
                    "Keys": list(_keys(keys)),
                    "ApproximateAggregateValue": value,
                    "Datapoints": [
                        {"Timestamp": start + timedelta(minutes=i), "ApproximateValue": point}
                        for i, point in enumerate(points)
                    ],
                }
                for keys, value, points in contributors
            ],
            "MetricDatapoints": [],
        }

    def fail(self, operation: str, *codes: str) -> None:
        """The next calls of `operation` fail with these codes, in turn (`timeout`: no answer)."""
        self.failures.setdefault(operation, []).extend(codes)

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)

    def install(self) -> InsightsStub:
        """Hook the responder's cached clients (call again after `reset_caches()`)."""
        for service, operations in (
            ("dynamodb", ("DescribeContributorInsights", "UpdateContributorInsights")),
            ("cloudwatch", ("GetInsightRuleReport",)),
        ):
            events = client(service, self.region).meta.events
            for operation in operations:
                events.register(
                    f"provide-client-params.{service}.{operation}", self._remember(operation)
                )
                events.register(f"before-call.{service}.{operation}", self._respond(operation))
        return self

    def _remember(self, operation: str) -> Any:
        def remember(params: dict[str, Any], **_: Any) -> None:
            self.calls.append((operation, json.loads(json.dumps(params, default=str))))

        return remember

    def _respond(self, operation: str) -> Any:
        def respond(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            params = next(p for name, p in reversed(self.calls) if name == operation)
            pending = self.failures.get(operation)
            if pending:
                code = pending.pop(0)
                if code == "timeout":
                    raise ReadTimeoutError(endpoint_url=f"https://{operation}.invalid")
                return _error(code)
            return getattr(self, f"_{operation}")(params)

        return respond

    def _DescribeContributorInsights(self, params: dict[str, Any]) -> Any:
        found = self.statuses.get((params["TableName"], params.get("IndexName")))
        if found is None:
            return _error("ResourceNotFoundException")
        return _answer(200, found)

    def _UpdateContributorInsights(self, params: dict[str, Any]) -> Any:
        table, index = params["TableName"], params.get("IndexName")
        answer = {"TableName": table, "ContributorInsightsStatus": "ENABLING"}
        self.statuses[(table, index)] = {**answer, "ContributorInsightsRuleList": []}
        return _answer(200, answer)

    def _GetInsightRuleReport(self, params: dict[str, Any]) -> Any:
        found = self.reports.get(params["RuleName"])
        if found is None:
            return _answer(
                200,
                {
                    "KeyLabels": [],
                    "AggregateValue": 0.0,
                    "Contributors": [],
                    "MetricDatapoints": [],
                },
            )
        return _answer(200, found)
