"""`make demo` after the story: the re-checks its raises asked for (EventBridge Scheduler →
scale_back, the responder's clock minutes ahead), then the scale-back two hours later, one
change per table: orders' writes go back to the recent peak plus headroom, the others to their
original values."""

from __future__ import annotations

import io
import shutil

from local import EVENTS
from local.demo import EPILOGUE, run_demo

RAISES = (
    "write_throttle_table.json",
    "write_throttle_autoscaled.json",
    "on_demand_max_throttle.json",
)


def test_the_demo_ends_with_a_scale_back(tmp_path):
    (scale_back,) = [step for step in EPILOGUE if step.function == "scale_back"]
    for name in (*RAISES, scale_back.event):
        shutil.copy(EVENTS / name, tmp_path / name)
    out = io.StringIO()
    report = run_demo(out, events_dir=tmp_path)
    assert [r.decision["action"] for r in report.runs if not r.duplicate] == [
        "scale_up",
        "raise_autoscaling_min",
        "raise_on_demand_max",
    ]
    # the re-checks: orders still short after its raise → raised again at once (no cooldown);
    # the next round sees throttling stopped → the time to mitigation, recorded once
    orders_checks = [r for r in report.rechecks if r.path.name == "re-check of orders"]
    decisions = [d for r in orders_checks for d in (r.decision or {}).get("decisions", [])]
    [again] = [d for d in decisions if d["action"] == "scale_up"]
    assert (again["rule"], again["after"]["write"]) == ("follow_up.provisioned.scale_up", 200)
    [episode] = [d for d in decisions if d["rule"] == "episode.mitigated"]
    assert 0 < episode["time_to_mitigation"] <= 15 * 60
    after_rechecks = report.rechecks[-1].capacity_after
    assert after_rechecks is not None and after_rechecks["orders"].write == 200
    (later,) = report.epilogue
    assert later.decision is not None
    assert later.decision["counts"]["scale_down"] == 1
    assert later.decision["counts"]["restore_autoscaling"] == 1
    assert later.decision["counts"]["restore_on_demand_max"] == 1
    restored = later.capacity_after
    assert restored is not None
    # 70/s in the scale-back's window: 70 × 1.25 → 88, above the original 50, in one decrease
    assert restored["orders"].write == 88
    assert report.before["orders"].write == 50
    assert (
        restored["profiles"].autoscaling["write"] == report.before["profiles"].autoscaling["write"]
    )
    assert restored["clickstream"].read == report.before["clickstream"].read
    assert sorted(m.attributes["action"] for m in later.notifications) == [
        "restore_autoscaling",
        "restore_on_demand_max",
        "scale_down",
    ]
    text = out.getvalue()
    assert "fast-forwarded 2 hours" in text
    assert "recheck round 1" in text and "re-check of orders" in text
    assert text.index("Capacity in the emulated account") < text.index("recheck round 1")
    assert text.index("recheck round 2") < text.index("scheduled_scale_back")
