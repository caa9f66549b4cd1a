"""When to look at a table again (domain/next_look.py): a table of cases, then the ramp rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from autoresponder.domain.diagnosis import diagnose
from autoresponder.domain.next_look import LookPolicy, headroom_eaten, next_look
from tests.builders import NOW, merged, on_demand_table, provisioned_table, published

POLICY = LookPolicy()
RECENT = NOW - timedelta(minutes=5)
LONG_AGO = NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("changed", "updating", "unsettled", "tight", "last_raise", "holds", "expected"),
    [
        pytest.param(True, False, False, False, NOW, (), POLICY.after_change, id="changed"),
        pytest.param(False, True, False, False, RECENT, (), POLICY.step, id="updating"),
        pytest.param(False, False, True, False, RECENT, (), POLICY.step, id="unsettled"),
        pytest.param(False, False, False, True, RECENT, (), POLICY.step, id="tight"),
        pytest.param(False, False, False, True, LONG_AGO, (), None, id="tight-past-patience"),
        pytest.param(False, False, False, False, RECENT, (), None, id="nothing"),
        pytest.param(
            False,
            False,
            False,
            False,
            RECENT,
            (NOW + timedelta(minutes=8),),
            timedelta(minutes=8) + POLICY.metrics_delay,
            id="hold-until",
        ),
    ],
)
def test_next_look(changed, updating, unsettled, tight, last_raise, holds, expected):  # noqa: PLR0917
    look = next_look(
        NOW,
        changed=changed,
        updating=updating,
        unsettled=unsettled,
        tight=tight,
        last_raise_at=last_raise,
        holds_until=holds,
        policy=POLICY,
    )
    assert (look.at - NOW if look else None) == expected


def _observed(table, consumed_then: float, consumed_now: float):
    """Writes of `table`: `consumed_then` units/s for 5 minutes, then `consumed_now` for 3."""
    end = NOW.replace(second=0, microsecond=0) + timedelta(minutes=1)
    points = merged(
        published(table.table_name, consumed=consumed_then, end=NOW - timedelta(minutes=3)),
        published(table.table_name, consumed=consumed_now, end=NOW, minutes=3),
    )
    return diagnose(table, points, end - timedelta(minutes=16), end)


@pytest.mark.parametrize(
    ("then", "now", "eaten"),
    [
        pytest.param(60, 90, True, id="climbing-past-half-the-headroom"),  # 90 × 1.125 > 100
        pytest.param(60, 85, False, id="climbing-within-half-the-headroom"),  # 95.6 ≤ 100
        pytest.param(120, 95, False, id="falling-from-a-peak"),
        pytest.param(95, 95, True, id="steady-near-the-capacity"),
    ],
)
def test_a_ramp_into_the_raise_is_looked_at_again(then, now, eaten):
    table = provisioned_table(read=100, write=100)
    assert headroom_eaten(table, _observed(table, then, now), 25.0) is eaten


def test_no_ramp_rule_for_on_demand_or_without_a_reading():
    table = on_demand_table()
    assert headroom_eaten(table, _observed(table, 60, 5000), 25.0) is False
    assert headroom_eaten(provisioned_table(), None, 25.0) is False
