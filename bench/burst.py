"""`python -m bench.burst` (`make bench`): a region-wide incident, 500 alarm events at once.

200 managed provisioned tables (100 RCU / 100 WCU) on moto in-process (`mock_aws`), with what
DynamoDB publishes when a region's traffic outgrows them (`local.published`):

- writes of every table throttled on provisioned capacity for the last 5 minutes: 100 WCU/s
  consumed (all there is) and 10-50 requests/s rejected (`WriteThrottleEvents` and
  `WriteProvisionedThroughputThrottleEvents`), after 10 quiet minutes at 60 WCU/s;
- reads of tables 0-149 the same way (100 RCU/s consumed, 5-35 requests/s rejected);
- reads of tables 150-199 quiet: 30 RCU/s, nothing throttled.

500 "CloudWatch Alarm State Change" events are delivered at once to `scale_on_throttle`'s
handler by a pool of threads standing in for concurrent Lambda invocations:

- 200 write-throttle alarms (one per table) and 150 read-throttle alarms (tables 0-149);
- 100 duplicate deliveries of write alarms (same alarm, same state timestamp: EventBridge and
  Lambda deliver at least once);
- 50 second write alarms for tables 0-49 (a new state change 20 s later, no worse throttling).

A handler that raises is retried, as Lambda's asynchronous invocation would (with a short pause
standing in for its minute), at most 3 attempts. CloudWatch's documented GetMetricData quota
(50 requests per second) is enforced on the calls (a `Throttling` error past it, which the
adapter turns into a retryable error: the alarm's own metric and the minimum step decide).
Re-checks are on (the stack's Scheduler group in moto): a change asks for a one-time look.

Checks, on effects (the tables' capacity in moto, the decision records, the UpdateTable calls,
the SNS publishes, the schedules): no event lost, every distinct state change recorded, no
table and dimension raised twice for the same episode, no lost update (throttled dimensions
end raised, quiet ones unchanged), duplicates change nothing, a table's later alarms raise
nothing more (cooldown), one notification per change, a re-check due for every changed table.
Reported: calls per operation, peak and mean rates next to the documented limits.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import OUT
from bench.calls import Call, CallLog
from local import EVENTS
from local.environ import scoped_environ

REGION = "us-east-1"
ACCOUNT = "123456789012"
DECISIONS = "autoresponder-decisions"
RECHECK_GROUP = "autoresponder-rechecks"
PROVISIONED = 100
"""Every table's read and write units before the incident."""
HEADROOM = 1.25
"""The documented default (HEADROOM_PERCENT 25): a raise goes to the demand plus 25 %."""
GUESS = 120
"""The minimum step (SCALE_UP_MIN_STEP_PERCENT 20) over 100: the raise sized without
CloudWatch (unreadable, e.g. throttled), on the alarm's own metric."""
QUIET_READS = 30.0
"""Read units per second of the tables whose reads are not throttled (150-199)."""
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
    "scheduler:CreateSchedule": (
        1_000,
        "EventBridge Scheduler CreateSchedule: 1,000 requests/s in us-east-1 (adjustable)",
    ),
}
UPDATING_AT_ONCE = 500
"""DynamoDB: up to 500 simultaneous table operations (CreateTable, UpdateTable, ...)."""


@dataclass(frozen=True)
class Scenario:
    """The incident's size: `make bench` runs the default; the tests a small one."""

    tables: int = 200
    read_throttled: int = 150
    """Tables 0..n-1 also have their reads throttled (and a read alarm)."""
    again: int = 50
    """Tables 0..n-1 get a second write state change, 20 s after the first."""
    duplicates: int = 100
    """Write alarms delivered twice."""
    incident_minutes: int = 5
    quiet_minutes: int = 10
    seed: int = 8


# ------------------------------------------------------------------------------------------
# the account and the events
# ------------------------------------------------------------------------------------------
def table_name(i: int) -> str:
    return f"app-{i:03d}"


