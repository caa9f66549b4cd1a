"""`python -m bench.burst` (`make bench`): a region-wide incident, 500 alarm events at once.

200 managed provisioned tables (100 RCU / 100 WCU) on moto in-process (`mock_aws`); 500
"CloudWatch Alarm State Change" events delivered at once to `scale_on_throttle`'s handler by a
pool of threads standing in for concurrent Lambda invocations:

- 200 write-throttle alarms (one per table) and 150 read-throttle alarms (tables 0-149);
- 100 duplicate deliveries of write alarms (same alarm, same state timestamp: EventBridge and
  Lambda deliver at least once);
- 50 second write alarms for tables 0-49 (a new state change 20 s later, no worse
  throttling): whichever of a table's two state changes comes second is skipped (cooldown).

A handler that raises is retried, as Lambda's asynchronous invocation would (with a short pause
standing in for its minute), until it returns. CloudWatch's documented GetMetricData quota
(50 requests per second) is enforced on the calls (a `Throttling` error past it, which the
adapter turns into a retryable error), so the retry path is exercised too.

Checks: no event lost (every distinct alarm state change has its decision record), no double
action (one UpdateTable per table and dimension, cooldown respected, duplicates change
nothing), read and write raises of one table both land (no lost update). Reported: calls per
operation, peak and mean rates of the control-plane calls next to the documented limits.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import OUT
from bench.calls import Call, CallLog
from local import EVENTS
from local.environ import scoped_environ

REGION = "us-east-1"
DECISIONS = "autoresponder-decisions"
TABLES = 200
CONTROL_PLANE = (
    "dynamodb:UpdateTable",
    "dynamodb:DescribeTable",
    "dynamodb:ListTagsOfResource",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:RegisterScalableTarget",
    "cloudwatch:GetMetricData",
    "cloudwatch:DescribeAlarms",
)
LIMITS = {
    "dynamodb": (2_500, "DynamoDB control plane: 2,500 requests/s (all control-plane APIs)"),
    "cloudwatch:GetMetricData": (50, "CloudWatch GetMetricData: 50 TPS (adjustable)"),
    "cloudwatch:DescribeAlarms": (9, "CloudWatch DescribeAlarms: 9 TPS (adjustable)"),
}
UPDATING_AT_ONCE = 500
"""DynamoDB: up to 500 simultaneous table operations (CreateTable, UpdateTable, ...)."""


# ------------------------------------------------------------------------------------------
# the account and the events
# ------------------------------------------------------------------------------------------
def table_name(i: int) -> str:
    return f"app-{i:03d}"


def environment() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "DECISION_TABLE_NAME": DECISIONS,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_SERVICE_NAME": "dynamodb-autoresponder",
        "POWERTOOLS_METRICS_NAMESPACE": "DynamoDBAutoResponder",
    }


def seed(session: Any, now: datetime) -> str:
    """The decision table, the topic, 200 tables and their last 15 minutes of demand."""
    dynamodb, cloudwatch = session.client("dynamodb"), session.client("cloudwatch")
    dynamodb.create_table(
        TableName=DECISIONS,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = session.client("sns").create_topic(Name="autoresponder-notifications")["TopicArn"]
    latest = now.replace(second=0, microsecond=0)
    for i in range(TABLES):
        name = table_name(i)
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 100},
            Tags=[{"Key": "autoresponder:managed", "Value": "true"}],
        )
        cloudwatch.put_metric_data(
            Namespace="AWS/DynamoDB",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "TableName", "Value": name}],
                    "Timestamp": latest - timedelta(minutes=minute),
                    "Value": 6_000.0 + 60 * i,  # 100/s and more: a raise of 25 % or more
                    "Unit": "Count",
                }
                for metric in ("ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits")
                for minute in range(0, 15, 3)
            ],
        )
    return str(topic)


def alarm_event(i: int, dimension: str, stamp: datetime, throttled: float) -> dict[str, Any]:
    """write_throttle_table.json, for table `i`, `dimension`, state timestamp `stamp`."""
    event = copy.deepcopy(json.loads((EVENTS / "write_throttle_table.json").read_text()))
    name = table_name(i)
    prefix = "Write" if dimension == "write" else "Read"
    alarm = f"autoresponder-{name}-{dimension}-throttle"
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"
    event["id"] = f"{alarm}-{stamp.timestamp():.0f}"
    event["time"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{alarm}"]
    detail = event["detail"]
    detail["alarmName"] = alarm
    detail["state"]["timestamp"] = text
    detail["state"]["reasonData"] = json.dumps({"recentDatapoints": [throttled]})
    metric = detail["configuration"]["metrics"][0]["metricStat"]["metric"]
    metric["name"] = f"{prefix}ProvisionedThroughputThrottleEvents"
    metric["dimensions"] = {"TableName": name}
    return event


@dataclass(frozen=True)
class Delivery:
    number: int
    kind: str
    """`write`, `read`, `duplicate` or `again` (a new state change: cooldown)."""
    table: str
    dimension: str
    event: dict[str, Any] = field(repr=False)

    @property
    def key(self) -> str:
        detail = self.event["detail"]
        return f"{detail['alarmName']}@{detail['state']['timestamp']}"


def deliveries(now: datetime, seed_value: int = 8) -> list[Delivery]:
    first = now - timedelta(seconds=30)
    found: list[Delivery] = []
    for i in range(TABLES):
        found.append(
            Delivery(0, "write", table_name(i), "write", alarm_event(i, "write", first, 42))
        )
    for i in range(150):
        found.append(Delivery(0, "read", table_name(i), "read", alarm_event(i, "read", first, 42)))
    rng = random.Random(seed_value)
    for i in rng.sample(range(TABLES), 100):
        found.append(
            Delivery(0, "duplicate", table_name(i), "write", alarm_event(i, "write", first, 42))
        )
    for i in range(50):
        later = first + timedelta(seconds=20)
        found.append(
            Delivery(0, "again", table_name(i), "write", alarm_event(i, "write", later, 42))
        )
    rng.shuffle(found)
    return [Delivery(n, d.kind, d.table, d.dimension, d.event) for n, d in enumerate(found)]


# ------------------------------------------------------------------------------------------
# moto, made to behave like the services on what the burst exercises
# ------------------------------------------------------------------------------------------
@contextmanager
def serialized_moto() -> Iterator[None]:
    """moto's in-process backends are not thread-safe (a conditional write is a check then a
    put); DynamoDB applies each request atomically. Requests are handed to moto one at a time
    (its stubber handler, wrapped in a lock), as the real services would apply them."""
    from botocore import handlers  # noqa: PLC0415
    from moto.core.models import botocore_stubber  # noqa: PLC0415

    lock = threading.Lock()

    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return botocore_stubber(*args, **kwargs)

    index = next(
        i for i, spec in enumerate(handlers.BUILTIN_HANDLERS) if spec[1] is botocore_stubber
    )
    original = handlers.BUILTIN_HANDLERS[index]
    handlers.BUILTIN_HANDLERS[index] = (original[0], locked)
    try:
        yield
    finally:
        handlers.BUILTIN_HANDLERS[index] = original


class RateLimit:
    """A documented TPS quota on one operation: past it, the service answers `Throttling`."""

    def __init__(self, service: str, operation: str, per_second: int) -> None:
        self.event = f"before-call.{service}.{operation}"
        self.per_second = per_second
        self.throttled = 0
        self._window: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse  # noqa: PLC0415

        now = time.monotonic()
        with self._lock:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) < self.per_second:
                self._window.append(now)
                return None
            self.throttled += 1
        response = AWSResponse("https://monitoring", 400, {}, None)
        return response, {
            "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    @contextmanager
    def installed(self) -> Iterator[RateLimit]:
        from botocore import handlers  # noqa: PLC0415

        spec = (self.event, self)
        handlers.BUILTIN_HANDLERS.append(spec)
        try:
            yield self
        finally:
            handlers.BUILTIN_HANDLERS.remove(spec)


# ------------------------------------------------------------------------------------------
# the burst
# ------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    delivery: Delivery
    attempts: int = 0
    result: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)


def run_burst(
    workers: int, retry_pause: float, max_attempts: int, invoke: Callable[..., Any]
) -> tuple[list[Outcome], float]:
    """Every delivery through the handler; a raise is retried (after `retry_pause` s)."""
    from local.runtime import LocalLambdaContext  # noqa: PLC0415

    pending = deliveries(datetime.now(UTC))
    outcomes = {d.number: Outcome(d) for d in pending}
    lock = threading.Lock()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        round_ = 0
        while pending:
            if round_:
                time.sleep(retry_pause)  # Lambda retries a failed asynchronous event later

            def one(delivery: Delivery) -> Delivery | None:
                context = LocalLambdaContext(function_name="scale_on_throttle")
                run = invoke("scale_on_throttle", delivery.event, context, quiet=False)
                outcome = outcomes[delivery.number]
                with lock:
                    outcome.attempts += 1
                    if run.error is not None:
                        outcome.errors.append(type(run.error).__name__)
                        return delivery if outcome.attempts < max_attempts else None
                    outcome.result = run.result
                return None

            pending = [d for d in pool.map(one, pending) if d is not None]
            round_ += 1
    return list(outcomes.values()), time.monotonic() - started


# ------------------------------------------------------------------------------------------
# checks and figures
# ------------------------------------------------------------------------------------------
@dataclass
class Report:
    deliveries: int
    distinct_events: int
    seconds: float
    workers: int
    lost: list[str]
    records: int
    actions: dict[str, int]
    attempts: dict[int, int]
    errors: dict[str, int]
    update_table_per_unit: dict[str, int]
    double_actions: list[str]
    lost_updates: list[str]
    calls: dict[str, int]
    peak_per_second: dict[str, int]
    mean_per_second: dict[str, float]
    throttled_by_quota: int
    quota_tps: int
    max_attempts: int
    unresolved: int
    notifications: int
    checks: dict[str, bool]


def per_second(calls: Sequence[Call], name: str) -> tuple[int, float]:
    stamps = [c.at for c in calls if c.name == name]
    if not stamps:
        return 0, 0.0
    start = min(c.at for c in calls)
    buckets = Counter(int(t - start) for t in stamps)
    span = max(1.0, max(stamps) - min(stamps))
    return max(buckets.values()), round(len(stamps) / span, 1)


def check(  # noqa: PLR0917
    outcomes: Sequence[Outcome],
    calls: Sequence[Call],
    seconds: float,
    workers: int,
    session: Any,
    quota: RateLimit,
) -> Report:
    dynamodb = session.client("dynamodb")
    records: dict[str, dict[str, Any]] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=DECISIONS):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("DECISION#") and item["sk"]["S"].startswith("ALARM#"):
                records[item["sk"]["S"]] = item
    distinct = {o.delivery.key for o in outcomes}
    lost = sorted(key for key in distinct if not any(_recorded(key, sk) for sk in records))
    updates = Counter()  # (table, dimension) → UpdateTable calls that raised it
    for call in calls:
        if call.name != "dynamodb:UpdateTable" or call.table is None:
            continue
        wanted = call.params.get("ProvisionedThroughput") or {}
        before = _capacity_before(calls, call)
        for dimension, key in (("read", "ReadCapacityUnits"), ("write", "WriteCapacityUnits")):
            if wanted.get(key, 0) > before.get(key, 0):
                updates[f"{call.table}/{dimension}"] += 1
    expected = {f"{table_name(i)}/write" for i in range(TABLES)} | {
        f"{table_name(i)}/read" for i in range(150)
    }
    double = sorted(k for k, n in updates.items() if n > 1)
    final: list[str] = []
    for i in range(TABLES):
        raw = dynamodb.describe_table(TableName=table_name(i))["Table"]["ProvisionedThroughput"]
        if raw["WriteCapacityUnits"] <= 100 or (i < 150 and raw["ReadCapacityUnits"] <= 100):
            final.append(f"{table_name(i)}: {raw['ReadCapacityUnits']}/{raw['WriteCapacityUnits']}")
    actions = Counter(
        f"{o.delivery.kind}: {o.result['action']} ({o.result.get('rule')})"
        for o in outcomes
        if o.result
    )
    names = sorted({c.name for c in calls})
    peaks = {n: per_second(calls, n)[0] for n in names}
    means = {n: per_second(calls, n)[1] for n in names}
    publishes = sum(1 for c in calls if c.name == "sns:Publish")
    by_key: dict[str, list[dict[str, Any] | None]] = defaultdict(list)
    for o in outcomes:
        by_key[o.delivery.key].append(o.result)
    first_of = {key: results[0] for key, results in by_key.items()}
    raised = sum(1 for r in first_of.values() if r and r["action"] == "scale_up")
    pairs = defaultdict(list)  # tables 0-49: their two write state changes
    for o in outcomes:
        if o.delivery.dimension == "write" and o.delivery.kind in {"write", "again"} and o.result:
            pairs[o.delivery.table].append(o.result.get("rule"))
    checks = {
        "no event lost (each resolved within the attempts)": not lost
        and all(o.result is not None for o in outcomes),
        "every distinct event has a decision record": len(records) == len(distinct),
        "one raise per table and dimension": not double and set(updates) == expected,
        "no lost update (read and write raises both landed)": not final,
        "duplicates return the first decision, change nothing": all(
            all(r == results[0] for r in results) for results in by_key.values()
        ),
        "a table's second write alarm is skipped by the cooldown": all(
            sorted(rules) == ["cooldown", "provisioned.scale_up"]
            for table, rules in pairs.items()
            if table < table_name(50)
        ),
        "one notification per raise": publishes == raised,
    }
    return Report(
        deliveries=len(outcomes),
        distinct_events=len(distinct),
        seconds=round(seconds, 1),
        workers=workers,
        lost=lost,
        records=len(records),
        actions=dict(sorted(actions.items())),
        attempts=dict(sorted(Counter(o.attempts for o in outcomes).items())),
        errors=dict(Counter(e for o in outcomes for e in o.errors)),
        update_table_per_unit={"max": max(updates.values(), default=0), "units": len(updates)},
        double_actions=double,
        lost_updates=final,
        calls=dict(sorted(Counter(c.name for c in calls).items())),
        peak_per_second=peaks,
        mean_per_second=means,
        throttled_by_quota=quota.throttled,
        quota_tps=quota.per_second,
        max_attempts=max(o.attempts for o in outcomes),
        unresolved=sum(1 for o in outcomes if o.result is None),
        notifications=publishes,
        checks=checks,
    )


def _capacity_before(calls: Sequence[Call], update: Call) -> dict[str, int]:
    """The table's units before `update`: the previous UpdateTable of it, else 100/100."""
    earlier = [
        c
        for c in calls
        if c.name == "dynamodb:UpdateTable" and c.table == update.table and c.at < update.at
    ]
    if not earlier:
        return {"ReadCapacityUnits": 100, "WriteCapacityUnits": 100}
    return dict(earlier[-1].params.get("ProvisionedThroughput") or {})


