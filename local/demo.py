"""`python -m local.demo` (`make demo`): every sample event through the function, locally.

Starts the embedded local AWS, seeds the demo account, then, in the order of real use, lets
onboard_tables give the tables their alarms and runs each file of `events/` through the
function EventBridge routes it to (its `lambda_handler`, in-process), in the order of the story
below, plus one duplicate delivery. For each event it prints the alarm, the decision,
what changed in the account and the notifications that reached the inbox; at the end, the
capacity of every table before → after and the decision table's records.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, TextIO

from autoresponder.errors import RetryableError
from local import EVENTS, render
from local.account import (
    InboxMessage,
    UnitCapacity,
    capacity_snapshot,
    decision_table_items,
    drain_inbox,
)
from local.emulator import LocalAccount, local_aws, registered_extensions
from local.event_metrics import publish_for
from local.onboarding_demo import alarm_lines, tag_change_summary
from local.rechecks import Scheduled, deliver_due, is_recheck, recheck_summary
from local.runtime import (
    Invocation,
    LocalLambdaContext,
    function_environment,
    invoke,
)
from local.scale_back_demo import fast_forward, is_scheduled, run_decisions, schedule_summary
from local.seed import DEMO_TABLES, DemoAccount, seed_demo_account

SCALE = "scale_on_throttle"
HOT_KEYS = "flag_hot_keys"
BACK = "scale_back"
LATENCY = "report_latency_regression"
ONBOARD = "onboard_tables"


@dataclass(frozen=True)
class Step:
    """One delivery in the demo: an event file, the function EventBridge routes it to."""

    event: str
    function: str = SCALE
    again: bool = False
    """A repeated delivery (EventBridge and Lambda deliver at least once)."""
    clock_ahead: timedelta | None = None
    """Run with the responder's clock this far ahead (local/scale_back_demo.py)."""


ONBOARDING = (
    # the hourly reconcile: every covered table gets the alarms the runbooks listen to
    Step("scheduled_onboarding.json", ONBOARD),
    # a tag change on a table the reconcile just covered: nothing left to do
    Step("tag_change_managed.json", ONBOARD),
)
"""Run first, as in real use (deploy, opt tables in, onboard_tables makes their alarms, the
alarms fire): onboard_tables over the demo account (its runs are in `DemoReport.onboarding`)."""

STORY = (
    # provisioned tables: scale up, and the guardrails around it
    Step("write_throttle_table.json"),
    Step("write_throttle_table.json", again=True),  # changes nothing, notifies nobody
    Step("read_throttle_table.json"),
    Step("write_throttle_gsi.json"),
    Step("read_throttle_gsi.json"),
    Step("throttled_requests_operation.json"),  # same table and dimension: cooldown
    Step("composite_throttle.json"),  # resolved through its child alarm: cooldown
    Step("key_range_throttle.json"),  # hot partition: capacity would not help
    Step("key_range_throttle.json", HOT_KEYS),  # the same event, routed here too: hot keys
    Step("write_throttle_autoscaled.json"),  # Auto Scaling owns the table: raise its minimum
    # on-demand
    Step("on_demand_max_throttle.json"),
    Step("account_limit_throttle.json"),
    # hot keys (Contributor Insights, answered by the local AWS: local/contributor_insights.py)
    Step("insight_rule_alarm.json", HOT_KEYS),  # a Contributor Insights rule's own alarm
    Step("key_range_throttle_insights_off.json", HOT_KEYS),  # off: its cost and the command
    # table policy
    Step("write_throttle_dry_run_table.json"),
    Step("metric_math_throttle.json"),
    Step("write_throttle_unmanaged.json"),
    # what the metrics say, not the alarm: a read+write alarm, a missing-data alarm
    Step("metric_math_read_plus_write.json"),  # only the writes throttled: writes are raised
    Step("missing_data_breaching.json"),  # ALARM without a datapoint: nothing throttled
    # latency (metrics seeded at the events' own moments: local/latency_demo.py)
    Step("latency_alarm_getitem.json", LATENCY),  # profiles' GetItem 3.4 × slower: a regression
    # act before throttling: onboarding's pre-throttle alarm (consumed above provisioned)
    Step("catalog_write_above_provisioned.json"),  # burst being spent: raised before throttling
    # never acted on (the EventBridge rule would not even deliver these)
    Step("ok_transition.json"),
    Step("autoscaling_alarm.json"),
    Step("other_namespace.json"),
    Step("malformed_event.json"),
)
"""The demo, in order. A new sample event joins the demo with a line here naming the function
its EventBridge rule routes it to; files not named are listed at the end of the demo."""

