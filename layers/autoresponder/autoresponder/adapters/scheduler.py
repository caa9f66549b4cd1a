"""EventBridge Scheduler: one-time re-checks of a table (`at(...)`, deleted once run)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from autoresponder.adapters.aws_errors import AWS_ERRORS, translate
from autoresponder.adapters.clients import AwsAdapter
from autoresponder.models.recheck import schedule_name

_AT = re.compile(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")


class EventBridgeScheduler(AwsAdapter):
    """Implements `Rechecks`: one schedule per table in the stack's schedule group, which
    invokes `target_arn` (scale_back) with the re-check event, as `role_arn`."""

    service = "scheduler"

    def __init__(
        self,
        group: str,
        role_arn: str,
        target_arn: str | None = None,
        client: Any = None,
        region: str | None = None,
    ) -> None:
        self.group = group
        self.role_arn = role_arn
        self.target_arn = target_arn
        super().__init__(client, region)

    def pending(self, table_name: str) -> datetime | None:
        """When the table's re-check is due, if one is scheduled."""
        try:
            answer = self.client.get_schedule(Name=schedule_name(table_name), GroupName=self.group)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise translate(exc, "GetSchedule", table=table_name) from exc
        except AWS_ERRORS as exc:
            raise translate(exc, "GetSchedule", table=table_name) from exc
        found = _AT.match(str(answer.get("ScheduleExpression", "")))
        return datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC) if found else None

    def put(
        self,
        table_name: str,
        at: datetime,
        event: dict[str, Any],
        *,
        target_arn: str | None = None,
    ) -> None:
        """Create the table's re-check for `at`, or move the one there is."""
        target = target_arn or self.target_arn
        if not target:
            raise ValueError("no re-check target: RECHECK_TARGET_ARN or the function's own ARN")
        request: dict[str, Any] = {
            "Name": schedule_name(table_name),
            "GroupName": self.group,
            "ScheduleExpression": f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Description": f"dynamodb-autoresponder: look at table {table_name} again",
            "Target": {
                "Arn": target,
                "RoleArn": self.role_arn,
                "Input": json.dumps(event),
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3},
            },
        }
        try:
            try:
                self.client.create_schedule(**request)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConflictException":
                    raise
                self.client.update_schedule(**request)
        except AWS_ERRORS as exc:
            raise translate(exc, "CreateSchedule", table=table_name) from exc
