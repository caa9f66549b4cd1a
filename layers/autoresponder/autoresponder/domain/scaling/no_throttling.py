"""CloudWatch answered and shows nothing throttled: why the alarm fired anyway."""

from __future__ import annotations

from autoresponder.domain.diagnosis import Diagnosis
from autoresponder.domain.scaling.case import AlarmEvidence, ThrottleCase
from autoresponder.domain.scaling.plan import Plan
from autoresponder.domain.scaling.words import iso_minute
from autoresponder.domain.throttling import ThrottleCause, classify
from autoresponder.models.decision import Action


def nothing_throttled(case: ThrottleCase, lines: tuple[str, ...]) -> Plan:
    """CloudWatch answered and shows no throttling and no demand above capacity."""
    diagnosis = case.diagnosis
    assert diagnosis is not None
    where = f"table {case.table.table_name} and its {len(case.table.indexes)} GSI(s)"
    if not case.table.indexes:
        where = f"table {case.table.table_name}"
    seen = f"CloudWatch shows no throttling of {where} in the last {case.lookback_minutes} min"
    evidence = case.evidence
    if evidence is None or evidence.composite or evidence.sweep:
        return Plan(Action.SKIP, "no_throttling", f"{seen}: nothing to raise", lines=lines)
    return (
        _not_evaluated(evidence, seen, lines)
        or _not_yet_seen(diagnosis, evidence, seen, lines)
        or _not_a_throttle(evidence, seen, lines)
    )


def _not_evaluated(evidence: AlarmEvidence, seen: str, lines: tuple[str, ...]) -> Plan | None:
    """The alarm fired without a breaching evaluation: set by hand, or on missing data."""
    if evidence.manual:
        return Plan(
            Action.SKIP,
            "no_throttling.set_alarm_state",
            f"{seen}; alarm {evidence.alarm_name} was set to ALARM by hand (set-alarm-state: "
            f"{evidence.reason or 'no reason given'}), not by an evaluation: nothing to raise",
            lines=lines,
        )
    if not evidence.recent_datapoints:
        return Plan(
            Action.SKIP,
            "no_throttling.missing_data",
            f"{seen}; alarm {evidence.alarm_name} went to ALARM without a datapoint (missing "
            "data treated as breaching): nothing to raise",
            lines=lines,
            next_steps=(
                "Set the alarm's TreatMissingData to notBreaching: DynamoDB publishes throttle "
                "metrics only when something is throttled",
            ),
        )
    return None


def _not_yet_seen(
    diagnosis: Diagnosis, evidence: AlarmEvidence, seen: str, lines: tuple[str, ...]
) -> Plan | None:
    """The alarm saw throttling CloudWatch's answer does not show yet: look again (defer)."""
    disagreeing = _alarm_series_throttled(diagnosis)
    if disagreeing:
        return Plan(
            Action.DEFER,
            "metrics_disagree",
            f"{seen}, but the alarm's own metric ({', '.join(disagreeing)}) shows throttling: "
            "looking again shortly",
            lines=lines,
        )
    if not _lagging(diagnosis, evidence):
        return None
    if diagnosis.newest_datapoint is None:
        behind = "CloudWatch returned no datapoint yet"
    else:
        behind = f"CloudWatch's newest is {iso_minute(diagnosis.newest_datapoint)}"
    evaluated = (
        f" at {iso_minute(evidence.evaluated_at)}" if evidence.evaluated_at is not None else ""
    )
    return Plan(
        Action.DEFER,
        "metrics_lag",
        f"{seen}, but alarm {evidence.alarm_name} evaluated {_reported(evidence)}{evaluated} "
        f"and {behind}: publishing lag, looking again shortly",
        lines=lines,
    )


def _not_a_throttle(evidence: AlarmEvidence, seen: str, lines: tuple[str, ...]) -> Plan:
    """The alarm's datapoints are not throttling DynamoDB reports now."""
    if any("CapacityUnits" in t.metric_name for t in evidence.targets):
        # a capacity alarm (the pre-throttle one: consumed above provisioned)
        return Plan(
            Action.SKIP,
            "no_throttling",
            f"{seen}; alarm {evidence.alarm_name} reported {_reported(evidence)}, but the "
            "demand CloudWatch measures now is within the provisioned capacity: nothing to raise",
            lines=lines,
        )
    return Plan(
        Action.SKIP,
        "no_throttling",
        f"{seen}; alarm {evidence.alarm_name} reported {_reported(evidence)}: its metric is not "
        "a throttle DynamoDB reports for this table now, nothing to raise",
        lines=lines,
    )


def _reported(evidence: AlarmEvidence) -> str:
    return ", ".join(f"{p:g}" for p in evidence.recent_datapoints)


def _alarm_series_throttled(diagnosis: Diagnosis) -> list[str]:
    """The alarm's own throttle series CloudWatch answered with throttling in the window."""
    return sorted(
        {
            series.metric
            for series, values in diagnosis.alarm_points.items()
            if classify(series.metric, series.operation).cause is not ThrottleCause.NOT_THROTTLE
            and any(value > 0 for value in values.values())
        }
    )


def _lagging(diagnosis: Diagnosis, evidence: AlarmEvidence) -> bool:
    """The alarm saw a breaching datapoint newer than anything GetMetricData returned."""
    if not any(p > 0 for p in evidence.recent_datapoints):
        return False
    if evidence.evaluated_at is None:
        return diagnosis.newest_datapoint is None
    return diagnosis.newest_datapoint is None or diagnosis.newest_datapoint < evidence.evaluated_at