def table_number(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


def rejected(i: int, dimension: str) -> float:
    """Requests per second DynamoDB rejects for table `i` during the incident."""
    return 10.0 + 5 * (i % 9) if dimension == "write" else 5.0 + 5 * (i % 7)


def measured_target(i: int, dimension: str) -> int:
    """Where a raise sized on CloudWatch lands: the estimated demand (consumed + rejected,
    units per second) plus the headroom."""
    return math.ceil((PROVISIONED + rejected(i, dimension)) * HEADROOM - 1e-9)


def throttled(scenario: Scenario) -> set[tuple[str, str]]:
    """(table, dimension) of every dimension DynamoDB throttles in the incident."""
    return {(table_name(i), "write") for i in range(scenario.tables)} | {
        (table_name(i), "read") for i in range(scenario.read_throttled)
    }


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
        "RECHECK_SCHEDULE_GROUP": RECHECK_GROUP,
        "RECHECK_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/autoresponder-recheck",
        "RECHECK_TARGET_ARN": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:scale_back",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_SERVICE_NAME": "dynamodb-autoresponder",
        "POWERTOOLS_METRICS_NAMESPACE": "DynamoDBAutoResponder",
    }


def seed(session: Any, now: datetime, scenario: Scenario) -> str:
    """The decision table, the topic, the re-check group, the tables and what DynamoDB
    published for them over the last minutes."""
    from local.published import merged, published, put_published  # noqa: PLC0415

    dynamodb = session.client("dynamodb")
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
    session.client("scheduler").create_schedule_group(Name=RECHECK_GROUP)
    started = now - timedelta(minutes=scenario.incident_minutes)
    points = []
    for i in range(scenario.tables):
        name = table_name(i)
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={
                "ReadCapacityUnits": PROVISIONED,
                "WriteCapacityUnits": PROVISIONED,
            },
            Tags=[{"Key": "autoresponder:managed", "Value": "true"}],
        )
        for dimension in ("write", "read"):
            if (name, dimension) not in throttled(scenario):
                points.append(
                    published(
                        name,
                        end=now,
                        dimension=dimension,
                        consumed=QUIET_READS,
                        minutes=scenario.quiet_minutes + scenario.incident_minutes,
                    )
                )
                continue
            points.append(
                published(
                    name,
                    end=started,
                    dimension=dimension,
                    consumed=0.6 * PROVISIONED,
                    minutes=scenario.quiet_minutes,
                )
            )
            points.append(
                published(
                    name,
                    end=now,
                    dimension=dimension,
                    consumed=float(PROVISIONED),
                    rejected=rejected(i, dimension),
                    cause="provisioned",
                    minutes=scenario.incident_minutes,
                )
            )
    put_published(session.client("cloudwatch"), merged(*points))
    return str(topic)


def alarm_event(i: int, dimension: str, stamp: datetime) -> dict[str, Any]:
    """write_throttle_table.json, for table `i`'s `dimension`, state timestamp `stamp`: the
    alarm evaluated the newest minute DynamoDB published (its rejected requests)."""
    event = copy.deepcopy(json.loads((EVENTS / "write_throttle_table.json").read_text()))
    name = table_name(i)
    prefix = "Write" if dimension == "write" else "Read"
    alarm = f"autoresponder-{name}-{dimension}-throttle"
    evaluated = stamp.replace(second=0, microsecond=0) - timedelta(minutes=1)
    value = rejected(i, dimension) * 60
    event["id"] = f"{alarm}-{stamp.timestamp():.0f}"
    event["time"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}"]
    detail = event["detail"]
    detail["alarmName"] = alarm
    detail["state"]["timestamp"] = _alarm_time(stamp)
    detail["state"]["reason"] = (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{value} "
        f"({evaluated:%d/%m/%y %H:%M:%S})] was greater than the threshold (0.0)"
    )
    detail["state"]["reasonData"] = json.dumps(
        {
            "version": "1.0",
            "queryDate": _alarm_time(stamp),
            "startDate": _alarm_time(evaluated),
            "statistic": "Sum",
            "period": 60,
            "recentDatapoints": [value],
            "threshold": 0.0,
            "evaluatedDatapoints": [
                {"timestamp": _alarm_time(evaluated), "sampleCount": 1.0, "value": value}
            ],
        }
    )
    detail["configuration"]["description"] = f"{prefix}s to table {name} are throttled"
    metric = detail["configuration"]["metrics"][0]["metricStat"]["metric"]
    metric["name"] = f"{prefix}ProvisionedThroughputThrottleEvents"
    metric["dimensions"] = {"TableName": name}
    return event


