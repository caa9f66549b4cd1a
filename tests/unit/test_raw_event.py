"""The raw event a reject keeps: cut to fit, with the size and SHA-256 of the whole."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from autoresponder.adapters.decision_table.decisions import bounded_raw_event
from autoresponder.services.rejection import kept


def _whole(event: Any) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8", "backslashreplace")


@pytest.mark.parametrize(
    ("event", "budget"),
    [
        pytest.param({"detail": "plain"}, 1_000, id="ascii-fits"),
        pytest.param({"detail": "東京 🚀"}, 1_000, id="non-ascii-fits-as-utf8"),
        pytest.param({"detail": "é" * 100}, 50, id="cut-between-2-byte-characters"),
        pytest.param({"detail": "🚀" * 100}, 51, id="cut-inside-a-4-byte-character"),
        pytest.param({"detail": "a\ud800b"}, 1_000, id="lone-surrogate-as-escape"),
        pytest.param({"detail": "x" * 10}, 0, id="no-budget-at-all"),
    ],
)
def test_the_kept_event_is_a_prefix_of_the_whole_within_the_budget(event, budget):
    whole = _whole(event)
    item = bounded_raw_event(event, budget)
    kept_text = item["raw_event"]["S"]
    kept_bytes = kept_text.encode("utf-8")  # valid UTF-8: it can be stored and shown
    assert len(kept_bytes) <= max(budget, 0)
    assert whole.startswith(kept_bytes)
    assert ("raw_event_truncated" in item) is (len(kept_bytes) < len(whole))
    assert len(kept_bytes) > min(budget, len(whole)) - 4  # a cut loses one character at most
    assert int(item["raw_event_size"]["N"]) == len(whole)
    assert item["raw_event_sha256"]["S"] == hashlib.sha256(whole).hexdigest()
    if "raw_event_truncated" not in item:
        assert json.loads(kept_text) == event


def test_a_lone_surrogate_is_kept_as_its_json_escape():
    item = bounded_raw_event({"id": "a\ud800b"}, 1_000)
    assert item["raw_event"]["S"] == '{"id": "a\\ud800b"}'


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("x" * 20, 5, "xxxxx"),
        ("a\ud800b", 10, "a\\ud800b"),
        ("\udfff" * 3, 2, "\\udfff\\udfff"),
    ],
)
def test_text_taken_from_an_event_is_cut_and_encodable(text, limit, expected):
    assert kept(text, limit) == expected
    kept(text, limit).encode("utf-8")
