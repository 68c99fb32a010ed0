"""The delta-method ratio test: against numpy, by simulation, and on bad input."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from firstmile.stats import (
    Moments,
    gaussian_test,
    linearize_ratio,
    ratio_test,
    sequential_test,
)

TOL = 1e-9
Array = npt.NDArray[np.float64]


def _delta(y: Array, d: Array) -> tuple[float, float]:
    """(R, Var(R̂)) by the delta method written directly: gradient · covariance · gradient."""
    n = y.shape[0]
    mean_y, mean_d = y.mean(), d.mean()
    gradient = np.array([1.0 / mean_d, -mean_y / mean_d**2])
    covariance = np.cov(np.vstack([y, d]), ddof=1)
    return float(mean_y / mean_d), float(gradient @ covariance @ gradient / n)


def _close(a: float | None, b: float) -> None:
    assert a is not None
    assert abs(a - b) <= TOL * max(1.0, abs(b)), (a, b)


def _arm(rng: np.random.Generator, n: int, rate: float, value: float) -> tuple[Array, Array]:
    sessions = rng.poisson(rate, n).astype(float) + 1.0
    revenue = sessions * rng.gamma(2.0, value / 2.0, n) * (rng.random(n) < 0.4)
    return revenue, sessions


@pytest.mark.parametrize(("seed", "n_c", "n_t"), [(1, 50, 60), (2, 800, 790), (3, 5, 4)])
def test_ratio_test_matches_the_delta_method_in_numpy(seed: int, n_c: int, n_t: int) -> None:
    rng = np.random.default_rng(seed)
    y_c, d_c = _arm(rng, n_c, 3.0, 10.0)
    y_t, d_t = _arm(rng, n_t, 3.2, 11.0)
    result = ratio_test(
        Moments.from_values(y_c, covariate=d_c), Moments.from_values(y_t, covariate=d_t), alpha=0.1
    )
    (r_c, v_c), (r_t, v_t) = _delta(y_c, d_c), _delta(y_t, d_t)
    se = math.sqrt(v_c + v_t)
    z = stats.norm.ppf(0.95)
    _close(result.control_mean, r_c)
    _close(result.treatment_mean, r_t)
    _close(result.absolute, r_t - r_c)
    _close(result.standard_error, se)
    _close(result.statistic, (r_t - r_c) / se)
    _close(result.p_value, 2 * stats.norm.sf(abs(r_t - r_c) / se))
    assert result.absolute_ci is not None
    _close(result.absolute_ci.lower, r_t - r_c - z * se)
    _close(result.absolute_ci.upper, r_t - r_c + z * se)
    # Relative: r = R_t/R_c - 1, Var ≈ Var_t/R_c² + R_t² Var_c/R_c⁴.
    relative_se = math.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
    _close(result.relative, r_t / r_c - 1)
    assert result.relative_ci is not None
    _close(result.relative_ci.lower, r_t / r_c - 1 - z * relative_se)
    _close(result.relative_ci.upper, r_t / r_c - 1 + z * relative_se)
    assert result.method == "delta-method ratio"
    assert result.df is None


def test_linearized_moments_carry_the_ratio_and_its_delta_variance() -> None:
    rng = np.random.default_rng(7)
    y, d = _arm(rng, 300, 2.0, 5.0)
    linear = linearize_ratio(Moments.from_values(y, covariate=d))
    assert linear is not None
    ratio, variance = _delta(y, d)
    _close(linear.mean, ratio)
    assert linear.variance is not None
    _close(linear.variance / linear.n, variance)
    # It equals the moments of the linearized values u = R + (y - R d) / d̄.
    u = ratio + (y - ratio * d) / d.mean()
    reference = Moments.from_values(u)
    _close(linear.sum, reference.sum)
    _close(linear.sum_sq, reference.sum_sq)


def test_mean_based_tests_read_linearized_ratios_with_the_same_standard_error() -> None:
    rng = np.random.default_rng(8)
    arms = [Moments.from_values(*_arm(rng, 400, 3.0, 10.0)) for _ in range(2)]
    direct = ratio_test(*arms)
    linear = [linearize_ratio(arm) for arm in arms]
    assert linear[0] is not None and linear[1] is not None  # noqa: PT018
    sequential = sequential_test(linear[0], linear[1], tuning_n=800)
    _close(sequential.standard_error, direct.standard_error or 0.0)
    _close(sequential.absolute, direct.absolute or 0.0)
    bayes = gaussian_test(linear[0], linear[1])
    assert bayes.chance_to_beat is not None
    assert direct.statistic is not None
    _close(bayes.chance_to_beat, float(stats.norm.cdf(direct.statistic)))


def test_interval_coverage_by_simulation() -> None:
    """95% intervals cover the true difference of ratios in 93.5-96.5% of 1,000 runs.

    Users have Poisson(3) + 1 sessions and, with probability 0.4, spend a Gamma amount of
    mean v per session, so E[y]/E[d] = 0.4 v: 8 in the control (v = 20), 8.8 in the treatment.
    """
    rng = np.random.default_rng(20260301)
    experiments, n = 1000, 1000
    truth_c, truth_t = 0.4 * 20.0, 0.4 * 22.0
    covered = relative_covered = 0
    for _ in range(experiments):
        control = Moments.from_values(*_arm(rng, n, 3.0, 20.0))
        treatment = Moments.from_values(*_arm(rng, n, 3.0, 22.0))
        result = ratio_test(control, treatment)
        assert result.absolute_ci is not None and result.relative_ci is not None  # noqa: PT018
        covered += result.absolute_ci.contains(truth_t - truth_c)
        relative_covered += result.relative_ci.contains(truth_t / truth_c - 1)
    assert 0.935 <= covered / experiments <= 0.965
    assert 0.935 <= relative_covered / experiments <= 0.965


def test_aa_false_positive_rate() -> None:
    rng = np.random.default_rng(99)
    flags = []
    for _ in range(1000):
        arms = [Moments.from_values(*_arm(rng, 300, 3.0, 10.0)) for _ in range(2)]
        flags.append(ratio_test(*arms).significant)
    rate = sum(bool(flag) for flag in flags) / len(flags)
    assert 0.035 <= rate <= 0.065


@pytest.mark.parametrize(
    ("control", "treatment", "warning"),
    [
        (Moments(), Moments.from_values([1.0, 2.0], [1.0, 1.0]), "control: empty variant (n = 0)"),
        (
            Moments.from_values([0.0, 0.0], [0.0, 0.0]),
            Moments.from_values([1.0, 2.0], [1.0, 1.0]),
            "control: the denominator sums to 0, so the ratio is undefined",
        ),
        (
            Moments.from_values([1.0], [2.0]),
            Moments.from_values([1.0, 2.0], [1.0, 1.0]),
            "control: n = 1, the variance is undefined",
        ),
        (
            Moments.from_values([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]),
            Moments.from_values([3.0, 6.0], [1.0, 2.0]),
            "zero variance in both variants: the ratio test is undefined",
        ),
    ],
)
def test_bad_input_gives_warnings_and_none(
    control: Moments, treatment: Moments, warning: str
) -> None:
    result = ratio_test(control, treatment)
    assert warning in result.warnings
    assert result.p_value is None
    assert result.absolute_ci is None
    for value in (result.absolute, result.control_mean, result.treatment_mean):
        assert value is None or math.isfinite(value)


def test_zero_variance_in_one_variant_still_tests() -> None:
    constant = Moments.from_values([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])  # y = 2d for every user
    varied = Moments.from_values([3.0, 1.0, 5.0], [1.0, 2.0, 2.0])
    result = ratio_test(constant, varied)
    assert "control: zero variance of the ratio (y = R·d for every user)" in result.warnings
    assert result.p_value is not None


def test_zero_control_ratio_has_no_relative_effect() -> None:
    zero = Moments.from_values([0.0, 0.0, 0.0], [1.0, 2.0, 1.0])
    result = ratio_test(zero, Moments.from_values([1.0, 3.0, 0.0], [1.0, 2.0, 1.0]))
    assert result.relative is None
    assert "control ratio is 0: the relative effect is undefined" in result.warnings


def test_linearize_ratio_is_none_when_undefined() -> None:
    assert linearize_ratio(Moments()) is None
    assert linearize_ratio(Moments.from_values([1.0], covariate=[0.0])) is None


def test_invalid_arguments_raise() -> None:
    arm = Moments.from_values([1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="alpha must be strictly between 0 and 1"):
        ratio_test(arm, arm, alpha=1.5)
    with pytest.raises(ValueError, match=r"must be a firstmile\.stats\.Moments"):
        ratio_test(arm, [1.0])  # type: ignore[arg-type]
