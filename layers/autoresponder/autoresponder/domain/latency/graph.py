"""The report's console link: the operations' latency from the 7-day baseline to now."""

from __future__ import annotations

from collections.abc import Sequence

from autoresponder.domain.console_links import console_time, metrics_graph_url
from autoresponder.domain.latency.windows import LATENCY_METRIC, OPERATIONS
from autoresponder.models.latency import ComparedWindows
from autoresponder.models.metrics import NAMESPACE


def graph_url(
    region: str, table_name: str, operations: Sequence[str], windows: ComparedWindows
) -> str:
    """A CloudWatch console deep link: `SuccessfulRequestLatency` (Average) of the operations,
    from the 7-day baseline to the end of the current window."""
    metrics: list[object] = [
        [NAMESPACE, LATENCY_METRIC, "TableName", table_name, "Operation", op]
        for op in (operations or OPERATIONS[:2])
    ]
    period = min(windows.window_minutes * 60, 3600)
    graph = {
        "metrics": metrics,
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "stat": "Average",
        "period": period,
        "start": console_time(windows.baseline_7d_start),
        "end": console_time(windows.current_end),
        "title": f"{LATENCY_METRIC} {table_name}",
    }
    return metrics_graph_url(region, graph)
