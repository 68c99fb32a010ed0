"""BanditPolicy: defaults, the seed, JSON, and every validation message."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from firstmile.bandits import BanditPolicy


def test_defaults_and_seed() -> None:
    policy = BanditPolicy("welcome", ("a", "b"))
    assert policy.kind == "conversion"
    assert policy.min_weight == 0.05
    assert policy.min_samples == 100
    assert policy.cadence == timedelta(hours=1)
    assert policy.draws == 10_000
    assert (policy.prior_alpha, policy.prior_beta) == (1.0, 1.0)
    assert policy.seed_used == "welcome"
    assert BanditPolicy("welcome", ("a", "b"), seed="").seed_used == "welcome"
    assert BanditPolicy("welcome", ("a", "b"), seed=7).seed_used == "7"


def test_arms_become_a_tuple_and_json_round_trips() -> None:
    policy = BanditPolicy("w", ["a", "b", "c"], min_weight=1 / 3, cadence=timedelta(days=1))  # type: ignore[arg-type]
    assert policy.arms == ("a", "b", "c")
    data = json.loads(json.dumps(policy.to_json()))
    assert data["arms"] == ["a", "b", "c"]
    assert data["cadence_seconds"] == 86400.0
    assert data["seed"] == "w"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": ""}, "non-empty string"),
        ({"arms": ("a",)}, "at least two arms"),
        ({"arms": "ab"}, "not the string"),
        ({"arms": ("a", "a")}, "unique"),
        ({"arms": ("a", "")}, "every arm key"),
        ({"kind": "ratio"}, "kind must be 'conversion' or 'mean'"),
        ({"min_weight": -0.1}, "min_weight must be >= 0"),
        ({"min_weight": 0.6}, "with 2 arms min_weight can be at most 0.5"),
        ({"min_weight": float("nan")}, "finite"),
        ({"min_samples": -1}, "min_samples must be >= 0"),
        ({"min_samples": 1.5}, "whole number"),
        ({"kind": "mean", "min_samples": 1}, "needs min_samples >= 2"),
        ({"cadence": timedelta(0)}, "positive datetime.timedelta"),
        ({"cadence": 3600}, "positive datetime.timedelta"),
        ({"seed": True}, "seed must be a string or an integer"),
        ({"draws": 10}, "draws must be >= 100"),
        ({"draws": 10**8}, "draws must be <="),
        ({"prior_alpha": 0}, "prior_alpha must be > 0"),
        ({"prior_beta": float("inf")}, "finite"),
    ],
)
def test_bad_definitions_say_what_to_fix(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"key": "welcome", "arms": ("a", "b"), **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        BanditPolicy(**arguments)


def test_min_weight_times_arms_may_equal_one() -> None:
    assert BanditPolicy("w", ("a", "b", "c"), min_weight=1 / 3).min_weight == pytest.approx(1 / 3)
