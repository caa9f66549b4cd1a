"""The gate runs the suite at a day boundary (`--wall-clock`, tests/conftest.py): the real clock
of the whole run is moved there, in every process (pytest-xdist's workers too)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_wall_clock_of_the_run_is_the_one_asked(pytestconfig: pytest.Config) -> None:
    asked = pytestconfig.getoption("--wall-clock")
    if not asked:
        pytest.skip("the run keeps the real clock (no --wall-clock)")
    start = datetime.fromisoformat(asked)
    # it ticks from the start of the run: a whole run takes minutes, never hours
    for now in (datetime.now(UTC), datetime.fromtimestamp(time.time(), UTC)):
        assert start <= now < start + timedelta(hours=1)


def test_only_real_clock_leaves_out_exactly_the_tests_in_the_emulated_account() -> None:
    """`--only-real-clock` (the gate's 23:58 pass) drops the tests that run inside the emulated
    account (its fixed instant, whatever the wall clock), and keeps every other."""
    files = [
        "tests/integration/test_scale_on_throttle_handler.py",
        "tests/integration/test_demo.py",
    ]

    def collected(*options: str) -> set[str]:
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:xdist",
                "--collect-only",
                *options,
                *files,
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        return {line for line in listed.splitlines() if "::" in line}

    everything, real_clock = collected(), collected("--only-real-clock")
    left_out = everything - real_clock
    assert real_clock < everything
    assert all("test_scale_on_throttle_handler.py" in test for test in left_out)
    assert all("test_demo.py" in test for test in real_clock)  # the demo runs at the real time
