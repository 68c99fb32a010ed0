"""The demo scenario behind ``firstmile demo``.

:func:`run_demo` builds a fresh workspace, starts a real ``firstmile serve`` in a
subprocess, sends a simulated onboarding population through its HTTP API with real
clients (:mod:`firstmile.demo.simulate`), stops the server, then reads the workspace
with the library and prints what happened. Every number it prints is checked against
what was sent; the exit code says whether they all reconcile.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from firstmile.demo.population import Person, Persona, Population, build_population
from firstmile.demo.simulate import PHASES, SimulationReport, simulate
from firstmile.errors import NotFound
from firstmile.events.model import Purpose
from firstmile.service import Firstmile
from firstmile.settings import load_settings
from firstmile.workspace import init_workspace

__all__ = ["EXIT_MISMATCH", "EXIT_SERVER", "EXIT_USAGE", "run_demo"]

EXIT_OK = 0
EXIT_MISMATCH = 1  # the server stored something other than what was sent
EXIT_USAGE = 2  # the demo cannot run here (home folder, environment)
EXIT_SERVER = 3  # the server did not start, or failed while running

RECORD_FILE = "demo.json"  # what was sent: seed, size, reference time and the report
MARKER = ".firstmile-demo"  # marks a folder the demo made, so it may delete it next time
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 30

_PURPOSES = (Purpose.ANALYTICS, Purpose.PERSONALIZATION, Purpose.MARKETING)
_EXAMPLE_PERSONAS = (
    Persona.POWER_USER,
    Persona.CASUAL_MOBILE,
    Persona.TEAM_ADMIN,
    Persona.HESITANT_TRIALIST,
)


class DemoError(Exception):
    """Something that stops the demo, with what to do about it; ``exit_code`` says what."""

    def __init__(self, message: str, exit_code: int, log_tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.log_tail = log_tail


# -- the workspace ---------------------------------------------------------------------------


def _fresh_home(home: Path) -> Path:
    """Delete and recreate ``home``, but only if it is empty or an earlier demo's."""
    home = home.expanduser().resolve()
    if home.exists():
        if not home.is_dir():
            raise DemoError(f"{home} is a file; pass another --home.", EXIT_USAGE)
        if any(home.iterdir()) and not (home / MARKER).is_file():
            # Never delete a folder the demo did not make (think `--home .`).
            raise DemoError(
                f"{home} is not empty and was not made by `firstmile demo`; pass another "
                "--home, or delete that folder yourself.",
                EXIT_USAGE,
            )
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text(
        "Made by `firstmile demo`, which deletes and recreates this folder on each run.\n",
        encoding="utf-8",
    )
    return home


# -- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True, slots=True)
class _Server:
    base_url: str
    pid: int
    log: Path
    ready_seconds: float


