"""The demo account's latency story (local/latency_demo.py) through report_latency_regression.

The demo seeds latency at the latency events' own moments; these tests check the seed and the
events agree and that the demo shows what it promises, on the demo account under plain moto.
"""

from __future__ import annotations

import json
import os
from datetime import datetime

import boto3
import pytest
from moto import mock_aws

from local import EVENTS
from local.latency_demo import ALARM_STATE_CHANGED, REPORT_SCHEDULED
from local.runtime import function_environment, invoke
from local.seed import seed_demo_account
from tests.builders import cw_time

FUNCTION = "report_latency_regression"


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_the_seed_is_about_the_events_own_moments():
    alarm = event("latency_alarm_getitem.json")
    assert alarm["detail"]["state"]["timestamp"].startswith(cw_time(ALARM_STATE_CHANGED)[:19])
    report = event("latency_daily_report.json")
    assert datetime.fromisoformat(report["time"]) == REPORT_SCHEDULED


@pytest.fixture
def demo_account(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")):
            monkeypatch.delenv(name)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        account = seed_demo_account(session)
        with function_environment(account.function_environment(), isolated=True):
            yield account


def test_the_demo_alarm_is_a_getitem_regression_near_provisioned_capacity(demo_account):
    run = invoke(FUNCTION, event("latency_alarm_getitem.json"))
    assert run.error is None
    result = run.result
    assert result["action"] == "latency_regression"
    assert result["table_name"] == "profiles"
    verdicts = {op["operation"]: op["verdict"] for op in result["operations"]}
    assert verdicts == {"GetItem": "regression", "PutItem": "ok"}
    [getitem] = [op for op in result["operations"] if op["operation"] == "GetItem"]
    assert getitem["now"]["avg_ms"] == pytest.approx(13.0)
    assert getitem["now"]["samples"] == 15 * 1_400
    assert [c["cause"] for c in result["causes"] if c["holds"]] == ["capacity_near_provisioned"]


def test_the_demo_daily_report_finds_the_drift_no_alarm_saw(demo_account):
    run = invoke(FUNCTION, event("latency_daily_report.json"))
    assert run.error is None
    result = run.result
    assert result["action"] == "latency_regression"
    assert result["tables"] == [
        "carts",
        "catalog",
        "clickstream",
        "inventory",
        "orders",
        "profiles",
    ]
    verdicts = {(op["table_name"], op["operation"]): op for op in result["operations"]}
    query = verdicts[("orders", "Query")]
    assert query["verdict"] == "regression"
    assert query["regressed_against"] == ["7d"]  # a drift: yesterday was already slow
    assert query["now"]["avg_ms"] < query["sla_target_ms"]  # under every alarm threshold
    assert verdicts[("clickstream", "BatchWriteItem")]["verdict"] == "sla_breach"
    others = {
        key: op["verdict"] for key, op in verdicts.items() if key[0] in ("profiles", "inventory")
    }
    assert set(others.values()) == {"ok"}
    held = [(c["table_name"], c["cause"]) for c in result["causes"] if c["holds"]]
    assert held == [("orders", "many_items")]
