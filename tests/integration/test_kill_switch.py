"""The kill switch on an emulated account (moto): the SSM parameter, the adapter, a handler."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from datetime import timedelta

import pytest

from autoresponder import wiring
from autoresponder.adapters.clients import client
from autoresponder.adapters.ssm_switch import NoDryRunSwitch, SsmDryRunSwitch
from autoresponder.observability import metrics
from autoresponder.wiring.common import dry_run_switch, forced_dry_run
from functions.onboard_tables.app import lambda_handler as onboard
from functions.scale_on_throttle.app import lambda_handler
from tests.builders import STATE_TIME, alarm_event, published
from tests.onboarding import MANAGED, scheduled_event

PARAMETER = "/dynamodb-autoresponder-dev/autoresponder/dry-run"
REGION = "us-east-1"


@pytest.fixture
def ssm(aws):
    return client("ssm", REGION)


def _put(ssm, value: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Value=value, Type="String", Overwrite=True)


def _count_calls(ssm) -> list[str]:
    calls: list[str] = []
    ssm.meta.events.register(
        "provide-client-params.ssm.GetParameter",
        lambda params, **kwargs: calls.append(params["Name"]),
    )
    return calls


# --------------------------------------------------------------------------------------------
# the adapter
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "engaged"),
    [
        pytest.param("true", True, id="true"),
        pytest.param("false", False, id="false"),
        pytest.param("maybe", True, id="neither-value-fails-safe"),
    ],
)
def test_switch_reads_the_parameter(ssm, value, engaged):
    _put(ssm, value)
    assert SsmDryRunSwitch(PARAMETER, client=ssm).engaged() is engaged


def test_missing_parameter_fails_safe_and_is_measured(ssm):
    metrics.clear_metrics()
    assert SsmDryRunSwitch(PARAMETER, client=ssm).engaged() is True
    assert "KillSwitchUnreadable" in metrics.metric_set
    metrics.clear_metrics()


def test_a_failure_is_not_cached(ssm):
    switch = SsmDryRunSwitch(PARAMETER, client=ssm, max_age_seconds=60)
    assert switch.engaged() is True  # missing: fails safe
    _put(ssm, "false")
    assert switch.engaged() is False  # read again at once


def test_the_value_is_cached_for_max_age(ssm):
    _put(ssm, "false")
    calls = _count_calls(ssm)
    cached = SsmDryRunSwitch(PARAMETER, client=ssm, max_age_seconds=60)
    fresh = SsmDryRunSwitch(PARAMETER, client=ssm, max_age_seconds=0)
    assert cached.engaged() is False
    assert fresh.engaged() is False
    _put(ssm, "true")
    assert cached.engaged() is False  # within a minute of the last read: the cached value
    assert fresh.engaged() is True
    assert calls == [PARAMETER, PARAMETER, PARAMETER]  # cached: 1 read; fresh: 2


# --------------------------------------------------------------------------------------------
# wiring: settings → switch
# --------------------------------------------------------------------------------------------
def test_no_parameter_configured_means_no_switch_and_no_call(aws, ssm, monkeypatch):
    monkeypatch.delenv("DRY_RUN_PARAMETER_NAME", raising=False)
    calls = _count_calls(ssm)
    assert isinstance(dry_run_switch(), NoDryRunSwitch)
    assert forced_dry_run() is False
    assert calls == []


def test_dry_run_setting_needs_no_switch_read(aws, ssm, monkeypatch):
    monkeypatch.setenv("DRY_RUN", "true")
    monkeypatch.setenv("DRY_RUN_PARAMETER_NAME", PARAMETER)
    calls = _count_calls(ssm)
    assert forced_dry_run() is True
    assert calls == []


def test_configured_parameter_is_read(aws, ssm, monkeypatch):
    monkeypatch.setenv("DRY_RUN_PARAMETER_NAME", PARAMETER)
    monkeypatch.setenv("DRY_RUN_PARAMETER_MAX_AGE_SECONDS", "0")
    _put(ssm, "false")
    assert forced_dry_run() is False
    _put(ssm, "true")
    assert forced_dry_run() is True


# --------------------------------------------------------------------------------------------
# a runbook: flip the parameter, the next decision is a dry run
# --------------------------------------------------------------------------------------------
@pytest.fixture
def switched(aws, ssm, monkeypatch):
    monkeypatch.setenv("DRY_RUN_PARAMETER_NAME", PARAMETER)
    monkeypatch.setenv("DRY_RUN_PARAMETER_MAX_AGE_SECONDS", "0")
    aws.create_table("orders", 100, 50, tags={"autoresponder:managed": "true"})
    aws.publish(published(consumed=50, rejected=10))  # writes: demand 60/s against 50
    _put(ssm, "false")
    return aws


def test_flipping_the_switch_turns_the_next_decision_into_a_dry_run(switched, ssm, context):
    first = lambda_handler(alarm_event(), context)
    assert (first["action"], first["dry_run"]) == ("scale_up", False)
    assert switched.capacity("orders") == (100, 75)
    switched.notifications()
    switched.publish(published(dimension="read", consumed=100, rejected=20))

    _put(ssm, "true")  # aws ssm put-parameter --overwrite: no deploy
    second = lambda_handler(
        alarm_event(
            "ReadProvisionedThroughputThrottleEvents", timestamp=STATE_TIME + timedelta(minutes=1)
        ),
        context,
    )
    assert (second["action"], second["dry_run"]) == ("scale_up", True)
    assert second["after"]["read"] > second["before"]["read"]  # what it would have done
    assert switched.capacity("orders") == (100, 75)  # ... and did not do
    [item] = [
        i
        for i in switched.decision_items("orders")
        if json.loads(i["decision"]["S"])["dimension"] == "read"
    ]
    assert json.loads(item["decision"]["S"])["dry_run"] is True
    [note] = switched.notifications()
    assert note["Subject"].startswith("[DRY RUN]")


def test_unreadable_switch_changes_nothing(switched, ssm, context):
    ssm.delete_parameter(Name=PARAMETER)
    decision = lambda_handler(alarm_event(), context)
    assert (decision["action"], decision["dry_run"]) == ("scale_up", True)
    assert switched.capacity("orders") == (100, 50)


def test_the_switch_stops_onboard_tables_creating_alarms(aws, ssm, context, monkeypatch):
    monkeypatch.setenv("DRY_RUN_PARAMETER_NAME", PARAMETER)
    aws.create_table("orders", 100, 50, tags=MANAGED)
    _put(ssm, "true")
    result = onboard(scheduled_event("s1", "2026-11-20T15:00:00Z"), context)
    (decision,) = result["decisions"]
    assert decision["dry_run"] is True
    assert aws.cloudwatch.describe_alarms()["MetricAlarms"] == []


@pytest.mark.parametrize(
    "module",
    sorted(
        info.name
        for info in pkgutil.iter_modules(wiring.__path__)
        if hasattr(importlib.import_module(f"{wiring.__name__}.{info.name}"), "runner")
    ),
)
def test_every_runbook_wiring_can_be_forced_into_dry_run(aws, module):
    # the runner asks `service(forced_dry_run())` for each delivery (kill switch)
    wired = importlib.import_module(f"{wiring.__name__}.{module}")
    assert "dry_run" in inspect.signature(wired.service).parameters
    assert "forced_dry_run()" in inspect.getsource(wired.runner)
    forced = wired.service(True)
    config = getattr(forced, "config", None) or forced._config
    assert config.dry_run is True