@contextmanager
def _serve(home: Path, log: Path) -> Iterator[_Server]:
    """Run ``firstmile serve`` on a free port until the block ends (SIGTERM, then wait)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    # The server must read the demo workspace only, not the developer's FIRSTMILE_* setup.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTMILE_")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "firstmile", "serve", "--home", str(home)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    with log.open("wb") as output:
        # A fixed command line of our own interpreter: no shell, no user input.
        process = subprocess.Popen(  # noqa: S603
            command, stdout=output, stderr=subprocess.STDOUT, env=env
        )
    try:
        _wait_until_ready(process, base_url, log)
        yield _Server(base_url, process.pid, log, time.monotonic() - started)
        if process.poll() is not None:
            raise DemoError(
                f"The server stopped by itself (exit code {process.returncode}).",
                EXIT_SERVER,
                _tail(log),
            )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # uvicorn drains requests, then exits
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise DemoError(
                    f"`firstmile serve` exited with code {process.returncode} before it was "
                    f"ready. Its log is {log}.",
                    EXIT_SERVER,
                    _tail(log),
                )
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    raise DemoError(
        f"`firstmile serve` was not ready after {READY_TIMEOUT_S:.0f} s (GET /readyz). "
        f"Its log is {log}.",
        EXIT_SERVER,
        _tail(log),
    )


# -- what the server stored ------------------------------------------------------------------


@dataclass
class Observed:
    """What the workspace holds after the simulation."""

    counters: dict[str, int]
    quarantined: dict[str, int]
    profiles: dict[str, int]
    consent: dict[str, dict[str, int]]
    stitched: int  # identified profiles that carry an anonymous id
    merged: int  # anonymous profiles merged into a known one
    denied_events_stored: int  # events stored for people who denied analytics
    country_matches: int  # people whose behaviour is kept and whose country is right
    device_matches: int  # ... and whose latest device, OS and browser are right
    examples: dict[Persona, dict[str, Any]] = field(default_factory=dict)
    quarantine_example: int | None = None


def _observe(
    fm: Firstmile, population: Population, example_people: dict[Persona, Person]
) -> Observed:
    summary = fm.summary()
    stitched = merged = 0
    for profile in fm.store.iter_profiles():
        if profile.user_id is not None and any(
            identity.kind == "anonymous_id" for identity in fm.store.identities(profile.profile_id)
        ):
            stitched += 1
        merged += sum(
            1
            for record in fm.store.merges(profile.profile_id)
            if record.outcome == "merged" and record.into_profile_id == profile.profile_id
        )
    denied_events = country_matches = device_matches = 0
    for person in population.people:
        try:
            profile_id = fm.find_profile_id(person.display_id)
        except NotFound:
            continue  # the profile counts above will not reconcile
        if person.denies_analytics:
            denied_events += len(fm.store.events(profile_id, limit=1_000_000))
            continue
        kept = fm.store.get_profile(profile_id)
        if kept is None:
            continue  # the enrichment counts will not reconcile
        computed = kept.computed
        country_matches += computed.country == person.country.code
        last_device = person.second_device or person.device
        device_matches += (computed.device_type, computed.os, computed.browser) == (
            last_device.kind,
            last_device.os,
            last_device.browser,
        )
    examples = {
        persona: fm.user(person.display_id, events=5) for persona, person in example_people.items()
    }
    first_quarantined = fm.quarantine(limit=1)
    return Observed(
        counters=summary["ingest"],
        quarantined=summary["quarantine_by_reason"],
        profiles=summary["profiles"],
        consent=summary["consent"],
        stitched=stitched,
        merged=merged,
        denied_events_stored=denied_events,
        country_matches=country_matches,
        device_matches=device_matches,
        examples=examples,
        quarantine_example=first_quarantined[0].id if first_quarantined else None,
    )


def _example_people(population: Population) -> dict[Persona, Person]:
    """One typical person per persona whose behaviour is kept (deterministic).

    Typical means closest to the persona's median number of messages; among those,
    people who show a feature of firstmile are preferred: a merge across devices for
    power and mobile users, a stated consent choice for mobile users, recent activity
    (so the 24-hour window is not empty).
    """
    recent = population.now - timedelta(hours=20)
    chosen: dict[Persona, Person] = {}
    for persona in _EXAMPLE_PERSONAS:
        candidates = [
            p
            for p in population.people
            if p.persona is persona and p.identified and not p.denies_analytics
        ]
        if not candidates:
            continue
        sizes = sorted(sum(1 for _ in p.messages()) for p in candidates)
        median = sizes[len(sizes) // 2]

        def score(person: Person, persona: Persona = persona, median: int = median) -> Any:
            feature = {
                Persona.POWER_USER: person.merges,
                Persona.CASUAL_MOBILE: person.merges and bool(person.consent),
                Persona.TEAM_ADMIN: person.previous_user_id is None,
                Persona.HESITANT_TRIALIST: bool(person.anonymous_ids),
            }.get(persona, False)
            active = max(m.timestamp for m in person.messages()) >= recent
            return (feature, active, -abs(sum(1 for _ in person.messages()) - median))

        chosen[persona] = max(candidates, key=score)
    return chosen


# -- reconciliation --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One number: what the simulation implies, what the server stored."""

    group: str
    label: str
    expected: int
    observed: int

    @property
    def ok(self) -> bool:
        return self.expected == self.observed


def _expected_consent(fm: Firstmile, population: Population) -> dict[str, dict[str, int]]:
    expected: dict[str, dict[str, int]] = {}
    for person in population.people:
        stated = {Purpose(name): granted for name, granted in person.consent.items()}
        for purpose in _PURPOSES:
            bucket = expected.setdefault(purpose.value, {"granted": 0, "denied": 0})
            bucket["granted" if fm.policy.granted(purpose, stated) else "denied"] += 1
    return expected


