"""How `make demo` shows onboard_tables' runs: the alarms each table got, by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local import render


def alarm_lines(result: Mapping[str, Any]) -> list[str]:
    """One line per table whose alarms changed: the alarms created, updated or deleted."""
    if result.get("runbook") != "onboard_tables":
        return []
    decisions = result.get("decisions")
    if not isinstance(decisions, list):
        decisions = [result]
    lines = []
    for decision in decisions:
        table = decision.get("table_name")
        for label, key in (("created", "created"), ("updated", "updated"), ("deleted", "deleted")):
            names = decision.get(key) or []
            if table and names:
                prefix = f"{_prefix(decision)}{table}-"
                short = [n[len(prefix) :] if n.startswith(prefix) else n for n in names]
                lines.append(
                    render.field(
                        "  alarms",
                        f"{table}: {len(names)} {label} ({prefix}…): {', '.join(short)}",
                    )
                )
        for label, key in (
            ("tagged autoresponder:managed=true", "scalable_targets_tagged"),
            ("untagged", "scalable_targets_untagged"),
        ):
            targets = decision.get(key) or []
            if table and targets:
                lines.append(
                    render.field(
                        "  targets",
                        f"{table}: {len(targets)} scalable target(s) {label}: "
                        + ", ".join(targets),
                    )
                )
    return lines


def _prefix(decision: Mapping[str, Any]) -> str:
    inputs = decision.get("inputs") or {}
    return str(inputs.get("alarm_name_prefix") or "autoresponder-")


def tag_change_summary(event: Mapping[str, Any]) -> list[str]:
    """The header of a "Tag Change on Resource" event: which table, which keys changed."""
    detail = event.get("detail") or {}
    resources = event.get("resources") or ["?"]
    table = str(resources[0]).rsplit("/", 1)[-1]
    keys = ", ".join(detail.get("changed-tag-keys") or []) or "?"
    tags = ", ".join(f"{k}={v}" for k, v in sorted((detail.get("tags") or {}).items()))
    return [
        render.field("tags", f"{detail.get('service', '?')} table {table}: {keys} changed"),
        render.field("now", tags or "(no tags)"),
    ]
