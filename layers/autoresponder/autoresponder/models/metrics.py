"""CloudWatch metric series of DynamoDB tables: what one GetMetricData query reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

NAMESPACE = "AWS/DynamoDB"


@dataclass(frozen=True)
class Series:
    """One metric statistic of a table (or one of its GSIs, or one operation on it): the unit
    of a GetMetricData query."""

    table_name: str
    metric: str
    stat: str
    operation: str | None = None
    index_name: str | None = None

    @property
    def dimensions(self) -> dict[str, str]:
        dims = {"TableName": self.table_name}
        if self.index_name is not None:
            dims["GlobalSecondaryIndexName"] = self.index_name
        if self.operation is not None:
            dims["Operation"] = self.operation
        return dims


Points = Mapping[Series, Mapping[datetime, float]]
"""What GetMetricData answered: per series, the value of each period by its start time."""