RECHECK_ROUNDS = (
    # a few minutes after the story: the one-time re-checks its raises asked for are due
    # (EventBridge Scheduler → scale_back; local/rechecks.py plays Scheduler's delivery)
    ("recheck round 1", timedelta(minutes=3)),  # orders still short: raised again at once
    ("recheck round 2", timedelta(minutes=6)),  # throttling stopped: time to mitigation
)
"""(name, how far ahead the responder's clock is): each round publishes its metrics
(`local/event_metrics.py`), then delivers every re-check due by then."""

EPILOGUE = (
    # two hours later: scale_back steps the story's raises back (local/scale_back_demo.py)
    Step("scheduled_scale_back.json", BACK, clock_ahead=timedelta(hours=2)),
    # the next morning: the daily latency report over every managed table finds a drift no
    # alarm saw (its metrics are seeded at its own scheduled time: local/latency_demo.py)
    Step("latency_daily_report.json", LATENCY),
)
"""Run after the story's summary, on the account the story left."""


def demo_plan(events_dir: Path = EVENTS) -> tuple[list[tuple[Step, Path]], list[Path]]:
    """The story's steps whose event file exists, and the event files the story does not name."""
    present = {p.name: p for p in sorted(events_dir.glob("*.json"))}
    plan = [(step, present[step.event]) for step in STORY if step.event in present]
    named = {step.event for step in (*STORY, *EPILOGUE, *ONBOARDING)}
    return plan, [path for name, path in present.items() if name not in named]


def epilogue_plan(
    events_dir: Path = EVENTS, steps: Sequence[Step] = EPILOGUE
) -> list[tuple[Step, Path]]:
    return [(s, events_dir / s.event) for s in steps if (events_dir / s.event).exists()]


# ------------------------------------------------------------------------------------------
# one event
# ------------------------------------------------------------------------------------------
@dataclass
class EventRun:
    """One delivery of one event file and everything observed about it."""

    path: Path
    duplicate: bool
    invocation: Invocation
    notifications: list[InboxMessage] = field(default_factory=list)
    changes: list[str] | None = None
    """What changed in the account (None when the account cannot be read back)."""
    capacity_after: dict[str, UnitCapacity] | None = None

    @property
    def decision(self) -> dict[str, Any] | None:
        return self.invocation.result


@dataclass(frozen=True)
class Observer:
    """How to read the account back after an invocation (and, on the local AWS, publish what
    DynamoDB would have before the event); each part is optional."""

    snapshot: Callable[[], dict[str, UnitCapacity]] | None = None
    inbox: Callable[[], list[InboxMessage]] | None = None
    publish: Callable[[str, timedelta], list[str]] | None = None
    """Publish the metrics of the named event's scenarios, the responder's clock that far
    ahead of real time; returns the scenarios published."""


def run_event(
    function: str,
    path: Path,
    observer: Observer,
    out: TextIO,
    *,
    title: str,
    duplicate: bool = False,
    context: LocalLambdaContext | None = None,
    quiet: bool = True,
    first: dict[str, Any] | None = None,
    capacity_before: dict[str, UnitCapacity] | None = None,
    clock_ahead: timedelta | None = None,
    event: dict[str, Any] | None = None,
) -> EventRun:
    """Deliver one event file (or `event`, named `path`) to the function and print what
    happened. `first`: the decision an earlier delivery of the same event returned;
    `capacity_before`: the account's capacity now, when already known."""

    def say(*lines: str) -> None:
        print(*lines, sep="\n", file=out)

    event = event if event is not None else json.loads(path.read_text())
    say("", render.rule(title))
    if duplicate:
        say(render.field("delivery", "the same event again (EventBridge delivers at least once)"))
    if is_recheck(event):
        say(*recheck_summary(event, clock_ahead))
    elif is_scheduled(event):
        say(*schedule_summary(event, clock_ahead))
    elif event.get("detail-type") == "Tag Change on Resource":
        say(*tag_change_summary(event))
    else:
        say(*render.alarm_summary(event))
    fresh = (
        observer.publish(path.name, clock_ahead or timedelta(0))
        if observer.publish and not duplicate
        else []
    )
    if fresh:
        say(render.field("metrics", f"DynamoDB published: {', '.join(fresh)}"))
    was = capacity_before or (observer.snapshot() if observer.snapshot else None)
    if clock_ahead:
        with fast_forward(clock_ahead):
            invocation = invoke(function, event, context, quiet=quiet)
    else:
        invocation = invoke(function, event, context, quiet=quiet)
    now = observer.snapshot() if observer.snapshot else None
    run = EventRun(path, duplicate, invocation, capacity_after=now)
    if invocation.error is not None:
        say(*render.raised(invocation.error, isinstance(invocation.error, RetryableError)))
    else:
        say(*render.decision(invocation.result or {}))
        say(*run_decisions(invocation.result or {}))
        if alarms := alarm_lines(invocation.result or {}):
            say(*alarms)
        if first is not None and invocation.result == first:
            say(
                render.field(
                    "idempotent",
                    f"the first delivery's decision (decided at {first.get('decided_at')}), "
                    "returned as recorded: not decided, applied or announced again",
                )
            )
    if was is not None and now is not None:
        run.changes = render.capacity_changes(was, now)
        say(render.field("account", "; ".join(run.changes) or "unchanged"))
    if observer.inbox is not None:
        run.notifications = observer.inbox()
        count = len(run.notifications)
        say(
            render.field(
                "notified",
                {0: "nothing (no message reached the inbox)", 1: "1 message in the inbox"}.get(
                    count, f"{count} messages in the inbox"
                ),
            )
        )
        for message in run.notifications:
            say(*render.notification(message))
    return run