def _checks(
    population: Population,
    report: SimulationReport,
    observed: Observed,
    expected_consent: dict[str, dict[str, int]],
) -> list[Check]:
    counters = observed.counters
    accepted = report.well_formed
    suppressed = population.denied_analytics_message_count
    checks = [
        Check("events", "accepted (new messageIds)", accepted, counters.get("accepted", 0)),
        Check(
            "events",
            "deduplicated (client retries)",
            report.retried_messages,
            counters.get("duplicate", 0),
        ),
        Check(
            "events",
            "not kept: the user denied analytics",
            suppressed,
            counters.get("suppressed", 0),
        ),
        Check(
            "events", "kept in the event log", accepted - suppressed, observed.profiles["events"]
        ),
        Check("events", "quarantined", report.malformed, counters.get("quarantined", 0)),
    ]
    for reason in sorted(set(report.malformed_by_reason) | set(observed.quarantined)):
        checks.append(
            Check(
                "quarantine",
                reason,
                report.malformed_by_reason.get(reason, 0),
                observed.quarantined.get(reason, 0),
            )
        )
    people = population.people
    identified = sum(p.identified for p in people)
    kept = sum(not p.denies_analytics for p in people)
    checks += [
        Check("profiles", "profiles (one per person)", len(people), observed.profiles["profiles"]),
        Check("profiles", "identified (signed up)", identified, observed.profiles["identified"]),
        Check(
            "profiles",
            "anonymous (never signed up)",
            len(people) - identified,
            observed.profiles["anonymous"],
        ),
        Check(
            "profiles",
            "anonymous history joined at sign-up or login",
            sum(p.identified and bool(p.anonymous_ids) for p in people),
            observed.stitched,
        ),
        Check(
            "profiles",
            "merged into a known user (login on a 2nd device)",
            sum(p.merges for p in people),
            observed.merged,
        ),
        Check(
            "profiles",
            "events stored for people who denied analytics",
            0,
            observed.denied_events_stored,
        ),
        Check(
            "enrichment",
            "country from the IP address matches",
            kept,
            observed.country_matches,
        ),
        Check(
            "enrichment",
            "device, OS and browser from the user agent match",
            kept,
            observed.device_matches,
        ),
    ]
    for purpose in _PURPOSES:
        want = expected_consent.get(purpose.value, {})
        got = observed.consent.get(purpose.value, {})
        for state in ("granted", "denied"):
            checks.append(
                Check("consent", f"{purpose.value} {state}", want.get(state, 0), got.get(state, 0))
            )
    return checks


# -- printing --------------------------------------------------------------------------------


def _shown_path(path: Path) -> str:
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else "."


def _command() -> str:
    """How to call the CLI: the script beside this interpreter, else plain `firstmile`."""
    script = Path(sys.executable).parent / "firstmile"
    return _shown_path(script) if script.exists() else "firstmile"


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[bold red]✗[/]"


def _print_sent(console: Console, population: Population, report: SimulationReport) -> None:
    counts = population.persona_counts()
    console.print()
    console.rule("[bold]What was sent")
    personas = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    personas.add_column("people", justify="right")
    personas.add_column("persona")
    for persona in Persona:
        personas.add_row(str(counts.get(persona, 0)), persona.description)
    console.print(personas)
    console.print()
    channels = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    channels.add_column("messages", justify="right")
    channels.add_column("sent as")
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
}


def _print_checks(console: Console, checks: Sequence[Check]) -> None:
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
                indent + check.label, f"{check.expected:,}", f"{check.observed:,}", _mark(check.ok)
            )
    console.print(table)
    console.print(
        "[dim]expected: derived from what the simulation sent. stored: read from the "
        "workspace after the server stopped. Accepted events of people who denied "
        "analytics update their consent and declared traits, but their behaviour is "
        "not kept. Consent that a person did not state is the workspace default "
        "(settings.toml).[/]"
    )


def _consent_text(view: dict[str, Any]) -> str:
    parts = []
    for purpose in _PURPOSES:
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


