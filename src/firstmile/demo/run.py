"""The demo scenario behind ``firstmile demo``.

:func:`run_demo` builds a fresh workspace, starts a real ``firstmile serve`` in a
subprocess, sends a simulated onboarding population through its HTTP API with real
clients (:mod:`firstmile.demo.simulate`), asks for plans, runs an experiment and a
bandit on a cohort of new sign-ups with planted effects (:mod:`firstmile.demo.trials`),
stops the server, then reads the workspace with the library, trains the models of the
demo config on what it stored (:mod:`firstmile.demo.models`) and prints what happened.
Every number it prints is checked against what was sent; the exit code says whether
they all reconcile.

The steps live in their own modules: the workspace and the server process in
:mod:`~firstmile.demo.sandbox`, the reconciliation in :mod:`~firstmile.demo.reconcile`,
and the printing in :mod:`~firstmile.demo.report` and :mod:`~firstmile.demo.examples`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from firstmile.config import OnboardingConfig
from firstmile.demo.examples import choose_examples, print_examples
from firstmile.demo.exits import EXIT_MISMATCH, EXIT_OK, EXIT_SERVER, EXIT_USAGE, DemoError
from firstmile.demo.model import Person, Population
from firstmile.demo.models import ModelsRun, model_checks, print_models, run_models
from firstmile.demo.onboarding import (
    Journey,
    choose_traveller,
    journey,
    segment_sizes,
    write_demo_config,
)
from firstmile.demo.personas import Persona
from firstmile.demo.plans import (
    JOURNEY_EVENTS,
    PLAN_PERSONAS,
    PlanShown,
    choose_newcomer,
    example_plans,
    plan_journey,
    print_plan_journey,
    print_plans,
)
from firstmile.demo.population import build_population
from firstmile.demo.reconcile import (
    Check,
    Observed,
    build_checks,
    expected_consent_counts,
    observe,
    plan_checks,
)
from firstmile.demo.report import (
    print_checks,
    print_next,
    print_segments,
    print_sent,
    shown_path,
)
from firstmile.demo.sandbox import MARKER, fresh_home, serve
from firstmile.demo.simulate import PHASES, SimulationReport, simulate
from firstmile.demo.trials import (
    TRIAL_PHASES,
    TrialRun,
    print_trials,
    run_trials,
    trial_checks,
    trial_results,
)
from firstmile.service import Firstmile
from firstmile.settings import Settings, load_settings
from firstmile.workspace import init_workspace

__all__ = ["EXIT_MISMATCH", "EXIT_SERVER", "EXIT_USAGE", "MARKER", "RECORD_FILE", "run_demo"]

RECORD_FILE = "demo.json"  # what was sent: seed, size, reference time and the report


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _simulate_with_progress(
    console: Console, population: Population, base_url: str, write_key: str
) -> SimulationReport:
    with _progress(console) as progress:
        tasks = {phase: progress.add_task(phase, total=None, start=False) for phase in PHASES}

        def on_progress(phase: str, done: int, total: int) -> None:
            # Called from the sending threads; rich's Progress is thread-safe, and
            # start_task only starts the clock the first time.
            progress.start_task(tasks[phase])
            progress.update(tasks[phase], completed=done, total=total)

        return simulate(population, base_url=base_url, write_key=write_key, progress=on_progress)


def _trials_with_progress(
    console: Console, population: Population, base_url: str, write_key: str, server_key: str
) -> TrialRun:
    with _progress(console) as progress:
        tasks = {phase: progress.add_task(phase, total=None, start=False) for phase in TRIAL_PHASES}

        def on_progress(phase: str, done: int, total: int) -> None:
            progress.start_task(tasks[phase])
            progress.update(tasks[phase], completed=done, total=total)

        return run_trials(
            base_url,
            write_key,
            server_key,
            seed=population.seed,
            taken={p.display_id for p in population.people}
            | {a for p in population.people for a in p.anonymous_ids}
            | {p.previous_user_id for p in population.people if p.previous_user_id},
            progress=on_progress,
        )


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


@dataclass
class _Decisions:
    """The plans the demo asked the server for."""

    newcomer: Person | None
    journey: list[PlanShown]
    plans: list[PlanShown] = field(default_factory=list)

    @property
    def sent(self) -> int:
        """Events sent along with the journey's decide calls."""
        return JOURNEY_EVENTS if self.journey else 0


def _decisions(
    base_url: str, server_key: str, population: Population, taken: set[str]
) -> _Decisions:
    newcomer = choose_newcomer(population, taken)
    journey = [] if newcomer is None else plan_journey(base_url, server_key, newcomer)
    return _Decisions(newcomer, journey)


def _print_header(
    console: Console, home: Path, users: int, seed: int, config: OnboardingConfig
) -> None:
    console.rule(f"[bold]firstmile demo: {users} simulated people, seed {seed}")
    console.print(
        f"Workspace {shown_path(home)} (settings.toml, firstmile.yaml, firstmile.db, "
        "server.log, demo.json)"
    )
    plan = config.onboarding
    console.print(
        f"Onboarding config {config.version_id}: {len(config.segment_keys)} segments "
        f"({', '.join(config.segment_keys)}); {len(plan.catalog)} content items, "
        f"{len(plan.flows)} flows, {len(plan.rules)} rules, "
        f"{len(config.trials.experiments)} experiment(s), {len(config.trials.bandits)} bandit(s)"
    )


