"""What a scale_back run is started by, and how it is configured."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from autoresponder.domain.cost import Prices
from autoresponder.domain.next_look import LookPolicy
from autoresponder.domain.scale_back.policy import ScaleBackPolicy
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.models.recheck import RecheckEvent
from autoresponder.models.scale_back import ScheduledEvent
from autoresponder.services.throttle_pass import PassConfig

RUNBOOK = "scale_back"

Run = ScheduledEvent | RecheckEvent
"""What runs scale_back: the 15-minute schedule (every table) or a re-check (one table)."""


@dataclass(frozen=True)
class ScaleBackConfig:
    policy: ScaleBackPolicy
    throttle: ScalingPolicy
    """The throttle runbook's policy: follow-ups keep the same guardrails."""
    prices: Prices
    dry_run: bool = False
    lookback: timedelta = timedelta(minutes=15)
    """The throttle pass's window (as scale_on_throttle); one read per table covers it and the
    longest window of the table's raised units."""
    lock_seconds: int = 60
    looks: LookPolicy = field(default_factory=LookPolicy)
    """When to look at a table again (a one-time re-check)."""
    recheck_target: str | None = None
    """Where the re-checks run; None: this function itself (its own ARN)."""

    @property
    def pass_config(self) -> PassConfig:
        """The throttle pass decides over the lookback; the scale-back reads each unit's own
        window from the same observation (`observe_for`)."""
        return PassConfig(
            policy=self.throttle, lookback=self.lookback, dry_run=self.dry_run, back=self.policy
        )
