"""`python -m bench.cold_start` (`make bench`): each function's init next to boto3's alone.

For every `functions/*/app.py`, a fresh CPython process does what Lambda's init phase does:
import the handler module, build its default dependencies (the wiring's `runner()`: settings,
adapters, the idempotency layer) and create the AWS clients the function uses. The baseline is
a fresh process that only imports boto3 and creates the same clients. Runs are interleaved
(every variant once per round, `--runs` rounds, after one discarded warm-up round that fills
the bytecode caches); the report gives medians and the ratio.

Both kinds of process get the functions' environment (DECISION_TABLE_NAME,
NOTIFICATION_TOPIC_ARN, AWS_REGION, fake credentials) and, as in Lambda with `Tracing: Active`,
`LAMBDA_TASK_ROOT` and `AWS_LAMBDA_FUNCTION_NAME`, so Powertools' Tracer patches the SDK as it
does there. `AWS_ENDPOINT_URL` points at a closed local port: a network call at init would fail
loudly (none is made). `--root` measures another copy of the code (a before/after comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import OUT, ROOT

SERVICES: Mapping[str, tuple[str, ...]] = {
    "scale_on_throttle": (
        "dynamodb", "cloudwatch", "application-autoscaling", "sns", "events", "scheduler",
    ),
    "flag_hot_keys": ("dynamodb", "cloudwatch", "sns", "events"),
    "report_latency_regression": ("dynamodb", "cloudwatch", "sns", "events"),
    "scale_back": (
        "dynamodb", "cloudwatch", "application-autoscaling", "sns", "events", "scheduler",
    ),
    "onboard_tables": ("dynamodb", "cloudwatch", "application-autoscaling", "sns", "events"),
}  # fmt: skip
"""The AWS clients each function uses (checked by `bench.aws_calls`, which sees every call)."""
DEFAULT_SERVICES = ("dynamodb", "cloudwatch", "sns")

CHILD = r"""
import sys, time
t0 = time.perf_counter()
role, function, services = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
if role == "handler":
    import importlib
    importlib.import_module(f"functions.{function}.app")
    t1 = time.perf_counter()
    importlib.import_module(f"autoresponder.wiring.{function}").runner()
    t2 = time.perf_counter()
    from autoresponder.adapters.clients import client
    for service in services:
        client(service, "us-east-1")
    t3 = time.perf_counter()
else:
    import boto3
    from botocore.config import Config
    t1 = t2 = time.perf_counter()
    config = Config(retries={"mode": "standard"}, connect_timeout=3, read_timeout=10)
    session = boto3.session.Session()
    for service in services:
        session.client(service, region_name="us-east-1", config=config)
    t3 = time.perf_counter()
