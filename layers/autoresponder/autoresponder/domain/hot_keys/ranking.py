"""Which keys are hot, hottest first."""

from __future__ import annotations

from collections.abc import Sequence

from autoresponder.domain.hot_keys.loads import KeyLoad, measure_keys
from autoresponder.domain.hot_keys.policy import HotKeyThresholds, partition_limit
from autoresponder.domain.hot_keys.recommendation import recommend
from autoresponder.models.hot_keys import HotKey, RuleReport
from autoresponder.models.table import Dimension


def is_hot(load: KeyLoad, limit: int, thresholds: HotKeyThresholds) -> bool:
    """Hot: a large share of the traffic or of the throttles, or a measured rate near the
    per-partition limit (an estimated rate never makes a key hot on its own: every throttled
    key would be)."""
    return (
        (load.share is not None and load.share >= thresholds.min_share)
        or (load.throttle_share is not None and load.throttle_share >= thresholds.min_share)
        or (load.rate is not None and load.rate >= limit * thresholds.min_partition_fraction)
    )


def rank_hot_keys(
    reports: Sequence[RuleReport],
    dimension: Dimension | None,
    thresholds: HotKeyThresholds,
    *,
    partition_at_limit: bool = False,
) -> list[HotKey]:
    """The hot keys, hottest first (demand, then throttles, then share), at most `max_listed`."""
    limit = partition_limit(dimension)
    loads = sorted(measure_keys(reports), key=lambda load: load.sort_key(limit))
    hot = [load for load in loads if is_hot(load, limit, thresholds)][: thresholds.max_listed]
    return [
        HotKey(
            rank=rank,
            level=load.level,
            key_values=list(load.keys),
            key_names=list(load.names),
            rate_per_second=_round(load.demand(limit)[0]),
            rate_estimated=load.demand(limit)[1],
            share=_round(load.share, 4),
            throttled=load.throttled,
            throttle_share=_round(load.throttle_share, 4),
            partition_limit=limit,
            rules=list(load.rules),
            recommendation=recommend(
                load, dimension, limit, thresholds, partition_at_limit=partition_at_limit
            ),
        )
        for rank, load in enumerate(hot, start=1)
    ]


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
