"""Experiment definitions are validated when built, with messages that say what to fix."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError, replace
from typing import Any

import pytest

from firstmile.experiments import Experiment, Namespace

GOOD: dict[str, Any] = {"key": "welcome-tour", "variations": ("control", "tour")}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"weights": (0.5, 0.4)},
            "experiment 'welcome-tour': weights sum to 0.9, not 1 (within 1e-06); "
            "give each variation its share of users",
        ),
        ({"weights": (0.6, 0.6)}, "weights sum to 1.2, not 1"),
        ({"weights": (0.5, 0.4999)}, "weights sum to 0.9999, not 1"),
        ({"variations": ("control",)}, "needs at least two variations (control first), got 1"),
        ({"variations": ()}, "needs at least two variations (control first), got 0"),
        ({"coverage": 1.5}, "coverage must be between 0 and 1, got 1.5"),
        ({"coverage": -0.1}, "coverage must be between 0 and 1, got -0.1"),
        ({"coverage": float("nan")}, "coverage must be between 0 and 1, got nan"),
        ({"coverage": "0.5"}, "coverage must be a number between 0 and 1, got '0.5'"),
        (
            {"weights": (0.2, 0.3, 0.5)},
            "experiment 'welcome-tour' has 3 weights for 2 variations: "
            "give one weight per variation, in the same order",
        ),
        ({"weights": (1.2, -0.2)}, "weights must be finite and not negative, got -0.2"),
        ({"weights": (float("inf"), 0.0)}, "weights must be finite and not negative, got inf"),
        ({"weights": ("0.5", "0.5")}, "weights must be numbers, got '0.5'"),
        ({"variations": ("a", "a")}, "variation keys must be unique"),
        ({"variations": ("a", "")}, "variation keys must be non-empty strings"),
        ({"key": ""}, "an experiment needs a non-empty string key"),
        ({"hash_version": 3}, "hash_version must be 1 or 2, got 3"),
        ({"status": "paused"}, "status must be one of draft, running, stopped, got 'paused'"),
        ({"hash_attribute": ""}, "hash_attribute must be an attribute name"),
        ({"namespace": ("ns", 0.5, 0.2)}, "namespace needs a name and 0 <= start < end <= 1"),
        ({"namespace": ("ns", 0.0, 1.5)}, "namespace needs a name and 0 <= start < end <= 1"),
        ({"namespace": ("", 0.0, 0.5)}, "namespace needs a name"),
        (
            {"overrides": {"qa-1": "missing"}},
            "the override for 'qa-1' names variation 'missing', which is not one of",
        ),
    ],
)
def test_bad_definitions_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Experiment(**{**GOOD, **changes})


def test_good_definitions_are_normalized() -> None:
    experiment = Experiment(
        "checklist",
        ["short", "long", "none"],  # type: ignore[arg-type]
        weights=[0.2, 0.3, 0.5],  # type: ignore[arg-type]
        namespace=("onboarding", 0, 0.5),  # type: ignore[arg-type]
        seed="",
        overrides={"qa-1": "none"},
    )
    assert experiment.variations == ("short", "long", "none")
    assert experiment.weights == (0.2, 0.3, 0.5)
    assert experiment.namespace == Namespace("onboarding", 0, 0.5)
    assert experiment.seed_used == "checklist"  # an empty seed falls back to the key
    assert experiment.ranges == ((0.0, 0.2), (0.2, 0.5), (0.5, 1.0))
    assert experiment.weights_used == experiment.weights
    # The definition cannot change under an assignment.
    with pytest.raises(FrozenInstanceError):
        experiment.coverage = 0.5  # type: ignore[misc]
    with pytest.raises(TypeError):
        experiment.overrides["qa-2"] = "short"  # type: ignore[index]


def test_weights_within_a_millionth_of_one_are_accepted() -> None:
    thirds = Experiment("e", ("a", "b", "c"), weights=(0.333333, 0.333333, 0.333334))
    assert thirds.ranges[-1][1] == pytest.approx(1.0)
    assert Experiment("e", ("a", "b"), weights=(0.5, 0.5000005)).weights is not None


def test_replace_validates_and_recomputes_the_ranges() -> None:
    experiment = Experiment(**GOOD)
    assert replace(experiment, coverage=0.5).ranges == ((0.0, 0.25), (0.5, 0.75))
    with pytest.raises(ValueError, match="coverage"):
        replace(experiment, coverage=2.0)


def test_definitions_are_values() -> None:
    assert Experiment(**GOOD) == Experiment(**GOOD)
    assert hash(Experiment(**GOOD)) == hash(Experiment(**GOOD))
    assert Experiment(**GOOD) != Experiment(**{**GOOD, "coverage": 0.5})
