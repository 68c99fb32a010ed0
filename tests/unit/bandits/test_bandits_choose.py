"""Choosing arms: hashed like GrowthBook, in proportion to the weights, with propensities."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from firstmile.bandits import BanditPolicy, choose_arm, thompson_weights
from firstmile.experiments import choose_variation, get_bucket_ranges
from firstmile.experiments import hash as growthbook_hash
from firstmile.stats import Moments

ARMS = ("a", "b", "c")
USERS = [f"user-{i}" for i in range(20_000)]


def test_frequencies_over_hashed_users_match_the_weights() -> None:
    weights = (0.137, 0.3, 0.563)
    counts = Counter(choose_arm(ARMS, weights, user, seed="freq").arm for user in USERS)
    n = len(USERS)
    for arm, weight in zip(ARMS, weights, strict=True):
        sd = math.sqrt(n * weight * (1 - weight))
        assert abs(counts[arm] - n * weight) < 4 * sd, (arm, counts[arm])


def test_propensity_is_the_chosen_arms_weight_and_choice_is_growthbooks() -> None:
    weights = (0.05, 0.25, 0.7)
    for user in USERS[:500]:
        choice = choose_arm(ARMS, weights, user, seed="prop")
        assert choice.propensity == weights[choice.index]
        assert choice.arm == ARMS[choice.index]
        bucket = growthbook_hash("prop", user, 2)
        assert choice.bucket == bucket
        assert bucket is not None
        assert choice.index == choose_variation(bucket, get_bucket_ranges(3, 1.0, weights))
        assert choice.to_json()["propensity"] == choice.propensity


def test_stable_within_an_epoch_and_moves_only_near_boundaries() -> None:
    policy = BanditPolicy("stable", ARMS, min_samples=10)
    stats = {
        arm: Moments.from_counts(1000, c) for arm, c in zip(ARMS, (100, 110, 120), strict=True)
    }
    weights = thompson_weights(stats, policy, epoch=1)
    again = thompson_weights(stats, policy, epoch=1)
    seed = policy.seed_used
    first = [choose_arm(weights.arms, weights.weights, u, seed=seed).arm for u in USERS[:2000]]
    second = [choose_arm(again.arms, again.weights, u, seed=seed).arm for u in USERS[:2000]]
    assert first == second
    # New weights move a user only when the boundary passes over their bucket.
    shifted = (weights.weights[0] + 0.01, weights.weights[1] - 0.01, weights.weights[2])
    moved = sum(
        choose_arm(ARMS, shifted, u, seed=seed).arm != arm
        for u, arm in zip(USERS[:2000], first, strict=True)
    )
    assert 0 < moved < 0.03 * 2000


def test_zero_weight_arms_are_never_chosen() -> None:
    chosen = {choose_arm(ARMS, (0.0, 1.0, 0.0), user, seed="z").arm for user in USERS[:3000]}
    assert chosen == {"b"}


@pytest.mark.parametrize(
    ("weights", "user", "message"),
    [
        ((0.5, 0.5), "u", "2 weights for 3 arms"),
        ((0.5, 0.5, 0.5), "u", "must sum to 1"),
        ((-0.5, 0.5, 1.0), "u", ">= 0"),
        ((0.2, 0.3, float("nan")), "u", "finite"),
        ((0.2, 0.3, 0.5), "", "the hashed user value"),
    ],
)
def test_bad_arguments(weights: tuple[float, ...], user: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        choose_arm(ARMS, weights, user, seed="s")
