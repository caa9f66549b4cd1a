"""Ask for the next look at a table (a one-time re-check), never failing the decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from autoresponder.domain.next_look import NextLook
from autoresponder.errors import AutoresponderError
from autoresponder.models.recheck import recheck_event
from autoresponder.observability import logger
from autoresponder.services.ports import Clock, Rechecks


class LookAgain:
    """Schedules a table's re-check, unless an earlier one is already due. A scheduler error
    is logged and answered by the 15-minute schedule: a decision never fails for it."""

    def __init__(self, rechecks: Rechecks | None, clock: Clock) -> None:
        self._rechecks = rechecks
        self._clock = clock

    def ask(
        self,
        table_name: str,
        look: NextLook,
        *,
        account: str,
        region: str,
        target_arn: str | None = None,
    ) -> datetime | None:
        """When the table will be looked at again (None: only by the schedule)."""
        if self._rechecks is None:
            return None
        look = replace(look, at=whole_second(look.at))
        try:
            pending = self._rechecks.pending(table_name, self._clock.now())
            if pending is not None and pending <= look.at:
                return pending  # a look no later than this one is already scheduled
            event = recheck_event(table_name, look.at, look.reason, account=account, region=region)
            self._rechecks.put(table_name, look.at, event, target_arn=target_arn)
        except (AutoresponderError, ValueError) as exc:
            logger.warning(
                "re-check not scheduled: the 15-minute schedule looks again",
                table=table_name,
                at=look.at.isoformat(),
                error=str(exc),
            )
            return None
        logger.info("re-check scheduled", table=table_name, at=look.at.isoformat(), why=look.reason)
        return look.at


def whole_second(at: datetime) -> datetime:
    """`at` rounded up to the second: Scheduler's `at(...)` has no fractions, and the decision
    must name the moment the schedule holds (never one before the look is due)."""
    if at.microsecond == 0:
        return at
    return at.replace(microsecond=0) + timedelta(seconds=1)
