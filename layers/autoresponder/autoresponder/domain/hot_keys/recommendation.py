"""What to do about one hot key: write sharding, caching, or a key redesign."""

from __future__ import annotations

import math

from autoresponder.domain.hot_keys.loads import KeyLoad
from autoresponder.domain.hot_keys.policy import HotKeyThresholds
from autoresponder.models.hot_keys import KeyLevel, Recommendation, RecommendationKind
from autoresponder.models.table import Dimension


def suffix_count(rate: float, limit: int, headroom_percent: float, minimum: int = 2) -> int:
    """How many suffixes spread `rate` over partitions: ceil(rate ÷ limit × (1 + headroom))."""
    return max(minimum, math.ceil(rate / limit * (1 + headroom_percent / 100) - 1e-9))


def recommend(
    load: KeyLoad,
    dimension: Dimension | None,
    limit: int,
    thresholds: HotKeyThresholds,
    *,
    partition_at_limit: bool = False,
) -> Recommendation:
    """Sharding for hot writes, caching for hot reads, a key redesign for skew below the limit.

    `partition_at_limit`: the alarm says the key's partition throttles (key-range or
    Contributor Insights alarm); a throttled key is then at its partition's limit even when its
    rate is below the nominal one (a provisioned table splits its capacity over partitions)."""
    demand, estimated = load.demand(limit)
    near_limit = demand is not None and demand >= limit * thresholds.min_partition_fraction
    throttled_at_limit = partition_at_limit and load.throttled > 0 and demand is not None
    if not (near_limit or throttled_at_limit):
        share = max(load.share or 0.0, load.throttle_share or 0.0)
        return Recommendation(
            kind=RecommendationKind.KEY_REDESIGN,
            summary=(
                f"redesign the key: it concentrates {share:.0%} of the traffic while below the "
                "per-partition limit; a higher-cardinality or composite key spreads it before "
                "growth turns it into throttling"
            ),
        )
    assert demand is not None
    approx = "≈" if estimated else ""
    basis = (
        f"{approx}{demand:,.0f} units/s against {limit:,}/s per partition"
        if near_limit
        else f"its partition throttles at {approx}{demand:,.0f} units/s, below the "
        f"{limit:,}/s a partition serves at most"
    )
    if dimension is Dimension.READ:
        return Recommendation(
            kind=RecommendationKind.CACHING,
            summary=(
                f"cache reads of this {'item' if load.level is KeyLevel.ITEM else 'key'} "
                f"(DAX or an application cache): {basis}; spreading reads over copies of the "
                "key (suffixes) is the alternative"
            ),
        )
    return _shard(load, dimension, demand=demand, limit=limit, basis=basis, thresholds=thresholds)


def _shard(
    load: KeyLoad,
    dimension: Dimension | None,
    *,
    demand: float,
    limit: int,
    basis: str,
    thresholds: HotKeyThresholds,
) -> Recommendation:
    """Write sharding: the suffix count that spreads `demand` with the headroom."""
    count = suffix_count(demand, limit, thresholds.headroom_percent, thresholds.min_suffix_count)
    target = (
        "split the item into"
        if load.level is KeyLevel.ITEM
        else "append a suffix 0..N-1 to the partition key value, N ="
    )
    summary = (
        f"shard writes: {target} {count} shards ({basis}; "
        f"+{thresholds.headroom_percent:.0f}% headroom); readers query the {count} shards"
    )
    if dimension is None:
        summary += "; if this traffic is reads, cache it instead"
    return Recommendation(
        kind=RecommendationKind.WRITE_SHARDING, summary=summary, suffix_count=count
    )