def markdown(report: Report) -> str:
    lines = [
        f"{report.deliveries} deliveries ({report.distinct_events} distinct alarm state changes) "
        f"to scale_on_throttle, {report.workers} concurrent invocations, {report.seconds} s "
        "on moto in-process.",
        "",
        "| check | result |",
        "|---|---|",
        *(f"| {name} | {'yes' if ok else 'NO'} |" for name, ok in report.checks.items()),
        "",
        f"Attempts per delivery: {report.attempts}; unresolved after {report.max_attempts} "
        f"(to the failure queue): {report.unresolved}; errors retried: {report.errors or 'none'}; "
        f"GetMetricData answered `Throttling` by the {report.quota_tps} TPS quota: "
        f"{report.throttled_by_quota}.",
        "",
        "Decisions: " + "; ".join(f"{k} × {v}" for k, v in report.actions.items()),
        "",
        "| call | total | per event | peak / s | mean / s | documented limit |",
        "|---|---|---|---|---|---|",
    ]
    for name, total in report.calls.items():
        limit = LIMITS.get(name) or (
            LIMITS["dynamodb"] if name.startswith("dynamodb:") and name in CONTROL_PLANE else None
        )
        lines.append(
            f"| {name} | {total} | {total / report.deliveries:.2f} | "
            f"{report.peak_per_second[name]} | {report.mean_per_second[name]} | "
            f"{limit[1] if limit else ''} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.burst",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workers", type=int, default=50, help="concurrent invocations")
    parser.add_argument(
        "--retry-pause",
        type=float,
        default=1.0,
        help="seconds before a failed event is retried (Lambda: about a minute)",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=3,
        help="attempts per event (Lambda: 1 + MaximumRetryAttempts 2)",
    )
    parser.add_argument(
        "--get-metric-data-tps",
        type=int,
        default=50,
        help="CloudWatch's GetMetricData quota to enforce (documented: 50)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    report = burst(args.workers, args.retry_pause, args.max_attempts, args.get_metric_data_tps)
    text = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    label = "burst" if args.get_metric_data_tps == 50 else f"burst_{args.get_metric_data_tps}tps"
    (args.out / f"{label}.md").write_text(text)
    (args.out / f"{label}.json").write_text(json.dumps(report.__dict__, indent=1, default=str))
    print(text)
    return 0 if all(report.checks.values()) else 1


def burst(
    workers: int = 50, retry_pause: float = 1.0, max_attempts: int = 3, tps: int = 50
) -> Report:
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    from local.runtime import cold_start, invoke  # noqa: PLC0415

    no_shell_aws = scoped_environ(environment(), drop=lambda name: name.startswith("AWS_"))
    with no_shell_aws, mock_aws(), serialized_moto():
        session = boto3.session.Session(region_name=REGION)
        topic = seed(session, datetime.now(UTC))
        with scoped_environ({"NOTIFICATION_TOPIC_ARN": topic}):
            cold_start()
            log = CallLog(keep_params=True)
            quota = RateLimit("cloudwatch", "GetMetricData", tps)
            with log.installed(), quota.installed():
                outcomes, seconds = run_burst(workers, retry_pause, max_attempts, invoke)
            cold_start()
            return check(outcomes, log.calls, seconds, workers, session, quota)


def _recorded(key: str, record_sk: str) -> bool:
    """Whether a decision record's key (ALARM#<state time>#<alarm>#<runbook>) is `key`'s."""
    alarm, stamp = key.split("@", 1)
    when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").isoformat()
    return record_sk.startswith(f"ALARM#{when}#{alarm}#")


if __name__ == "__main__":
    sys.exit(main())
