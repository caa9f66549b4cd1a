"""Decisions, notifications and capacity as text an on-call engineer reads at a glance."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from local.account import RECORD_KINDS, InboxMessage, UnitCapacity

WIDTH = 100
LABEL = 11
"""Width of the label column."""


def rule(title: str = "", char: str = "━") -> str:
    """A full-width line, with `title` near its start."""
    head = f"{char * 3} {title} " if title else ""
    return head + char * max(3, WIDTH - len(head))


def field(label: str, text: str, indent: int = 2) -> str:
    """`label   text`, the text wrapped under itself."""
    prefix = " " * indent + f"{label:<{LABEL}}"
    return textwrap.fill(
        text,
        width=WIDTH,
        initial_indent=prefix,
        subsequent_indent=" " * len(prefix),
        break_on_hyphens=False,
        break_long_words=False,
    )


def block(lines: Iterable[str], indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line if line else pad.rstrip() for line in lines)


# ------------------------------------------------------------------------------------------
# the event
# ------------------------------------------------------------------------------------------
def alarm_summary(event: Mapping[str, Any]) -> list[str]:
    """The alarm an event reports on, read leniently (the event may be malformed)."""
    detail = event.get("detail") if isinstance(event.get("detail"), Mapping) else {}
    assert isinstance(detail, Mapping)
    state = detail.get("state") or {}
    previous = (detail.get("previousState") or {}).get("value", "?")
    name = detail.get("alarmName", "?")
    value = state.get("value", "<no state value>")
    when = _when(state.get("timestamp"))
    lines = [field("alarm", f"{name}   {previous} → {value}   {when}")]
    configuration = detail.get("configuration") or {}
    if configuration.get("alarmRule"):
        lines.append(field("rule", f"composite: {configuration['alarmRule']}"))
        children = _reason_data(state).get("triggeringAlarms") or []
        names = [str(c.get("arn", "?")).rsplit(":alarm:", 1)[-1] for c in children]
        if names:
            lines.append(field("trigger", ", ".join(names)))
    for metric in configuration.get("metrics") or []:
        lines.append(field("metric", _metric(metric)))
    points = _reason_data(state).get("recentDatapoints")
    if points:
        lines.append(field("datapoints", ", ".join(f"{p:g}" for p in points)))
    return lines


def _when(timestamp: object) -> str:
    if not isinstance(timestamp, str):
        return "<no state timestamp>"
    try:
        moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return timestamp
    return f"at {moment:%Y-%m-%d %H:%M:%S} UTC"


def _reason_data(state: Mapping[str, Any]) -> dict[str, Any]:
    raw = state.get("reasonData")
    try:
        data = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _metric(metric: Mapping[str, Any]) -> str:
    if metric.get("expression"):
        label = f"  ({metric['label']})" if metric.get("label") else ""
        return f"{metric.get('id', '?')} = {metric['expression']}{label}"
    stat = metric.get("metricStat") or {}
    inner = stat.get("metric") or {}
    dimensions = ", ".join(f"{k}={v}" for k, v in (inner.get("dimensions") or {}).items())
    hidden = "" if metric.get("returnData", True) else "  [not returned]"
    return (
        f"{metric.get('id', '?')}: {inner.get('namespace', '?')} {inner.get('name', '?')} "
        f"({dimensions}) {stat.get('stat', '')}/{stat.get('period', '?')}s{hidden}"
    )


# ------------------------------------------------------------------------------------------
# the decision
# ------------------------------------------------------------------------------------------
def decision(result: Mapping[str, Any]) -> list[str]:
    """The handler's return value (the decision) as the lines an engineer reads first."""
    action = str(result.get("action", "?"))
    where = result.get("table_name") or "-"
    if result.get("index_name"):
        where = f"{where} / index {result['index_name']}"
    headline = f"{action.replace('_', ' ').upper()}   {where}"
    if result.get("dimension"):
        headline += f"   {result['dimension']}s"
    lines = [
        field("decision", headline),
        field("rule", f"{result.get('rule') or action}   (severity {result.get('severity', '?')})"),
    ]
    lines.append(field("why", str(result.get("reason", ""))))
    change = change_text(action, result.get("before"), result.get("after"))
    if change:
        cost = result.get("cost_delta_per_hour")
        if cost is not None:
            change += f"   (est. {cost:+.4f} USD/hour)"
        lines.append(field("change", change))
    dry_run = bool(result.get("dry_run"))
    lines.append(
        field("dry run", "yes: decided and notified, nothing changed" if dry_run else "no")
    )
    for step in result.get("next_steps") or []:
        lines.append(field("next", str(step)))
    return lines


def change_text(action: str, before: Any, after: Any) -> str | None:
    """`write 50 → 88 (read 100 unchanged)`, `MinCapacity 50 → 175`, `MaxReadRequestUnits …`."""
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return None
    if "min_capacity" in after:
        names = {"min_capacity": "MinCapacity", "max_capacity": "MaxCapacity"}
    elif action in ("raise_on_demand_max", "restore_on_demand_max"):
        names = {"read": "MaxReadRequestUnits", "write": "MaxWriteRequestUnits"}
    else:
        names = {"read": "read units", "write": "write units"}
    changed = [
        f"{label} {_units(before.get(k))} → {_units(after.get(k))}"
        for k, label in names.items()
        if before.get(k) != after.get(k)
    ]
    kept = [
        f"{label} {_units(after.get(k))}"
        for k, label in names.items()
        if before.get(k) == after.get(k)
    ]
    if not changed:
        return None
    return ", ".join(changed) + (f" ({', '.join(kept)} unchanged)" if kept else "")


