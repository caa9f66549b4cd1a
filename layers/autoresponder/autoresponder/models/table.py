"""What the responder knows of a table: capacity, status, Auto Scaling targets, tag policy."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from autoresponder.models.tags import (
    MAX_READ_TAG,
    MAX_WRITE_TAG,
    is_managed,
    positive_units,
    wants_dry_run,
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Dimension(StrEnum):
    READ = "read"
    WRITE = "write"


class BillingMode(StrEnum):
    PROVISIONED = "PROVISIONED"
    PAY_PER_REQUEST = "PAY_PER_REQUEST"


class Capacity(_Model):
    """Provisioned units of a table or index (both, as UpdateTable requires)."""

    read: int = Field(ge=0)
    write: int = Field(ge=0)

    def of(self, dimension: Dimension) -> int:
        return self.read if dimension is Dimension.READ else self.write

    def with_(self, dimension: Dimension, units: int) -> Capacity:
        if dimension is Dimension.READ:
            return Capacity(read=units, write=self.write)
        return Capacity(read=self.read, write=units)


class OnDemandLimits(_Model):
    """A table's own `OnDemandThroughput` caps; None where there is no cap (-1)."""

    read: int | None = None
    write: int | None = None

    def of(self, dimension: Dimension) -> int | None:
        return self.read if dimension is Dimension.READ else self.write

    def with_(self, dimension: Dimension, units: int) -> OnDemandLimits:
        if dimension is Dimension.READ:
            return OnDemandLimits(read=units, write=self.write)
        return OnDemandLimits(read=self.read, write=units)


class CapacityUnit(_Model):
    """A table or one of its GSIs: what UpdateTable and the decrease budget count separately."""

    index_name: str | None = None
    status: str = "ACTIVE"
    provisioned: Capacity | None = None
    on_demand_max: OnDemandLimits = Field(default_factory=OnDemandLimits)
    decreases_today: int = 0
    last_decrease_at: datetime | None = None
    last_increase_at: datetime | None = None


class TableDescription(_Model):
    table_name: str
    table_arn: str
    status: str
    billing_mode: BillingMode
    table: CapacityUnit
    indexes: dict[str, CapacityUnit] = Field(default_factory=dict)
    has_sort_key: bool = False
    partition_key: str | None = None
    sort_key: str | None = None

    def unit(self, index_name: str | None) -> CapacityUnit | None:
        return self.table if index_name is None else self.indexes.get(index_name)

    @property
    def is_on_demand(self) -> bool:
        return self.billing_mode is BillingMode.PAY_PER_REQUEST


class ScalableTarget(_Model):
    """An Application Auto Scaling target on a table or index dimension."""

    resource_id: str
    """`table/<name>` or `table/<name>/index/<index>`."""
    scalable_dimension: str
    """e.g. `dynamodb:table:WriteCapacityUnits`, `dynamodb:index:ReadCapacityUnits`."""
    min_capacity: int
    max_capacity: int


class TablePolicy(_Model):
    """Per-table policy read from the table's tags (`autoresponder.models.tags`)."""

    managed: bool = False
    dry_run: bool = False
    max_read_units: int | None = None
    max_write_units: int | None = None

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> TablePolicy:
        return cls(
            managed=is_managed(tags),
            dry_run=wants_dry_run(tags),
            max_read_units=positive_units(tags, MAX_READ_TAG),
            max_write_units=positive_units(tags, MAX_WRITE_TAG),
        )

    def ceiling(
        self,
        dimension: Dimension,
        default_read: int,
        default_write: int,
        hard_max_read: int | None = None,
        hard_max_write: int | None = None,
    ) -> int:
        """The most the responder may set: the table's tag, else the default setting, and
        never above the stack's hard maximum (a tag may only lower it, never raise it)."""
        if dimension is Dimension.READ:
            wanted, hard = self.max_read_units or default_read, hard_max_read
        else:
            wanted, hard = self.max_write_units or default_write, hard_max_write
        return wanted if hard is None else min(wanted, hard)
