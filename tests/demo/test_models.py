"""The models part of the demo, without a server: the ARI mapping, the headlines, the
checks, the printing on made-up results, and the demo config's models section."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from firstmile.clock import FixedClock
from firstmile.config.models import PERSONAS_MODEL
from firstmile.demo.models import (
    ARI_GOAL,
    CHECKED_FROM,
    GUIDE_BELOW,
    LAUNCH_WEEK,
    MODEL_RULE,
    NO_BEHAVIOUR,
    PREDICTION,
    AtLeast,
    Example,
    ModelsRun,
    PersonaRow,
    Recovery,
    composition,
    headline,
    model_checks,
    persona_label,
    print_models,
    recovery,
)
from firstmile.demo.onboarding import DEMO_CONFIG, write_demo_config
from firstmile.demo.personas import Persona
from firstmile.service import Firstmile
from firstmile.settings import Settings
from firstmile.training.run import TrainOutcome

# -- the ARI mapping -------------------------------------------------------------------------


def test_the_same_grouping_under_other_names_scores_one() -> None:
    simulated = {"p1": "power user", "p2": "power user", "p3": "visitor", "p4": "visitor"}
    recovered = {"p1": "desktop-heavy", "p2": "desktop-heavy", "p3": "anonymous", "p4": "anonymous"}
    match = recovery(simulated, recovered)
    assert match.ari == pytest.approx(1.0)
    assert match.compared == 4
    assert match.crosstab == {("power user", "desktop-heavy"): 2, ("visitor", "anonymous"): 2}


def test_only_people_in_both_mappings_are_compared() -> None:
    simulated = {"p1": "a", "p2": "a", "p3": "b", "p4": "b", "denied": "b"}
    recovered = {"p1": "x", "p2": "x", "p3": "y", "p4": "y", "launch-week": "y"}
    match = recovery(simulated, recovered)
    assert match.compared == 4
    assert match.ari == pytest.approx(1.0)


def test_a_mixed_grouping_scores_below_one_and_a_split_is_penalised() -> None:
    simulated = {f"p{i}": "a" if i < 6 else "b" for i in range(12)}
    mixed = {f"p{i}": "x" if i % 2 else "y" for i in range(12)}
    split = {f"p{i}": ("x" if i < 3 else "z") if i < 6 else "y" for i in range(12)}
    # Four cells of 3: index 4 x C(3,2) = 12, expected 30 x 30 / C(12,2) = 13.6, max 30.
    assert recovery(simulated, mixed).ari == pytest.approx(-0.1)
    split_ari = recovery(simulated, split).ari
    assert split_ari is not None
    assert 0.0 < split_ari < 1.0


def test_fewer_than_two_people_have_no_ari() -> None:
    assert recovery({"p1": "a"}, {"p1": "x"}) == Recovery(None, 1, {("a", "x"): 1})
    assert recovery({}, {}).ari is None


def test_composition_counts_the_groups_in_each_persona() -> None:
    groups = {"p1": "power user", "p2": LAUNCH_WEEK, "p3": LAUNCH_WEEK, "p4": NO_BEHAVIOUR}
    recovered = {"p1": "heavy", "p2": "quiet", "p3": "quiet", "p4": "quiet", "stranger": "heavy"}
    assert composition(groups, recovered) == {
        "heavy": {"power user": 1},
        "quiet": {LAUNCH_WEEK: 2, NO_BEHAVIOUR: 1},
    }


def test_persona_labels_read_as_words() -> None:
    assert [persona_label(p) for p in Persona] == [
        "power user",
        "casual mobile",
        "team admin",
        "hesitant trialist",
        "visitor",
    ]


# -- headlines and checks --------------------------------------------------------------------


def _personas_outcome(**changes: Any) -> TrainOutcome:
    metrics = {
        "algorithm": "agglomerative",
        "k": 6,
        "k_selection": "silhouette",
        "candidates": [{"k": k, "silhouette": 0.5} for k in range(3, 9)],
        "silhouette": 0.812,
        "stability": {"mean_ari": 0.991},
    }
    return TrainOutcome(PERSONAS_MODEL, "personas", version=1, promoted=True, metrics=metrics)


def _prediction_outcome(error: str | None = None) -> TrainOutcome:
    if error is not None:
        return TrainOutcome(PREDICTION, "prediction", error=error)
    metrics = {
        "algorithm": "gradient_boosting",
        "n_rows": 146,
        "n_positive": 25,
        "cv": {"folds": 5, "roc_auc": {"mean": 0.947}, "base_rate": {"mean": 0.171}},
    }
    return TrainOutcome(PREDICTION, "prediction", version=2, promoted=True, metrics=metrics)


def test_headlines_give_each_kind_its_numbers() -> None:
    assert headline(_personas_outcome()) == (
        "agglomerative, k = 6 (chosen by silhouette over k = 3-8), silhouette 0.81, "
        "stability ARI 0.99 (mean of refits)"
    )
    assert headline(_prediction_outcome()) == (
        "gradient_boosting, ROC-AUC 0.95 (5-fold, time-ordered), base rate 17% "
        "(25 of 146 users with a known outcome)"
    )
    recommender = TrainOutcome(
        "recommendations", "recommender", 1, metrics={"chosen": "ease", "interactions": 40}
    )
    assert headline(recommender) == "ease chosen, 40 completions"
    assert headline(_prediction_outcome("Only 12 users")) == "not trained: Only 12 users"


def test_a_headline_survives_missing_metrics() -> None:
    bare = TrainOutcome(PERSONAS_MODEL, "personas", version=1, metrics={})
    assert headline(bare) == "?, k = ?, silhouette -, stability ARI - (mean of refits)"


def _run(ari: float | None, *, failed: bool = False) -> ModelsRun:
    outcomes = [_personas_outcome(), _prediction_outcome("Only 12 users" if failed else None)]
    return ModelsRun(
        configured=(PERSONAS_MODEL, PREDICTION),
        outcomes=outcomes,
        personas=[
            PersonaRow(
                "heavy",
                "created_project · [2] · high sessions",
                0.6,
                "75 users (60%).",
                {"power user": 75, "casual mobile": 1},
            ),
            PersonaRow(
                "quiet", "(missing) · not signed_up", 0.3, "40 users (30%).", {LAUNCH_WEEK: 40}
            ),
            PersonaRow("traits", "low sessions", 0.1, "10 users (10%).", {NO_BEHAVIOUR: 10}),
        ],
        recovery=Recovery(ari, 76),
        denied_analytics=10,
        denied_personalization=4,
        examples=[
            Example(
                "usr_1",
                "casual mobile",
                "steps · /app",
                0.08,
                ("sessions 4 (lowers)",),
                "standard (default)",
                "guided (rule guide_unlikely_creators)",
                True,
            ),
            Example(
                "usr_2",
                "power user",
                "heavy",
                0.92,
                ("feature_uses 17 (raises)",),
                "standard (default)",
                "standard (default)",
                False,
            ),
        ],
        seconds=1.25,
    )


def test_checks_pass_when_every_model_trained_and_the_ari_reaches_the_goal() -> None:
    checks = model_checks(_run(0.83), CHECKED_FROM)
    assert [(c.label, c.expected, c.observed, c.ok) for c in checks] == [
        ("models trained (of those the config declares)", 2, 2, True),
        ("personas vs simulated: adjusted Rand index", "≥ 0.80", "0.83", True),
    ]
    assert all(c.group == "models" for c in checks)


def test_checks_fail_on_a_model_not_trained_or_a_low_ari() -> None:
    assert [c.ok for c in model_checks(_run(0.83, failed=True), 400)] == [False, True]
    assert [c.ok for c in model_checks(_run(0.79), 400)] == [True, False]
    assert [c.ok for c in model_checks(_run(None), 400)] == [True, False]


def test_small_populations_are_shown_not_checked() -> None:
    assert model_checks(_run(0.2), CHECKED_FROM - 1) == []


def test_at_least_compares_the_value_not_the_text() -> None:
    assert AtLeast("g", "x", "≥ 0.80", "0.80", value=ARI_GOAL, goal=ARI_GOAL).ok
    assert not AtLeast("g", "x", "≥ 0.80", "0.80", value=0.7999, goal=ARI_GOAL).ok


# -- printing --------------------------------------------------------------------------------


def _printed(run: ModelsRun, people: int) -> str:
    output = io.StringIO()
    print_models(Console(file=output, width=200, color_system=None), run, people)
    return re.sub(r"[ \t]+", " ", output.getvalue())


def test_the_section_shows_models_personas_ari_examples_and_checks() -> None:
    text = _printed(_run(0.83), 400)
    assert "Models trained on what the server stored" in text
    assert "(1.2 s)" in text
    assert "personas 1 agglomerative, k = 6" in text
    assert f"{PREDICTION} 2 gradient_boosting, ROC-AUC 0.95" in text
    assert "created_project · [2] · high sessions" in text  # markup-like text kept as is
    assert "power user 75, casual mobile 1" in text
    assert f"{LAUNCH_WEEK} 40" in text
    assert f"{NO_BEHAVIOUR} 10" in text
    assert "adjusted Rand index 0.83" in text
    assert "over the 76 simulated people" in text
    assert "10 who denied analytics" in text
    assert "4 who denied personalization only" in text
    assert "usr_1 (simulated casual mobile)" in text
    assert "standard (default) → guided (rule guide_unlikely_creators)" in text
    assert "standard (default), as before: the rule does not match" in text
    assert "✓ personas vs simulated: adjusted Rand index: 0.83 (expected ≥ 0.80)" in text
    assert "No recommender" in text


def test_a_failed_model_and_a_low_ari_are_marked() -> None:
    text = _printed(_run(0.5, failed=True), 400)
    assert f"{PREDICTION} - not trained: Only 12 users" in text
    assert "✗ models trained (of those the config declares): 1 (expected 2)" in text
    assert "✗ personas vs simulated: adjusted Rand index: 0.50" in text


def test_a_small_run_says_it_is_not_checked() -> None:
    text = _printed(_run(0.5), 40)
    assert f"checked from {CHECKED_FROM} simulated people on; this run has 40" in text
    assert "✓" not in text
    assert "✗" not in text


def test_no_models_configured() -> None:
    text = _printed(ModelsRun((), []), 400)
    assert "The config declares no models." in text
    assert model_checks(ModelsRun((), []), 400) == []


# -- the demo config -------------------------------------------------------------------------


def test_the_rule_reads_the_prediction_guarded_with_the_threshold_shown() -> None:
    assert f"key: {MODEL_RULE}" in DEMO_CONFIG
    assert (
        f"when: {{predictions.{PREDICTION}: {{$exists: true, $lt: {GUIDE_BELOW:g}}}}}"
        in DEMO_CONFIG
    )


@pytest.fixture
def demo_fm(settings: Settings, clock: FixedClock) -> Iterator[Firstmile]:
    write_demo_config(settings.home)
    with Firstmile.open(settings, clock=clock) as service:
        yield service


def test_the_demo_config_declares_personas_and_predictions(demo_fm: Firstmile) -> None:
    assert demo_fm.config is not None
    models = demo_fm.config.models
    assert models.model_names == (PERSONAS_MODEL, PREDICTION, "goes_quiet", "recommendations")
    assert models.personas is not None
    low, high = models.personas.k_range
    assert models.personas.k is None  # chosen by silhouette...
    assert low <= len(Persona) <= high  # ...over a range holding the simulated five
    assert models.fairness is not None
    assert models.fairness.protected == ("country",)


def test_before_any_training_the_rule_reading_the_prediction_matches_nobody(
    demo_fm: Firstmile,
) -> None:
    demo_fm.ingest_items(
        [
            {"type": "identify", "userId": "u1", "traits": {"role": "Engineer"}},
            {"type": "track", "userId": "u1", "event": "Signed Up"},
        ]
    )
    plan = demo_fm.decide({"userId": "u1"}, log_exposures=False)
    assert MODEL_RULE not in plan["matched_rules"]
    assert plan["tutorial_depth"] == "standard"
    assert plan["reasons"]["tutorial_depth"] == {"source": "default"}
