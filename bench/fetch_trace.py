"""`python -m bench.fetch_trace --table NAME`: a real table's last 14 days, backtested.

Reads the table's (or a GSI's) 1-minute `Consumed{Read,Write}CapacityUnits`,
`{Read,Write}ThrottleEvents` and `Provisioned{Read,Write}CapacityUnits` from CloudWatch
(GetMetricData, every page), turns them into a demand trace per dimension and saves it as JSON
(`bench/out/trace_<table>_<dimension>.json`); `--backtest` then runs it through the three
strategies (`python -m bench.backtest --only-files --trace FILE` does the same later).

Demand is what CloudWatch saw: consumed units plus throttled requests (one unit each), an
underestimate when throttled requests were larger than one unit or clients gave up.
CloudWatch keeps 1-minute datapoints for 15 days; a minute without requests has no datapoint
(demand 0). It uses the shell's AWS credentials and region (read-only calls), or
`AWS_ENDPOINT_URL` for an emulator.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from bench import OUT

NAMESPACE = "AWS/DynamoDB"
PERIOD = 60
DIMENSIONS = ("write", "read")


def queries(table: str, index: str | None, dimension: str) -> list[dict[str, Any]]:
    """The three 1-minute series of one dimension (ids: consumed, throttled, provisioned)."""
    prefix = dimension.capitalize()
    dims = [{"Name": "TableName", "Value": table}]
    if index:
        dims.append({"Name": "GlobalSecondaryIndexName", "Value": index})

    def query(qid: str, metric: str, stat: str) -> dict[str, Any]:
        return {
            "Id": qid,
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
                "Period": PERIOD,
                "Stat": stat,
            },
            "ReturnData": True,
        }

    return [
        query("consumed", f"Consumed{prefix}CapacityUnits", "Sum"),
        query("throttled", f"{prefix}ThrottleEvents", "Sum"),
        query("provisioned", f"Provisioned{prefix}CapacityUnits", "Maximum"),
    ]


def merge_pages(pages: Iterable[Mapping[str, Any]]) -> dict[str, dict[datetime, float]]:
    """Query id → {timestamp: value}, over every page (a series may span several)."""
    series: dict[str, dict[datetime, float]] = {}
    for page in pages:
        for result in page.get("MetricDataResults", []):
            points = series.setdefault(result["Id"], {})
            for stamp, value in zip(
                result.get("Timestamps", []), result.get("Values", []), strict=True
            ):
                points[_utc(stamp)] = float(value)
    return series


def fetch(  # noqa: PLR0917
    cloudwatch: Any, table: str, index: str | None, dimension: str, start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    """GetMetricData for one dimension, every page (the SDK's paginator follows NextToken)."""
    pages = cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries(table, index, dimension),
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
    )
    return merge_pages(pages)


def to_trace(
    name: str,
    series: Mapping[str, Mapping[datetime, float]],
    start: datetime,
    minutes: int,
    initial_capacity: int | None = None,
) -> dict[str, Any]:
    """The backtest's trace (units per second per minute) from the fetched series."""
    consumed, throttled = series.get("consumed", {}), series.get("throttled", {})
    stamps = [start + timedelta(minutes=m) for m in range(minutes)]
    demand = [round((consumed.get(t, 0.0) + throttled.get(t, 0.0)) / PERIOD, 3) for t in stamps]
    provisioned = [v for _, v in sorted(series.get("provisioned", {}).items()) if v > 0]
    if initial_capacity is None:
        if provisioned:
            initial_capacity = int(provisioned[0])
        else:  # on-demand: twice the median demand, as a person might provision it
            busy = [d for d in demand if d > 0] or [1.0]
            initial_capacity = max(1, math.ceil(2 * statistics.median(busy)))
    return {
        "name": name,
        "title": f"{name}: {minutes // 1440} days from {start:%Y-%m-%d %H:%M} UTC",
        "initial_capacity": initial_capacity,
        "ceiling": max(10_000, initial_capacity * 4),
        "demand": demand,
        "throttled_minutes_seen": sum(1 for t in stamps if throttled.get(t, 0.0) > 0),
    }


def _utc(value: datetime) -> datetime:
    stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).replace(second=0, microsecond=0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fetch_trace",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", required=True)
    parser.add_argument("--index", help="a global secondary index of the table")
    parser.add_argument("--dimension", choices=(*DIMENSIONS, "both"), default="both")
    parser.add_argument("--days", type=int, default=14, help="up to 15 (1-minute retention)")
    parser.add_argument(
        "--initial-capacity",
        type=int,
        help="the table's starting units (default: its provisioned value)",
    )
    parser.add_argument("--region", help="default: the shell's AWS region")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--backtest", action="store_true", help="backtest the trace(s) now")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, now: datetime | None = None) -> list[Path]:
    args = parse_args(argv)
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start = end - timedelta(days=args.days)
    session: Any = boto3.session.Session(region_name=args.region)
    cloudwatch = session.client("cloudwatch")
    dimensions = DIMENSIONS if args.dimension == "both" else (args.dimension,)
    saved = []
    args.out.mkdir(parents=True, exist_ok=True)
    resource = f"{args.table}.{args.index}" if args.index else args.table
    for dimension in dimensions:
        series = fetch(cloudwatch, args.table, args.index, dimension, start, end)
        trace = to_trace(
            f"{resource}_{dimension}", series, start, args.days * 1440, args.initial_capacity
        )
        path = args.out / f"trace_{resource}_{dimension}.json"
        path.write_text(json.dumps(trace))
        busy = sum(1 for d in trace["demand"] if d > 0)
        print(f"{path}: {busy} minutes with demand, initial {trace['initial_capacity']} units")
        saved.append(path)
    if args.backtest:
        from bench.backtest.__main__ import main as backtest  # noqa: PLC0415

        backtest(["--only-files", "--out", str(args.out), *(f"--trace={p}" for p in saved)])
    return saved


if __name__ == "__main__":
    main()
    sys.exit(0)
