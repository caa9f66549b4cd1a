"""Text from events and from the account, made safe for each channel a decision is told on.

Names, alarm names, reasons, Contributor Insights key values and AWS error texts all reach
notifications; some of them come from whoever can create an alarm or put an item. Every such
piece of text goes through one of these functions before it is placed in a message:

- `plain_text` (email): no control, format or line-separator characters (a value cannot start
  a new line and fake a header), and URL schemes defanged (`https[:]//…`), so a link someone
  planted in an alarm name is shown, never offered as a link.
- `chat_text` (AWS Chatbot custom notifications, `textType: client-markdown`): the same, on one
  line, and the characters that start markup in Slack's mrkdwn or in Microsoft Teams' markdown
  (`<` `>` `&` for Slack links, mentions and entities and Teams' HTML; `[` `]` for markdown
  links; the backtick for code spans) replaced by look-alikes no client parses. Chatbot passes
  the text to the channel's own markdown (the custom-notification docs: "renders notifications
  in the target chat platform's markdown"), so the text cannot be escaped for one platform;
  look-alikes read the same on all of them.
- `sns_subject` (the email subject): printable, one line, fewer than 100 characters (SNS
  Publish: "no line breaks or control characters, and less than 100 characters long").

Pure: no I/O. The project's own template text and console links are not passed through here.
"""

from __future__ import annotations

import re
import unicodedata

SNS_SUBJECT_MAX = 99
"""SNS requires a Subject of fewer than 100 characters."""
ELLIPSIS = "..."
_FALLBACK_SUBJECT = "DynamoDB auto-responder"

_LOOK_ALIKES = str.maketrans(
    {
        "<": "‹",  # U+2039
        ">": "›",  # U+203A
        "&": "＆",  # U+FF06
        "[": "⟦",  # U+27E6
        "]": "⟧",  # U+27E7
        "`": "ˋ",  # U+02CB
    }
)
_BLANKS = re.compile(r"\s+")


def _is_unsafe(char: str) -> bool:
    """Control (Cc), format (Cf: bidi overrides, zero-width), surrogate, private-use and
    unassigned characters, and the Unicode line and paragraph separators."""
    category = unicodedata.category(char)
    return category[0] == "C" or category in {"Zl", "Zp"}


def _without_unsafe(text: str) -> str:
    return "".join(" " if _is_unsafe(c) else c for c in text)


def defang_urls(text: str) -> str:
    """`https://x` → `https[:]//x`: readable, not a link in any mail or chat client."""
    return text.replace("://", "[:]//")


def one_line(text: str) -> str:
    """Unsafe characters as blanks, runs of blanks as one, no leading or trailing blank."""
    return _BLANKS.sub(" ", _without_unsafe(text)).strip()


def plain_text(text: str) -> str:
    """One line of an email body: unsafe characters as blanks, URL schemes defanged. Leading
    indentation is kept (detail lines are indented)."""
    return defang_urls(_without_unsafe(text)).rstrip()


def chat_text(text: str) -> str:
    """Text for a Chatbot custom notification field, on one line, with no markup."""
    return defang_urls(one_line(text).translate(_LOOK_ALIKES))


def sns_subject(text: str) -> str:
    """An SNS Subject: printable, one line, at most 99 characters (cut with `...`)."""
    subject = defang_urls(one_line(text)) or _FALLBACK_SUBJECT
    if len(subject) <= SNS_SUBJECT_MAX:
        return subject
    return subject[: SNS_SUBJECT_MAX - len(ELLIPSIS)].rstrip() + ELLIPSIS
