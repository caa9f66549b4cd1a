"""DynamoDB control plane: describe tables, read tags, change capacity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.table import (
    BillingMode,
    Capacity,
    CapacityUnit,
    OnDemandLimits,
    TableDescription,
)


def _on_demand(raw: dict[str, Any] | None) -> OnDemandLimits:
    raw = raw or {}

    def cap(key: str) -> int | None:
        value = raw.get(key)
        return int(value) if isinstance(value, int) and value > 0 else None

    return OnDemandLimits(read=cap("MaxReadRequestUnits"), write=cap("MaxWriteRequestUnits"))


def _unit(raw: dict[str, Any], index_name: str | None, on_demand: bool) -> CapacityUnit:
    throughput = raw.get("ProvisionedThroughput") or {}
    provisioned = (
        None
        if on_demand
        else Capacity(
            read=int(throughput.get("ReadCapacityUnits", 0)),
            write=int(throughput.get("WriteCapacityUnits", 0)),
        )
    )
    last_decrease = throughput.get("LastDecreaseDateTime")
    last_increase = throughput.get("LastIncreaseDateTime")
    return CapacityUnit(
        index_name=index_name,
        status=raw.get("IndexStatus") or raw.get("TableStatus") or "ACTIVE",
        provisioned=provisioned,
        on_demand_max=_on_demand(raw.get("OnDemandThroughput")),
        decreases_today=int(throughput.get("NumberOfDecreasesToday", 0)),
        last_decrease_at=last_decrease if isinstance(last_decrease, datetime) else None,
        last_increase_at=last_increase if isinstance(last_increase, datetime) else None,
    )


def parse_table(raw: dict[str, Any]) -> TableDescription:
    """A `DescribeTable` answer as the domain's `TableDescription`."""
    mode = (raw.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    on_demand = mode == BillingMode.PAY_PER_REQUEST.value
    keys = {k["KeyType"]: k["AttributeName"] for k in raw.get("KeySchema", [])}
    return TableDescription(
        table_name=raw["TableName"],
        table_arn=raw["TableArn"],
        status=raw.get("TableStatus", "ACTIVE"),
        billing_mode=BillingMode(mode),
        table=_unit(raw, None, on_demand),
        indexes={
            gsi["IndexName"]: _unit(gsi, gsi["IndexName"], on_demand)
            for gsi in raw.get("GlobalSecondaryIndexes", [])
        },
        has_sort_key="RANGE" in keys,
        partition_key=keys.get("HASH"),
        sort_key=keys.get("RANGE"),
    )


class DynamoDBTables(AwsAdapter):
    """Implements `TableReader` and `CapacityWriter`."""

    service = "dynamodb"

    def describe(self, table_name: str) -> TableDescription:
        try:
            raw = self.client.describe_table(TableName=table_name)["Table"]
        except AWS_ERRORS as exc:
            raise translate(exc, "DescribeTable", table=table_name) from exc
        return parse_table(raw)

    def tags(self, table_arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        kwargs: dict[str, Any] = {"ResourceArn": table_arn}
        try:
            while True:
                page = self.client.list_tags_of_resource(**kwargs)
                tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
                if not page.get("NextToken"):
                    return tags
                kwargs["NextToken"] = page["NextToken"]
        except AWS_ERRORS as exc:
            raise translate(exc, "ListTagsOfResource", resource=table_arn) from exc

    def list_table_names(self) -> list[str]:
        try:
            paginator = self.client.get_paginator("list_tables")
            return [name for page in paginator.paginate() for name in page.get("TableNames", [])]
        except AWS_ERRORS as exc:
            raise translate(exc, "ListTables") from exc

    def set_provisioned(self, table_name: str, index_name: str | None, capacity: Capacity) -> None:
        throughput = {"ReadCapacityUnits": capacity.read, "WriteCapacityUnits": capacity.write}
        if index_name is None:
            kwargs: dict[str, Any] = {"ProvisionedThroughput": throughput}
        else:
            kwargs = {
                "GlobalSecondaryIndexUpdates": [
                    {"Update": {"IndexName": index_name, "ProvisionedThroughput": throughput}}
                ]
            }
        self._update(table_name, index_name, kwargs)

    def set_on_demand_max(
        self, table_name: str, index_name: str | None, limits: OnDemandLimits
    ) -> None:
        caps = {
            "MaxReadRequestUnits": limits.read if limits.read is not None else -1,
            "MaxWriteRequestUnits": limits.write if limits.write is not None else -1,
        }
        if index_name is None:
            kwargs: dict[str, Any] = {"OnDemandThroughput": caps}
        else:
            kwargs = {
                "GlobalSecondaryIndexUpdates": [
                    {"Update": {"IndexName": index_name, "OnDemandThroughput": caps}}
                ]
            }
        self._update(table_name, index_name, kwargs)

    def _update(self, table_name: str, index_name: str | None, kwargs: dict[str, Any]) -> None:
        try:
            self.client.update_table(TableName=table_name, **kwargs)
        except AWS_ERRORS as exc:
            raise translate(exc, "UpdateTable", table=table_name, index=index_name) from exc
