"""When a key is hot: the thresholds and the per-partition limits."""

from __future__ import annotations

from dataclasses import dataclass

from autoresponder.models.table import Dimension

PARTITION_READ_LIMIT = 3_000
"""Read units per second one partition serves at most."""
PARTITION_WRITE_LIMIT = 1_000
"""Write units per second one partition serves at most."""


@dataclass(frozen=True)
class HotKeyThresholds:
    """When a key is hot, and how much headroom a sharding suggestion leaves."""

    min_share: float = 0.25
    """A key with at least this fraction of the traffic (or of the throttles) is hot."""
    min_partition_fraction: float = 0.5
    """A key at or above this fraction of the per-partition limit is hot."""
    headroom_percent: float = 50.0
    """Suffix count = ceil(rate ÷ partition limit × (1 + headroom))."""
    max_listed: int = 10
    min_suffix_count: int = 2


def partition_limit(dimension: Dimension | None) -> int:
    """Units per second one partition serves. Unknown dimension: the lower (write) limit,
    which flags more rather than fewer keys."""
    return PARTITION_READ_LIMIT if dimension is Dimension.READ else PARTITION_WRITE_LIMIT
