"""`python -m bench.aws_calls` (`make bench`): the AWS calls each sample event costs.

Every event of `events/` goes to the function(s) its EventBridge rule routes it to (the demo's
steps in `local/demo.py` name them), in a FRESH seeded demo account on the embedded local AWS
(`local_aws()`, `seed_demo_account`), as `make invoke` runs one event: the count is what the
event costs on its own. A few sequences are measured in one account: the same event delivered
twice, a second alarm on the same table and dimension (cooldown), and the scheduled scale-back
after the raises (its clock two hours ahead). Calls are counted with botocore's `before-call`
hook (`bench.calls`), per service and operation, for the project's clients only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import OUT
from bench.calls import CallLog
from bench.cold_start import DEFAULT_SERVICES, SERVICES
from local import EVENTS
from local.emulator import local_aws
from local.runtime import LocalLambdaContext, function_environment, invoke
from local.seed import seed_demo_account

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
        aws = self._aws.__enter__()
        self.account = seed_demo_account(aws.session())
        self._env = function_environment(self.account.function_environment(), isolated=True)
        self._env.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._env.__exit__(*exc)
        self._aws.__exit__(*exc)

    def deliver(self, delivery: Delivery, case: str, *, count: bool = True) -> Measured:
        event = json.loads((EVENTS / delivery.event).read_text())
        context = LocalLambdaContext(
            function_name=delivery.function,
            region=self.account.region,
            account_id=self.account.account_id,
        )
        ahead = nullcontext()
        if delivery.clock_ahead:
            from local.scale_back_demo import fast_forward  # noqa: PLC0415

            ahead = fast_forward(delivery.clock_ahead)  # type: ignore[assignment]
        with self.log.window() as calls, ahead:
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