def _write_record(
    home: Path,
    users: int,
    seed: int,
    population: Population,
    report: SimulationReport,
    trip: Journey | None,
    decisions: _Decisions,
    trials: TrialRun,
) -> None:
    newcomer = decisions.newcomer
    (home / RECORD_FILE).write_bytes(
        orjson.dumps(
            {
                "users": users,
                "seed": seed,
                "now": population.now.isoformat(),
                "report": report.to_json(),
                "journey": None if trip is None else {"user_id": trip.user_id, "sent": trip.sent},
                "plan_journey": None
                if newcomer is None
                else {"user_id": newcomer.display_id, "sent": decisions.sent},
                "trials": trials.to_json(),
            },
            option=orjson.OPT_INDENT_2,
        )
    )


def _print_people(
    console: Console, example_people: dict[Persona, Person], observed: Observed
) -> None:
    console.print()
    console.rule("[bold]Example profiles, one per persona")
    print_examples(console, example_people, observed.examples)


def _models_with_status(
    console: Console, settings: Settings, population: Population, trials: TrialRun
) -> ModelsRun:
    with (
        console.status("Training the models on what the server stored (in-process)..."),
        Firstmile.open(settings) as fm,
    ):
        return run_models(fm, population, launch_week=[user.user_id for user in trials.users])


def _run(home: Path, users: int, seed: int, console: Console, started: float) -> int:
    if "FIRSTMILE_DATABASE_URL" in os.environ:
        raise DemoError(
            "FIRSTMILE_DATABASE_URL is set; the demo keeps its data in its own workspace. "
            "Unset it for the demo (for example `env -u FIRSTMILE_DATABASE_URL firstmile demo`).",
            EXIT_USAGE,
        )
    home = fresh_home(home)
    workspace = init_workspace(home)
    config = write_demo_config(home)
    settings = load_settings(home=home, environ={})
    population = build_population(users, seed=seed, now=datetime.now(UTC))
    log = home / "server.log"
    _print_header(console, home, users, seed, config)

    with serve(home, log) as server:
        console.print(
            f"Started [bold]firstmile serve[/] at {server.base_url} (pid {server.pid}), "
            f"ready in {server.ready_seconds:.1f} s"
        )
        report = _simulate_with_progress(console, population, server.base_url, workspace.write_key)
        trip: Journey | None = None
        # Read while the server runs: SQLite's WAL lets this reader and the server coexist.
        with Firstmile.open(settings) as live:
            traveller = choose_traveller(live, population)
            if traveller is not None:
                trip = journey(live, traveller, server.base_url, workspace.write_key)
        example_people = choose_examples(population)
        taken = {p.display_id for p in example_people.values()}
        if trip is not None:
            taken.add(trip.user_id)
        decisions = _decisions(server.base_url, workspace.server_key, population, taken)
        decisions.plans.extend(example_plans(server.base_url, workspace.server_key, example_people))
        # Last, so that nothing above sees the trials' users: new sign-ups, their plans
        # (the experiment and the bandit target them only) and their outcomes.
        trials = _trials_with_progress(
            console, population, server.base_url, workspace.write_key, workspace.server_key
        )
    console.print("Stopped the server; reading what it stored.")
    extra_sent = (0 if trip is None else trip.sent) + decisions.sent + trials.sent
    _write_record(home, users, seed, population, report, trip, decisions, trials)

    with Firstmile.open(settings) as fm:
        moved = {} if trip is None else {trip.user_id: trip.device}
        observed = observe(fm, population, example_people, latest_devices=moved)
        expected_consent = expected_consent_counts(fm, population, unstated=len(trials.users))
        sizes = segment_sizes(fm)
        results = trial_results(fm)
    # Last, as a team would: train on what the server stored, then see what it changed.
    models = _models_with_status(console, settings, population, trials)
    checks = build_checks(
        population,
        report,
        observed,
        expected_consent,
        extra_sent=extra_sent,
        signups=len(trials.users),
    )
    checks += [Check("segments", size.key, size.recount, size.size) for size in sizes]
    asked = sum(1 for persona in PLAN_PERSONAS if persona in example_people)
    checks += plan_checks(decisions.plans, decisions.journey, asked=asked)
    if trip is not None:
        checks.append(
            Check(
                "events", "journey events accepted", trip.sent, sum(s.accepted for s in trip.steps)
            )
        )
    checks += trial_checks(trials, results) + model_checks(models, users)

    print_sent(console, population, report)
    print_checks(console, checks)
    print_segments(console, sizes, trip, settings.config_path)
    print_plans(console, decisions.plans)
    print_plan_journey(console, decisions.journey, decisions.newcomer)
    print_trials(console, trials, results)
    _print_people(console, example_people, observed)
    print_models(console, models, users)
    print_next(console, home, population, example_people, observed, workspace.write_key)

    return _verdict(
        console, checks, [*report.errors, *trials.errors], time.monotonic() - started, log
    )


def _verdict(
    console: Console,
    checks: list[Check],
    errors: list[str],
    elapsed: float,
    log: Path,
) -> int:
    console.print()
    failed = [check for check in checks if not check.ok]
    if errors:
        console.print(f"[bold red]{len(errors)} problem(s) while sending:[/]")
        for error in errors[:10]:
            console.print(f"  {escape(error)}")
    if failed or errors:
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
