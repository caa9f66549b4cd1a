"""What DynamoDB published before each sample alarm fired (issue: the metrics decide).

The alarm only names a table; the runbook reads the table's own metrics. So that the demo and
`make invoke` show real diagnoses, each sample event comes with the metrics DynamoDB would
have published in the minutes before it (generic and per-cause throttle events, consumed
capacity): `publish_for(event, ...)` writes them to the local AWS just before the event runs.

Metrics are kept per scenario (one table or GSI, one dimension) and published once per account:
a later event about the same scenario finds them already there (CloudWatch adds datapoints of
the same minute, so publishing twice would double them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from local.published import Points, merged, published, put_published

Scenario = Callable[[datetime], Points]

SCENARIOS: dict[str, Scenario] = {
    # orders (100 RCU / 50 WCU; GSI by-customer 50 / 25)
    "orders writes": lambda now: published(
        "orders", end=now, consumed=50, rejected=30, operation="PutItem"
    ),
    "orders reads": lambda now: published(
        "orders", end=now, dimension="read", consumed=100, rejected=25
    ),
    "orders hot partition": lambda now: published(
        "orders", end=now, consumed=None, rejected=12, cause="key_range"
    ),
    "by-customer writes": lambda now: published(
        "orders", end=now, index="by-customer", consumed=25, rejected=15
    ),
    "by-customer reads": lambda now: published(
        "orders", end=now, index="by-customer", dimension="read", consumed=50, rejected=10
    ),
    # profiles (200 / 100, Auto Scaling write 50-200)
    "profiles writes": lambda now: published("profiles", end=now, consumed=100, rejected=40),
    # clickstream (on demand, own caps 2000 reads / 1000 writes)
    "clickstream reads at the cap": lambda now: published(
        "clickstream",
        end=now,
        dimension="read",
        consumed=2000,
        rejected=500,
        cause="on_demand_max",
    ),
    "clickstream writes at the account quota": lambda now: published(
        "clickstream", end=now, consumed=800, rejected=50, cause="account_limit"
    ),
    # inventory (50 / 50, dry-run tag); its read metric alarm reads the generic metric only
    "inventory writes": lambda now: published("inventory", end=now, consumed=50, rejected=5),
    "inventory reads": lambda now: published(
        "inventory", end=now, dimension="read", consumed=50, rejected=10, cause=None
    ),
    # legacy (10 / 10, not managed)
    "legacy writes": lambda now: published("legacy", end=now, consumed=10, rejected=5),
    # carts (100 / 20): writes throttled, reads quiet — a read+write alarm raises the writes
    "carts": lambda now: merged(
        published("carts", end=now, consumed=20, rejected=15),
        published("carts", end=now, dimension="read", consumed=30),
    ),
    # catalog (100 / 50): nothing throttled — a missing-data alarm raises nothing (reads
    # only: the writes are the next scenario's, and CloudWatch would add the two)
    "catalog": lambda now: published("catalog", end=now, dimension="read", consumed=20),
    # ... then its writes outgrow the 50 provisioned units: 60/s for 5 minutes, served from
    # burst capacity, nothing throttled yet — the pre-throttle alarm raises before throttling
    "catalog writes above provisioned": lambda now: published("catalog", end=now, consumed=60),
    # after the story (local/demo.py RECHECK_ROUNDS; `now` is the responder's clock, ahead):
    # orders' write raise (50 → 100) landed, but the demand went on rising: 100 served and 60
    # rejected per second in the minutes since — the re-check raises again at once
    "orders writes still short after the raise": lambda now: published(
        "orders", end=now, consumed=100, rejected=60, minutes=2
    ),
    # ... and once that second raise landed, 150/s served with nothing throttled: the episode
    # is over (the re-check records its time to mitigation)
    "orders writes served after the second raise": lambda now: published(
        "orders", end=now, consumed=150, cause=None, minutes=2
    ),
    # two hours later the spike is long over: 70/s (the scale-back's window) — the sweep goes
    # straight to that peak plus headroom, not all the way back to the original 50
    "orders writes two hours later": lambda now: published(
        "orders", end=now, consumed=70, cause=None, minutes=15
    ),
}

EVENT_SCENARIOS: dict[str, tuple[str, ...]] = {
    "write_throttle_table.json": ("orders writes",),
    "read_throttle_table.json": ("orders reads",),
    "write_throttle_gsi.json": ("by-customer writes",),
    "read_throttle_gsi.json": ("by-customer reads",),
    "throttled_requests_operation.json": ("orders writes",),
    "composite_throttle.json": ("orders writes",),
    "key_range_throttle.json": ("orders hot partition",),
    "write_throttle_autoscaled.json": ("profiles writes",),
    "on_demand_max_throttle.json": ("clickstream reads at the cap",),
    "account_limit_throttle.json": ("clickstream writes at the account quota",),
    "write_throttle_dry_run_table.json": ("inventory writes",),
    "metric_math_throttle.json": ("inventory reads",),
    "write_throttle_unmanaged.json": ("legacy writes",),
    "metric_math_read_plus_write.json": ("carts",),
    "missing_data_breaching.json": ("catalog",),
    "catalog_write_above_provisioned.json": ("catalog writes above provisioned",),
    "recheck round 1": ("orders writes still short after the raise",),
    "recheck round 2": ("orders writes served after the second raise",),
    "scheduled_scale_back.json": ("orders writes two hours later",),
}
"""The scenarios each sample event (or the demo's round of re-checks) is about; events not
named publish nothing. `now` is the responder's clock: ahead of real time for the re-checks
and the scale-back, whose clock the demo fast-forwards."""


def scenarios_of(event_name: str) -> tuple[str, ...]:
    return EVENT_SCENARIOS.get(event_name, ())


def publish_for(
    event_name: str, cloudwatch: Any, now: datetime, published_already: set[str]
) -> list[str]:
    """Publish the metrics of `event_name`'s scenarios not yet published in this account;
    return the scenarios published now (and add them to `published_already`)."""
    fresh = [s for s in scenarios_of(event_name) if s not in published_already]
    if fresh:
        put_published(cloudwatch, merged(*(SCENARIOS[s](now) for s in fresh)))
        published_already.update(fresh)
    return fresh
