"""The decision event's detail (adapters/event_bus.py): the handler's decision dict, and a
summary that names the record when the decision is too large for one PutEvents entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from autoresponder.adapters.event_bus import MAX_ENTRY_BYTES, event_detail
from autoresponder.models.decision import Decision

DECIDED = datetime(2026, 11, 20, 14, 6, tzinfo=UTC)


def _run(decisions: int) -> Decision:
    return Decision(
        runbook="scale_back",
        action="scale_down",
        table_name="orders",
        reason="stepped back",
        rule="provisioned.step",
        decided_at=DECIDED,
        decisions=[{"table_name": f"table-{i:05d}", "reason": "x" * 200} for i in range(decisions)],
    )


def test_the_detail_is_the_decision_dict():
    decision = _run(3)
    assert json.loads(event_detail(decision)) == decision.as_result()


def test_a_decision_too_large_for_one_entry_keeps_the_contract_and_names_its_record():
    decision = _run(2000)
    assert len(json.dumps(decision.as_result()).encode()) > MAX_ENTRY_BYTES
    detail = json.loads(event_detail(decision))
    assert len(event_detail(decision).encode()) < MAX_ENTRY_BYTES
    assert detail["truncated"] is True
    for field in ("runbook", "action", "table_name", "index_name", "reason", "dry_run"):
        assert detail[field] == decision.as_result()[field]
    pk, sk = decision.record_key()
    assert detail["record_key"] == {"pk": pk, "sk": sk}
    assert "decisions" not in detail
