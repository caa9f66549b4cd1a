"""When to look at a table again (domain/next_look.py): a table of cases, then the ramp rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from autoresponder.domain.diagnosis import diagnose
from autoresponder.domain.next_look import (
    LookPolicy,
    episode_window,
    headroom_eaten,
    mitigated,
    next_look,
)
from autoresponder.domain.scaling.history import ScaleHistory
from autoresponder.models.decision import Action
from autoresponder.models.table import Capacity, Dimension
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


def _raise(episode_start, **changes) -> ScaleHistory:
    before = Capacity(read=100, write=50)
    return replace(
        ScaleHistory(
            scaled_at=episode_start + timedelta(minutes=1),
            event_key="alarm",
            action=Action.SCALE_UP,
            before=before,
            after=before.with_(Dimension.WRITE, 100),
            original=before,
            episode_start=episode_start,
        ),
        **changes,
    )


def test_a_look_reads_back_to_the_start_of_an_open_episode_at_most_three_hours():
    an_hour_ago = _raise(NOW - timedelta(hours=1))
    assert episode_window([an_hour_ago], NOW, POLICY) == timedelta(hours=1)
    long_ago = _raise(NOW - timedelta(hours=9))
    assert episode_window([long_ago], NOW, POLICY) == POLICY.episode_lookback
    closed = _raise(NOW - timedelta(hours=1), mitigated_at=NOW - timedelta(minutes=50))
    assert episode_window([closed], NOW, POLICY) == timedelta(0)


def test_an_episode_that_ended_before_the_minutes_read_claims_no_time_to_mitigation():
    """Throttled from 14:00; the look reads only the last 10 minutes, all quiet: it stopped,
    but when is not known — no time to mitigation is made up."""
    start = NOW.replace(second=0, microsecond=0) - timedelta(hours=5)
    table = provisioned_table(read=100, write=100)
    end = NOW.replace(second=0, microsecond=0) + timedelta(minutes=1)
    quiet = published(consumed=40, cause=None, end=NOW, minutes=10)
    observed = diagnose(table, quiet, end - timedelta(minutes=11), end)
    [episode] = mitigated({(None, Dimension.WRITE): _raise(start)}, observed)
    assert not episode.measured and episode.seconds is None
    assert episode.stopped_at == observed.start
    # read back far enough, the last throttled minute is in view: measured
    end_of_throttling = start + timedelta(minutes=7)
    both = merged(
        published(consumed=50, rejected=30, end=end_of_throttling, minutes=7),
        published(consumed=40, cause=None, end=NOW, minutes=30),
    )
    wide = diagnose(table, both, start - timedelta(minutes=1), end)
    [measured] = mitigated({(None, Dimension.WRITE): _raise(start)}, wide)
    assert measured.seconds == 7 * 60
