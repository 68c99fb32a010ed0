"""The demo's models: trained after the server stopped, on what it stored, and checked.

The demo config (:mod:`firstmile.demo.onboarding`) declares a ``models:`` section:
personas, two predictions (``creates_project``: does a new user create a project in the
week after their first day; ``goes_quiet``: or do nothing at all that week) and a rule
that reads the first. Nothing is trained while the server runs, so every plan the demo
showed before this part was made by the rules alone.

:func:`run_models` then trains every configured model in-process
(:meth:`~firstmile.service.Firstmile.train`) on the stored data, and:

* compares the recovered personas with the simulated ones: the population knows each
  person's persona, profiles are mapped to people through their ids, and the adjusted
  Rand index (ARI: 1 is the same partition, about 0 a chance one) is computed on the
  people whose behaviour firstmile keeps (``analytics`` consent) and whom the models may
  use (``personalization`` consent);
* says who ends up in each persona, the trials' launch-week sign-ups and the people
  whose behaviour is not kept included (they are stored users too, so they are trained on);
* explains a few users (:meth:`~firstmile.service.Firstmile.explain_user`) and shows the
  decision the prediction changes: the same ``decide`` call before and after training.

:func:`model_checks` says what must hold, :func:`print_models` shows it all. The
arithmetic on plain values (:func:`recovery`, :func:`composition`, :func:`headline`) is
pure, so the tests run it on made-up data.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sklearn.metrics import adjusted_rand_score

from firstmile.config.models import PERSONAS_MODEL, RECOMMENDER_MODEL
from firstmile.demo.model import Person, Population
from firstmile.demo.personas import Persona
from firstmile.demo.reconcile import Check
from firstmile.errors import FirstmileError
from firstmile.events.model import Purpose
from firstmile.ml.personas import PersonaModel
from firstmile.profiles.model import Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.service import Firstmile
from firstmile.training.run import TrainOutcome

__all__ = [
    "ARI_GOAL",
    "CHECKED_FROM",
    "GUIDE_BELOW",
    "LAUNCH_WEEK",
    "MODEL_RULE",
    "NO_BEHAVIOUR",
    "PREDICTION",
    "AtLeast",
    "Example",
    "ModelsRun",
    "PersonaRow",
    "Recovery",
    "composition",
    "headline",
    "model_checks",
    "persona_label",
    "print_models",
    "recovery",
    "run_models",
]

PREDICTION = "creates_project"  # the prediction the demo's rule reads
MODEL_RULE = "guide_unlikely_creators"  # that rule (firstmile.demo.onboarding)
SLOT = "tutorial_depth"  # the plan slot it writes
GUIDE_BELOW = 0.3  # the rule's threshold, as the config writes it
ARI_GOAL = 0.8  # the goal for the recovered personas
# Below this many simulated people the models are shown but not checked: fewer than 50
# people then have a known 7-day outcome (`models.min_users`), and an ARI over a handful
# of people per persona says little.
CHECKED_FROM = 200
EXAMPLES = 3
LAUNCH_WEEK = "launch-week sign-up"  # the trials' cohort, not of the population
NO_BEHAVIOUR = "no behaviour kept"  # people who denied analytics: traits only


def persona_label(persona: Persona) -> str:
    """A simulated persona in two or three words: ``"power user"``."""
    return persona.value.replace("_", " ")


# -- pure arithmetic -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recovery:
    """How well the recovered personas match the simulated ones.

    ``ari`` is the adjusted Rand index over the ``compared`` people (None below two);
    ``crosstab`` counts people per (simulated, recovered) pair.
    """

    ari: float | None
    compared: int
    crosstab: Mapping[tuple[str, str], int] = field(default_factory=dict)


def recovery(simulated: Mapping[str, str], recovered: Mapping[str, str]) -> Recovery:
    """Compare two labellings of the same people, keyed by person.

    Only the people in both mappings are compared (the others have no recovered persona,
    or are not of the simulation). Label names need not match: the ARI compares the
    partitions, not the names.

    >>> recovery({"a": "x", "b": "x", "c": "y"}, {"a": "p1", "b": "p1", "c": "p2"}).ari
    1.0
    """
    people = sorted(simulated.keys() & recovered.keys())
    truth = [simulated[p] for p in people]
    found = [recovered[p] for p in people]
    crosstab = Counter(zip(truth, found, strict=True))
    ari = float(adjusted_rand_score(truth, found)) if len(people) >= 2 else None
    return Recovery(ari, len(people), dict(crosstab))


def composition(groups: Mapping[str, str], recovered: Mapping[str, str]) -> dict[str, Counter[str]]:
    """Who is in each recovered persona: per persona key, how many of each group.

    ``groups`` gives each profile its group (a simulated persona, ``LAUNCH_WEEK``,
    ``NO_BEHAVIOUR``); ``recovered`` its persona key. Profiles in no group are not counted.
    """
    out: dict[str, Counter[str]] = {}
    for profile, key in recovered.items():
        group = groups.get(profile)
        if group is not None:
            out.setdefault(key, Counter())[group] += 1
    return out


def _number(value: Any, form: str = ".2f") -> str:
    return format(value, form) if isinstance(value, int | float) else "-"


def headline(outcome: TrainOutcome) -> str:
    """One model's headline numbers, from the metrics its training recorded."""
    if outcome.error is not None:
        return f"not trained: {outcome.error}"
    metrics = outcome.metrics
    if outcome.kind == "personas":
        stability = metrics.get("stability") or {}
        chosen = "chosen by silhouette" if metrics.get("k_selection") == "silhouette" else ""
        tried = [c["k"] for c in metrics.get("candidates", []) if "k" in c]
        span = f" over k = {min(tried)}-{max(tried)}" if chosen and tried else ""
        return (
            f"{metrics.get('algorithm', '?')}, k = {metrics.get('k', '?')} "
            f"({chosen}{span}), silhouette {_number(metrics.get('silhouette'))}, "
            f"stability ARI {_number(stability.get('mean_ari'))} (mean of refits)"
        ).replace(" ()", "")
    if outcome.kind == "prediction":
        cv = metrics.get("cv") or {}
        auc = (cv.get("roc_auc") or {}).get("mean")
        base = (cv.get("base_rate") or {}).get("mean")
        rows, positive = metrics.get("n_rows"), metrics.get("n_positive")
        return (
            f"{metrics.get('algorithm', '?')}, ROC-AUC {_number(auc)} "
            f"({cv.get('folds', '?')}-fold, time-ordered), base rate {_number(base, '.0%')} "
            f"({positive} of {rows} users with a known outcome)"
        )
    return f"{metrics.get('chosen', '?')} chosen, {metrics.get('interactions', '?')} completions"


