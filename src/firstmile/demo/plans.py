"""The demo's decisions: different people get different plans, and one plan moves on.

Everything goes through the running server's ``POST /v1/decide`` with the workspace's
server key, as an app's backend would call it: :func:`example_plans` asks for the plan
of a few people of different personas, :func:`plan_journey` follows a brand-new user
whose plan changes as the events they send with each call complete steps.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstmile.demo.model import Person, Population
from firstmile.demo.personas import Persona

__all__ = [
    "JOURNEY_EVENTS",
    "PlanShown",
    "choose_newcomer",
    "example_plans",
    "plan_journey",
    "print_plan_journey",
    "print_plans",
]

# The personas whose plans the demo shows, in order.
PLAN_PERSONAS = (Persona.TEAM_ADMIN, Persona.CASUAL_MOBILE, Persona.HESITANT_TRIALIST)


@dataclass(frozen=True, slots=True)
class PlanShown:
    """A plan as the server returned it, and who or what it was for."""

    label: str
    plan: Mapping[str, Any]

    @property
    def steps_done(self) -> int:
        return sum(1 for step in self.plan["steps"] if step["state"] == "done")


def _decide(http: httpx.Client, server_key: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
    response = http.post("/v1/decide", json=body, headers={"Authorization": f"Bearer {server_key}"})
    response.raise_for_status()
    plan: Mapping[str, Any] = response.json()
    return plan


def example_plans(
    base_url: str, server_key: str, examples: Mapping[Persona, Person]
) -> list[PlanShown]:
    """The plan of one person per persona in :data:`PLAN_PERSONAS`, on their own device."""
    shown = []
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        for persona in PLAN_PERSONAS:
            person = examples.get(persona)
            if person is None:
                continue
            context = {"userAgent": person.device.user_agent, "locale": person.locale}
            plan = _decide(http, server_key, {"userId": person.display_id, "context": context})
            shown.append(PlanShown(f"{person.display_id} ({persona.description})", plan))
    return shown


# What the plan journey's user does, and the events each move sends along with the
# decide call. Each plan already sees its own events (read-your-writes).
JOURNEY_MOVES: tuple[tuple[str, tuple[dict[str, Any], ...]], ...] = (
    ("opens the app", ()),
    ("creates a project", ({"event": "Completed Step", "properties": {"step": 1}},)),
    (
        "skips the intro video",
        ({"event": "Content Dismissed", "properties": {"item_id": "intro_video"}},),
    ),
    ("invites a teammate", ({"event": "Invited Teammate"},)),
    ("uses a template", ({"event": "Used Feature", "properties": {"feature": "Templates"}},)),
)
JOURNEY_EVENTS = sum(len(events) for _, events in JOURNEY_MOVES)
_STEP_EVENTS = frozenset({"Completed Step", "Invited Teammate", "Used Feature"})


def choose_newcomer(population: Population, taken: Collection[str]) -> Person | None:
    """A signed-up person who has done none of the onboarding steps yet (not in ``taken``),
    who lets firstmile keep and use their events."""
    for person in population.people:
        if (
            person.identified
            and person.display_id not in taken
            and person.consent.get("analytics") is not False
            and person.consent.get("personalization") is not False
            and not any(m.event in _STEP_EVENTS for m in person.messages())
        ):
            return person
    return None


def plan_journey(base_url: str, server_key: str, person: Person) -> list[PlanShown]:
    """``person``'s plan, then again after each move of :data:`JOURNEY_MOVES`."""
    context = {"userAgent": person.device.user_agent, "locale": person.locale}
    shown = []
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        for label, events in JOURNEY_MOVES:
            body = {
                "userId": person.display_id,
                "context": context,
                "events": [{**e, "messageId": f"demo-plan-{uuid.uuid4()}"} for e in events],
            }
            shown.append(PlanShown(label, _decide(http, server_key, body)))
    return shown


def _reason(reason: Mapping[str, Any]) -> str:
    source = reason.get("source", "")
    if source == "rule":
        why = [f"rule {reason['rule']}"]
        why += [f"segment {key}" for key in reason.get("segments", ())]
        why += [f"score {key}" for key in reason.get("scores", ())]
        return ", ".join(why)
    return str(source)


def _steps(plan: Mapping[str, Any]) -> str:
    marks = {"done": "✓", "skipped": "⤼", "todo": "·"}
    return "  ".join(f"{marks[s['state']]} {s['item_id']}" for s in plan["steps"])


def print_plans(console: Console, plans: Sequence[PlanShown]) -> None:
    """Each plan's slots next to the reason that filled them."""
    if not plans:
        return
    console.print()
    console.rule("[bold]What each person sees in onboarding now (POST /v1/decide)")
    for shown in plans:
        plan = shown.plan
        reasons = plan["reasons"]
        table = Table(title=escape(shown.label), title_justify="left", show_header=True)
        table.add_column("slot")
        table.add_column("value")
        table.add_column("because")
        welcome = plan["welcome"]
        table.add_row(
            "welcome",
            "-" if welcome is None else escape(f"{welcome['title']}: {welcome['body']}"),
            _reason(reasons["welcome"]),
        )
        table.add_row("flow", str(plan["flow"]), _reason(reasons["flow"]))
        table.add_row("steps", escape(_steps(plan)), _reason(reasons["steps"]))
        table.add_row("tutorial depth", plan["tutorial_depth"], _reason(reasons["tutorial_depth"]))
        tips = ", ".join(t["item_id"] for t in plan["tips"]) or "-"
        table.add_row("tips", tips, _reason(reasons["tips"]))
        console.print(table)


def print_plan_journey(
    console: Console, journey: Sequence[PlanShown], person: Person | None
) -> None:
    """One new user's plan after each thing they do."""
    if not journey or person is None:
        return
    console.print()
    console.print(
        f"[bold]A plan moving on as the user completes steps:[/] {person.display_id} "
        f"({person.persona.description}). Each row is one POST /v1/decide carrying the "
        "user's latest event:"
    )
    table = Table()
    table.add_column("the user…")
    table.add_column("welcome")
    table.add_column("steps (✓ done, ⤼ skipped)")
    table.add_column("checklist")
    for shown in journey:
        plan = shown.plan
        welcome = plan["welcome"]
        checklist = plan["checklist"]
        table.add_row(
            shown.label,
            "-" if welcome is None else escape(f"{welcome['title']} [{welcome['locale']}]"),
            escape(_steps(plan)),
            "-" if checklist is None else f"{checklist['done']}/{checklist['total']}",
        )
    console.print(table)
