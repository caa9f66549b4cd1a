"""The flag_hot_keys report: the hot keys flagged, or what was examined and found none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autoresponder.domain.hot_keys.loads import KeyLoad, measure_keys
from autoresponder.domain.hot_keys.policy import HotKeyThresholds, partition_limit
from autoresponder.domain.hot_keys.ranking import rank_hot_keys
from autoresponder.domain.hot_keys.trigger import HotKeyTrigger
from autoresponder.domain.hot_keys.window import ReportWindow
from autoresponder.domain.scaling.words import where
from autoresponder.models.decision import Severity
from autoresponder.models.hot_keys import HotKey, HotKeyAction, RecommendationKind, RuleReport


@dataclass(frozen=True)
class HotKeyPlan:
    action: HotKeyAction
    rule: str
    reason: str
    severity: Severity = Severity.INFO
    next_steps: tuple[str, ...] = ()
    hot_keys: tuple[HotKey, ...] = ()
    cost_delta_per_hour: float | None = None


def decide_hot_keys(
    trigger: HotKeyTrigger,
    reports: Sequence[RuleReport],
    window: ReportWindow,
    thresholds: HotKeyThresholds,
    *,
    show_key_values: bool = False,
) -> HotKeyPlan:
    """`flag_hot_keys` with the ranked hot keys, or `no_hot_keys` with what was examined."""
    place = where(trigger.table_name or "?", trigger.index_name)
    span = f"{window.start:%H:%M}–{window.end:%H:%M} UTC"
    hot = rank_hot_keys(
        reports, trigger.dimension, thresholds, partition_at_limit=trigger.expects_hot_key
    )
    kinds = ", ".join(sorted({r.kind.value for r in reports})) or "none"
    if not hot:
        checked = f"Contributor Insights reports ({kinds}) over {span}"
        return _no_hot_keys(trigger, reports, thresholds, place, checked)
    hottest = hot[0]
    kinds_found = sorted({k.recommendation.kind.value.replace("_", " ") for k in hot})
    reason = (
        f"{len(hot)} hot key{'s' if len(hot) > 1 else ''} on {place} over {span} "
        f"(from {kinds}): the hottest {hottest.level.value} key has "
        + _summary(hottest)
        + f"; recommended: {', '.join(kinds_found)}."
    )
    if any(k.recommendation.kind is not RecommendationKind.KEY_REDESIGN for k in hot):
        reason += " More capacity does not help a hot partition."
    steps = tuple(
        f"#{key.rank} {key.label(masked=not show_key_values)}: {key.recommendation.summary}"
        for key in hot
    )
    return HotKeyPlan(
        HotKeyAction.FLAG_HOT_KEYS,
        f"{trigger.kind.value}.flag",
        reason,
        severity=Severity.WARNING,
        next_steps=steps,
        hot_keys=tuple(hot),
    )


def _no_hot_keys(
    trigger: HotKeyTrigger,
    reports: Sequence[RuleReport],
    thresholds: HotKeyThresholds,
    place: str,
    checked: str,
) -> HotKeyPlan:
    """No key reached a threshold: what was examined, and the busiest key."""
    limit = partition_limit(trigger.dimension)
    loads = sorted(measure_keys(reports), key=lambda load: load.sort_key(limit))
    return HotKeyPlan(
        HotKeyAction.NO_HOT_KEYS,
        "no_hot_keys" if reports else "no_reports",
        f"no hot key on {place}: {len(loads)} keys in {len(reports)} {checked}; none reached "
        f"{thresholds.min_share:.0%} of the traffic or "
        f"{thresholds.min_partition_fraction:.0%} of the {limit:,}/s partition limit"
        f"{_busiest(loads, limit)}",
        severity=Severity.WARNING if trigger.expects_hot_key else Severity.INFO,
        next_steps=(
            "The throttling is spread over many keys: capacity, not key design, is the "
            "lever (see scale_on_throttle's decision)",
            "Contributor Insights lags a few minutes: look at its graphs for this window "
            "if the alarm persists",
        )
        if trigger.expects_hot_key
        else (),
    )


def _busiest(loads: Sequence[KeyLoad], limit: int) -> str:
    """The busiest key's share and demand, when there was any key."""
    if not loads:
        return ""
    top = loads[0]
    demand, _ = top.demand(limit)
    share = max(top.share or 0.0, top.throttle_share or 0.0)
    return f"; the busiest key had {share:.0%} of the traffic" + (
        f" at {demand:,.1f} units/s" if demand is not None else ""
    )


def _summary(key: HotKey) -> str:
    parts = []
    if key.rate_per_second is not None:
        parts.append(
            f"{'≈' if key.rate_estimated else ''}{key.rate_per_second:,.1f} units/s "
            f"({key.rate_per_second / key.partition_limit:.0%} of the partition limit)"
        )
    if key.share is not None:
        parts.append(f"{key.share:.0%} of the traffic")
    if key.throttled:
        parts.append(f"{key.throttled:,.0f} throttled requests")
    return ", ".join(parts) or "the most throttles"