# -- what the run found ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonaRow:
    """One recovered persona, and who is in it."""

    key: str
    name: str
    share: float
    description: str
    who: Mapping[str, int]  # group -> people (simulated personas, LAUNCH_WEEK, NO_BEHAVIOUR)


@dataclass(frozen=True, slots=True)
class Example:
    """One user: what the models say, and the decision before and after training."""

    user_id: str
    simulated: str
    persona: str  # the recovered persona's name
    probability: float
    reasons: tuple[str, ...]
    before: str  # the slot's value, and why, without models
    after: str  # ... and with them
    changed: bool
    recommended: str = ""  # the recommendations slot after training, and why


@dataclass
class ModelsRun:
    """What :func:`run_models` trained and found."""

    configured: tuple[str, ...]
    outcomes: list[TrainOutcome]
    personas: list[PersonaRow] = field(default_factory=list)
    recovery: Recovery = field(default_factory=lambda: Recovery(None, 0))
    denied_analytics: int = 0  # of the population: no behaviour to cluster
    denied_personalization: int = 0  # ... behaviour kept, but no model may use it
    examples: list[Example] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def trained(self) -> list[str]:
        return [o.name for o in self.outcomes if o.error is None]


# -- running ---------------------------------------------------------------------------------


def _personalized(fm: Firstmile, profile: Profile) -> bool:
    return bool(fm.policy.state(profile.consent).get(Purpose.PERSONALIZATION.value))


def _recovered(fm: Firstmile) -> tuple[dict[str, str], PersonaModel | None]:
    """The promoted persona model's persona of every profile it may be used for."""
    loaded = fm.decider.models.models.get(PERSONAS_MODEL)
    if loaded is None or not isinstance(loaded.artifact.model, PersonaModel):
        return {}, None
    now = fm.clock.now()
    profiles = [p for p in fm.store.iter_profiles() if _personalized(fm, p)]
    rows = [profile_attributes(p, now=now, policy=fm.policy) for p in profiles]
    keys = loaded.artifact.model.assign(loaded.artifact.pipeline.transform(rows))
    return {p.profile_id: str(k) for p, k in zip(profiles, keys, strict=True)}, (
        loaded.artifact.model
    )


def _slot(plan: Mapping[str, Any]) -> tuple[str, str | None]:
    """The slot the demo's rule writes and why, as shown; and the rule that wrote it."""
    value = plan.get(SLOT)
    reason = (plan.get("reasons") or {}).get(SLOT) or {}
    rule = reason.get("rule")
    models = reason.get("models") or []
    why = reason.get("source", "?")
    if rule:
        why = f"rule {rule}" + (f", reading {', '.join(models)}" if models else "")
    return f"{value} ({why})", rule


def _value(shown: str) -> str:
    return shown.split(" (", 1)[0]


