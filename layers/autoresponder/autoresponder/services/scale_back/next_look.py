"""A table's next look: where a change has not landed yet or an episode is not over
(docs/architecture.md, "The control loop"); the 15-minute schedule covers the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from autoresponder.domain.next_look import LookPolicy, next_look
from autoresponder.domain.scaling.history import RAISES
from autoresponder.services.rechecks import LookAgain
from autoresponder.services.scale_back.raised import Raised
from autoresponder.services.scale_back.run_records import RunRecords


@dataclass(frozen=True)
class Seen:
    """What a run's look at a managed table found, for its next look."""

    records: Raised
    raised_now: bool
    """Whether this run asked for a raise (its re-check is due when it should land)."""
    updating: bool
    tight: bool
    """Whether demand is climbing into a raise's headroom (look again soon)."""
    holds_until: Sequence[datetime]


def look_again(
    looks: LookAgain,
    records: RunRecords,
    seen: Seen,
    *,
    now: datetime,
    policy: LookPolicy,
    target_arn: str | None,
) -> datetime | None:
    """Ask for the table's next look, if it needs one before the schedule's; when it is."""
    raises = [r for r in seen.records.values() if r.action in RAISES]
    look = next_look(
        now,
        changed=seen.raised_now,
        updating=seen.updating,
        unsettled=any(not r.pending and r.mitigated_at is None for r in raises),
        tight=seen.tight,
        last_raise_at=max((r.scaled_at for r in raises), default=None),
        holds_until=seen.holds_until,
        policy=policy,
    )
    if look is None:
        return None
    event = records.event
    return looks.ask(
        records.table_name,
        look,
        account=event.account,
        region=event.region,
        target_arn=target_arn,
    )
