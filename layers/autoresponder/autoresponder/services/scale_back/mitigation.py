"""Throttling episodes a look shows over: their time to mitigation, recorded once."""

from __future__ import annotations

from dataclasses import replace

from autoresponder.domain.diagnosis import Diagnosis
from autoresponder.domain.next_look import Mitigated, mitigated
from autoresponder.models.decision import Action, Decision
from autoresponder.services.ports import ScaleHistoryStore
from autoresponder.services.scale_back.raised import Raised
from autoresponder.services.scale_back.run_records import RunRecords


def record_mitigated(
    history: ScaleHistoryStore,
    records: RunRecords,
    raised: Raised,
    diagnosis: Diagnosis | None,
) -> list[Decision]:
    """Mark each episode over in its capacity record (and in `raised`), and record a
    decision that says how long it took."""
    found = []
    for episode in mitigated(raised, diagnosis):
        record = raised[episode.key]
        done = replace(record, mitigated_at=episode.stopped_at)
        history.save_scale_history(records.table_name, *episode.key, done)
        raised[episode.key] = done
        found.append(records.record(_decision(records, episode)))
    return found


def _decision(records: RunRecords, episode: Mitigated) -> Decision:
    index, dimension = episode.key
    where = f"{dimension.value}s of {'index ' + index if index else 'the table'}"
    seconds = episode.seconds
    when = (
        f"throttling stopped at {episode.stopped_at:%H:%M} UTC, {seconds / 60:g} min after "
        f"the first throttled minute ({episode.started_at:%H:%M} UTC)"
        if seconds is not None
        else f"throttling that started at {episode.started_at:%H:%M} UTC stopped before "
        f"{episode.stopped_at:%H:%M} UTC, the first minute this look read: the time to "
        "mitigation is not measured"
    )
    return records.build(
        "episode",
        index_name=index,
        dimension=dimension,
        action=Action.SKIP,
        rule="episode.mitigated",
        reason=f"{where} of {records.table_name}: {when}",
        dry_run=records.dry_run,
        inputs={
            "episode_start": episode.started_at.isoformat(),
            "mitigated_at": episode.stopped_at.isoformat(),
        },
        time_to_mitigation=seconds,
    )