def _reason_text(reason: Mapping[str, Any]) -> str:
    value = reason.get("value")
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{reason.get('feature')} {shown} ({reason.get('direction', '?')})"


def _recommendations(plan: Mapping[str, Any]) -> str:
    """The plan's recommendations and where they came from, in one line."""
    items = [str(r.get("item_id")) for r in plan.get("recommendations") or []]
    reason = (plan.get("reasons") or {}).get("recommendations") or {}
    if not items:
        return ""
    source = reason.get("source", "?")
    if source == "model":
        return f"{', '.join(items)} (model: {str(reason.get('detail', '')).split(': ', 1)[-1]})"
    return f"{', '.join(items)} ({source})"


def _examples(
    fm: Firstmile,
    before: Mapping[str, str],
    candidates: Sequence[Person],
) -> list[Example]:
    """Users whose plan the prediction changed (one per simulated persona), then one it
    left alone because the model expects them to create a project."""
    changed: list[Example] = []
    unchanged: list[Example] = []
    for person in candidates:
        user_id = person.display_id
        if user_id not in before:
            continue
        plan = fm.decide({"userId": user_id}, log_exposures=False)
        after, rule = _slot(plan)
        moved = rule == MODEL_RULE and _value(after) != _value(before[user_id])
        simulated = persona_label(person.persona)
        if moved and simulated in {e.simulated for e in changed}:
            continue
        if not moved and (unchanged or rule == MODEL_RULE):
            continue
        explained = fm.explain_user(user_id)
        prediction = (explained.get("predictions") or {}).get(PREDICTION)
        if prediction is None or (not moved and prediction["probability"] < 0.5):
            continue
        persona = explained.get("persona") or {}
        example = Example(
            user_id=user_id,
            simulated=simulated,
            persona=str(persona.get("name", "?")),
            probability=float(prediction["probability"]),
            reasons=tuple(_reason_text(r) for r in prediction.get("reasons", [])[:3]),
            before=before[user_id],
            after=after,
            changed=moved,
            recommended=_recommendations(plan),
        )
        (changed if moved else unchanged).append(example)
        if len(changed) >= EXAMPLES - 1 and unchanged:
            break
    return [*changed[: EXAMPLES - 1], *unchanged]


def _example_candidates(population: Population) -> list[Person]:
    """Signed-up people whose behaviour is kept and who allow personalization."""
    return [
        p
        for p in population.people
        if p.identified
        and not p.denies_analytics
        and p.consent.get(Purpose.PERSONALIZATION.value) is not False
    ]


def run_models(
    fm: Firstmile, population: Population, launch_week: Collection[str] = ()
) -> ModelsRun:
    """Train every model of the workspace's config on what it stores, and look at them.

    ``fm`` is opened on the demo workspace after the server stopped. ``launch_week``:
    the user ids of the trials' sign-ups, so the personas table can say where they went.
    Decisions are made with ``log_exposures=False``: looking must not add exposures.
    """
    config = fm.config
    configured = () if config is None else tuple(config.models.model_names)
    run = ModelsRun(configured, [])
    if not configured:
        return run
    candidates = _example_candidates(population)
    # The same decide call before and after training shows what the models change.
    before = {
        p.display_id: _slot(fm.decide({"userId": p.display_id}, log_exposures=False))[0]
        for p in candidates
    }
    started = time.monotonic()
    run.outcomes = fm.train()
    run.seconds = time.monotonic() - started

    recovered, model = _recovered(fm)
    simulated: dict[str, str] = {}
    groups: dict[str, str] = {}
    for person in population.people:
        try:
            profile_id = fm.find_profile_id(person.display_id)
        except FirstmileError:
            continue  # not stored (the server refused every message): nothing to compare
        if person.denies_analytics:
            run.denied_analytics += 1
            groups[profile_id] = NO_BEHAVIOUR
        elif profile_id not in recovered:
            run.denied_personalization += 1
        else:
            simulated[profile_id] = groups[profile_id] = persona_label(person.persona)
    for user_id in launch_week:
        try:
            groups[fm.find_profile_id(user_id)] = LAUNCH_WEEK
        except FirstmileError:
            continue  # a sign-up the server did not store: nothing to place
    run.recovery = recovery(simulated, recovered)
    if model is not None:
        who = composition(groups, recovered)
        run.personas = [
            PersonaRow(p.key, p.name, p.share, p.description, dict(who.get(p.key, Counter())))
            for p in sorted(model.personas, key=lambda p: -p.share)
        ]
    if PREDICTION in run.trained:
        run.examples = _examples(fm, before, candidates)
    return run


# -- checks and printing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AtLeast(Check):
    """A measured value that must reach a goal (not a count that must be equal)."""

    value: float = 0.0
    goal: float = 0.0

    @property
    def ok(self) -> bool:
        return self.value >= self.goal


