"""`python -m local.history --table NAME` (`make history TABLE=NAME`): a table's last decisions.

For the person on call: what the responder decided about one table, newest first, read from
the decision table (`DECISION#<table>`): when, which runbook, the action, index and dimension,
dry run or not, whether it was announced, the rule and the reason.

By default it reads the embedded local AWS, seeded with the demo account, after the demo's
events were replayed quietly (so there is a history to read; nothing leaves this process).
Only an explicit flag points it elsewhere, as for `make invoke`:

  --endpoint-url URL   another emulator (LocalStack, a moto server you run yourself, ...)
  --real-account       the AWS account the shell's credentials belong to (read only)

Then nothing is seeded or replayed, the account is announced (STS GetCallerIdentity) before
anything is read, and the decision table is DECISION_TABLE_NAME (the stack output
`DecisionTableName`) or `--decision-table`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import boto3

from local import EVENTS, render
from local.demo import EPILOGUE, ONBOARDING, demo_plan, epilogue_plan
from local.emulator import local_aws
from local.environ import scoped_environ
from local.event_metrics import publish_for
from local.runtime import LocalLambdaContext, function_environment, invoke
from local.scale_back_demo import fast_forward
from local.seed import seed_demo_account

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Entry:
    """One recorded decision about a table, as the decision table holds it."""

    decided_at: str
    runbook: str
    action: str
    index_name: str | None
    dimension: str | None
    dry_run: bool
    notified: bool
    rule: str | None
    reason: str
    correlation_id: str | None
    """The EventBridge event id: the `correlation_id` of the function's log lines."""


def last_decisions(dynamodb: Any, decision_table: str, table: str, limit: int) -> list[Entry]:
    """The `limit` most recent decision records of `table`, newest first."""
    entries = []
    pages = dynamodb.get_paginator("query").paginate(
        TableName=decision_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"DECISION#{table}"}},
    )
    for page in pages:
        for item in page.get("Items", []):
            entries.append(_entry(item))
    entries.sort(key=lambda e: e.decided_at, reverse=True)
    return entries[:limit]


def _entry(item: dict[str, Any]) -> Entry:
    decision: dict[str, Any] = {}
    if "decision" in item:
        try:
            decision = json.loads(item["decision"]["S"])
        except ValueError:
            decision = {}
    return Entry(
        decided_at=_text(item.get("decided_at")) or str(decision.get("decided_at", "")),
        runbook=_text(item.get("runbook")) or str(decision.get("runbook", "?")),
        action=_text(item.get("action")) or str(decision.get("action", "?")),
        index_name=_text(item.get("index_name")) or decision.get("index_name"),
        dimension=decision.get("dimension"),
        dry_run=bool(item.get("dry_run", {}).get("BOOL", decision.get("dry_run", False))),
        notified=bool(item.get("notified", {}).get("BOOL", False)),
        rule=decision.get("rule"),
        reason=str(decision.get("reason", "")),
        correlation_id=decision.get("event_id"),
    )


def _text(value: Any) -> str | None:
    return value.get("S") if isinstance(value, dict) else None


def render_history(table: str, entries: Sequence[Entry], where: str) -> list[str]:
    lines = [render.rule(f"Last decisions about table {table}  ({where})")]
    if not entries:
        return [*lines, render.field("none", f"no decision recorded for {table}")]
    for entry in entries:
        target = " / ".join(
            part
            for part in (f"index {entry.index_name}" if entry.index_name else "", entry.dimension)
            if part
        )
        flags = ", ".join(
            flag for flag, on in (("DRY RUN", entry.dry_run), ("announced", entry.notified)) if on
        )
        lines.append(
            f"  {_when(entry.decided_at)}  {entry.runbook}: "
            f"{entry.action.upper().replace('_', ' ')}"
            + (f"  {target}" if target else "")
            + (f"  [{flags}]" if flags else "")
        )
        if entry.rule:
            lines.append(render.field("", f"rule {entry.rule}", indent=4))
        lines.append(render.field("", entry.reason, indent=4))
        if entry.correlation_id:
            lines.append(render.field("", f"event {entry.correlation_id}", indent=4))
    return lines


def _when(decided_at: str) -> str:
    try:
        moment = datetime.fromisoformat(decided_at)
    except ValueError:
        return decided_at
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ------------------------------------------------------------------------------------------
# where to read
# ------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.history",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", required=True, help="the DynamoDB table, e.g. orders")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"how many (default {DEFAULT_LIMIT})"
    )
    parser.add_argument(
        "--decision-table", help="the responder's decision table (default: DECISION_TABLE_NAME)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--endpoint-url", help="read this emulator instead (no seeding)")
    target.add_argument(
        "--real-account",
        action="store_true",
        help="read the AWS account of the shell's credentials (no seeding)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parse_args(argv)
    out = out or sys.stdout
    if args.endpoint_url or args.real_account:
        lines = _read_elsewhere(args)
    else:
        lines = _read_locally(args.table, args.limit)
    print(*lines, sep="\n", file=out)
    return 0


def _read_locally(table: str, limit: int) -> list[str]:
    """The embedded local AWS after the demo's events (quietly: only the history is shown)."""
    with local_aws() as aws:
        account = seed_demo_account(aws.session(), composite_children=False)
        cloudwatch, published = aws.client("cloudwatch"), set[str]()
        plan, _ = demo_plan(EVENTS)
        steps = [*epilogue_plan(EVENTS, ONBOARDING), *plan, *epilogue_plan(EVENTS, EPILOGUE)]
        with function_environment(account.function_environment(), isolated=True):
            for step, path in steps:
                context = LocalLambdaContext(
                    function_name=step.function,
                    region=account.region,
                    account_id=account.account_id,
                )
                event = json.loads(path.read_text())
                publish_for(path.name, cloudwatch, datetime.now(UTC), published)
                with fast_forward(step.clock_ahead) if step.clock_ahead else _nothing():
                    invoke(step.function, event, context, quiet=True)
        entries = last_decisions(aws.client("dynamodb"), account.decision_table_name, table, limit)
        where = f"embedded local AWS {aws.endpoint_url}, after `make demo`'s events"
        return render_history(table, entries, where)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _read_elsewhere(args: argparse.Namespace) -> list[str]:
    decision_table = args.decision_table or os.environ.get("DECISION_TABLE_NAME")
    if not decision_table:
        raise SystemExit(
            "the decision table is needed against --endpoint-url or --real-account: "
            "--decision-table NAME or DECISION_TABLE_NAME (the stack output DecisionTableName)"
        )
    values = {"AWS_ENDPOINT_URL": args.endpoint_url} if args.endpoint_url else {}
    drop = None if args.endpoint_url else (lambda name: name.startswith("AWS_ENDPOINT_URL"))
    with scoped_environ(values, drop=drop):
        session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
        identity = session.client("sts").get_caller_identity()
        banner = [
            render.rule("NOT the embedded local AWS (read only)", "!"),
            render.field("endpoint", args.endpoint_url or "AWS (no endpoint override)"),
            render.field("account", str(identity["Account"])),
            render.field("identity", str(identity["Arn"])),
            render.field("region", session.region_name or "(none set)"),
            render.field("records", decision_table),
            render.rule(char="!"),
        ]
        print(*banner, sep="\n", file=sys.stderr)
        entries = last_decisions(session.client("dynamodb"), decision_table, args.table, args.limit)
    where = f"{decision_table} in account {identity['Account']} {session.region_name or ''}"
    return render_history(args.table, entries, where.strip())


if __name__ == "__main__":
    sys.exit(main())