def _units(value: object) -> str:
    if value is None:
        return "no cap"
    return f"{value:,}" if isinstance(value, int) else str(value)


def raised(error: BaseException, retryable: bool) -> list[str]:
    name = type(error).__name__
    what = (
        "Lambda would retry (asynchronous invocation: 2 retries, then the OnFailure queue)"
        if retryable
        else "Lambda would retry it, then send the event to the OnFailure queue"
    )
    return [field("raised", f"{name}: {error}"), field("", what)]


# ------------------------------------------------------------------------------------------
# notifications
# ------------------------------------------------------------------------------------------
def notification(message: InboxMessage) -> list[str]:
    """One message of the inbox: subject, attributes, the chat card, the email text."""
    attributes = "  ".join(f"{k}={v}" for k, v in sorted(message.attributes.items()))
    lines = [
        field("subject", message.subject or "(none)", indent=4),
        field("attributes", attributes, indent=4),
    ]
    card = message.chat
    if card is None:
        lines.append(field("message", message.message, indent=4))
    else:
        lines.append("    chat card (SNS `default`, what AWS Chatbot and the SQS inbox get):")
        lines.append(block(chat_card(card), indent=6))
    if message.email is not None:
        lines.append("    email (SNS `email` variant, read from the emulator):")
        lines.append(block(message.email.splitlines(), indent=6 + 2))
    return lines


def chat_card(card: Mapping[str, Any]) -> list[str]:
    """An AWS Chatbot custom notification, roughly as the chat client shows it."""
    content = card.get("content") or {}
    lines = [f"┌ {content.get('title', '(no title)')}"]
    for line in str(content.get("description", "")).splitlines():
        for wrapped in textwrap.wrap(line, WIDTH - 10) or [""]:
            lines.append(f"│ {wrapped}")
    steps = content.get("nextSteps") or []
    if steps:
        lines.append("│ Next steps:")
        lines += [f"│   • {_link(step)}" for step in steps]
    keywords = content.get("keywords") or []
    thread = (card.get("metadata") or {}).get("threadId")
    tail = "  ".join(f"[{k}]" for k in keywords)
    lines.append(f"└ {tail}" + (f"   thread {thread}" if thread else ""))
    return lines


def _link(step: object) -> str:
    """`<url|text>` (Slack link markup) as `text: url`."""
    text = str(step)
    if text.startswith("<") and text.endswith(">") and "|" in text:
        url, label = text[1:-1].split("|", 1)
        return f"{label}: {url}"
    return text


# ------------------------------------------------------------------------------------------
# capacity
# ------------------------------------------------------------------------------------------
def capacity_changes(
    before: Mapping[str, UnitCapacity], after: Mapping[str, UnitCapacity]
) -> list[str]:
    """What changed in the account between two snapshots, one phrase per change."""
    changes = []
    for key, now in after.items():
        was = before.get(key)
        if was is None:
            continue
        mode = "on-demand max " if now.on_demand else ""
        for dimension in ("read", "write"):
            old, new = getattr(was, dimension), getattr(now, dimension)
            if old != new:
                changes.append(f"{key} {mode}{dimension} {_units(old)} → {_units(new)}")
            old_target = was.autoscaling.get(dimension)
            new_target = now.autoscaling.get(dimension)
            if old_target != new_target:
                changes.append(
                    f"{key} auto scaling {dimension} min–max "
                    f"{_range(old_target)} → {_range(new_target)}"
                )
    return changes


def _range(target: tuple[int, int] | None) -> str:
    return "none" if target is None else f"{target[0]:,}–{target[1]:,}"


def _before_after(old: object, new: object) -> str:
    return _units(new) if old == new else f"{_units(old)} → {_units(new)}"


def capacity_table(
    before: Mapping[str, UnitCapacity],
    after: Mapping[str, UnitCapacity],
    policies: Mapping[str, str] | None = None,
) -> list[str]:
    """One row per table and index: mode, policy, read, write, Auto Scaling; before → after."""
    header = ("table / index", "mode", "policy (tags)", "read", "write", "auto scaling min–max")
    rows = [header]
    for key, now in after.items():
        was = before.get(key, now)
        prefix = "max " if now.on_demand else ""
        scaling = []
        for dimension in ("read", "write"):
            old_t, new_t = was.autoscaling.get(dimension), now.autoscaling.get(dimension)
            if old_t is None and new_t is None:
                continue
            text = _range(new_t) if old_t == new_t else f"{_range(old_t)} → {_range(new_t)}"
            scaling.append(f"{dimension} {text}")
        rows.append(
            (
                key,
                "on demand" if now.on_demand else "provisioned",
                (policies or {}).get(key, ""),
                prefix + _before_after(was.read, now.read),
                prefix + _before_after(was.write, now.write),
                ", ".join(scaling) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def records(kinds: Counter[str], actions: Counter[str] | None = None) -> list[str]:
    decided = kinds.get("DECISION", 0) + kinds.get("REJECT", 0)
    by_action = ", ".join(f"{a} {n}" for a, n in sorted((actions or Counter()).items()))
    lines = [f"  {decided} decision records" + (f" ({by_action})" if by_action else "")]
    others = [
        f"{n} {RECORD_KINDS.get(kind, kind)}"
        for kind, n in sorted(kinds.items())
        if kind not in {"DECISION", "REJECT"}
    ]
    if others:
        lines.append("  besides: " + ", ".join(others))
    return lines