def local_observer(aws: LocalAccount, account: DemoAccount) -> Observer:
    dynamodb = aws.client("dynamodb")
    autoscaling = aws.client("application-autoscaling")
    sqs = aws.client("sqs")
    cloudwatch = aws.client("cloudwatch")
    published: set[str] = set()
    return Observer(
        snapshot=lambda: capacity_snapshot(dynamodb, autoscaling, account.tables),
        inbox=lambda: drain_inbox(
            sqs, account.queue_url, lambda mid: aws.email_variant(account.topic_arn, mid)
        ),
        publish=lambda event, ahead: publish_for(
            event, cloudwatch, datetime.now(UTC) + ahead, published
        ),
    )


def table_policies() -> dict[str, str]:
    """Each demo table's policy tags, in a few words."""
    policies = {}
    for table in DEMO_TABLES:
        tags = table.tags
        if tags.get("autoresponder:managed") != "true":
            policies[table.name] = "not managed"
            continue
        words = ["managed"]
        if tags.get("autoresponder:dry-run") == "true":
            words.append("dry run")
        for dimension in ("read", "write"):
            ceiling = tags.get(f"autoresponder:max-{dimension}-units")
            if ceiling:
                words.append(f"max {dimension} {ceiling}")
        policies[table.name] = ", ".join(words)
    return policies


def recheck_round(
    aws: LocalAccount,
    account: DemoAccount,
    observer: Observer,
    out: TextIO,
    *,
    name: str,
    ahead: timedelta,
    quiet: bool = True,
) -> list[EventRun]:
    """One round of re-checks: the responder's clock `ahead`, the round's metrics published,
    then every one-time schedule due by then delivered to scale_back (and deleted)."""
    fresh = observer.publish(name, ahead) if observer.publish else []
    print(
        "",
        render.rule(f"{name}: the responder's clock {ahead.total_seconds() / 60:g} min ahead"),
        render.field("metrics", f"DynamoDB published: {', '.join(fresh) or 'nothing new'}"),
        sep="\n",
        file=out,
    )
    runs: list[EventRun] = []

    def deliver(schedule: Scheduled) -> None:
        table = schedule.event.get("detail", {}).get("table_name", "?")
        runs.append(
            run_event(
                BACK,
                Path(f"re-check of {table}"),
                Observer(snapshot=observer.snapshot, inbox=observer.inbox),
                out,
                title=f"{name}  re-check of {table} → {BACK}",
                context=LocalLambdaContext(
                    function_name=BACK, region=account.region, account_id=account.account_id
                ),
                quiet=quiet,
                clock_ahead=ahead,
                event=schedule.event,
            )
        )

    deliver_due(aws.client("scheduler"), account.recheck_group, datetime.now(UTC) + ahead, deliver)
    return runs


# ------------------------------------------------------------------------------------------
# the demo
# ------------------------------------------------------------------------------------------
@dataclass
class DemoReport:
    account: DemoAccount
    runs: list[EventRun]
    before: dict[str, UnitCapacity]
    after: dict[str, UnitCapacity]
    record_kinds: Counter[str]
    record_actions: Counter[str]
    epilogue: list[EventRun] = field(default_factory=list)
    """The EPILOGUE's runs (after `after` and the records were read)."""
    onboarding: list[EventRun] = field(default_factory=list)
    """The ONBOARDING runs (before the story)."""
    rechecks: list[EventRun] = field(default_factory=list)
    """The re-checks the story's changes asked for, delivered in RECHECK_ROUNDS."""


