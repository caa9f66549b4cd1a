"""`make demo`'s onboarding: the hourly reconcile over the demo account, then a tag change that
finds nothing left to do."""

from __future__ import annotations

import io
import shutil

from local import EVENTS
from local.demo import ONBOARDING, run_demo


def test_the_demo_onboards_every_managed_table_once(tmp_path):
    for step in ONBOARDING:
        shutil.copy(EVENTS / step.event, tmp_path / step.event)
    out = io.StringIO()
    report = run_demo(out, events_dir=tmp_path)
    schedule, tag_change = report.onboarding
    assert schedule.decision is not None and tag_change.decision is not None
    assert schedule.decision["counts"] == {"onboard": 6}
    created = {d["table_name"]: d["created"] for d in schedule.decision["decisions"]}
    assert set(created) == {"orders", "profiles", "clickstream", "inventory", "carts", "catalog"}
    assert "autoresponder-orders-by-customer-write-provisioned-throttle" in created["orders"]
    assert "autoresponder-clickstream-read-max-on-demand-throttle" in created["clickstream"]
    assert sorted(m.attributes["table"] for m in schedule.notifications) == sorted(created)
    assert (tag_change.decision["action"], tag_change.decision["table_name"]) == ("skip", "orders")
    assert tag_change.notifications == []
    text = out.getvalue()
    assert "alarms   orders: 15 created (autoresponder-orders-…)" in text
    # managed provisioned tables get the pre-throttle alarms, per resource and dimension
    assert "autoresponder-orders-by-customer-write-above-provisioned" in created["orders"]
    assert "autoresponder-catalog-write-above-provisioned" in created["catalog"]
    assert not any("above-provisioned" in name for name in created["clickstream"])  # on demand
    assert "dynamodb table orders: autoresponder:managed changed" in text
    # profiles is auto-scaled: its scalable targets now carry autoresponder:managed=true
    tagged = {d["table_name"]: d["scalable_targets_tagged"] for d in schedule.decision["decisions"]}
    assert tagged["profiles"] == [
        "table/profiles (dynamodb:table:ReadCapacityUnits)",
        "table/profiles (dynamodb:table:WriteCapacityUnits)",
    ]
    assert "targets  profiles: 2 scalable target(s) tagged autoresponder:managed=true" in text