def _print_examples(
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


def _print_next(
    console: Console,
    home: Path,
    population: Population,
    example_people: dict[Persona, Person],
    observed: Observed,
    write_key: str,
) -> None:
    cli = _command()
    where = f"--home {_shown_path(home)}"
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


# -- the demo --------------------------------------------------------------------------------


def _simulate_with_progress(
    console: Console, population: Population, base_url: str, write_key: str
) -> SimulationReport:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks = {phase: progress.add_task(phase, total=None, start=False) for phase in PHASES}

        def on_progress(phase: str, done: int, total: int) -> None:
            # Called from the sending threads; rich's Progress is thread-safe, and
            # start_task only starts the clock the first time.
            progress.start_task(tasks[phase])
            progress.update(tasks[phase], completed=done, total=total)

        return simulate(population, base_url=base_url, write_key=write_key, progress=on_progress)


def run_demo(home: Path, users: int, seed: int, console: Console) -> int:
    """Run the whole demo and print what happened; return the process exit code.

    Parameters
    ----------
    home
        The demo workspace. It is deleted and recreated, so it must be empty, missing,
        or made by an earlier demo.
    users
        How many simulated people.
    seed
        Seed of the simulated population (the same seed gives the same people).
    console
        Where to print.

    Returns
    -------
    int
        0 when everything the server stored reconciles with what was sent; 1 when some
        number does not; 2 when the demo cannot run here; 3 when the server failed.
    """
    started = time.monotonic()
    try:
        return _run(home, users, seed, console, started)
    except DemoError as error:
        console.print(f"[bold red]demo failed:[/] {escape(error.message)}")
        if error.log_tail:
            console.print("[bold]Last lines of the server log:[/]")
            console.print(escape(error.log_tail), highlight=False)
        return error.exit_code


def _run(home: Path, users: int, seed: int, console: Console, started: float) -> int:
    if "FIRSTMILE_DATABASE_URL" in os.environ:
        raise DemoError(
            "FIRSTMILE_DATABASE_URL is set; the demo keeps its data in its own workspace. "
            "Unset it for the demo (for example `env -u FIRSTMILE_DATABASE_URL firstmile demo`).",
            EXIT_USAGE,
        )
    home = _fresh_home(home)
    workspace = init_workspace(home)
    settings = load_settings(home=home, environ={})
    population = build_population(users, seed=seed, now=datetime.now(UTC))
    log = home / "server.log"
    console.rule(f"[bold]firstmile demo: {users} simulated people, seed {seed}")
    console.print(
        f"Workspace {_shown_path(home)} (settings.toml, firstmile.db, server.log, demo.json)"
    )

    with _serve(home, log) as server:
        console.print(
            f"Started [bold]firstmile serve[/] at {server.base_url} (pid {server.pid}), "
            f"ready in {server.ready_seconds:.1f} s"
        )
        report = _simulate_with_progress(console, population, server.base_url, workspace.write_key)
    console.print("Stopped the server; reading what it stored.")
    record = home / RECORD_FILE
    record.write_bytes(
        orjson.dumps(
            {
                "users": users,
                "seed": seed,
                "now": population.now.isoformat(),
                "report": report.to_json(),
            },
            option=orjson.OPT_INDENT_2,
        )
    )

    example_people = _example_people(population)
    with Firstmile.open(settings) as fm:
        observed = _observe(fm, population, example_people)
        expected_consent = _expected_consent(fm, population)
    checks = _checks(population, report, observed, expected_consent)

    _print_sent(console, population, report)
    _print_checks(console, checks)
    console.print()
    console.rule("[bold]Example profiles, one per persona")
    _print_examples(console, example_people, observed.examples)
    _print_next(console, home, population, example_people, observed, workspace.write_key)

    console.print()
    failed = [check for check in checks if not check.ok]
    elapsed = time.monotonic() - started
    if report.errors:
        console.print(f"[bold red]{len(report.errors)} problem(s) while sending:[/]")
        for error in report.errors[:10]:
            console.print(f"  {escape(error)}")
    if failed or report.errors:
        console.print(
            f"[bold red]✗ {len(failed)} of {len(checks)} numbers do not reconcile[/] "
            f"({elapsed:.1f} s). The server log is {log}."
        )
        return EXIT_MISMATCH
    console.print(
        f"[bold green]✓ All {len(checks)} numbers reconcile[/] with what was sent "
        f"({elapsed:.1f} s in all)."
    )
    return EXIT_OK
