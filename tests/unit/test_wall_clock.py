"""The gate runs the suite at a day boundary (`--wall-clock`, tests/conftest.py): the real clock
of the whole run is moved there, in every process (pytest-xdist's workers too)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest


def test_the_wall_clock_of_the_run_is_the_one_asked(pytestconfig: pytest.Config) -> None:
    asked = pytestconfig.getoption("--wall-clock")
    if not asked:
        pytest.skip("the run keeps the real clock (no --wall-clock)")
    start = datetime.fromisoformat(asked)
    # it ticks from the start of the run: a whole run takes minutes, never hours
    for now in (datetime.now(UTC), datetime.fromtimestamp(time.time(), UTC)):
        assert start <= now < start + timedelta(hours=1)
