"""`make demo`'s scale-back: after the story's raises, scale_back (its clock two hours ahead)
steps them back in the local AWS, one change per table."""

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
    (later,) = report.epilogue
    assert later.decision is not None
    assert later.decision["counts"] == {
        "scale_down": 1,
        "restore_autoscaling": 1,
        "restore_on_demand_max": 1,
    }
    restored = later.capacity_after
    assert restored is not None
    assert restored["orders"].write == report.before["orders"].write == 50
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
    assert text.index("Capacity in the emulated account") < text.index("scheduled_scale_back")