def _alarm_time(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


@dataclass(frozen=True)
class Delivery:
    number: int
    kind: str
    """`write`, `read`, `duplicate` or `again` (a new state change 20 s later)."""
    table: str
    dimension: str
    event: dict[str, Any] = field(repr=False)

    @property
    def key(self) -> str:
        detail = self.event["detail"]
        return f"{detail['alarmName']}@{detail['state']['timestamp']}"


def deliveries(now: datetime, scenario: Scenario) -> list[Delivery]:
    first = now - timedelta(seconds=30)
    later = first + timedelta(seconds=20)
    found: list[Delivery] = []

    def add(kind: str, i: int, dimension: str, stamp: datetime) -> None:
        event = alarm_event(i, dimension, stamp)
        found.append(Delivery(0, kind, table_name(i), dimension, event))

    for i in range(scenario.tables):
        add("write", i, "write", first)
    for i in range(scenario.read_throttled):
        add("read", i, "read", first)
    rng = random.Random(scenario.seed)
    for i in rng.sample(range(scenario.tables), scenario.duplicates):
        add("duplicate", i, "write", first)
    for i in range(scenario.again):
        add("again", i, "write", later)
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


@contextmanager
def metrics_by_table() -> Iterator[None]:
    """moto's GetMetricData scans every datapoint of the account for every query and every
    minute of the window (with 200 tables' metrics, ~0.5 s a call, under the lock above:
    moto's pace, not CloudWatch's). A call that names its tables only ever matches their
    datapoints (moto compares the dimensions exactly): moto is handed only those, from an
    index by `TableName`. The answers are the same (tests/unit/test_bench_burst.py)."""
    from moto.cloudwatch.models import CloudWatchBackend  # noqa: PLC0415

    original = CloudWatchBackend.get_metric_data
    index: dict[int, tuple[int, dict[str, list[Any]]]] = {}

    def by_table(backend: CloudWatchBackend) -> dict[str, list[Any]]:
        size, tables = index.get(id(backend), (-1, {}))
        if size != len(backend.metric_data):
            tables = defaultdict(list)
            for datum in backend.metric_data:
                tables[_table_of(datum.dimensions)].append(datum)
            index[id(backend)] = (len(backend.metric_data), tables)
        return tables

    def get_metric_data(
        self: CloudWatchBackend, queries: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        named = set()
        for query in queries:
            dimensions = query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
            table = next((d["Value"] for d in dimensions if d["Name"] == "TableName"), None)
            if table is None:  # an expression, or a metric of no table: moto's own way
                return original(self, queries, *args, **kwargs)
            named.add(table)
        tables = by_table(self)
        subset = [datum for name in sorted(named) for datum in tables.get(name, [])]
        self.get_all_metrics = lambda: subset  # type: ignore[method-assign]
        try:
            return original(self, queries, *args, **kwargs)
        finally:
            del self.get_all_metrics

    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
    try:
        yield
    finally:
        CloudWatchBackend.get_metric_data = original  # type: ignore[method-assign]


def _table_of(dimensions: Sequence[Any]) -> str | None:
    return next((d.value for d in dimensions if d.name == "TableName"), None)


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
    pending: list[Delivery],
    workers: int,
    retry_pause: float,
    max_attempts: int,
    invoke: Callable[..., Any],
) -> tuple[list[Outcome], float]:
    """Every delivery through the handler; a raise is retried (after `retry_pause` s)."""
    from local.runtime import LocalLambdaContext  # noqa: PLC0415

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
# what the account shows afterwards
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Raise:
    """One UpdateTable's effect on one table and dimension."""

    table: str
    dimension: str
    before: int
    after: int


@dataclass
class Account:
    """The emulated account after the burst: what the checks look at."""

    records: dict[str, dict[str, Any]]
    """Decision records of alarm state changes, by sort key."""
    capacity: dict[str, dict[str, int]]
    """Each table's units now, by dimension."""
    raises: list[Raise]
    """Every dimension an UpdateTable raised, in call order (per table, the lock's order)."""
    lowered: list[str]
    """UpdateTable calls that carried a dimension below what the table had (a lost update)."""
    update_calls: int
    both_at_once: int
    """UpdateTable calls that raised both dimensions."""
    schedules: dict[str, int]
    """Re-check schedules in the group, per table."""
    updates_per_table: dict[str, int]
    """UpdateTable calls per table."""


def observe(session: Any, calls: Sequence[Call], scenario: Scenario) -> Account:
    from autoresponder.models.recheck import schedule_prefix  # noqa: PLC0415

    dynamodb = session.client("dynamodb")
    records: dict[str, dict[str, Any]] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=DECISIONS):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("DECISION#") and item["sk"]["S"].startswith("ALARM#"):
                records[item["sk"]["S"]] = item
    capacity = {}
    for i in range(scenario.tables):
        units = dynamodb.describe_table(TableName=table_name(i))["Table"]["ProvisionedThroughput"]
        capacity[table_name(i)] = {
            "read": units["ReadCapacityUnits"],
            "write": units["WriteCapacityUnits"],
        }
    now: dict[str, dict[str, int]] = defaultdict(
        lambda: {"read": PROVISIONED, "write": PROVISIONED}
    )
    raises: list[Raise] = []
    lowered: list[str] = []
    updates = [c for c in calls if c.name == "dynamodb:UpdateTable" and c.table is not None]
    both = 0
    for call in updates:
        assert call.table is not None
        wanted = call.params.get("ProvisionedThroughput") or {}
        raised = 0
        for dimension, key in (("read", "ReadCapacityUnits"), ("write", "WriteCapacityUnits")):
            before, after = now[call.table][dimension], int(wanted.get(key, 0))
            if after > before:
                raises.append(Raise(call.table, dimension, before, after))
                raised += 1
            elif after < before:
                lowered.append(f"{call.table} {dimension} {before} → {after}")
            now[call.table][dimension] = after
        both += raised == 2
    schedules: Counter[str] = Counter()
    prefixes = {schedule_prefix(table_name(i)): table_name(i) for i in range(scenario.tables)}
    scheduler = session.client("scheduler")
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=RECHECK_GROUP):
        for schedule in page.get("Schedules", []):
            for prefix, table in prefixes.items():
                if schedule["Name"].startswith(prefix):
                    schedules[table] += 1
    per_table = Counter(str(call.table) for call in updates)
    return Account(
        records, capacity, raises, lowered, len(updates), both, dict(schedules), dict(per_table)
    )


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
    update_table: dict[str, int]
    double_raises: list[str]
    lost_updates: list[str]
    final: dict[str, int]
    """Throttled dimensions at their measured target / at the minimum step (re-check due)."""
    calls: dict[str, int]
    peak_per_second: dict[str, int]
    mean_per_second: dict[str, float]
    throttled_by_quota: int
    quota_tps: int
    max_attempts: int
    unresolved: int
    notifications: int
    schedules: int
    printed_lines: int
    """Lines the functions printed on stdout (Powertools' EMF output), kept off the report."""
    checks: dict[str, bool]


