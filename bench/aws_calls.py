"""`python -m bench.aws_calls` (`make bench`): the AWS calls each sample event costs.

Every event of `events/` goes to the function(s) its EventBridge rule routes it to (the demo's
steps in `local/demo.py` name them), in a FRESH seeded demo account on the embedded local AWS
(`local_aws()`, `seed_demo_account`), with the metrics DynamoDB would have published before it
(`local/event_metrics.py`), as `make invoke` runs one event: the count is what the event costs
on its own. A few sequences are measured in one account: the same event delivered twice, a
second alarm on the same table and dimension (cooldown), the scheduled scale-back after the
raises (its clock two hours ahead), the re-checks a raise asks for (EventBridge Scheduler →
scale_back: a shortfall raised again, then the episode's end), and an alarm on a GSI of a table
with 40 GSIs (one GetMetricData for all 492 series). Calls are counted with botocore's
`before-call` hook (`bench.calls`), per service and operation, for the project's clients only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import OUT
from bench.calls import CallLog
from bench.cold_start import DEFAULT_SERVICES, SERVICES
from local import EVENTS
from local.demo import RECHECK_ROUNDS
from local.emulator import local_aws
from local.event_metrics import publish_for
from local.published import published, put_published
from local.rechecks import scheduled
from local.runtime import LocalLambdaContext, function_environment, invoke
from local.scale_back_demo import fast_forward
from local.seed import seed_demo_account

SCALE = "scale_on_throttle"

RAISES = (
    "write_throttle_table.json",
    "write_throttle_autoscaled.json",
    "on_demand_max_throttle.json",
)
"""The raises the demo's scale-back run steps back (tests/integration/test_scale_back_demo.py)."""


@dataclass(frozen=True)
class Delivery:
    event: str
    function: str
    clock_ahead: timedelta | None = None


@dataclass(frozen=True)
class Measured:
    case: str
    """What was measured: `alone`, `duplicate`, `cooldown`, `after raises`."""
    event: str
    function: str
    action: str | None
    rule: str | None
    raised: str | None
    calls: int
    by_operation: dict[str, int]


def routes() -> list[Delivery]:
    """(event, function) for every step of the demo, once each; then any other event file."""
    from local import demo  # noqa: PLC0415

    steps = [
        *demo.STORY,
        *getattr(demo, "EPILOGUE", ()),
        *getattr(demo, "ONBOARDING", ()),
    ]
    seen: dict[tuple[str, str], Delivery] = {}
    for step in steps:
        key = (step.event, step.function)
        if key not in seen and (EVENTS / step.event).exists():
            seen[key] = Delivery(step.event, step.function, getattr(step, "clock_ahead", None))
    named = {d.event for d in seen.values()}
    extra = [
        Delivery(p.name, "scale_on_throttle")
        for p in sorted(EVENTS.glob("*.json"))
        if p.name not in named
    ]
    return [*seen.values(), *extra]


class Account:
    """A fresh seeded account on the local AWS, with the functions' environment set."""

    def __init__(self, log: CallLog) -> None:
        self.log = log

    def __enter__(self) -> Account:
        self._aws = local_aws()
        self.aws = self._aws.__enter__()
        self.account = seed_demo_account(self.aws.session())
        self.published: set[str] = set()
        self._env = function_environment(self.account.function_environment(), isolated=True)
        self._env.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._env.__exit__(*exc)
        self._aws.__exit__(*exc)

    def deliver(
        self,
        delivery: Delivery,
        case: str,
        *,
        count: bool = True,
        event: dict[str, Any] | None = None,
    ) -> Measured:
        """Deliver one event (the file, or `event` under that name), after what DynamoDB
        would have published for it (the responder's clock `clock_ahead`)."""
        if event is None:
            event = json.loads((EVENTS / delivery.event).read_text())
        ahead = delivery.clock_ahead or timedelta(0)
        now = datetime.now(UTC) + ahead
        publish_for(delivery.event, self.aws.client("cloudwatch"), now, self.published)
        context = LocalLambdaContext(
            function_name=delivery.function,
            region=self.account.region,
            account_id=self.account.account_id,
        )
        clock = fast_forward(ahead) if delivery.clock_ahead else nullcontext()
        with self.log.window() as calls, clock:
            run = invoke(delivery.function, event, context)
        result: dict[str, Any] = run.result or {}
        return Measured(
            case=case,
            event=delivery.event,
            function=delivery.function,
            action=result.get("action"),
            rule=result.get("rule"),
            raised=type(run.error).__name__ if run.error else None,
            calls=len(calls) if count else 0,
            by_operation=dict(Counter(c.name for c in calls)) if count else {},
        )


