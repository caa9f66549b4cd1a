"""Checks every notification the runbooks produce must pass, shared by the test tiers.

- the chat message (SNS `default`) against the JSON Schema of AWS Chatbot's documented
  custom-notification format (tests/schemas/chatbot_custom_notification.schema.json);
- the SNS Subject: printable, one line, fewer than 100 characters (SNS Publish's constraint).

tests/fakes.py's RecordingNotifier (service tests), tests/conftest.py's inbox (handler tests on
moto) and the demo's inbox (tests/integration/test_demo.py) run them on every message.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = (
    Path(__file__).resolve().parent / "schemas" / "chatbot_custom_notification.schema.json"
)
SNS_SUBJECT_LIMIT = 100
"""SNS: a Subject must be fewer than 100 characters."""


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_custom_notification(chat: Any) -> None:
    """The message conforms to the documented custom-notification format."""
    errors = sorted(validator().iter_errors(chat), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(
        f"{'.'.join(str(p) for p in e.absolute_path) or '(message)'}: {e.message}" for e in errors
    )


def assert_sns_subject(subject: str | None) -> None:
    assert subject, "every notification has a subject (the email's)"
    assert len(subject) < SNS_SUBJECT_LIMIT, subject
    unprintable = [c for c in subject if unicodedata.category(c)[0] == "C"]
    assert not unprintable, f"control or format characters in {subject!r}"
    assert subject == subject.strip()
