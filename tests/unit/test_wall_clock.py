"""The gate runs the suite at a day boundary (`--wall-clock`, tests/conftest.py): the real clock
of the whole run is moved there, in every process (pytest-xdist's workers too)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import pytest_collection_modifyitems


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
    account (the `aws` fixture, directly or through a fixture over it: pytest's
    `fixturenames` is the whole closure), and keeps every other."""
    inside = SimpleNamespace(fixturenames=["aws", "context"])
    through = SimpleNamespace(fixturenames=["orders", "aws", "context"])
    outside = SimpleNamespace(fixturenames=["tmp_path"])
    deselected: list[object] = []
    hook = SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items))  # noqa: PLW0108

    def config(only_real_clock: bool) -> Any:
        return SimpleNamespace(getoption=lambda name: only_real_clock, hook=hook)

    items: list[Any] = [inside, outside, through]
    pytest_collection_modifyitems(config(False), items)
    assert items == [inside, outside, through]
    assert deselected == []
    pytest_collection_modifyitems(config(True), items)
    assert items == [outside]
    assert deselected == [inside, through]
