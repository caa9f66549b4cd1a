"""`python -m local.invoke --function NAME --event FILE` (`make invoke`): one event, in-process.

By default the event runs against the embedded local AWS, freshly seeded with the demo
account (nothing leaves this process). Only an explicit flag points it elsewhere:

  --endpoint-url URL   another emulator (LocalStack, a moto server you run yourself, ...)
  --real-account       the AWS account the shell's credentials belong to

Then nothing is seeded, the account is announced (STS GetCallerIdentity) before anything
runs, and DECISION_TABLE_NAME and NOTIFICATION_TOPIC_ARN must come from the environment.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import boto3

from local import ROOT, render
from local.demo import EventRun, Observer, local_observer, run_event
from local.emulator import local_aws
from local.environ import scoped_environ
from local.runtime import LocalLambdaContext, function_environment, function_names
from local.seed import seed_demo_account

REQUIRED = ("DECISION_TABLE_NAME", "NOTIFICATION_TOPIC_ARN")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.invoke",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--function", required=True, help=f"a folder of functions/ ({', '.join(function_names())})"
    )
    parser.add_argument(
        "--event", required=True, type=Path, help="an event file, e.g. events/x.json"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--endpoint-url", help="run against this emulator instead (no seeding)")
    target.add_argument(
        "--real-account",
        action="store_true",
        help="run against the AWS account of the shell's credentials (no seeding)",
    )
    parser.add_argument(
        "--logs", action="store_true", help="also print the function's logs and EMF metrics"
    )
    return parser.parse_args(argv)


def _event_path(path: Path) -> Path:
    for candidate in (path, ROOT / path):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"no event file {path}")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Exit status 0 when the handler returned, 1 when it raised (Lambda would retry)."""
    args = parse_args(argv)
    out = out or sys.stdout
    path = _event_path(args.event)
    if args.function not in function_names():
        raise SystemExit(
            f"no function {args.function!r} under functions/ "
            f"(known: {', '.join(function_names()) or 'none'})"
        )
    if args.endpoint_url or args.real_account:
        run = _invoke_elsewhere(args, path, out)
    else:
        run = _invoke_locally(args.function, path, out, show_logs=args.logs)
    if run.decision is not None:
        print(
            "\nreturned:",
            json.dumps(run.decision, indent=2, default=str, ensure_ascii=False),
            sep="\n",
            file=out,
        )
    return 1 if run.invocation.raised else 0


def _invoke_locally(function: str, path: Path, out: TextIO, *, show_logs: bool) -> EventRun:
    with local_aws() as aws:
        # onboard_tables makes the composite alarm's children itself: none left in its way
        account = seed_demo_account(aws.session(), composite_children=function != "onboard_tables")
        print(
            render.field("local AWS", f"{aws.endpoint_url} (embedded, seeded demo account)"),
            render.field("account", f"{account.account_id} {account.region}"),
            sep="\n",
            file=out,
        )
        with function_environment(
            account.function_environment(), show_logs=show_logs, isolated=True
        ):
            context = LocalLambdaContext(
                function_name=function, region=account.region, account_id=account.account_id
            )
            return run_event(
                function,
                path,
                local_observer(aws, account),
                out,
                title=f"{function} ← {path.name}",
                context=context,
                quiet=not show_logs,
            )


@contextmanager
def _target(endpoint_url: str | None) -> Iterator[None]:
    """Point AWS clients at `endpoint_url`, or (None) at AWS itself: no endpoint override."""
    if endpoint_url:
        with scoped_environ({"AWS_ENDPOINT_URL": endpoint_url}):
            yield
    else:
        with scoped_environ({}, drop=lambda name: name.startswith("AWS_ENDPOINT_URL")):
            yield


def _invoke_elsewhere(args: argparse.Namespace, path: Path, out: TextIO) -> EventRun:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        raise SystemExit(
            f"{' and '.join(missing)} must be set: against --endpoint-url or --real-account "
            "nothing is seeded (the decision table and the topic must already exist)"
        )
    with _target(args.endpoint_url):
        session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
        identity = session.client("sts").get_caller_identity()
        where = args.endpoint_url or "AWS (no endpoint override)"
        banner = [
            render.rule("NOT the embedded local AWS", "!"),
            render.field("endpoint", where),
            render.field("account", str(identity["Account"])),
            render.field("identity", str(identity["Arn"])),
            render.field("region", session.region_name or "(none set)"),
            render.field("records", os.environ["DECISION_TABLE_NAME"]),
            render.field("topic", os.environ["NOTIFICATION_TOPIC_ARN"]),
            render.field(
                "",
                (
                    "the function acts on this emulator's account"
                    if args.endpoint_url
                    else "the function acts on this AWS account FOR REAL"
                )
                + ": tables tagged autoresponder:managed=true may be changed"
                + (" (DRY_RUN=true: none will be)" if os.environ.get("DRY_RUN") == "true" else ""),
            ),
            render.rule(char="!"),
        ]
        print(*banner, sep="\n", file=sys.stderr)
        settings = {name: os.environ[name] for name in REQUIRED}
        with function_environment(settings, show_logs=args.logs):
            context = LocalLambdaContext(
                function_name=args.function,
                region=session.region_name or "us-east-1",
                account_id=str(identity["Account"]),
            )
            run = run_event(
                args.function,
                path,
                Observer(),
                out,
                title=f"{args.function} ← {path.name}",
                context=context,
                quiet=not args.logs,
            )
    print(
        render.field("notified", f"whatever was announced went to {settings[REQUIRED[1]]}"),
        file=out,
    )
    return run


if __name__ == "__main__":
    sys.exit(main())
