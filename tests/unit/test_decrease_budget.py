"""DynamoDB's daily decrease budget: a table of cases, then properties against the quota itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoresponder.domain.decrease_budget import decrease_budget, start_of_day
from tests.scale_back_fakes import quota_allows

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("used", "last", "now", "expected"),
    [
        pytest.param(0, None, at(0.5), (True, at(0.5), 26), id="fresh-day"),
        pytest.param(3, at(0.2), at(0.3), (True, at(0.3), 23), id="fourth-free-one"),
        pytest.param(4, at(0.3), at(0.5), (False, at(1.3), 0), id="fifth-needs-an-hour"),
        pytest.param(4, at(0.3), at(1.3), (True, at(1.3), 22), id="fifth-after-an-hour"),
        pytest.param(10, at(9), at(9.99), (False, at(10), 0), id="hourly-not-yet"),
        pytest.param(27, at(22), at(23.5), (False, at(24), 0), id="max-reached"),
        pytest.param(26, at(21), at(22), (True, at(22), 0), id="27th-is-the-last"),
        pytest.param(5, at(20), at(23.1), (True, at(23.1), 0), id="last-hour-of-the-day"),
        pytest.param(5, at(20), at(22), (True, at(22), 1), id="one-more-at-23h"),
        pytest.param(27, at(-1), at(0.1), (True, at(0.1), 26), id="yesterday-count-is-stale"),
        pytest.param(6, at(23.5), at(23.9), (False, at(24), 0), id="next-hour-is-tomorrow"),
    ],
)
def test_budget(used, last, now, expected):
    allowed, next_at, left_after = expected
    budget = decrease_budget(used, last, now)
    assert budget.allowed_now is allowed
    assert budget.next_allowed_at == next_at
    assert budget.left_after_one == left_after
    assert budget.is_last_of_day is (allowed and left_after == 0)


def test_describe_says_when_the_next_one_is():
    assert (
        "next one possible at 2026-11-20 01:18 UTC"
        in decrease_budget(4, at(0.3), at(0.5)).describe()
    )
    assert "26 more possible today" in decrease_budget(0, None, at(0)).describe()


times = st.integers(min_value=0, max_value=2 * 24 * 60 - 1).map(
    lambda m: DAY + timedelta(minutes=m)
)


def _replay(attempts: list[datetime]) -> list[datetime]:
    """Spend a decrease at every attempt the domain allows, as the runbook would."""
    done: list[datetime] = []
    for when in sorted(attempts):
        today = [d for d in done if d.date() == when.date()]
        budget = decrease_budget(len(today), done[-1] if done else None, when)
        if budget.allowed_now:
            done.append(when)
    return done


@settings(max_examples=200, deadline=None)
@given(st.lists(times, max_size=120))
def test_never_more_decreases_than_the_quota_allows(attempts):
    done = _replay(attempts)
    for i, when in enumerate(done):
        assert quota_allows(done[:i], when), f"decrease at {when} exceeds the quota"
    for day in {d.date() for d in done}:
        assert sum(d.date() == day for d in done) <= 27


@settings(max_examples=200, deadline=None)
@given(st.lists(times, max_size=120))
def test_never_refuses_a_decrease_the_quota_allows(attempts):
    done: list[datetime] = []
    for when in sorted(attempts):
        today = [d for d in done if d.date() == when.date()]
        budget = decrease_budget(len(today), done[-1] if done else None, when)
        assert budget.allowed_now is quota_allows(done, when)
        if budget.allowed_now:
            done.append(when)


@settings(max_examples=150, deadline=None)
@given(
    used=st.integers(min_value=0, max_value=26),
    minute=st.integers(min_value=0, max_value=24 * 60 - 1),
)
def test_left_after_one_is_what_a_greedy_spender_still_gets(used, minute):
    now = DAY + timedelta(minutes=minute)
    last = now - timedelta(hours=2) if used and now - timedelta(hours=2) >= DAY else None
    budget = decrease_budget(used, last, now)
    if not budget.allowed_now:
        return
    # spend one now, then as many as the quota allows as soon as it allows them, until midnight
    history = [now]
    when = now
    while when < start_of_day(now) + timedelta(days=1) and used + len(history) < 27:
        while used + len(history) < 27 and (
            used + len(history) < 4 or all(when - d >= timedelta(hours=1) for d in history)
        ):
            history.append(when)
        when = history[-1] + timedelta(hours=1)  # the earliest the quota allows the next one
    assert budget.left_after_one == len(history) - 1
