"""Simulations: false-positive rates of A/A experiments and power of planted effects.

Each simulation runs 1,000 experiments from a seeded numpy Generator, builds the moments
with vectorized sums, and calls the public functions. With 1,000 experiments the standard
error of a 5% rate is 0.7 points and of an 80% power 1.3 points, so the bands below
([3.5%, 6.5%] and ±5 points) are 2-4 standard errors wide.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from firstmile.stats import (
    Moments,
    sample_size_means,
    sample_size_proportions,
    sequential_test,
    two_proportion_ztest,
    welch_test,
)

EXPERIMENTS = 1000
ALPHA = 0.05
FPR_BAND = (0.035, 0.065)

Array = npt.NDArray[np.float64]


def _moments(values: Array) -> list[Moments]:
    """One Moments per row of a (experiments, users) array."""
    n = values.shape[-1]
    sums, squares = values.sum(axis=-1), (values * values).sum(axis=-1)
    return [Moments(n=n, sum=s, sum_sq=q) for s, q in zip(sums, squares, strict=True)]


def _rate(flags: list[bool | None]) -> float:
    assert all(flag is not None for flag in flags)
    return sum(bool(flag) for flag in flags) / len(flags)


# -- fixed horizon: false positives ----------------------------------------------------------


def test_aa_welch_false_positive_rate() -> None:
    rng = np.random.default_rng(101)
    # Skewed, revenue-like values: Welch relies on the central limit theorem here.
    control = rng.lognormal(2.0, 0.8, (EXPERIMENTS, 1000))
    treatment = rng.lognormal(2.0, 0.8, (EXPERIMENTS, 1000))
    flags = [
        welch_test(c, t, alpha=ALPHA).significant
        for c, t in zip(_moments(control), _moments(treatment), strict=True)
    ]
    assert FPR_BAND[0] <= _rate(flags) <= FPR_BAND[1], _rate(flags)


def test_aa_two_proportion_false_positive_rate() -> None:
    rng = np.random.default_rng(102)
    n = 5000
    control, treatment = rng.binomial(n, 0.08, EXPERIMENTS), rng.binomial(n, 0.08, EXPERIMENTS)
    flags = [
        two_proportion_ztest(
            Moments.from_counts(n, int(c)), Moments.from_counts(n, int(t)), alpha=ALPHA
        ).significant
        for c, t in zip(control, treatment, strict=True)
    ]
    assert FPR_BAND[0] <= _rate(flags) <= FPR_BAND[1], _rate(flags)


# -- sequential: daily peeking ---------------------------------------------------------------

DAYS, PER_DAY = 14, 100  # 100 users per variant per day, a look every day for two weeks
TUNING_N = 2 * DAYS * PER_DAY


def _daily_moments(values: Array) -> list[list[Moments]]:
    """Cumulative moments per (experiment, day) of an (experiments, days, users) array."""
    sums = np.cumsum(values.sum(axis=-1), axis=1)
    squares = np.cumsum((values * values).sum(axis=-1), axis=1)
    return [
        [Moments(n=PER_DAY * (day + 1), sum=s[day], sum_sq=q[day]) for day in range(DAYS)]
        for s, q in zip(sums, squares, strict=True)
    ]


def _peeking(control: Array, treatment: Array, effect: float = 0.0) -> dict[str, float]:
    """Rates over experiments: any daily look significant (sequential, naive Welch), the
    sequence ever missing the true effect, and the final look alone (Welch)."""
    sequential = naive = missed = final = 0
    for days_c, days_t in zip(_daily_moments(control), _daily_moments(treatment), strict=True):
        looks = [
            sequential_test(c, t, tuning_n=TUNING_N, alpha=ALPHA)
            for c, t in zip(days_c, days_t, strict=True)
        ]
        welch = [welch_test(c, t, alpha=ALPHA) for c, t in zip(days_c, days_t, strict=True)]
        sequential += any(look.significant for look in looks)
        naive += any(look.significant for look in welch)
        final += bool(welch[-1].significant)
        missed += any(
            look.absolute_ci is None or not look.absolute_ci.contains(effect) for look in looks
        )
    return {
        "sequential": sequential / EXPERIMENTS,
        "naive": naive / EXPERIMENTS,
        "final": final / EXPERIMENTS,
        "missed": missed / EXPERIMENTS,
    }


def test_aa_sequential_false_positive_rate_under_daily_peeking() -> None:
    rng = np.random.default_rng(103)
    shape = (EXPERIMENTS, DAYS, PER_DAY)
    rates = _peeking(rng.normal(10.0, 3.0, shape), rng.normal(10.0, 3.0, shape))
    # Peeking at a fixed-horizon test every day and stopping at the first p < 5% is the
    # problem: about one A/A experiment in five "wins" (the simulation can see inflation).
    assert rates["naive"] > 0.15, rates
    # Reading only the last day is fine.
    assert FPR_BAND[0] <= rates["final"] <= FPR_BAND[1], rates
    # The always-valid sequence read every day stays below alpha. Ville's inequality is an
    # upper bound reached only by continuous monitoring forever: over 14 daily looks the
    # rate is well under 5% (about 1%), so only the upper end of the band applies.
    assert rates["sequential"] <= FPR_BAND[1], rates


def test_aa_sequential_on_conversions_under_daily_peeking() -> None:
    rng = np.random.default_rng(104)
    shape = (EXPERIMENTS, DAYS, PER_DAY)
    control = (rng.random(shape) < 0.1).astype(np.float64)
    treatment = (rng.random(shape) < 0.1).astype(np.float64)
    rates = _peeking(control, treatment)
    assert rates["naive"] > 0.15, rates
    assert rates["sequential"] <= FPR_BAND[1], rates


def test_sequence_covers_a_planted_effect_at_every_look_at_once() -> None:
    rng = np.random.default_rng(105)
    shape = (EXPERIMENTS, DAYS, PER_DAY)
    effect = 0.4
    rates = _peeking(rng.normal(10.0, 3.0, shape), rng.normal(10.0 + effect, 3.0, shape), effect)
    # Time-uniform coverage: P(some daily interval misses the true effect) <= alpha.
    assert rates["missed"] <= FPR_BAND[1], rates
    # And it detects the effect: ~75% of experiments by day 14 (a single fixed-horizon look
    # on day 14 has ~93% power; always-valid intervals pay for the freedom to peek).
    assert rates["sequential"] >= 0.5, rates


# -- power: planted effects detected at the rate the calculator predicts ---------------------


def test_welch_detects_a_planted_effect_at_the_predicted_power() -> None:
    rng = np.random.default_rng(106)
    for target in (0.8, 0.5):
        size = sample_size_means(effect=0.15, sd=2.0, power=target)
        control = rng.normal(20.0, 2.0, (EXPERIMENTS, size.control))
        treatment = rng.normal(20.15, 2.0, (EXPERIMENTS, size.treatment))
        flags = [
            welch_test(c, t, alpha=ALPHA).significant
            for c, t in zip(_moments(control), _moments(treatment), strict=True)
        ]
        assert abs(_rate(flags) - size.power) <= 0.05, (target, _rate(flags), size)


def test_two_proportion_test_detects_a_planted_effect_at_the_predicted_power() -> None:
    rng = np.random.default_rng(107)
    size = sample_size_proportions(baseline=0.10, effect=0.02, power=0.8, ratio=2.0)
    control = rng.binomial(size.control, 0.10, EXPERIMENTS)
    treatment = rng.binomial(size.treatment, 0.12, EXPERIMENTS)
    flags = [
        two_proportion_ztest(
            Moments.from_counts(size.control, int(c)),
            Moments.from_counts(size.treatment, int(t)),
            alpha=ALPHA,
        ).significant
        for c, t in zip(control, treatment, strict=True)
    ]
    assert abs(_rate(flags) - size.power) <= 0.05, (_rate(flags), size)
