"""firstmile and the growthbook SDK assign thousands of generated users identically."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from firstmile.experiments import Experiment, Namespace, assign
from firstmile.experiments.identity import hashable_string

growthbook = pytest.importorskip("growthbook")

EXPERIMENTS = [
    Experiment("welcome-tour", ("control", "tour")),
    Experiment("welcome-tour", ("control", "tour"), hash_version=2),
    Experiment("checklist", ("a", "b", "c"), weights=(0.2, 0.3, 0.5), coverage=0.7),
    Experiment("checklist", ("a", "b", "c"), weights=(0.1, 0.6, 0.3), hash_version=2, seed="s1"),
    Experiment("tips", ("off", "on"), coverage=0.25, namespace=Namespace("onboarding", 0.2, 0.7)),
    Experiment("tips", ("x", "y", "z", "w"), hash_version=2, namespace=Namespace("ns", 0, 0.5)),
    Experiment("draft", ("a", "b"), status="draft"),
    Experiment("stopped", ("a", "b"), status="stopped", hash_version=2),
    Experiment("tiny", ("a", "b"), weights=(0.999, 0.001), coverage=0.01, hash_version=2),
]


def _growthbook_experiment(experiment: Experiment) -> Any:
    return growthbook.Experiment(
        key=experiment.key,
        variations=list(range(len(experiment.variations))),
        weights=list(experiment.weights) if experiment.weights is not None else None,
        coverage=experiment.coverage,
        hashAttribute=experiment.hash_attribute,
        hashVersion=experiment.hash_version,
        seed=experiment.seed,
        namespace=tuple(experiment.namespace) if experiment.namespace is not None else None,
        status=experiment.status,
        active=experiment.status != "draft",
    )


def _users(count: int) -> list[dict[str, Any]]:
    rng = random.Random(20261125)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_@.éß中😀"
    users: list[dict[str, Any]] = []
    for i in range(count):
        kind = i % 10
        if kind < 6:
            user_id: Any = "".join(rng.choices(alphabet, k=rng.randint(1, 24)))
        elif kind == 6:
            user_id = rng.randint(-(10**6), 10**18)
        elif kind == 7:
            user_id = rng.uniform(-1e6, 1e6)
        elif kind == 8:
            user_id = f"user-{i}"
        else:
            user_id = rng.choice([None, "", 0, True, [1]])
        users.append({"id": user_id})
    return users


USERS = _users(3000)


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: f"{e.key}-v{e.hash_version}")
def test_assignments_equal_growthbook_run(experiment: Experiment) -> None:
    ours_experiment = replace(experiment, fallback_attribute=None)  # GB: fallback only if sticky
    gb = growthbook.GrowthBook()
    in_experiment = 0
    for user in USERS:
        gb.set_attributes(user)
        theirs = gb.run(_growthbook_experiment(experiment))
        ours = assign(ours_experiment, user)
        assert (ours.variation, ours.in_experiment) == (theirs.variationId, theirs.inExperiment)
        if ours.in_experiment:
            assert ours.bucket == theirs.bucket
            # The SDK reports the raw attribute; firstmile the string it hashed.
            assert ours.hash_value == hashable_string(theirs.hashValue)
        in_experiment += ours.in_experiment
    if experiment.status == "running":
        assert in_experiment > 0


def test_forced_variations_equal_growthbook_run() -> None:
    experiment = replace(EXPERIMENTS[2], status="draft")
    gb = growthbook.GrowthBook(forced_variations={"checklist": 2})
    for user in USERS[:200]:
        gb.set_attributes(user)
        theirs = gb.run(_growthbook_experiment(experiment))
        ours = assign(experiment, user, forced={"checklist": 2})
        assert (ours.variation, ours.in_experiment, ours.hash_used) == (
            theirs.variationId,
            theirs.inExperiment,
            theirs.hashUsed,
        )
