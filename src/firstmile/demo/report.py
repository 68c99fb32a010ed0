"""What the demo prints: what was sent, the reconciled numbers, and what to run next.

Rendering only: the numbers come from :mod:`firstmile.demo.reconcile`, the example
profiles are printed by :mod:`firstmile.demo.examples`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from firstmile.demo.model import Person, Population
from firstmile.demo.onboarding import Journey, SegmentSize
from firstmile.demo.personas import Persona
from firstmile.demo.reconcile import Check, Observed
from firstmile.demo.tally import SimulationReport

__all__ = ["print_checks", "print_next", "print_segments", "print_sent", "shown_path"]


def shown_path(path: Path) -> str:
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else "."


def _command() -> str:
    """How to call the CLI: the script beside this interpreter, else plain `firstmile`."""
    script = Path(sys.executable).parent / "firstmile"
    return shown_path(script) if script.exists() else "firstmile"


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[bold red]✗[/]"


def _count_table(count: str, what: str) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    table.add_column(count, justify="right")
    table.add_column(what)
    return table


def print_sent(console: Console, population: Population, report: SimulationReport) -> None:
    counts = population.persona_counts()
    console.print()
    console.rule("[bold]What was sent")
    personas = _count_table("people", "persona")
    for persona in Persona:
        personas.add_row(str(counts.get(persona, 0)), persona.description)
    console.print(personas)
    console.print()
    channels = _count_table("messages", "sent as")
    for channel, count in sorted(report.sent_by_channel.items()):
        channels.add_row(f"{count:,}", channel)
    gzip_clients = sum(c.gzip for c in report.sdk_clients)
    channels.add_row(
        "", f"  ({len(report.sdk_clients)} segment-analytics-python clients, {gzip_clients} gzip)"
    )
    channels.add_row(f"{report.malformed:,}", "malformed, raw /v1/batch from a buggy integration")
    channels.add_row(
        f"{report.retried_messages:,}",
        f"sent twice: {report.retried_requests} browser requests re-posted as they were",
    )
    console.print(channels)
    by_type = ", ".join(f"{kind} {n:,}" for kind, n in sorted(report.sent_by_type.items()))
    console.print(f"Well-formed messages by type: {by_type}.")
    console.print(
        f"Dated over the 14 days before now; sent in {report.seconds:.1f} s "
        f"({report.http_requests:,} raw HTTP requests plus the SDK's batches)."
    )


_GROUP_TITLES = {
    "events": "Events",
    "quarantine": "  quarantined, by reason",
    "profiles": "Profiles",
    "enrichment": "Enrichment (profiles whose behaviour is kept)",
    "consent": "Consent (profiles, per purpose)",
    "segments": "Segment sizes (kept live = recounted now)",
    "decide": "Decisions (POST /v1/decide)",
    "experiments": "Experiment welcome_copy (planted share)",
    "bandits": "Bandit first_tip (planted share)",
}


def _shown(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else escape(value)


def print_checks(console: Console, checks: Sequence[Check]) -> None:
    console.print()
    console.rule("[bold]What firstmile stored, checked against what was sent")
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", padding=(0, 1))
    table.add_column("")
    table.add_column("expected", justify="right")
    table.add_column("stored", justify="right")
    table.add_column("", justify="center")
    for group, title in _GROUP_TITLES.items():
        rows = [check for check in checks if check.group == group]
        if not rows:
            continue
        table.add_row(f"[bold]{title}[/]", "", "", "")
        indent = "      " if group == "quarantine" else "  "
        for check in rows:
            table.add_row(
                indent + check.label,
                _shown(check.expected),
                _shown(check.observed),
                _mark(check.ok),
            )
    console.print(table)
    console.print(
        "[dim]expected: derived from what the simulation sent. stored: read from the "
        "workspace after the server stopped. Accepted events of people who denied "
        "analytics update their consent and declared traits, but their behaviour is "
        "not kept. Consent that a person did not state is the workspace default "
        "(settings.toml).[/]"
    )


def print_next(
    console: Console,
    home: Path,
    population: Population,
    example_people: dict[Persona, Person],
    observed: Observed,
    write_key: str,
) -> None:
    cli = _command()
    where = f"--home {shown_path(home)}"
    someone = next(iter(example_people.values()), None)
    denied = next(
        (
            p
            for p in population.people
            if p.denies_analytics and p.identified and p.previous_user_id is None
        ),
        None,
    )
    lines: list[tuple[str, str]] = []
    if someone is not None:
        lines.append(
            (
                "one person: traits, computed traits, consent, identities, history",
                f"{cli} users show {someone.display_id} {where}",
            )
        )
    if denied is not None:
        lines.append(
            (
                "someone who denied analytics: traits and consent kept, no behaviour",
                f"{cli} users show {denied.display_id} {where}",
            )
        )
    lines.append(("the quarantined messages and why", f"{cli} quarantine list {where}"))
    if observed.quarantine_example is not None:
        lines.append(
            (
                "one of them, exactly as received",
                f"{cli} quarantine show {observed.quarantine_example} {where}",
            )
        )
    lines.append(("the counts above, as JSON", f"{cli} status {where} --json"))
    lines.append(("run the server on this workspace yourself", f"{cli} serve {where}"))
    lines.append(
        (
            "then send it an event (the workspace's write key)",
            f"curl -u {write_key}: -H 'Content-Type: application/json' "
            '-d \'{"userId": "me", "event": "Tried firstmile"}\' '
            "http://127.0.0.1:8300/v1/track",
        )
    )
    console.print()
    console.rule("[bold]What to run next")
    for why, command in lines:
        console.print(f"  {why}")
        console.print(f"    [bold cyan]{escape(command)}[/]", soft_wrap=True)


def _keys(keys: Sequence[str]) -> str:
    return ", ".join(keys) if keys else "-"


def print_segments(
    console: Console, sizes: Sequence[SegmentSize], journey: Journey | None, config_file: Path
) -> None:
    """Segment sizes, then one user moving between segments as their events arrive."""
    console.print()
    console.rule("[bold]Segments")
    console.print(
        f"Declared in {shown_path(config_file)}; the server kept every membership up to "
        "date as events arrived."
    )
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", padding=(0, 1))
    table.add_column("segment")
    table.add_column("members", justify="right")
    table.add_column("who")
    for size in sizes:
        table.add_row(size.key, f"{size.size:,}", escape(size.description))
    console.print(table)
    if journey is None:
        console.print("[dim]No signed-up person to follow in this population.[/]")
        return
    console.print(
        f"[bold]A user moving between segments as events arrive:[/] {journey.user_id} "
        f"({journey.persona.description}). Each event is one POST /v1/batch to the "
        "running server; the segments are read from the store right after its answer."
    )
    steps = Table(box=box.SIMPLE_HEAD, header_style="bold", padding=(0, 1))
    steps.add_column("event", overflow="fold")
    steps.add_column("engaged", justify="right")
    steps.add_column("change", overflow="fold")
    steps.add_column("segments now", overflow="fold")
    steps.add_row("(before)", f"{journey.score_before:.0f}", "", _keys(journey.before))
    for step in journey.steps:
        change = [f"+{key}" for key in step.entered] + [f"-{key}" for key in step.exited]
        steps.add_row(
            escape(step.event) + ("" if step.accepted else " [red](refused)[/]"),
            f"{step.score:.0f}",
            " ".join(change) or "-",
            _keys(step.segments),
        )
    console.print(steps)
