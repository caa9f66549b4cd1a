"""Contributor Insights in the local AWS, with seeded demo traffic.

moto implements neither DynamoDB's `DescribeContributorInsights` / `UpdateContributorInsights`
nor CloudWatch's `GetInsightRuleReport`. This module adds them to the local AWS through the
emulator's extension mechanism (`local.emulator.extension`), and only there: the shipped layer
calls the real APIs and never knows this module exists.

* Contributor Insights is ENABLED (`ACCESSED_AND_THROTTLED_KEYS`) on the tables and indexes of
  `DEMO_TRAFFIC` from the start, DISABLED everywhere else; `UpdateContributorInsights` switches
  it (the state lives on moto's table object, so a moto reset clears it).
* Rule names follow DynamoDB's pattern, `DynamoDBContributorInsights-{PKC,PKT,SKC,SKT}-<table or
  table-index>-<creation timestamp>`, with the fixed timestamp `RULE_STAMP` so that the sample
  events (`events/insight_rule_alarm.json`) can name them; SKC/SKT only where the table or index
  has a sort key, PKT/SKT only in `THROTTLED_KEYS` mode.
* `GetInsightRuleReport` answers from `DEMO_TRAFFIC`: steady per-key rates over whatever window
  is asked (the sample events carry fixed timestamps), with the busiest period last. It matches
  the demo events: the hot customer behind `events/key_range_throttle.json` on `orders`, the
  busy customer on index `by-customer` behind `events/insight_rule_alarm.json`; `profiles`
  (`events/key_range_throttle_insights_off.json`) has Contributor Insights off.

The module registers itself when imported; `local.emulator` imports it at its end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.exceptions import ResourceNotFoundException as RuleNotFound
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import MockValidationException, ResourceNotFoundException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from local.emulator import extension

RULE_STAMP = "1763600000000"
"""Creation timestamp in every rule name (DynamoDB uses the enabling time): fixed for the demo."""
ACCESSED_AND_THROTTLED = "ACCESSED_AND_THROTTLED_KEYS"
THROTTLED_ONLY = "THROTTLED_KEYS"
_STATE_ATTR = "_local_contributor_insights"


@dataclass(frozen=True)
class KeyTraffic:
    """One key's traffic: consumed units per second (accessed rules), throttled requests per
    minute (throttled rules)."""

    keys: tuple[str, ...]
    units_per_second: float = 0.0
    throttled_per_minute: float = 0.0


@dataclass(frozen=True)
class ResourceTraffic:
    partition_keys: tuple[KeyTraffic, ...]
    items: tuple[KeyTraffic, ...] = ()
    """Partition and sort key (tables and indexes with a sort key)."""
    tail_units_per_second: float = 0.0
    """Everything the listed keys do not account for, spread over `tail_keys` keys."""
    tail_throttled_per_minute: float = 0.0
    tail_keys: int = 0


DEMO_TRAFFIC: dict[tuple[str, str | None], ResourceTraffic] = {
    # orders: ~190 units/s consumed (70 write + 120 read, as the demo's metrics say); one
    # customer takes two thirds of it, and nearly all of the 310 throttles a minute of
    # events/key_range_throttle.json: its partition is at its limit.
    ("orders", None): ResourceTraffic(
        partition_keys=(
            KeyTraffic(("cust#0042",), 122.0, 290.0),
            KeyTraffic(("cust#0007",), 9.0, 12.0),
            KeyTraffic(("cust#0815",), 6.0),
        ),
        items=(
            KeyTraffic(("cust#0042", "order#open"), 96.0, 262.0),
            KeyTraffic(("cust#0042", "order#2026-11-20#0193"), 8.0, 20.0),
            KeyTraffic(("cust#0007", "order#2026-11-19#0077"), 4.0, 12.0),
        ),
        tail_units_per_second=53.0,
        tail_throttled_per_minute=8.0,
        tail_keys=1_840,
    ),
    # index by-customer: ~100 units/s (40 write + 60 read); the same customer takes 70 % of
    # it, below a partition's limit and not throttled: events/insight_rule_alarm.json.
    ("orders", "by-customer"): ResourceTraffic(
        partition_keys=(
            KeyTraffic(("cust#0042",), 70.0),
            KeyTraffic(("cust#0007",), 5.0),
        ),
        items=(KeyTraffic(("cust#0042", "2026-11-20T14:17:55Z"), 3.0),),
        tail_units_per_second=25.0,
        tail_keys=1_310,
    ),
}


# ------------------------------------------------------------------------------------------
# DynamoDB: the status and rules of a table or index
# ------------------------------------------------------------------------------------------
def _resource_name(table: str, index: str | None) -> str:
    return f"{table}-{index}" if index else table


def _kinds(mode: str, sort_key: bool) -> list[str]:
    kinds = ["PKC", "PKT", "SKC", "SKT"] if sort_key else ["PKC", "PKT"]
    return [k for k in kinds if k.endswith("T")] if mode == THROTTLED_ONLY else kinds


def _key_names(table: Any, index: str | None) -> list[str]:
    """Partition key, then sort key if any, of a moto table or one of its indexes."""
    if index is None:
        return [k for k in (table.hash_key_attr, table.range_key_attr) if k]
    for gsi in [*table.global_indexes, *table.indexes]:
        if gsi.name == index:
            ordered = sorted(gsi.schema, key=lambda k: 0 if k["KeyType"] == "HASH" else 1)
            return [k["AttributeName"] for k in ordered]
    raise ResourceNotFoundException(f"Requested resource not found: index {index}")


def _state(table: Any, index: str | None) -> dict[str, Any]:
    states: dict[str | None, dict[str, Any]] = table.__dict__.setdefault(_STATE_ATTR, {})
    if index not in states:
        seeded = (table.name, index) in DEMO_TRAFFIC
        states[index] = {
            "status": "ENABLED" if seeded else "DISABLED",
            "mode": ACCESSED_AND_THROTTLED if seeded else None,
            "updated": datetime(2025, 11, 20, 0, 53, 20, tzinfo=UTC),
        }
    return states[index]


def _describe(table: Any, index: str | None) -> dict[str, Any]:
    names = _key_names(table, index)
    state = _state(table, index)
    answer: dict[str, Any] = {
        "TableName": table.name,
        "ContributorInsightsStatus": state["status"],
        "ContributorInsightsRuleList": [],
        "LastUpdateDateTime": state["updated"].timestamp(),
    }
    if index:
        answer["IndexName"] = index
    if state["status"] == "ENABLED":
        resource = _resource_name(table.name, index)
        answer["ContributorInsightsRuleList"] = [
            f"DynamoDBContributorInsights-{kind}-{resource}-{RULE_STAMP}"
            for kind in _kinds(state["mode"], len(names) > 1)
        ]
        answer["ContributorInsightsMode"] = state["mode"]
    return answer


@extension("dynamodb")
class DynamoDBContributorInsights(DynamoHandler):
    """DescribeContributorInsights, UpdateContributorInsights, ListContributorInsights."""

    def describe_contributor_insights(self) -> ActionResult:
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        return DynamoResult(_describe(table, self.body.get("IndexName")))

    def update_contributor_insights(self) -> ActionResult:
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        index = self.body.get("IndexName")
        _key_names(table, index)  # the index must exist
        action = self.body.get("ContributorInsightsAction")
        mode = self.body.get("ContributorInsightsMode") or ACCESSED_AND_THROTTLED
        if action not in {"ENABLE", "DISABLE"} or mode not in {
            ACCESSED_AND_THROTTLED,
            THROTTLED_ONLY,
        }:
            raise MockValidationException(
                "ContributorInsightsAction must be ENABLE or DISABLE, ContributorInsightsMode "
                f"{ACCESSED_AND_THROTTLED} or {THROTTLED_ONLY}"
            )
        state = _state(table, index)
        state.update(
            status="ENABLED" if action == "ENABLE" else "DISABLED",
            mode=mode if action == "ENABLE" else None,
            updated=datetime.now(UTC),
        )
        answer: dict[str, Any] = {
            "TableName": table.name,
            "ContributorInsightsStatus": "ENABLING" if action == "ENABLE" else "DISABLING",
        }
        if index:
            answer["IndexName"] = index
        if action == "ENABLE":
            answer["ContributorInsightsMode"] = mode
        return DynamoResult(answer)

    def list_contributor_insights(self) -> ActionResult:
        wanted = self.body.get("TableName")
        summaries = []
        for table in self.dynamodb_backend.tables.values():
            if wanted and table.name != wanted:
                continue
            for index in [None, *(i.name for i in table.global_indexes)]:
                described = _describe(table, index)
                summary = {
                    "TableName": table.name,
                    "ContributorInsightsStatus": described["ContributorInsightsStatus"],
                }
                if index:
                    summary["IndexName"] = index
                if "ContributorInsightsMode" in described:
                    summary["ContributorInsightsMode"] = described["ContributorInsightsMode"]
                summaries.append(summary)
        return DynamoResult({"ContributorInsightsSummaries": summaries})


# ------------------------------------------------------------------------------------------
# CloudWatch: the report of one rule
# ------------------------------------------------------------------------------------------
def _find_rule(account: str, region: str, rule_name: str) -> tuple[Any, str | None, str] | None:
    """(moto table, index, rule kind) of an enabled DynamoDB rule of this account and region."""
    backend = dynamodb_backends[account][region]
    for table in backend.tables.values():
        for index in [None, *(i.name for i in table.global_indexes)]:
            if rule_name in _describe(table, index)["ContributorInsightsRuleList"]:
                return table, index, rule_name.split("-")[1]
    return None


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _periods(start: datetime, end: datetime, period: int) -> Iterator[datetime]:
    first = datetime.fromtimestamp(math.floor(start.timestamp() / period) * period, UTC)
    current = first
    while current < end:
        yield current
        current += timedelta(seconds=period)


def rule_report(
    traffic: ResourceTraffic,
    kind: str,
    key_names: list[str],
    *,
    start: datetime,
    end: datetime,
    period: int,
    max_contributors: int,
) -> dict[str, Any]:
    """A `GetInsightRuleReport` answer from seeded traffic: each key steady at 90 % of its
    rate, and at its full rate in the last period (the one the alarm fired on)."""
    throttled = kind.endswith("T")
    item_level = kind.startswith("S")
    keys = traffic.items if item_level else traffic.partition_keys
    steps = list(_periods(start, end, period)) or [start]

    def per_period(entry: KeyTraffic) -> float:
        if throttled:
            return entry.throttled_per_minute * period / 60
        return entry.units_per_second * period

    def series(full: float) -> list[float]:
        return [round(full * (1.0 if i == len(steps) - 1 else 0.9), 2) for i in range(len(steps))]

    contributors = []
    for entry in keys:
        values = series(per_period(entry))
        if sum(values) > 0:
            contributors.append((entry, values))
    contributors.sort(key=lambda c: sum(c[1]), reverse=True)
    tail_rate = (
        traffic.tail_throttled_per_minute * period / 60
        if throttled
        else traffic.tail_units_per_second * period
    )
    listed_total = sum(sum(values) for _, values in contributors)
    total = listed_total + sum(series(tail_rate))
    unique = len(contributors) + (traffic.tail_keys if tail_rate else 0)
    names = key_names[: 2 if item_level else 1]
    return {
        "KeyLabels": names,
        "AggregationStatistic": "Sum",
        "AggregateValue": round(total, 2),
        "ApproximateUniqueCount": unique,
        "Contributors": [
            {
                "Keys": list(entry.keys),
                "ApproximateAggregateValue": round(sum(values), 2),
                "Datapoints": [
                    {"Timestamp": step, "ApproximateValue": value}
                    for step, value in zip(steps, values, strict=True)
                ],
            }
            for entry, values in contributors[:max_contributors]
        ],
        "MetricDatapoints": [
            {"Timestamp": step, "UniqueContributors": float(unique)} for step in steps
        ],
    }


@extension("cloudwatch")
class CloudWatchInsightRuleReports(CloudWatchResponse):
    """GetInsightRuleReport for the DynamoDB-managed rules above."""

    def get_insight_rule_report(self) -> ActionResult:
        rule_name = self._get_param("RuleName")
        found = _find_rule(self.current_account, self.region, rule_name)
        if found is None:
            raise RuleNotFound(f"Rule {rule_name} does not exist")
        table, index, kind = found
        traffic = DEMO_TRAFFIC.get((table.name, index), ResourceTraffic(partition_keys=()))
        period = int(self._get_param("Period") or 60)
        answer = rule_report(
            traffic,
            kind,
            _key_names(table, index),
            start=_instant(self._get_param("StartTime")),
            end=_instant(self._get_param("EndTime")),
            period=period,
            max_contributors=int(self._get_param("MaxContributorCount") or 10),
        )
        return ActionResult(answer)