def per_second(calls: Sequence[Call], name: str) -> tuple[int, float]:
    stamps = [c.at for c in calls if c.name == name]
    if not stamps:
        return 0, 0.0
    start = min(c.at for c in calls)
    buckets = Counter(int(t - start) for t in stamps)
    span = max(1.0, max(stamps) - min(stamps))
    return max(buckets.values()), round(len(stamps) / span, 1)


def first_decisions(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any] | None]:
    """Each distinct alarm state change's decision (its first delivery's)."""
    found: dict[str, dict[str, Any] | None] = {}
    for outcome in sorted(outcomes, key=lambda o: o.delivery.number):
        found.setdefault(outcome.delivery.key, outcome.result)
    return found


def double_raises(account: Account, scenario: Scenario) -> list[str]:
    """Table/dimensions raised more than once in the episode. Allowed: one raise to the
    measured demand, after at most one minimum step taken while CloudWatch was unreadable
    (the alarm's own metric decided; the demand measured next is above it)."""
    by_unit: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in account.raises:
        by_unit[(r.table, r.dimension)].append(r.after)
    found = []
    for (table, dimension), values in sorted(by_unit.items()):
        target = measured_target(table_number(table), dimension)
        if (table, dimension) not in throttled(scenario) or values not in (
            [target],
            [GUESS],
            [GUESS, target],
        ):
            found.append(f"{table}/{dimension}: {values}")
    return found


def lost_updates(account: Account, scenario: Scenario) -> list[str]:
    """Throttled dimensions not raised, quiet ones changed, UpdateTable calls that lowered a
    dimension (a stale value of the other dimension)."""
    found = list(account.lowered)
    for table, units in sorted(account.capacity.items()):
        for dimension, value in units.items():
            hot = (table, dimension) in throttled(scenario)
            if (hot and value <= PROVISIONED) or (not hot and value != PROVISIONED):
                found.append(f"{table} {dimension}: {value}")
    return found


