"""EventBridge Scheduler: one-time re-checks of a table (`at(...)`, deleted once run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.recheck import due_of, schedule_name, schedule_prefix


class EventBridgeScheduler(AwsAdapter):
    """Implements `Rechecks`: one-time schedules in the stack's schedule group, named after
    the table and the due time, which invoke the target each caller names (scale_back) with the
    re-check event, as `role_arn`, and delete themselves once run."""

    service = "scheduler"

    def __init__(
        self,
        group: str,
        role_arn: str,
        client: Any = None,
        region: str | None = None,
    ) -> None:
        self.group = group
        self.role_arn = role_arn
        super().__init__(client, region)

    def pending(self, table_name: str, after: datetime) -> datetime | None:
        """The soonest of the table's re-checks due after `after`, if any (the names carry
        their due time: ListSchedules answers names, not expressions)."""
        found: list[datetime] = []
        try:
            pages = self.client.get_paginator("list_schedules").paginate(
                GroupName=self.group, NamePrefix=schedule_prefix(table_name)
            )
            for page in pages:
                for schedule in page.get("Schedules", []):
                    due = due_of(str(schedule.get("Name", "")))
                    if due is not None and due > after:
                        found.append(due)
        except AWS_ERRORS as exc:
            raise translate(exc, "ListSchedules", table=table_name) from exc
        return min(found, default=None)

    def put(
        self,
        table_name: str,
        at: datetime,
        event: dict[str, Any],
        *,
        target_arn: str | None = None,
    ) -> None:
        """Create the table's re-check for `at` (one schedule per table and due time)."""
        if not target_arn:
            raise ValueError("no re-check target: RECHECK_TARGET_ARN or the function's own ARN")
        request: dict[str, Any] = {
            "Name": schedule_name(table_name, at),
            "GroupName": self.group,
            "ScheduleExpression": f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Description": f"dynamodb-autoresponder: look at table {table_name} again",
            "Target": {
                "Arn": target_arn,
                "RoleArn": self.role_arn,
                "Input": json.dumps(event),
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3},
            },
        }
        try:
            self.client.create_schedule(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                return  # this very look is already scheduled
            raise translate(exc, "CreateSchedule", table=table_name) from exc
        except AWS_ERRORS as exc:
            raise translate(exc, "CreateSchedule", table=table_name) from exc