modules = len(sys.modules)
print(f"{t1 - t0:.6f} {t2 - t1:.6f} {t3 - t2:.6f} {t3 - t0:.6f} {modules}")
"""


def child_environment(root: Path, function: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {
        **keep,
        "PYTHONPATH": f"{root / 'layers' / 'autoresponder'}{os.pathsep}{root}",
        "DECISION_TABLE_NAME": "autoresponder-decisions",
        "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:autoresponder",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "LAMBDA_TASK_ROOT": str(root),
        "POWERTOOLS_SERVICE_NAME": "dynamodb-autoresponder",
        "POWERTOOLS_METRICS_NAMESPACE": "DynamoDBAutoResponder",
        "PYTHONHASHSEED": "0",
    }


@dataclass(frozen=True)
class Sample:
    code: str
    """Which copy of the code (`--root` label)."""
    function: str
    role: str
    """`handler` or `boto3`."""
    import_s: float
    build_s: float
    clients_s: float
    init_s: float
    """Everything after the interpreter started: import + build + clients."""
    process_s: float
    """The whole process as the parent saw it (interpreter start and exit included)."""
    modules: int


def measure(python: str, code: str, root: Path, function: str, role: str) -> Sample:
    import time  # noqa: PLC0415

    services = SERVICES.get(function, DEFAULT_SERVICES)
    started = time.perf_counter()
    done = subprocess.run(
        [python, "-c", CHILD, role, function, ",".join(services)],
        cwd=root,
        env=child_environment(root, function),
        capture_output=True,
        text=True,
        check=False,
    )
    process = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{role} {function} failed:\n{done.stderr}")
    parts = done.stdout.split()
    return Sample(code, function, role, *(float(p) for p in parts[:4]), process, int(parts[4]))


@dataclass(frozen=True)
class Figures:
    code: str
    function: str
    runs: int
    handler_init_ms: float
    boto3_init_ms: float
    ratio: float
    import_ms: float
    build_ms: float
    clients_ms: float
    handler_process_ms: float
    boto3_process_ms: float
    handler_modules: int
    boto3_modules: int


def _median_ms(samples: Sequence[Sample], field: str) -> float:
    return round(1000 * statistics.median(getattr(s, field) for s in samples), 1)


def figures(samples: Sequence[Sample]) -> list[Figures]:
    found = []
    codes = list(dict.fromkeys(s.code for s in samples))
    for code, function in [(c, f) for c in codes for f in sorted({s.function for s in samples})]:
        mine = [s for s in samples if s.code == code and s.function == function]
        handler = [s for s in mine if s.role == "handler"]
        boto = [s for s in mine if s.role == "boto3"]
        if not handler or not boto:
            continue
        handler_ms, boto_ms = _median_ms(handler, "init_s"), _median_ms(boto, "init_s")
        found.append(
            Figures(
                code=code,
                function=function,
                runs=len(handler),
                handler_init_ms=handler_ms,
                boto3_init_ms=boto_ms,
                ratio=round(handler_ms / boto_ms, 2),
                import_ms=_median_ms(handler, "import_s"),
                build_ms=_median_ms(handler, "build_s"),
                clients_ms=_median_ms(handler, "clients_s"),
                handler_process_ms=_median_ms(handler, "process_s"),
                boto3_process_ms=_median_ms(boto, "process_s"),
                handler_modules=handler[0].modules,
                boto3_modules=boto[0].modules,
            )
        )
    return found


def markdown(found: Sequence[Figures], load: str) -> str:
    lines = [
        "| code | function | init: handler (ms) | init: boto3 + clients (ms) | ratio "
        "| import app | build deps | clients | process: handler / boto3 (ms) | modules |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {f.code} | {f.function} | {f.handler_init_ms} | {f.boto3_init_ms} | {f.ratio} "
        f"| {f.import_ms} | {f.build_ms} | {f.clients_ms} "
        f"| {f.handler_process_ms} / {f.boto3_process_ms} "
        f"| {f.handler_modules} / {f.boto3_modules} |"
        for f in found
    ]
    return "\n".join(lines) + f"\n\nMedians of {found[0].runs} interleaved runs; {load}.\n"


def _labelled(value: str) -> tuple[str, Path]:
    label, _, path = value.rpartition("=")
    root = Path(path).resolve()
    return (label or root.name), root


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cold_start",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="[LABEL=]DIR",
        help="the code to measure (repeat to compare copies, interleaved); default: this tree",
    )
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--function", action="append", help="only these functions")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--label", default="cold_start", help="output file name")
    args = parser.parse_args(argv)
    roots = [_labelled(r) for r in args.root] or [("this tree", ROOT)]
    functions = args.function or sorted(
        p.parent.name for p in roots[0][1].glob("functions/*/app.py")
    )
    variants = [
        (c, r, f, role) for c, r in roots for f in functions for role in ("handler", "boto3")
    ]
    for code, root, function, role in variants:  # warm-up: bytecode caches, page cache
        measure(args.python, code, root, function, role)
    load_before = load_average()
    samples = []
    for run in range(args.runs):
        order = variants if run % 2 == 0 else variants[::-1]
        samples += [measure(args.python, *variant) for variant in order]
    load = f"{load_before} before, {load_average()} after"
    found = figures(samples)
    text = markdown(found, load)
    args.out.mkdir(parents=True, exist_ok=True)
    where = "; ".join(f"{code}: {root}" for code, root in roots)
    (args.out / f"{args.label}.md").write_text(f"code: {where}\n\n{text}")
    (args.out / f"{args.label}.json").write_text(
        json.dumps({"roots": where, "load": load, "figures": [asdict(f) for f in found]}, indent=1)
    )
    print(f"code: {where}\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