def run_demo(
    out: TextIO = sys.stdout, *, events_dir: Path = EVENTS, show_logs: bool = False
) -> DemoReport:
    """The whole demo on a fresh local AWS; returns what it observed."""

    def say(*lines: str) -> None:
        print(*lines, sep="\n", file=out)

    plan, unplanned = demo_plan(events_dir)
    functions = sorted({step.function for step, _ in plan})
    with local_aws() as aws:
        # no alarms of onboard_tables' yet: it runs first and makes them
        account = seed_demo_account(aws.session(), composite_children=False)
        observer = local_observer(aws, account)
        assert observer.snapshot is not None
        before = observer.snapshot()
        extensions = "; ".join(
            f"{service}: {', '.join(names)}" for service, names in registered_extensions().items()
        )
        say(
            render.rule("DynamoDB auto-responder: local demo", "═"),
            render.field("local AWS", f"{aws.endpoint_url}  (moto {version('moto')} server)"),
            render.field("extends", extensions),
            render.field("account", f"{account.account_id} {account.region}: demo account"),
            render.field("tables", ", ".join(account.tables)),
            render.field("functions", f"{', '.join(functions)} (lambda_handler, in-process)"),
            render.field("records", account.decision_table_name),
            render.field("topic", f"{account.topic_arn} → SQS inbox"),
        )
        runs: list[EventRun] = []
        onboarding: list[EventRun] = []
        with function_environment(
            account.function_environment(), show_logs=show_logs, isolated=True
        ):
            for step, path in epilogue_plan(events_dir, ONBOARDING):
                context = LocalLambdaContext(
                    function_name=step.function,
                    region=account.region,
                    account_id=account.account_id,
                )
                title = f"first  {path.parent.name}/{path.name} → {step.function}"
                onboarding.append(
                    run_event(
                        step.function, path, observer, out, title=title, context=context,
                        quiet=not show_logs, capacity_before=before,
                    )
                )  # fmt: skip
            for number, (step, path) in enumerate(plan, start=1):
                title = f"{number}/{len(plan)}  {path.parent.name}/{path.name} → {step.function}"
                context = LocalLambdaContext(
                    function_name=step.function,
                    region=account.region,
                    account_id=account.account_id,
                )
                earlier = [r.decision for r in runs if r.path == path and r.decision]
                runs.append(
                    run_event(
                        step.function, path, observer, out, title=title, duplicate=step.again,
                        context=context, quiet=not show_logs,
                        first=earlier[0] if step.again and earlier else None,
                        capacity_before=runs[-1].capacity_after if runs else before,
                        clock_ahead=step.clock_ahead,
                    )
                )  # fmt: skip
        after = runs[-1].capacity_after if runs and runs[-1].capacity_after else before
        kinds, actions = decision_table_items(aws.client("dynamodb"), account.decision_table_name)
        later = io.StringIO()  # printed after the story's summary
        epilogue: list[EventRun] = []
        with function_environment(
            account.function_environment(), show_logs=show_logs, isolated=True
        ):
            rechecks: list[EventRun] = []
            for name, ahead in RECHECK_ROUNDS:
                rechecks += recheck_round(
                    aws, account, observer, later, name=name, ahead=ahead, quiet=not show_logs
                )
            for step, path in epilogue_plan(events_dir):
                context = LocalLambdaContext(
                    function_name=step.function,
                    region=account.region,
                    account_id=account.account_id,
                )
                title = f"later  {path.parent.name}/{path.name} → {step.function}"
                epilogue.append(
                    run_event(
                        step.function, path, observer, later, title=title, context=context,
                        quiet=not show_logs, clock_ahead=step.clock_ahead,
                        capacity_before=(rechecks[-1].capacity_after if rechecks else after),
                    )
                )  # fmt: skip
    say(
        "",
        render.rule("Capacity in the emulated account: before → after the demo", "═"),
        *render.capacity_table(before, after, table_policies()),
        "  (Application Auto Scaling itself raises provisioned capacity to a new MinCapacity;",
        "  the local AWS does not emulate that.)",
        "",
        render.rule(f"Decision table {account.decision_table_name}", "═"),
        *render.records(kinds, actions),
        "",
        f"{sum(1 for r in runs if r.invocation.raised)} of {len(runs)} deliveries raised; "
        f"{sum(len(r.notifications) for r in runs)} notifications reached the inbox.",
    )
    out.write(later.getvalue())
    if unplanned:
        say(
            render.field(
                "not run",
                f"{', '.join(p.name for p in unplanned)}: not in the demo's STORY "
                "(local/demo.py names the function each event goes to)",
                indent=0,
            )
        )
    return DemoReport(account, runs, before, after, kinds, actions, epilogue, onboarding, rechecks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__)
    parser.add_argument(
        "--logs", action="store_true", help="also print the function's logs and EMF metrics"
    )
    args = parser.parse_args(argv)
    run_demo(show_logs=args.logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