def check(
    outcomes: Sequence[Outcome],
    calls: Sequence[Call],
    account: Account,
    scenario: Scenario,
) -> dict[str, bool]:
    distinct = first_decisions(outcomes)
    lost = [key for key in distinct if not any(_recorded(key, sk) for sk in account.records)]
    hot = throttled(scenario)
    short = [
        (table, dimension)
        for table, dimension in hot
        if account.capacity[table][dimension] != measured_target(table_number(table), dimension)
    ]
    changes = [
        d
        for d in distinct.values()
        if d and d["action"] == "scale_up" and d.get("rule") != "already_applied"
    ]
    changed_tables = {r.table for r in account.raises}
    by_key: dict[str, list[dict[str, Any] | None]] = defaultdict(list)
    for o in outcomes:
        by_key[o.delivery.key].append(o.result)
    unchanged = [d for d in distinct.values() if d and d["action"] != "scale_up"]
    again = [distinct[o.delivery.key] for o in outcomes if o.delivery.kind == "again"]
    announced = Counter(
        c.params.get("MessageAttributes", {}).get("action", {}).get("StringValue")
        for c in calls
        if c.name == "sns:Publish"
    )
    create_schedule = sum(1 for c in calls if c.name == "scheduler:CreateSchedule")
    return {
        "no event lost: every delivery resolved within the attempts": all(
            o.result is not None for o in outcomes
        ),
        "every distinct alarm state change has its decision record": not lost
        and len(account.records) == len(distinct),
        "no table/dimension raised twice for the same episode": not double_raises(
            account, scenario
        ),
        "no lost update: throttled dimensions end raised, quiet ones unchanged": not lost_updates(
            account, scenario
        ),
        "throttled dimensions end at demand + 25 % (else at the minimum step, re-check due)": all(
            account.capacity[t][d] == GUESS and account.schedules.get(t, 0) >= 1 for t, d in short
        ),
        "duplicates return the first decision and change nothing": all(
            all(r == results[0] for r in results) for results in by_key.values()
        ),
        "an alarm finding its table raised already is a skip (cooldown)": all(
            d["action"] == "skip" and d.get("rule") == "cooldown" for d in unchanged
        ),
        "a table's second write alarm raises nothing more": len(again) == scenario.again
        and all(_again_ok(d, account) for d in again),
        "one notification per change made (and no other)": announced["scale_up"]
        == len(changes)
        == account.update_calls
        and sum(announced.values()) == len(changes),
        "a re-check due for every changed table (at most one per change), none for others": (
            create_schedule == sum(account.schedules.values())
            and set(account.schedules) == changed_tables
            and all(
                1 <= account.schedules[t] <= account.updates_per_table.get(t, 0)
                for t in changed_tables
            )
        ),
    }


def _again_ok(decision: dict[str, Any] | None, account: Account) -> bool:
    """A later write alarm of a table: a skip (cooldown), or the table's one raise of its
    writes (it came first), or the raise to the measured demand after a minimum step."""
    if decision is None:
        return False
    if decision["action"] == "skip":
        return decision.get("rule") == "cooldown"
    table = decision["table_name"]
    writes = [r.after for r in account.raises if r.table == table and r.dimension == "write"]
    return decision["action"] == "scale_up" and writes.count(decision["after"]["write"]) == 1


