"""How ``firstmile decide`` prints a plan: each slot, its value, and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

_STATE_MARKS = {"done": "✓", "skipped": "⤼", "todo": "·"}


def reason_text(reason: Mapping[str, Any]) -> str:
    """``rule admin_welcome (segment admins)``, ``default``, ``fallback: ...``."""
    source = str(reason.get("source", ""))
    if source == "rule":
        reads = [f"segment {key}" for key in reason.get("segments", ())]
        reads += [f"score {key}" for key in reason.get("scores", ())]
        return f"rule {reason['rule']}" + (f" ({', '.join(reads)})" if reads else "")
    detail = reason.get("detail")
    return f"{source}: {detail}" if detail else source


def print_plan(console: Console, plan: Mapping[str, Any]) -> None:
    """The plan as a table of slots, then what was withheld and what fell back."""
    known = "known user" if plan["known"] else "unknown user (cold start)"
    console.print(f"[bold]Plan[/] for {known}, config {plan['config_version']}")
    reasons = plan["reasons"]
    table = Table("slot", "value", "because")
    welcome = plan["welcome"]
    table.add_row(
        "welcome",
        "-" if welcome is None else escape(f"{welcome['title']}: {welcome['body']}"),
        reason_text(reasons.get("welcome", {})),
    )
    table.add_row("flow", str(plan["flow"] or "-"), reason_text(reasons.get("flow", {})))
    steps = "\n".join(
        f"{_STATE_MARKS[s['state']]} {escape(s['item_id'])}"
        + (f" (after {', '.join(s['blocked_by'])})" if s["blocked_by"] else "")
        for s in plan["steps"]
    )
    table.add_row("steps", steps or "-", reason_text(reasons.get("steps", {})))
    table.add_row(
        "tutorial depth", plan["tutorial_depth"], reason_text(reasons.get("tutorial_depth", {}))
    )
    checklist = plan["checklist"]
    table.add_row(
        "checklist",
        "-"
        if checklist is None
        else f"{checklist['key']}: {checklist['done']}/{checklist['total']}",
        reason_text(reasons.get("checklist", {})),
    )
    for slot in ("tips", "recommendations"):
        items = ", ".join(escape(item["item_id"]) for item in plan[slot]) or "-"
        table.add_row(slot, items, reason_text(reasons.get(slot, {})))
    console.print(table)
    for item, reason in plan["withheld"].items():
        console.print(f"withheld {escape(item)}: {reason_text(reason)}")
    for line in plan["fallbacks"]:
        console.print(f"[yellow]fallback[/] {escape(line)}")
