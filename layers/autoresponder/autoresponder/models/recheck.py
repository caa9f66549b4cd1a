"""A one-time re-check of one table: the event a Scheduler schedule delivers to scale_back.

Where a change has not landed yet, or an episode is not over, the responder asks EventBridge
Scheduler for a one-time schedule (`at(...)`, deleted after it runs) whose input is this event:
the same pass as an alarm's, for that table only, at the moment it is due.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from autoresponder.models.names import TableName

RECHECK_SOURCE = "dynamodb-autoresponder"
RECHECK_DETAIL_TYPE = "DynamoDB Auto-Responder Re-check"


class RecheckDetail(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: TableName
    reason: str = Field(default="", max_length=500)


class RecheckEvent(BaseModel):
    """The re-check's envelope (EventBridge-like, so every runbook's origin check applies)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    id: str = Field(default="", max_length=128)
    source: Literal["dynamodb-autoresponder"]
    detail_type: Literal["DynamoDB Auto-Responder Re-check"] = Field(alias="detail-type")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    time: AwareDatetime
    """When the re-check is due: it keys the run's decisions."""
    detail: RecheckDetail

    @property
    def run_key(self) -> str:
        return f"recheck@{self.detail.table_name}@{self.time.isoformat()}"


def recheck_event(
    table_name: str, at: datetime, reason: str, *, account: str, region: str
) -> dict[str, Any]:
    """The input of the schedule that looks at `table_name` at `at`."""
    return {
        "version": "0",
        "id": schedule_name(table_name, at),
        "detail-type": RECHECK_DETAIL_TYPE,
        "source": RECHECK_SOURCE,
        "account": account,
        "time": at.isoformat(),
        "region": region,
        "resources": [],
        "detail": {"table_name": table_name, "reason": reason[:500]},
    }


def schedule_prefix(table_name: str) -> str:
    """What every re-check schedule of a table is named with: `recheck-<table>-<hash>-`."""
    digest = hashlib.sha256(table_name.encode()).hexdigest()[:10]
    return f"recheck-{table_name[:28]}-{digest}-"


def schedule_name(table_name: str, at: datetime) -> str:
    """One schedule per table and due time, within Scheduler's 64 characters of
    `[0-9A-Za-z._-]`: a look asked for while another of the table's runs (and Scheduler is
    about to delete that one) never lands on the running schedule's name."""
    return f"{schedule_prefix(table_name)}{at.astimezone(UTC):%Y%m%dT%H%M%S}"


def due_of(name: str) -> datetime | None:
    """When the schedule named `name` is due (None: not a re-check's name)."""
    found = _DUE.search(name)
    if found is None:
        return None
    return datetime.strptime(found.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


_DUE = re.compile(r"-(\d{8}T\d{6})$")
