"""How a decision reads to people: email text, an AWS Chatbot custom notification, attributes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from autoresponder.models.decision import Decision

CONSOLE = "https://{region}.console.aws.amazon.com"


@dataclass(frozen=True)
class Notification:
    subject: str
    email: str
    chat: dict[str, Any]
    attributes: dict[str, str]

    def sns_message(self) -> str:
        """The `MessageStructure=json` body: `default` (Chatbot) and `email` (text)."""
        return json.dumps({"default": json.dumps(self.chat), "email": self.email})


def table_console_url(region: str, table_name: str) -> str:
    return (
        f"{CONSOLE.format(region=region)}/dynamodbv2/home?region={region}"
        f"#table?name={quote(table_name)}&tab=monitoring"
    )


def alarm_console_url(region: str, alarm_name: str) -> str:
    return (
        f"{CONSOLE.format(region=region)}/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(alarm_name, safe='')}"
    )


def _title(decision: Decision) -> str:
    prefix = "[DRY RUN] " if decision.dry_run else ""
    return f"{prefix}{decision.action.replace('_', ' ')}: {decision.subject()}"


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


def build_notification(decision: Decision, region: str) -> Notification:
    """Render a decision for email and chat. Pure: no clock, no environment."""
    title = _title(decision)
    change = _change(decision)
    links = []
    if decision.table_name:
        links.append(("Table monitoring", table_console_url(region, decision.table_name)))
    if decision.alarm_name:
        links.append(("Alarm in the console", alarm_console_url(region, decision.alarm_name)))
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
    if links:
        lines += ["", *[f"{name}: {url}" for name, url in links]]
    if decision.alarm_name:
        when = (
            f" (state changed {decision.state_timestamp:%Y-%m-%d %H:%M:%S} UTC)"
            if decision.state_timestamp
            else ""
        )
        lines.append(f"Alarm: {decision.alarm_name}{when}")
    lines.append(f"Decided at {decision.decided_at.isoformat()} (severity {decision.severity})")
    chat = {
        "version": "1.0",
        "source": "custom",
        "id": decision.event_id or decision.decided_at.isoformat(),
        "content": {
            "textType": "client-markdown",
            "title": f"{_emoji(decision)} {title}",
            "description": decision.reason + (f"\n*Change:* {change}" if change else ""),
            "nextSteps": [*decision.next_steps, *[f"<{url}|{name}>" for name, url in links]],
            "keywords": [decision.runbook, decision.action, decision.severity.value],
        },
        "metadata": {
            "threadId": f"{decision.runbook}/{decision.table_name or 'all-tables'}",
            "summary": title,
            "eventType": f"{decision.runbook}.{decision.action}",
            "relatedResources": [decision.table_name] if decision.table_name else [],
            "additionalContext": {
                "cost_delta_per_hour": decision.cost_delta_per_hour,
                "dry_run": decision.dry_run,
            },
        },
    }
    attributes = {
        "table": decision.table_name or "-",
        "runbook": decision.runbook,
        "action": decision.action,
        "severity": decision.severity.value,
    }
    return Notification(
        subject=title[:100], email="\n".join(lines), chat=chat, attributes=attributes
    )


def _emoji(decision: Decision) -> str:
    return {"critical": ":rotating_light:", "warning": ":warning:"}.get(
        decision.severity.value, ":information_source:"
    )
