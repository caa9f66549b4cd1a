"""The kill switch: an SSM parameter that turns every runbook into dry run, without a deploy.

The stack keeps `true` or `false` in `/<stack>/autoresponder/dry-run` (stack parameter
`KillSwitch`); `aws ssm put-parameter --name ... --value true --overwrite` pulls the brake.
Each execution environment reads it through Powertools Parameters and caches it for
`max_age_seconds`, so a flip takes effect within that time.

Failing safe: when the parameter cannot be read (missing, denied, SSM unavailable) or holds
anything but `true`/`false`, the switch counts as engaged: the responder decides and notifies
(as `[DRY RUN]`) but changes nothing, and logs why. A brake that cannot be read is treated as
pulled: a skipped automatic change is announced and can be made by hand, a change made
against the operator's instruction cannot be taken back. Failures are not cached, so the next
invocation reads again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from autoresponder.adapters.clients import client as default_client
from autoresponder.observability import logger, metrics

UNREADABLE_METRIC = "KillSwitchUnreadable"


def parse_switch(value: object) -> bool | None:
    """`true`/`false` (any case, surrounding blanks ignored) → engaged or not; else None."""
    if not isinstance(value, str):
        return None
    return {"true": True, "false": False}.get(value.strip().lower())


class NoDryRunSwitch:
    """Implements `DryRunSwitch` when no parameter is configured: never engaged, no AWS call."""

    def engaged(self) -> bool:
        return False


class SsmDryRunSwitch:
    """Implements `DryRunSwitch` with an SSM String parameter (Powertools Parameters)."""

    def __init__(
        self,
        parameter_name: str,
        *,
        max_age_seconds: int = 60,
        client: Any = None,
        region: str | None = None,
    ) -> None:
        self.parameter_name = parameter_name
        self._max_age = max_age_seconds
        self._client = client
        self._region = region
        self._provider: SSMProvider | None = None

    @property
    def provider(self) -> SSMProvider:
        if self._provider is None:
            ssm = self._client if self._client is not None else default_client("ssm", self._region)
            self._provider = SSMProvider(boto3_client=ssm)
        return self._provider

    def engaged(self) -> bool:
        try:
            value = self.provider.get(self.parameter_name, max_age=self._max_age)
        except GetParameterError as exc:
            logger.error(
                "kill switch unreadable: acting as dry run",
                parameter=self.parameter_name,
                error=str(exc),
            )
            return self._fail_safe()
        engaged = parse_switch(value)
        if engaged is None:
            logger.error(
                "kill switch holds neither true nor false: acting as dry run",
                parameter=self.parameter_name,
                value=str(value)[:100],
            )
            return self._fail_safe()
        if engaged:
            logger.info("kill switch engaged: acting as dry run", parameter=self.parameter_name)
        return engaged

    @staticmethod
    def _fail_safe() -> bool:
        metrics.add_metric(name=UNREADABLE_METRIC, unit=MetricUnit.Count, value=1)
        return True
