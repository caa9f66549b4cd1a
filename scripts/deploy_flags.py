#!/usr/bin/env python3
"""Print the flag `make deploy` gives `sam deploy`: `--guided` the first time, nothing after.

    python scripts/deploy_flags.py [--config-env default] [--config-file samconfig.toml]

The first time is when samconfig.toml holds no answers of a guided deploy for that
environment: `sam deploy --guided` saves them there when asked to ("Save arguments to
configuration file"), the region among them, in `[<env>.deploy.parameters]`. The project's
samconfig.toml ships without a region, so a fresh clone is guided. `GUIDED=1` asks again
whatever is saved; `GUIDED=0` never asks.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def answers_saved(config: Mapping[str, Any], env: str) -> bool:
    """Whether a guided deploy saved its answers for `env` (its region is one of them)."""
    parameters = config.get(env, {}).get("deploy", {}).get("parameters", {})
    return bool(parameters.get("region"))


def deploy_flags(config: Mapping[str, Any], env: str, guided: str | None = None) -> list[str]:
    if guided in {"1", "true", "yes"}:
        return ["--guided"]
    if guided in {"0", "false", "no"}:
        return []
    return [] if answers_saved(config, env) else ["--guided"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-env", default="default")
    parser.add_argument("--config-file", type=Path, default=ROOT / "samconfig.toml")
    args = parser.parse_args(argv)
    config = tomllib.loads(args.config_file.read_text()) if args.config_file.exists() else {}
    print(" ".join(deploy_flags(config, args.config_env, os.environ.get("GUIDED") or None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
