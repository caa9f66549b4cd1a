"""Measurements of the responder (issue 8): `make bench` and `make backtest`.

- `python -m bench.cold_start`: Lambda-like init of every function vs boto3 alone;
- `python -m bench.aws_calls`: every AWS call each sample event costs, on the local AWS;
- `python -m bench.burst`: a region-wide incident (500 alarm events, 200 tables) on moto;
- `python -m bench.backtest`: demand traces through no automation, native auto scaling and
  this responder's own domain code, on a model of DynamoDB's capacity;
- `python -m bench.fetch_trace`: a real table's last 14 days from CloudWatch, backtested.

Nothing here ships; output goes to `bench/out/` (git-ignored), the figures reported in
`docs/benchmarks.md`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
LAYER = ROOT / "layers" / "autoresponder"
OUT = ROOT / "bench" / "out"

for _path in (str(LAYER), str(ROOT)):
    if _path not in sys.path:
        sys.path.append(_path)
