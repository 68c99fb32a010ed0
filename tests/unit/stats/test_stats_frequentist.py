"""Welch and the two-proportion z-test against scipy and statsmodels on the same inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from firstmile.stats import Moments, two_proportion_ztest, welch_test

TOL = 1e-9  # closed forms: scipy/statsmodels and firstmile compute the same expressions


def _rel(a: float | None, b: float) -> None:
    assert a is not None
    assert abs(a - b) <= TOL * max(1.0, abs(b)), (a, b)


@pytest.mark.parametrize(
    ("seed", "n_c", "n_t", "shift", "scale"),
    [
        (1, 40, 55, 0.3, 1.0),
        (2, 500, 480, 0.05, 2.5),
        (3, 7, 12, 1.0, 0.1),
        (4, 2000, 2000, 0.0, 30.0),
        (5, 3, 2, -2.0, 5.0),
    ],
)
def test_welch_matches_scipy_ttest_ind(
    seed: int, n_c: int, n_t: int, shift: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    control = rng.lognormal(1.0, 0.7, n_c)
    treatment = rng.lognormal(1.0, 0.7, n_t) * scale + shift
    result = welch_test(Moments.from_values(control), Moments.from_values(treatment), alpha=0.1)
    reference = stats.ttest_ind(treatment, control, equal_var=False)
    ci = reference.confidence_interval(confidence_level=0.9)
    _rel(result.statistic, reference.statistic)
    _rel(result.p_value, reference.pvalue)
    _rel(result.df, reference.df)
    assert result.absolute_ci is not None
    _rel(result.absolute_ci.lower, ci.low)
    _rel(result.absolute_ci.upper, ci.high)
    _rel(result.absolute, treatment.mean() - control.mean())
    assert result.warnings == ()
    assert result.significant == (reference.pvalue < 0.1)


@pytest.mark.parametrize(
    ("x_c", "n_c", "x_t", "n_t"),
    [(100, 1000, 130, 1000), (5, 80, 9, 75), (4512, 50000, 4700, 50310), (0, 40, 3, 40)],
)
def test_two_proportion_z_matches_statsmodels(x_c: int, n_c: int, x_t: int, n_t: int) -> None:
    result = two_proportion_ztest(Moments.from_counts(n_c, x_c), Moments.from_counts(n_t, x_t))
    statistic, p_value = proportions_ztest([x_t, x_c], [n_t, n_c])
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    _rel(result.statistic, float(statistic))
    _rel(result.p_value, float(p_value))
    assert result.absolute_ci is not None
    _rel(result.absolute_ci.lower, float(low))
    _rel(result.absolute_ci.upper, float(high))
    _rel(result.absolute, x_t / n_t - x_c / n_c)


def test_two_proportion_z_from_raw_zero_one_values() -> None:
    rng = np.random.default_rng(8)
    control = (rng.random(900) < 0.2).astype(float)
    treatment = (rng.random(950) < 0.25).astype(float)
    by_values = two_proportion_ztest(Moments.from_values(control), Moments.from_values(treatment))
    by_counts = two_proportion_ztest(
        Moments.from_counts(900, int(control.sum())), Moments.from_counts(950, int(treatment.sum()))
    )
    assert by_values == by_counts


def _delta_variance_numerically(m_c: float, v_c: float, m_t: float, v_t: float) -> float:
    """gᵀ Σ g with g the finite-difference gradient of f(m_t, m_c) = m_t / m_c - 1."""

    def f(t: float, c: float) -> float:
        return t / c - 1.0

    h_t, h_c = 1e-6 * abs(m_t), 1e-6 * abs(m_c)
    g_t = (f(m_t + h_t, m_c) - f(m_t - h_t, m_c)) / (2 * h_t)
    g_c = (f(m_t, m_c + h_c) - f(m_t, m_c - h_c)) / (2 * h_c)
    return g_t * g_t * v_t + g_c * g_c * v_c


def test_relative_interval_is_the_delta_method() -> None:
    rng = np.random.default_rng(21)
    control, treatment = rng.gamma(2.0, 3.0, 800), rng.gamma(2.2, 3.0, 750)
    result = welch_test(Moments.from_values(control), Moments.from_values(treatment))
    m_c, m_t = control.mean(), treatment.mean()
    variance = _delta_variance_numerically(
        m_c, control.var(ddof=1) / 800, m_t, treatment.var(ddof=1) / 750
    )
    z = stats.norm.ppf(0.975)
    assert result.relative == pytest.approx(m_t / m_c - 1.0, rel=1e-12)
    assert result.relative_ci is not None
    assert result.relative_ci.width == pytest.approx(2 * z * math.sqrt(variance), rel=1e-6)


def test_relative_interval_covers_the_true_lift_at_the_nominal_rate() -> None:
    # 2,000 experiments, vectorized moments: 95% intervals should cover ~95% (±1.5 points).
    rng = np.random.default_rng(5)
    experiments, n = 2000, 400
    control = rng.exponential(10.0, (experiments, n))
    treatment = rng.exponential(11.0, (experiments, n))
    covered = 0
    for c_row, t_row in zip(control, treatment, strict=True):
        result = welch_test(
            Moments(n=n, sum=c_row.sum(), sum_sq=(c_row * c_row).sum()),
            Moments(n=n, sum=t_row.sum(), sum_sq=(t_row * t_row).sum()),
        )
        assert result.relative_ci is not None
        covered += result.relative_ci.contains(0.1)
    assert 0.935 <= covered / experiments <= 0.965


def test_welch_significance_agrees_with_its_interval() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        result = welch_test(
            Moments.from_values(rng.normal(0, 1, 30)), Moments.from_values(rng.normal(0.4, 1, 30))
        )
        assert result.absolute_ci is not None
        assert result.significant == result.absolute_ci.excludes_zero()