def measure_rechecks(log: CallLog) -> list[Measured]:
    """A raise, then the re-checks it asks for, delivered as Scheduler would (the demo's two
    rounds: the shortfall raised again; the episode over)."""
    measured = []
    with Account(log) as account:
        account.deliver(Delivery("write_throttle_table.json", SCALE), "setup")
        scheduler = account.aws.client("scheduler")
        group = account.account.recheck_group
        cases = ("re-check: raise again", "re-check: mitigated")
        for (name, ahead), case in zip(RECHECK_ROUNDS, cases, strict=True):
            due = datetime.now(UTC) + ahead
            for schedule in scheduled(scheduler, group):
                if schedule.due > due or schedule.event["detail"]["table_name"] != "orders":
                    continue
                delivery = Delivery(name, "scale_back", clock_ahead=ahead)
                measured.append(account.deliver(delivery, case, event=schedule.event))
                scheduler.delete_schedule(Name=schedule.name, GroupName=group)
                break
    return measured


WIDE_TABLE = "wide"
WIDE_GSIS = 40


def measure_wide_table(log: CallLog) -> Measured:
    """An alarm on one GSI of a managed table with 40 GSIs: the observation of the table and
    every GSI (2 dimensions × 6 series each, 492 in all) is one GetMetricData."""
    with Account(log) as account:
        keys = [f"k{i:02d}" for i in range(WIDE_GSIS)]
        account.aws.client("dynamodb").create_table(
            TableName=WIDE_TABLE,
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": k, "AttributeType": "S"} for k in ("pk", *keys)
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": f"gsi-{k}",
                    "KeySchema": [{"AttributeName": k, "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                }
                for k in keys
            ],
            Tags=[{"Key": "autoresponder:managed", "Value": "true"}],
        )
        index = f"gsi-{keys[7]}"
        put_published(
            account.aws.client("cloudwatch"),
            published(WIDE_TABLE, end=datetime.now(UTC), index=index, consumed=5, rejected=5),
        )
        raw = (EVENTS / "write_throttle_gsi.json").read_text()
        event = json.loads(raw.replace("by-customer", index).replace('"orders"', f'"{WIDE_TABLE}"'))
        event["detail"]["alarmName"] = f"autoresponder-{WIDE_TABLE}-{index}-write-throttle"
        delivery = Delivery(f"write_throttle_gsi.json ({WIDE_TABLE}, {WIDE_GSIS} GSIs)", SCALE)
        return account.deliver(delivery, f"{WIDE_GSIS} GSIs", event=event)


def measure_all(log: CallLog) -> list[Measured]:
    measured = []
    deliveries = routes()
    for delivery in deliveries:
        with Account(log) as account:
            if delivery.function == "scale_back":
                for raise_event in RAISES:  # what there is to scale back, not counted
                    account.deliver(Delivery(raise_event, "scale_on_throttle"), "setup")
                measured.append(account.deliver(delivery, "after raises"))
            else:
                measured.append(account.deliver(delivery, "alone"))
    with Account(log) as account:
        first = Delivery("write_throttle_table.json", "scale_on_throttle")
        account.deliver(first, "setup")
        measured.append(account.deliver(first, "duplicate"))
        measured.append(
            account.deliver(
                Delivery("throttled_requests_operation.json", "scale_on_throttle"), "cooldown"
            )
        )
    measured += measure_rechecks(log)
    measured.append(measure_wide_table(log))
    return measured


def services_used(measured: Sequence[Measured]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for m in measured:
        used.setdefault(m.function, set()).update(op.split(":")[0] for op in m.by_operation)
    return used


def markdown(measured: Sequence[Measured]) -> str:
    lines = [
        "| function | event | case | decision (rule) | calls | by operation |",
        "|---|---|---|---|---|---|",
    ]
    for m in measured:
        outcome = f"raised {m.raised}" if m.raised else f"{m.action} ({m.rule})"
        ops = ", ".join(f"{op} {n}" for op, n in sorted(m.by_operation.items()))
        lines.append(f"| {m.function} | {m.event} | {m.case} | {outcome} | {m.calls} | {ops} |")
    notes = []
    for function, used in sorted(services_used(measured).items()):
        declared = set(SERVICES.get(function, DEFAULT_SERVICES))
        if used - declared:
            notes.append(
                f"- {function} also calls {', '.join(sorted(used - declared))}: add it to "
                "bench/cold_start.py SERVICES"
            )
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.aws_calls",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    log = CallLog()
    with log.installed():
        measured = measure_all(log)
    text = markdown(measured)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "aws_calls.md").write_text(text)
    (args.out / "aws_calls.json").write_text(json.dumps([asdict(m) for m in measured], indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
