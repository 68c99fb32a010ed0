"""Example profiles, one per persona: who is chosen, and how their profile is shown."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstmile.demo.model import Person, Population
from firstmile.demo.personas import Persona
from firstmile.demo.reconcile import PURPOSES

__all__ = ["EXAMPLE_PERSONAS", "choose_examples", "print_examples"]

EXAMPLE_PERSONAS = (
    Persona.POWER_USER,
    Persona.CASUAL_MOBILE,
    Persona.TEAM_ADMIN,
    Persona.HESITANT_TRIALIST,
)


def _message_count(person: Person) -> int:
    return sum(1 for _ in person.messages())


def choose_examples(population: Population) -> dict[Persona, Person]:
    """One typical person per persona whose behaviour is kept (deterministic).

    Typical means closest to the persona's median number of messages; among those,
    people who show a feature of firstmile are preferred: a merge across devices for
    power and mobile users, a stated consent choice for mobile users, recent activity
    (so the 24-hour window is not empty).
    """
    recent = population.now - timedelta(hours=20)
    chosen: dict[Persona, Person] = {}
    for persona in EXAMPLE_PERSONAS:
        candidates = [
            p
            for p in population.people
            if p.persona is persona and p.identified and not p.denies_analytics
        ]
        if not candidates:
            continue
        sizes = sorted(_message_count(p) for p in candidates)
        median = sizes[len(sizes) // 2]

        def score(person: Person, persona: Persona = persona, median: int = median) -> Any:
            feature = {
                Persona.POWER_USER: person.merges,
                Persona.CASUAL_MOBILE: person.merges and bool(person.consent),
                Persona.TEAM_ADMIN: person.previous_user_id is None,
                Persona.HESITANT_TRIALIST: bool(person.anonymous_ids),
            }.get(persona, False)
            active = max(m.timestamp for m in person.messages()) >= recent
            return (feature, active, -abs(_message_count(person) - median))

        chosen[persona] = max(candidates, key=score)
    return chosen


def _consent_text(view: dict[str, Any]) -> str:
    parts = []
    for purpose in PURPOSES:
        state = view["consent"][purpose.value]
        how = "said so" if state["stated"] else "default"
        parts.append(f"{purpose.value} {'yes' if state['granted'] else 'no'} ({how})")
    return ", ".join(parts)


def _traits_text(view: dict[str, Any], person: Person) -> str:
    sent = person.sdk_messages[0].traits if person.sdk_messages else {}
    parts = []
    for key in ("email", "name", "plan", "role", "country", "company", "team_size"):
        if key not in view["traits"]:
            continue
        value = _short(view["traits"][key])
        original = sent.get(key)
        if key in ("email", "country", "team_size") and original is not None:
            # Show what normalization did: the value as the app sent it.
            value += f" (sent {original!r})"
        parts.append(f"{key} {value}")
    return "\n".join(parts)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        name = value.get("name")
        return str(name) if name is not None else str(value)
    return str(value)


def print_examples(
    console: Console, people: dict[Persona, Person], examples: dict[Persona, dict[str, Any]]
) -> None:
    for persona, view in examples.items():
        person = people[persona]
        computed = view["computed"]
        table = Table(
            title=f"[bold]{persona.description}[/]: {escape(person.display_id)}",
            title_justify="left",
            show_header=False,
            box=box.SIMPLE,
            padding=(0, 1),
        )
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        anonymous = len(view["identities"]["anonymous_id"])
        merges = sum(1 for m in view["merges"] if m["outcome"] == "merged")
        ids = f"user id {view['user_id']}, " + (
            f"{_plural(anonymous, 'anonymous id')} joined"
            if anonymous
            else "signed up directly (no anonymous visit first)"
        )
        if merges:
            ids += f", {_plural(merges, 'profile merge')} (login on a second device)"
        if person.previous_user_id:
            ids += f", renamed from {person.previous_user_id} (alias)"
        top = Counter(computed["event_counts"]).most_common(4)
        rows = [
            ("identities", ids),
            ("traits", _traits_text(view, person)),
            (
                "behaviour",
                f"{_plural(computed['sessions'], 'session')}, "
                f"{_plural(computed['event_count'], 'event')} "
                f"({computed['events_7d']} in the last 7 days, "
                f"{computed['events_1d']} in the last 24 h)",
            ),
            ("top events", ", ".join(f"{name} ({n})" for name, n in top) or "-"),
            (
                "latest device",
                f"{computed['device_type']}, {computed['os']}, {computed['browser']}",
            ),
            ("place", f"{computed['country']}, {computed['locale']}, {computed['timezone']}"),
            ("groups", ", ".join(computed["groups"]) or "-"),
            ("consent", _consent_text(view)),
        ]
        for label, value in rows:
            table.add_row(label, escape(value))
        console.print(table)
