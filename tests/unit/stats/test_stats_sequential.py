"""The normal-mixture confidence sequence: its formula against the mixture integral."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from firstmile.stats import (
    Moments,
    boundary_multiplier,
    mixture_ratio,
    sequential_test,
    welch_test,
)


def _arms(seed: int, n_c: int, n_t: int, effect: float) -> tuple[Moments, Moments]:
    rng = np.random.default_rng(seed)
    return (
        Moments.from_values(rng.normal(5.0, 2.0, n_c)),
        Moments.from_values(rng.normal(5.0 + effect, 2.5, n_t)),
    )


def _mixture_likelihood_ratio(estimate: float, variance: float, tau2: float) -> float:
    """Λ = ∫ N(δ̂; δ, V) / N(δ̂; 0, V) dN(δ; 0, τ²), by quadrature (no closed form used)."""

    def integrand(delta: float) -> float:
        log_ratio = (estimate * delta - delta * delta / 2.0) / variance
        return math.exp(log_ratio) * float(stats.norm.pdf(delta, 0.0, math.sqrt(tau2)))

    scale = math.sqrt(tau2)
    value, _ = integrate.quad(integrand, -40 * scale, 40 * scale, epsabs=0, epsrel=1e-12, limit=400)
    return float(value)


@pytest.mark.parametrize(
    ("seed", "n_c", "n_t", "effect", "tuning_n"),
    [(1, 400, 420, 0.3, 2000), (2, 1500, 1450, 0.0, 3000), (3, 90, 100, 0.8, 10_000)],
)
def test_p_value_is_one_over_the_mixture_likelihood_ratio(
    seed: int, n_c: int, n_t: int, effect: float, tuning_n: int
) -> None:
    control, treatment = _arms(seed, n_c, n_t, effect)
    result = sequential_test(control, treatment, tuning_n=tuning_n)
    assert result.standard_error is not None
    assert result.absolute is not None
    variance = result.standard_error**2
    tau2 = mixture_ratio(n_c + n_t, tuning_n, 0.05) * variance
    ratio = _mixture_likelihood_ratio(result.absolute, variance, tau2)
    assert result.p_value == pytest.approx(min(1.0, 1.0 / ratio), rel=1e-9)


def test_interval_ends_are_where_the_likelihood_ratio_reaches_one_over_alpha() -> None:
    control, treatment = _arms(4, 800, 800, 0.2)
    result = sequential_test(control, treatment, tuning_n=4000, alpha=0.1)
    assert result.standard_error is not None
    assert result.absolute is not None
    assert result.absolute_ci is not None
    variance = result.standard_error**2
    tau2 = mixture_ratio(1600, 4000, 0.1) * variance
    for edge in (result.absolute_ci.lower, result.absolute_ci.upper):
        # Testing H0: δ = edge is testing δ = 0 on the shifted estimate.
        ratio = _mixture_likelihood_ratio(result.absolute - edge, variance, tau2)
        assert ratio == pytest.approx(1.0 / 0.1, rel=1e-9)


def test_the_sequence_is_tightest_near_tuning_n_and_wider_than_a_fixed_interval() -> None:
    assert boundary_multiplier(1000, 1000, 0.05) == pytest.approx(3.0352, abs=1e-4)
    # Per standard error, the multiplier falls with n; in absolute terms (se ∝ 1/√n) the
    # width at n relative to the fixed-horizon width at the same n is smallest near N*.
    ratios = {n: boundary_multiplier(n, 1000, 0.05) / 1.959964 for n in (100, 1000, 10_000)}
    assert ratios[1000] < ratios[100]
    assert all(value > 1.0 for value in ratios.values())
    control, treatment = _arms(5, 500, 500, 0.1)
    fixed, always = (
        welch_test(control, treatment),
        sequential_test(control, treatment, tuning_n=1000),
    )
    assert fixed.absolute_ci is not None
    assert always.absolute_ci is not None
    assert always.absolute_ci.width / fixed.absolute_ci.width == pytest.approx(
        3.0352 / 1.96, rel=0.01
    )


def test_significance_agrees_with_the_interval() -> None:
    for seed in range(30):
        control, treatment = _arms(seed, 300, 300, 0.5)
        result = sequential_test(control, treatment, tuning_n=600)
        assert result.absolute_ci is not None
        assert result.significant == result.absolute_ci.excludes_zero()


def test_relative_interval_uses_the_same_boundary() -> None:
    control, treatment = _arms(6, 1000, 1000, 0.4)
    result = sequential_test(control, treatment, tuning_n=2000)
    fixed = welch_test(control, treatment)
    assert result.relative_ci is not None
    assert fixed.relative_ci is not None
    assert result.relative_ci.width / fixed.relative_ci.width == pytest.approx(
        boundary_multiplier(2000, 2000, 0.05) / stats.norm.ppf(0.975), rel=1e-9
    )


def test_invalid_tuning_n_raises() -> None:
    control, treatment = _arms(7, 10, 10, 0.0)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="tuning_n"):
            sequential_test(control, treatment, tuning_n=bad)  # type: ignore[arg-type]
