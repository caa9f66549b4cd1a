"""The latency runbook's thresholds: what counts as a regression, a breach, a cause."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

DEFAULT_SLA_MS: Mapping[str, float] = {
    "GetItem": 10.0,
    "Query": 20.0,
    "BatchGetItem": 100.0,
    "BatchWriteItem": 100.0,
}
"""Average latency targets of the performance guide this product grew out of."""


@dataclass(frozen=True)
class LatencyPolicy:
    regression_ratio: float = 1.5
    """A regression: the current average is at least this multiple of a baseline's ..."""
    regression_floor_ms: float = 3.0
    """... and at least this many milliseconds above it."""
    min_samples: int = 50
    """Requests needed in the current window and in a baseline to compare them."""
    sla_min_samples: int = 10
    """Requests needed in the current window to call an average over target a breach."""
    sla_targets_ms: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_MS))
    capacity_near_percent: float = 80.0
    """Consumed capacity at or above this share of provisioned counts as near."""
    many_items_per_request: float = 100.0
    """A Query or Scan returning at least this many items per request on average."""
    recent_change: timedelta = timedelta(hours=24)
    """How far back a capacity change by this responder counts as recent."""
