"""`python -m local.demo` (`make demo`): every sample event through the function, locally.

Starts the embedded local AWS, seeds the demo account, then runs each file of `events/`
through `functions.scale_on_throttle.app.lambda_handler` in-process, in the order of the
story below, plus one duplicate delivery. For each event it prints the alarm, the decision,
what changed in the account and the notifications that reached the inbox; at the end, the
capacity of every table before → after and the decision table's records.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from local.runtime import (
    Invocation,
    LocalLambdaContext,
    function_environment,
    invoke,
)
from local.seed import DEMO_TABLES, DemoAccount, seed_demo_account

SCALE = "scale_on_throttle"


@dataclass(frozen=True)
class Step:
    """One delivery in the demo: an event file, the function EventBridge routes it to."""

    event: str
    function: str = SCALE
    again: bool = False
    """A repeated delivery (EventBridge and Lambda deliver at least once)."""


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
    Step("write_throttle_autoscaled.json"),  # Auto Scaling owns the table: raise its minimum
    # on-demand
    Step("on_demand_max_throttle.json"),
    Step("account_limit_throttle.json"),
    # table policy
    Step("write_throttle_dry_run_table.json"),
    Step("metric_math_throttle.json"),
    Step("write_throttle_unmanaged.json"),
    # never acted on (the EventBridge rule would not even deliver these)
    Step("ok_transition.json"),
    Step("autoscaling_alarm.json"),
    Step("other_namespace.json"),
    Step("malformed_event.json"),
)
"""The demo, in order. A new sample event joins the demo with a line here naming the function
its EventBridge rule routes it to; files not named are listed at the end of the demo."""


def demo_plan(events_dir: Path = EVENTS) -> tuple[list[tuple[Step, Path]], list[Path]]:
    """The story's steps whose event file exists, and the event files the story does not name."""
    present = {p.name: p for p in sorted(events_dir.glob("*.json"))}
    plan = [(step, present[step.event]) for step in STORY if step.event in present]
    named = {step.event for step in STORY}
    return plan, [path for name, path in present.items() if name not in named]


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
    """How to read the account back after an invocation; each part is optional."""

    snapshot: Callable[[], dict[str, UnitCapacity]] | None = None
    inbox: Callable[[], list[InboxMessage]] | None = None


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
) -> EventRun:
    """Deliver one event file to the function and print what happened. `first`: the decision
    an earlier delivery of the same event returned; `capacity_before`: the account's capacity
    now, when already known."""

    def say(*lines: str) -> None:
        print(*lines, sep="\n", file=out)

    event = json.loads(path.read_text())
    say("", render.rule(title))
    if duplicate:
        say(render.field("delivery", "the same event again (EventBridge delivers at least once)"))
    say(*render.alarm_summary(event))
    was = capacity_before or (observer.snapshot() if observer.snapshot else None)
    invocation = invoke(function, event, context, quiet=quiet)
    now = observer.snapshot() if observer.snapshot else None
    run = EventRun(path, duplicate, invocation, capacity_after=now)
    if invocation.error is not None:
        say(*render.raised(invocation.error, isinstance(invocation.error, RetryableError)))
    else:
        say(*render.decision(invocation.result or {}))
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
    return Observer(
        snapshot=lambda: capacity_snapshot(dynamodb, autoscaling, account.tables),
        inbox=lambda: drain_inbox(
            sqs, account.queue_url, lambda mid: aws.email_variant(account.topic_arn, mid)
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


def run_demo(
    out: TextIO = sys.stdout, *, events_dir: Path = EVENTS, show_logs: bool = False
) -> DemoReport:
    """The whole demo on a fresh local AWS; returns what it observed."""

    def say(*lines: str) -> None:
        print(*lines, sep="\n", file=out)

    plan, unplanned = demo_plan(events_dir)
    functions = sorted({step.function for step, _ in plan})
    with local_aws() as aws:
        account = seed_demo_account(aws.session(), datetime.now(UTC))
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
        with function_environment(
            account.function_environment(), show_logs=show_logs, isolated=True
        ):
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
                    )
                )  # fmt: skip
        after = runs[-1].capacity_after if runs and runs[-1].capacity_after else before
        kinds, actions = decision_table_items(aws.client("dynamodb"), account.decision_table_name)
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
    if unplanned:
        say(
            render.field(
                "not run",
                f"{', '.join(p.name for p in unplanned)}: not in the demo's STORY "
                "(local/demo.py names the function each event goes to)",
                indent=0,
            )
        )
    return DemoReport(account, runs, before, after, kinds, actions)


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