def model_checks(run: ModelsRun, people: int) -> list[Check]:
    """Every configured model trained; the recovered personas match the simulated ones.

    None below :data:`CHECKED_FROM` simulated people (see there why).
    """
    if people < CHECKED_FROM or not run.configured:
        return []
    trained = "models trained (of those the config declares)"
    checks: list[Check] = [Check("models", trained, len(run.configured), len(run.trained))]
    if PERSONAS_MODEL in run.configured:
        ari = run.recovery.ari
        checks.append(
            AtLeast(
                "models",
                "personas vs simulated: adjusted Rand index",
                f"≥ {ARI_GOAL:.2f}",
                "-" if ari is None else f"{ari:.2f}",
                value=-1.0 if ari is None else ari,
                goal=ARI_GOAL,
            )
        )
    return checks


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[bold red]✗[/]"


def _who(who: Mapping[str, int]) -> str:
    ranked = sorted(who.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{group} {n:,}" for group, n in ranked) or "-"


def print_models(console: Console, run: ModelsRun, people: int) -> None:
    """The models section: each model's headline, the personas, their match with the
    simulation, a few users explained, and the checks (:func:`model_checks`)."""
    checks = model_checks(run, people)
    console.print()
    console.rule("[bold]Models trained on what the server stored")
    if not run.configured:
        console.print("The config declares no models.")
        return
    console.print(
        f"firstmile train, in-process after the server stopped ({run.seconds:.1f} s); users "
        "without personalization consent are not trained on. Nothing was trained while the "
        "server ran, so every plan above was made by the rules alone."
    )
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", padding=(0, 1))
    table.add_column("model")
    table.add_column("version", justify="right")
    table.add_column("headline")
    for outcome in run.outcomes:
        table.add_row(
            escape(outcome.name),
            "-" if outcome.version is None else str(outcome.version),
            escape(headline(outcome)),
        )
    console.print(table)
    if RECOMMENDER_MODEL not in run.configured:
        console.print(
            "[dim]No recommender: the demo's users complete no tutorials or tips "
            "(`Step Completed` events), which is what one learns from.[/]"
        )

    if run.personas:
        console.print()
        console.print(
            "Personas, largest first; [bold]who[/] is who they are in the simulation "
            f"({LAUNCH_WEEK}s are the trials' cohort; {NO_BEHAVIOUR}: people who denied "
            "analytics, whose traits alone are stored):"
        )
        personas = Table(box=box.SIMPLE_HEAD, header_style="bold", padding=(0, 1))
        personas.add_column("share", justify="right")
        personas.add_column("persona")
        personas.add_column("who", max_width=30)
        for row in run.personas:
            personas.add_row(
                f"{row.share:.0%}",
                f"[bold]{escape(row.name)}[/]\n[dim]{escape(row.description)}[/]",
                escape(_who(row.who)),
            )
        console.print(personas)
        match = run.recovery
        score = "-" if match.ari is None else f"{match.ari:.2f}"
        console.print(
            f"Recovered vs simulated personas: adjusted Rand index [bold]{score}[/] (goal "
            f"≥ {ARI_GOAL:.1f}; 1 is the same grouping, about 0 a chance one), over the "
            f"{match.compared:,} simulated people whose behaviour is kept (analytics consent) "
            f"and whom models may use (personalization consent); left out: "
            f"{run.denied_analytics} who denied analytics (no behaviour to cluster), "
            f"{run.denied_personalization} who denied personalization only."
        )

    if run.examples:
        console.print()
        console.print(
            f"A few users: what the models say ([bold]explain_user[/]: persona, {PREDICTION} "
            "and its strongest reasons), and the plan's "
            f"{SLOT.replace('_', ' ')} from the same [bold]decide[/] call before → after "
            f"training (rule {MODEL_RULE}: guided set-up when {PREDICTION} < {GUIDE_BELOW:g}):"
        )
        for example in run.examples:
            console.print(
                f"  [bold]{escape(example.user_id)}[/] (simulated {escape(example.simulated)}): "
                f"persona [bold]{escape(example.persona)}[/]; {PREDICTION} "
                f"{example.probability:.0%}: {escape(', '.join(example.reasons))}"
            )
            if example.changed:
                console.print(f"      {escape(example.before)} → [bold]{escape(example.after)}[/]")
            else:
                console.print(f"      {escape(example.after)}, as before: the rule does not match")
            if example.recommended:
                console.print(f"      recommended: {escape(example.recommended)}")

    console.print()
    if checks:
        for check in checks:
            console.print(
                f"  {_mark(check.ok)} {escape(check.label)}: {escape(str(check.observed))} "
                f"(expected {escape(str(check.expected))})"
            )
    else:
        console.print(
            f"[dim]The models are checked from {CHECKED_FROM} simulated people on; this run "
            f"has {people}: shown, not checked.[/]"
        )