def report(
    outcomes: Sequence[Outcome],
    calls: Sequence[Call],
    *,
    seconds: float,
    workers: int,
    account: Account,
    scenario: Scenario,
    quota: RateLimit,
    max_attempts: int,
    printed: str,
) -> Report:
    distinct = first_decisions(outcomes)
    hot = throttled(scenario)
    at_target = sum(account.capacity[t][d] == measured_target(table_number(t), d) for t, d in hot)
    names = sorted({c.name for c in calls})
    return Report(
        deliveries=len(outcomes),
        distinct_events=len(distinct),
        seconds=round(seconds, 1),
        workers=workers,
        lost=[k for k in distinct if not any(_recorded(k, sk) for sk in account.records)],
        records=len(account.records),
        actions=dict(
            sorted(
                Counter(
                    f"{o.delivery.kind}: {o.result['action']} ({o.result.get('rule')})"
                    for o in outcomes
                    if o.result
                ).items()
            )
        ),
        attempts=dict(sorted(Counter(o.attempts for o in outcomes).items())),
        errors=dict(Counter(e for o in outcomes for e in o.errors)),
        update_table={
            "calls": account.update_calls,
            "both_dimensions": account.both_at_once,
            "raises": len(account.raises),
        },
        double_raises=double_raises(account, scenario),
        lost_updates=lost_updates(account, scenario),
        final={
            "throttled dimensions": len(hot),
            "at demand + 25 %": at_target,
            "at the minimum step": sum(account.capacity[t][d] == GUESS for t, d in hot),
        },
        calls=dict(sorted(Counter(c.name for c in calls).items())),
        peak_per_second={n: per_second(calls, n)[0] for n in names},
        mean_per_second={n: per_second(calls, n)[1] for n in names},
        throttled_by_quota=quota.throttled,
        quota_tps=quota.per_second,
        max_attempts=max_attempts,
        unresolved=sum(1 for o in outcomes if o.result is None),
        notifications=sum(1 for c in calls if c.name == "sns:Publish"),
        schedules=sum(account.schedules.values()),
        printed_lines=len(printed.splitlines()),
        checks=check(outcomes, calls, account, scenario),
    )


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
        f"UpdateTable: {report.update_table}; throttled dimensions at the end: {report.final}; "
        f"SNS publishes: {report.notifications}; re-check schedules: {report.schedules}.",
        "",
        "Decisions: " + "; ".join(f"{k} × {v}" for k, v in report.actions.items()),
        "",
    ]
    for label, found in (("double raises", report.double_raises), ("lost", report.lost)):
        if found:
            lines += [f"{label}: {', '.join(found[:20])}", ""]
    if report.lost_updates:
        lines += [f"lost updates: {', '.join(report.lost_updates[:20])}", ""]
    lines += [
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
    found = burst(
        workers=args.workers,
        retry_pause=args.retry_pause,
        max_attempts=args.max_attempts,
        tps=args.get_metric_data_tps,
    )
    text = markdown(found)
    args.out.mkdir(parents=True, exist_ok=True)
    label = "burst" if args.get_metric_data_tps == 50 else f"burst_{args.get_metric_data_tps}tps"
    (args.out / f"{label}.md").write_text(text)
    (args.out / f"{label}.json").write_text(json.dumps(asdict(found), indent=1, default=str))
    print(text)
    return 0 if all(found.checks.values()) else 1


def burst(
    scenario: Scenario | None = None,
    *,
    workers: int = 50,
    retry_pause: float = 1.0,
    max_attempts: int = 3,
    tps: int = 50,
) -> Report:
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    scenario = scenario or Scenario()
    no_shell_aws = scoped_environ(environment(), drop=lambda name: name.startswith("AWS_"))
    with no_shell_aws, mock_aws(), serialized_moto(), metrics_by_table():
        from autoresponder.observability import logger  # noqa: PLC0415
        from local.runtime import cold_start, invoke  # noqa: PLC0415

        session = boto3.session.Session(region_name=REGION)
        topic = seed(session, datetime.now(UTC), scenario)
        level = logger.log_level
        # the package's Logger may predate this environment (its level is read at import)
        logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])
        printed = io.StringIO()  # Powertools' EMF output (its ColdStart metric), not the report
        try:
            with scoped_environ({"NOTIFICATION_TOPIC_ARN": topic}):
                cold_start()
                log = CallLog(keep_params=True)
                quota = RateLimit("cloudwatch", "GetMetricData", tps)
                with log.installed(), quota.installed(), contextlib.redirect_stdout(printed):
                    pending = deliveries(datetime.now(UTC), scenario)
                    outcomes, seconds = run_burst(
                        pending, workers, retry_pause, max_attempts, invoke
                    )
                cold_start()
        finally:
            logger.setLevel(level)
        account = observe(session, log.calls, scenario)
        return report(
            outcomes,
            log.calls,
            seconds=seconds,
            workers=workers,
            account=account,
            scenario=scenario,
            quota=quota,
            max_attempts=max_attempts,
            printed=printed.getvalue(),
        )


def _recorded(key: str, record_sk: str) -> bool:
    """Whether a decision record's key (ALARM#<state time>#<alarm>#<runbook>) is `key`'s."""
    alarm, stamp = key.split("@", 1)
    when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").isoformat()
    return record_sk.startswith(f"ALARM#{when}#{alarm}#")


if __name__ == "__main__":
    sys.exit(main())
