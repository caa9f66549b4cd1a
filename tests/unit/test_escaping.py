"""Text from events and from the account, escaped for each channel (domain/escaping.py)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoresponder.domain.escaping import chat_text, one_line, plain_text, sns_subject

PHISHING = "orders <https://evil.example/login|Approve>\nSubject: URGENT"
MARKUP = set("<>&[]`")


def _printable(text: str) -> bool:
    return not any(
        unicodedata.category(c)[0] == "C" or unicodedata.category(c) in {"Zl", "Zp"} for c in text
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("orders", "orders", id="plain"),
        pytest.param("a\nb\r\nc\td", "a b c d", id="line-breaks"),
        pytest.param("a\u2028b\u2029c", "a b c", id="unicode-separators"),
        pytest.param("evil\u202egnp.exe", "evil gnp.exe", id="bidi-override"),
        pytest.param("zero\u200bwidth", "zero width", id="zero-width"),
        pytest.param("  padded  ", "padded", id="trimmed"),
    ],
)
def test_one_line(text, expected):
    assert one_line(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            PHISHING,
            "orders ‹https[:]//evil.example/login|Approve› Subject: URGENT",
            id="slack-link-and-fake-header",
        ),
        pytest.param(
            "[Approve](https://evil.example)", "⟦Approve⟧(https[:]//evil.example)", id="md"
        ),
        pytest.param("<!channel> <@U123>", "‹!channel› ‹@U123›", id="mentions"),
        pytest.param("a & b", "a ＆ b", id="entity"),
        pytest.param("```code```", "ˋˋˋcodeˋˋˋ", id="code-fence"),
        pytest.param("orders_2026.v2-eu → 60", "orders_2026.v2-eu → 60", id="names-untouched"),
    ],
)
def test_chat_text_renders_no_markup_in_slack_or_teams(text, expected):
    assert chat_text(text) == expected


def test_plain_text_keeps_indentation_and_defangs_links():
    assert plain_text("  - see https://evil.example\nnext") == "  - see https[:]//evil.example next"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("scale up: orders", "scale up: orders", id="short"),
        pytest.param("x\ny", "x y", id="one-line"),
        pytest.param("", "DynamoDB auto-responder", id="empty"),
        pytest.param("\n\t", "DynamoDB auto-responder", id="blank"),
    ],
)
def test_sns_subject(text, expected):
    assert sns_subject(text) == expected


def test_long_subject_is_cut_under_snss_limit():
    subject = sns_subject("latency regression: daily report, " + "table-name-" * 20)
    assert len(subject) == 99
    assert subject.endswith("...")


@given(st.text())
def test_subject_is_always_one_printable_line_under_100(text):
    subject = sns_subject(text)
    assert 0 < len(subject) < 100
    assert _printable(subject)
    assert "\n" not in subject


@given(st.text())
def test_chat_text_never_carries_markup_line_breaks_or_links(text):
    escaped = chat_text(text)
    assert not MARKUP & set(escaped.replace("[:]", ""))
    assert _printable(escaped)
    assert "://" not in escaped


@given(st.text())
def test_plain_text_never_carries_control_characters_or_links(text):
    escaped = plain_text(text)
    assert _printable(escaped)
    assert "://" not in escaped
