"""The load of each key, merged from the Contributor Insights reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from autoresponder.models.hot_keys import KeyLevel, RuleReport


@dataclass
class KeyLoad:
    """What the reports say about one key (partition key, or partition and sort key)."""

    level: KeyLevel
    keys: tuple[str, ...]
    names: tuple[str, ...]
    rate: float | None = None
    share: float | None = None
    throttled: float = 0.0
    throttle_share: float | None = None
    throttled_rate: float | None = None
    rules: list[str] = field(default_factory=list)

    def demand(self, limit: int) -> tuple[float | None, bool]:
        """Units per second asked of the key, and whether that is an estimate.

        Without an accessed-keys report (THROTTLED_KEYS mode) a throttled partition served
        about its limit and refused the throttled requests on top."""
        if self.rate is not None:
            return self.rate, False
        if self.throttled_rate:
            return limit + self.throttled_rate, True
        return None, False

    def sort_key(self, limit: int) -> tuple[float, float, float, int, tuple[str, ...]]:
        demand = self.demand(limit)[0] or 0.0
        share = max(self.share or 0.0, self.throttle_share or 0.0)
        return (
            -demand,
            -self.throttled,
            -share,
            0 if self.level is KeyLevel.PARTITION else 1,
            self.keys,
        )


def _names(report: RuleReport, count: int) -> tuple[str, ...]:
    if len(report.key_labels) == count:
        return report.key_labels
    return ("partition key", "sort key")[:count]


def measure_keys(reports: Sequence[RuleReport]) -> list[KeyLoad]:
    """Merge the reports into one load per key: rate and share from the accessed-keys rules
    (PKC/SKC), throttled requests from the throttled-keys rules (PKT/SKT)."""
    loads: dict[tuple[KeyLevel, tuple[str, ...]], KeyLoad] = {}
    for report in reports:
        level = KeyLevel.ITEM if report.kind.item_level else KeyLevel.PARTITION
        total = report.total
        for contributor in report.contributors:
            if not contributor.keys:
                continue
            key = (level, contributor.keys)
            load = loads.get(key)
            if load is None:
                load = KeyLoad(level, contributor.keys, _names(report, len(contributor.keys)))
                loads[key] = load
            share = contributor.value / total if total > 0 else None
            if report.kind.throttled:
                load.throttled += contributor.value
                load.throttle_share = share
                load.throttled_rate = contributor.value / report.window_seconds
            else:
                load.rate = (
                    contributor.peak / report.period_seconds
                    if contributor.peak is not None
                    else contributor.value / report.window_seconds
                )
                load.share = share
            if report.rule_name not in load.rules:
                load.rules.append(report.rule_name)
    return list(loads.values())
