"""How a decision reads to people: email text, an AWS Chatbot custom notification, attributes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoresponder.domain.console_links import alarm_console_url, table_console_url
from autoresponder.domain.escaping import chat_text, one_line, plain_text, sns_subject
from autoresponder.models.decision import Decision


@dataclass(frozen=True)
class Notification:
    subject: str
    email: str
    chat: dict[str, Any]
    attributes: dict[str, str]

    def sns_message(self) -> str:
        """The `MessageStructure=json` body: `default` (Chatbot) and `email` (text)."""
        return json.dumps({"default": json.dumps(self.chat), "email": self.email})


def _title(decision: Decision, escape: Callable[[str], str]) -> str:
    """`[DRY RUN] scale up: orders/by-customer`: the subject (names) escaped for the channel."""
    prefix = "[DRY RUN] " if decision.dry_run else ""
    return f"{prefix}{decision.action.replace('_', ' ')}: {escape(decision.subject())}"


_LABELS = {
    "Capacity": {"read": "read units", "write": "write units"},
    "AutoScalingLimits": {
        "min_capacity": "Auto Scaling MinCapacity",
        "max_capacity": "Auto Scaling MaxCapacity",
    },
    "OnDemandLimits": {
        "read": "on-demand MaxReadRequestUnits",
        "write": "on-demand MaxWriteRequestUnits",
    },
}


def _change(decision: Decision) -> str | None:
    if decision.before is None or decision.after is None:
        return None
    labels = _LABELS.get(type(decision.after).__name__, {})
    before = decision.before.model_dump(exclude_none=True)
    after = decision.after.model_dump(exclude_none=True)
    parts = [
        f"{labels.get(k, k)} {before.get(k, 'none')} → {v}"
        for k, v in after.items()
        if before.get(k) != v
    ]
    return ", ".join(parts) or None


def message_id(decision: Decision) -> str:
    """The custom notification's `id`: unique per message, the same for a re-announcement of
    the same decision. Derived from the decision record's key (pk, sk), which is unique per
    decision; the EventBridge event id alone is not (every decision of a scheduled run shares
    it, and so do the runbooks an alarm reaches)."""
    pk, sk = decision.record_key()
    digest = hashlib.sha256(f"{pk}\n{sk}".encode()).hexdigest()[:32]
    return f"{decision.runbook}-{digest}"


def _links(decision: Decision, region: str) -> list[tuple[str, str]]:
    """Console pages the responder built itself: (label, URL). Names are percent-encoded."""
    links = []
    if decision.table_name:
        links.append(("Table monitoring", table_console_url(region, decision.table_name)))
    if decision.alarm_name:
        links.append(("Alarm in the console", alarm_console_url(region, decision.alarm_name)))
    return links + decision.links()


def _email(decision: Decision, title: str, change: str | None, links: list[tuple[str, str]]) -> str:
    """Plain text: every line that carries a value from an event or the account goes through
    `plain_text` (one line per value, no control characters, URL schemes defanged)."""
    cost = (
        f"{decision.cost_delta_per_hour:+.4f} USD/hour"
        if decision.cost_delta_per_hour is not None
        else "no change to provisioned cost"
    )
    lines = [
        title,
        "",
        f"What happened: {decision.reason}",
        (
            f"Table: {decision.table_name}   Index: {decision.index_name or '(base table)'}"
            if decision.table_name
            else "Tables: all managed tables"
        ),
    ]
    if change:
        lines.append(f"Change: {change}")
    lines += [
        f"Why: rule {decision.rule or decision.action} of runbook {decision.runbook}",
        f"Estimated cost change: {cost}",
    ]
    if decision.dry_run:
        lines.append("Dry run: nothing was changed.")
    lines += decision.detail_lines()
    if decision.next_steps:
        lines += ["", "What to look at next:"] + [f"  - {step}" for step in decision.next_steps]
    if decision.alarm_name:
        when = (
            f" (state changed {decision.state_timestamp:%Y-%m-%d %H:%M:%S} UTC)"
            if decision.state_timestamp
            else ""
        )
        lines.append(f"Alarm: {decision.alarm_name}{when}")
    lines.append(f"Decided at {decision.decided_at.isoformat()} (severity {decision.severity})")
    body = [plain_text(line) for line in lines]
    if links:  # the responder's own URLs: not defanged
        body += ["", *[f"{name}: {url}" for name, url in links]]
    return "\n".join(body)


def _chat(decision: Decision, change: str | None, links: list[tuple[str, str]]) -> dict[str, Any]:
    """An AWS Chatbot (Amazon Q Developer in chat applications) custom notification, as its
    documented schema has it (tests/schemas/chatbot_custom_notification.schema.json).

    Links are bare URLs after their label. Chatbot renders `client-markdown` "in the target
    chat platform's markdown", and the platforms share no link syntax: Slack reads
    `<url|label>` (Teams shows it verbatim), Teams reads `[label](url)` (Slack shows it
    verbatim). Both turn a bare URL into a link, so `label: URL` renders the same everywhere.
    """
    summary = _title(decision, chat_text)
    description = chat_text(decision.reason) or summary
    if change:
        description += f"\n*Change:* {chat_text(change)}"
    context = {"dry_run": "true" if decision.dry_run else "false", "rule": decision.rule}
    if decision.cost_delta_per_hour is not None:
        context["cost_delta_per_hour"] = f"{decision.cost_delta_per_hour:+.4f}"
    return {
        "version": "1.0",
        "source": "custom",
        "id": message_id(decision),
        "content": {
            "textType": "client-markdown",
            "title": f"{_emoji(decision)} {summary}",
            "description": description,
            "nextSteps": [
                *(chat_text(step) for step in decision.next_steps),
                *(f"{name}: {url}" for name, url in links),
            ],
            "keywords": [decision.runbook, decision.action, decision.severity.value],
        },
        "metadata": {
            "threadId": one_line(f"{decision.runbook}/{decision.table_name or 'all-tables'}"),
            "summary": summary,
            "eventType": f"{decision.runbook}.{decision.action}",
            "relatedResources": [one_line(decision.table_name)] if decision.table_name else [],
            "additionalContext": {k: v for k, v in context.items() if v},
        },
    }


def build_notification(decision: Decision, region: str) -> Notification:
    """Render a decision for email and chat. Pure: no clock, no environment.

    Everything the decision carries from an event or the account (names, reasons, key values,
    AWS error texts) is escaped for its channel (`autoresponder.domain.escaping`)."""
    title = _title(decision, one_line)
    change = _change(decision)
    links = _links(decision, region)
    attributes = {
        "table": one_line(decision.table_name or "") or "-",
        "runbook": decision.runbook,
        "action": decision.action,
        "severity": decision.severity.value,
    }
    return Notification(
        subject=sns_subject(title),
        email=_email(decision, title, change, links),
        chat=_chat(decision, change, links),
        attributes=attributes,
    )


def _emoji(decision: Decision) -> str:
    return {"critical": ":rotating_light:", "warning": ":warning:"}.get(
        decision.severity.value, ":information_source:"
    )
