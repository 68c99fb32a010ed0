"""Thompson weights: they follow the evidence, respect the floor, and are reproducible."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.bandits import BanditPolicy, floor_weights, thompson_weights
from firstmile.stats import Moments

from .helpers import assert_nan_free

ARMS = ("a", "b", "c")


def _simulate(rng: np.random.Generator, rates: tuple[float, ...], n: int) -> dict[str, Moments]:
    return {
        arm: Moments.from_counts(n, int(rng.binomial(n, rate)))
        for arm, rate in zip(ARMS, rates, strict=True)
    }


def test_a_planted_best_arm_gets_more_weight_as_samples_grow() -> None:
    policy = BanditPolicy("planted", ARMS, min_samples=50, min_weight=0.05)
    rng = np.random.default_rng(7)
    rates = (0.10, 0.13, 0.10)
    shares = []
    for n in (50, 500, 5_000, 50_000):
        result = thompson_weights(_simulate(rng, rates, n), policy, epoch=0)
        assert result.reason == "thompson"
        shares.append(result.weight("b"))
    assert shares == sorted(shares)
    assert shares[-1] == pytest.approx(0.9)  # everything but the two floors
    assert shares[0] < 0.8


def test_weights_are_the_chance_of_being_best_when_above_the_floor() -> None:
    policy = BanditPolicy("p", ("a", "b"), min_samples=10, min_weight=0.01, draws=200_000)
    stats = {"a": Moments.from_counts(100, 10), "b": Moments.from_counts(100, 14)}
    result = thompson_weights(stats, policy, epoch=3)
    # P(Beta(15, 87) > Beta(11, 91)) from the stats engine's exact integral.
    from firstmile.stats import beta_prob_greater

    exact = beta_prob_greater(15, 87, 11, 91)
    assert result.probability_best is not None
    mc_se = math.sqrt(exact * (1 - exact) / policy.draws)
    assert abs(result.probability_best[1] - exact) < 5 * mc_se
    assert result.weights == result.probability_best


def test_equal_weights_while_warming_up() -> None:
    policy = BanditPolicy("w", ARMS, min_samples=100)
    stats = {"a": Moments.from_counts(500, 100), "b": Moments.from_counts(12, 1)}
    result = thompson_weights(stats, policy, epoch=0)
    assert result.warming_up
    assert result.weights == (1 / 3, 1 / 3, 1 / 3)
    assert result.probability_best is None
    # "c" has no row at all: it is the arm with the fewest samples.
    assert result.reason == "warming up: arm 'c' has 0 of 100 samples"
    stats["c"] = Moments.from_counts(200, 2)
    assert thompson_weights(stats, policy, epoch=0).reason == (
        "warming up: arm 'b' has 12 of 100 samples"
    )


def test_same_seed_and_epoch_give_identical_weights_other_epochs_other_draws() -> None:
    policy = BanditPolicy("det", ARMS, min_samples=10, seed="s1")
    stats = {arm: Moments.from_counts(300, 30) for arm in ARMS}
    first = thompson_weights(stats, policy, epoch=4)
    assert thompson_weights(stats, policy, epoch=4) == first
    other_epoch = thompson_weights(stats, policy, epoch=5)
    other_seed = thompson_weights(stats, BanditPolicy("det", ARMS, min_samples=10), epoch=4)
    other_stream = thompson_weights(stats, policy, epoch=4, stream="context:x")
    for other in (other_epoch, other_seed, other_stream):
        assert other.probability_best != first.probability_best
        # ... but the same posterior: equal arms stay close to a third each.
        assert other.probability_best is not None
        assert all(abs(p - 1 / 3) < 0.03 for p in other.probability_best)


def test_mean_bandit_uses_the_normal_approximation() -> None:
    policy = BanditPolicy("m", ("a", "b"), kind="mean", min_samples=2, min_weight=0.0)
    rng = np.random.default_rng(3)
    a, b = rng.normal(10.0, 4.0, 400), rng.normal(10.6, 4.0, 400)
    stats = {"a": Moments.from_values(a), "b": Moments.from_values(b)}
    result = thompson_weights(stats, policy, epoch=0)
    se = math.sqrt(a.var(ddof=1) / 400 + b.var(ddof=1) / 400)
    from scipy.stats import norm

    expected = float(norm.cdf((b.mean() - a.mean()) / se))
    assert result.weights[1] == pytest.approx(expected, abs=0.02)


def test_zero_variance_and_no_data_give_no_nan() -> None:
    mean = BanditPolicy("m", ("a", "b"), kind="mean", min_samples=2)
    constant = {"a": Moments.from_values([2.0] * 5), "b": Moments.from_values([1.0, 3.0, 2.0])}
    result = thompson_weights(constant, mean, epoch=0)
    assert "arm 'a' has zero variance: the pooled variance is used" in result.warnings
    assert 0.05 <= result.weights[0] <= 0.95
    both = {"a": Moments.from_values([2.0] * 5), "b": Moments.from_values([2.0] * 3)}
    tied = thompson_weights(both, mean, epoch=0)
    assert tied.weights == (0.5, 0.5)
    assert any("every arm has zero variance" in w for w in tied.warnings)
    conversion = BanditPolicy("c", ("a", "b"), min_samples=0)
    empty = thompson_weights({}, conversion, epoch=0)
    assert empty.reason == "thompson"
    assert "arm 'a' has no data: its posterior is the prior" in empty.warnings
    for item in (result, tied, empty):
        assert_nan_free(item)
        assert math.fsum(item.weights) == pytest.approx(1.0, abs=1e-12)


def test_bad_inputs() -> None:
    policy = BanditPolicy("c", ("a", "b"))
    with pytest.raises(ValueError, match="not among the arms"):
        thompson_weights({"z": Moments()}, policy, epoch=0)
    with pytest.raises(ValueError, match="needs 0/1 rewards"):
        thompson_weights({"a": Moments.from_values([0.0, 2.0])}, policy, epoch=0)
    with pytest.raises(ValueError, match=r"must be a firstmile\.stats\.Moments"):
        thompson_weights({"a": (10, 2)}, policy, epoch=0)  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="epoch must be a whole number"):
        thompson_weights({}, policy, epoch=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="policy must be a BanditPolicy"):
        thompson_weights({}, "c", epoch=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown arm"):
        thompson_weights({}, policy, epoch=0).weight("z")


def test_json() -> None:
    policy = BanditPolicy("c", ("a", "b"), min_samples=1)
    data = thompson_weights({}, policy, epoch=2).to_json()
    assert set(data["weights"]) == {"a", "b"}
    assert data["epoch"] == 2
    assert data["warming_up"] is True
    assert data["probability_best"] is None


# -- the floor ---------------------------------------------------------------------------------


def test_floor_examples() -> None:
    assert floor_weights([0.5, 0.5], 0.1) == (0.5, 0.5)
    assert floor_weights([1.0, 0.0, 0.0], 0.1) == pytest.approx((0.8, 0.1, 0.1))
    assert floor_weights([0.0, 0.0], 0.0) == (0.5, 0.5)  # no mass: equal shares
    # Two rounds: flooring the first arm pushes the second below the floor too.
    weights = floor_weights([0.0, 0.105, 0.895], 0.1)
    assert weights == pytest.approx((0.1, 0.1, 0.8))
    assert floor_weights([0.2, 0.3, 0.5], 1 / 3) == pytest.approx((1 / 3,) * 3)
    with pytest.raises(ValueError, match="min_weight must be in"):
        floor_weights([0.5, 0.5], 0.6)
    with pytest.raises(ValueError, match=">= 0"):
        floor_weights([-0.5, 1.5], 0.1)


probabilities = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8).filter(
    lambda values: sum(values) > 0
)


@given(probabilities, st.floats(0.0, 1.0))
def test_floor_properties(values: list[float], share: float) -> None:
    k = len(values)
    floor = share / k
    total = math.fsum(values)
    normalized = [v / total for v in values]
    weights = floor_weights(normalized, floor)
    assert abs(math.fsum(weights) - 1.0) <= 1e-12
    assert all(w >= floor for w in weights)
    # Arms above the floor keep their ratios to each other.
    free = [i for i, w in enumerate(weights) if w > floor + 1e-9]
    for i in free:
        for j in free:
            assert weights[i] * normalized[j] == pytest.approx(weights[j] * normalized[i])


@st.composite
def conversion_stats(draw: st.DrawFn) -> tuple[dict[str, Moments], BanditPolicy]:
    k = draw(st.integers(2, 5))
    arms = tuple(f"arm{i}" for i in range(k))
    stats = {}
    for arm in arms:
        n = draw(st.integers(0, 10_000))
        stats[arm] = Moments.from_counts(n, draw(st.integers(0, n)))
    policy = BanditPolicy(
        "prop",
        arms,
        min_weight=draw(st.floats(0.0, 1.0)) / k,
        min_samples=draw(st.integers(0, 50)),
        draws=200,
        prior_alpha=draw(st.floats(0.01, 10)),
        prior_beta=draw(st.floats(0.01, 10)),
    )
    return stats, policy


@settings(max_examples=150, deadline=None)
@given(conversion_stats(), st.integers(-5, 5))
def test_thompson_weights_always_floor_and_sum_to_one(
    case: tuple[dict[str, Moments], BanditPolicy], epoch: int
) -> None:
    stats, policy = case
    result = thompson_weights(stats, policy, epoch=epoch)
    assert abs(math.fsum(result.weights) - 1.0) <= 1e-12
    assert all(w >= policy.min_weight for w in result.weights)
    assert_nan_free(result)


values = st.lists(
    st.sampled_from([0.0, 1.0, -3.0, 1e6]) | st.floats(-1e3, 1e3), min_size=2, max_size=30
)


@settings(max_examples=100, deadline=None)
@given(st.lists(values, min_size=2, max_size=4), st.floats(0.0, 1.0))
def test_mean_bandit_never_nan(per_arm: list[list[float]], share: float) -> None:
    arms = tuple(f"arm{i}" for i in range(len(per_arm)))
    policy = BanditPolicy(
        "m", arms, kind="mean", min_samples=2, min_weight=share / len(arms), draws=200
    )
    stats = {arm: Moments.from_values(v) for arm, v in zip(arms, per_arm, strict=True)}
    result = thompson_weights(stats, policy, epoch=0)
    assert_nan_free(result)
    assert abs(math.fsum(result.weights) - 1.0) <= 1e-12
    assert all(w >= policy.min_weight for w in result.weights)
