"""CUPED against an OLS fit of the same adjustment and scipy's Welch on adjusted values."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from firstmile.stats import Moments, cuped_adjust, cuped_test, welch_test


def _experiment(
    seed: int, n_c: int = 600, n_t: int = 640, effect: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x_c, x_t = rng.gamma(3.0, 2.0, n_c), rng.gamma(3.0, 2.0, n_t)
    y_c = 1.0 + 0.8 * x_c + rng.normal(0.0, 1.5, n_c)
    y_t = 1.0 + effect + 0.8 * x_t + rng.normal(0.0, 1.5, n_t)
    return y_c, x_c, y_t, x_t


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cuped_effect_and_theta_equal_the_ols_fit(seed: int) -> None:
    y_c, x_c, y_t, x_t = _experiment(seed)
    result = cuped_test(Moments.from_values(y_c, x_c), Moments.from_values(y_t, x_t))
    y = np.concatenate([y_c, y_t])
    design = np.column_stack(
        [np.ones(y.size), np.r_[np.zeros(y_c.size), np.ones(y_t.size)], np.r_[x_c, x_t]]
    )
    fit = sm.OLS(y, design).fit()
    assert result.test.absolute == pytest.approx(fit.params[1], rel=1e-9)
    assert result.adjustment.theta == pytest.approx(fit.params[2], rel=1e-9)


@pytest.mark.parametrize("seed", [4, 5])
def test_cuped_test_is_welch_on_the_adjusted_values(seed: int) -> None:
    y_c, x_c, y_t, x_t = _experiment(seed)
    result = cuped_test(Moments.from_values(y_c, x_c), Moments.from_values(y_t, x_t))
    theta, mu = result.adjustment.theta, np.r_[x_c, x_t].mean()
    adjusted_c, adjusted_t = y_c - theta * (x_c - mu), y_t - theta * (x_t - mu)
    reference = stats.ttest_ind(adjusted_t, adjusted_c, equal_var=False)
    ci = reference.confidence_interval()
    assert result.test.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert result.test.p_value == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-15)
    assert result.test.df == pytest.approx(reference.df, rel=1e-9)
    assert result.test.absolute_ci is not None
    assert result.test.absolute_ci.lower == pytest.approx(ci.low, rel=1e-9)
    assert result.test.absolute_ci.upper == pytest.approx(ci.high, rel=1e-9)
    # The adjusted moments are the moments of the adjusted values, covariate included.
    adjusted = result.adjustment.control
    expected = Moments.from_values(adjusted_c, x_c)
    for name in ("sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy"):
        assert getattr(adjusted, name) == pytest.approx(getattr(expected, name), rel=1e-9)
    assert result.test.method == "welch (CUPED)"


def test_cuped_shrinks_the_variance_by_about_rho_squared() -> None:
    y_c, x_c, y_t, x_t = _experiment(6, n_c=20_000, n_t=20_000)
    control, treatment = Moments.from_values(y_c, x_c), Moments.from_values(y_t, x_t)
    result = cuped_test(control, treatment)
    plain = welch_test(control, treatment)
    rho = np.corrcoef(np.r_[x_c, x_t], np.r_[y_c, y_t])[0, 1]
    assert result.adjustment.variance_reduction == pytest.approx(rho**2, abs=0.01)
    assert result.test.standard_error is not None
    assert plain.standard_error is not None
    assert result.test.standard_error < 0.6 * plain.standard_error
    assert result.test.absolute == pytest.approx(0.3, abs=0.05)


def test_cuped_composes_with_merged_daily_moments() -> None:
    y_c, x_c, y_t, x_t = _experiment(7)
    whole = cuped_adjust(Moments.from_values(y_c, x_c), Moments.from_values(y_t, x_t))
    daily_c = Moments.merged(
        Moments.from_values(y, x)
        for y, x in zip(np.array_split(y_c, 5), np.array_split(x_c, 5), strict=True)
    )
    daily_t = Moments.merged(
        Moments.from_values(y, x)
        for y, x in zip(np.array_split(y_t, 7), np.array_split(x_t, 7), strict=True)
    )
    merged = cuped_adjust(daily_c, daily_t)
    assert merged.theta == pytest.approx(whole.theta, rel=1e-10)
    assert merged.treatment.mean == pytest.approx(whole.treatment.mean, rel=1e-10)


def test_without_a_covariate_cuped_is_plain_welch() -> None:
    control = Moments.from_values([1.0, 2.0, 4.0])
    treatment = Moments.from_values([2.0, 3.0, 7.0])
    result = cuped_test(control, treatment)
    assert result.adjustment.theta == 0.0
    assert result.adjustment.control == control
    assert result.warnings == ("no covariate (its sums are all 0): no adjustment",)
    plain = welch_test(control, treatment)
    assert result.test.p_value == plain.p_value


def test_constant_covariate_means_no_adjustment() -> None:
    control = Moments.from_values([1.0, 2.0, 4.0], covariate=[3.0, 3.0, 3.0])
    treatment = Moments.from_values([2.0, 3.0, 7.0], covariate=[5.0, 5.0, 5.0])
    result = cuped_adjust(control, treatment)
    assert result.theta == 0.0
    assert result.warnings == ("the covariate does not vary within variants: no adjustment",)


def test_a_perfect_covariate_leaves_zero_variance_and_a_warning() -> None:
    control = Moments.from_values([1.0, 2.0, 3.0], covariate=[1.0, 2.0, 3.0])
    treatment = Moments.from_values([2.0, 3.0, 4.0], covariate=[1.0, 2.0, 3.0])
    result = cuped_test(control, treatment)
    assert result.adjustment.variance_reduction == pytest.approx(1.0)
    assert result.test.absolute == pytest.approx(1.0)
    assert result.test.p_value is None
    assert "zero variance in both variants: the t-test is undefined" in result.warnings
