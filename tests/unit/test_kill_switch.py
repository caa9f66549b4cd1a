"""The kill switch's value parsing and how a runbook's config is forced into dry run."""

from __future__ import annotations

import pytest

from autoresponder.adapters.ssm_switch import NoDryRunSwitch, parse_switch
from autoresponder.domain.cost import Prices
from autoresponder.domain.scaling.sizing import ScalingPolicy
from autoresponder.services.scale_on_throttle import ThrottleRunbookConfig
from autoresponder.wiring.common import with_dry_run


@pytest.mark.parametrize(
    ("value", "engaged"),
    [
        pytest.param("true", True, id="true"),
        pytest.param("false", False, id="false"),
        pytest.param(" TRUE\n", True, id="case-and-blanks-ignored"),
        pytest.param("False", False, id="capitalised-false"),
        pytest.param("yes", None, id="yes-is-not-a-value"),
        pytest.param("1", None, id="one-is-not-a-value"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param(b"true", None, id="bytes"),
    ],
)
def test_parse_switch(value: object, engaged: bool | None) -> None:
    assert parse_switch(value) is engaged


def test_no_switch_is_never_engaged() -> None:
    assert NoDryRunSwitch().engaged() is False


@pytest.mark.parametrize(
    ("configured", "forced", "effective"),
    [
        pytest.param(False, False, False, id="neither"),
        pytest.param(False, True, True, id="switch-forces-dry-run"),
        pytest.param(True, False, True, id="setting-kept"),
        pytest.param(True, True, True, id="both"),
    ],
)
def test_with_dry_run_only_ever_adds_dry_run(configured: bool, forced: bool, effective: bool):
    config = ThrottleRunbookConfig(policy=ScalingPolicy(), prices=Prices(), dry_run=configured)
    changed = with_dry_run(config, forced)
    assert changed.dry_run is effective
    assert changed.policy == config.policy
    if not forced:
        assert changed is config
