"""Bad input gives warnings and None, never NaN and never an exception; bad arguments raise."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.stats import (
    Moments,
    beta_binomial_test,
    cuped_test,
    gaussian_test,
    sequential_test,
    two_proportion_ztest,
    welch_test,
)


def assert_nan_free(value: Any, path: str = "result") -> None:
    """Every number anywhere in a result is finite (or the value is None)."""
    if isinstance(value, float):
        assert math.isfinite(value), f"{path} = {value}"
    elif is_dataclass(value):
        for field in fields(value):
            assert_nan_free(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            assert_nan_free(item, f"{path}[{i}]")


def _sequential(control: Moments, treatment: Moments) -> Any:
    return sequential_test(control, treatment, tuning_n=100)


MEANS_TESTS: list[Callable[[Moments, Moments], Any]] = [
    welch_test,
    gaussian_test,
    _sequential,
    cuped_test,
]
CONVERSION_TESTS: list[Callable[[Moments, Moments], Any]] = [
    two_proportion_ztest,
    beta_binomial_test,
    welch_test,
    gaussian_test,
    _sequential,
]

small = st.lists(
    st.sampled_from([0.0, 1.0, 2.5, -3.0, 1e6]) | st.floats(-100, 100), min_size=0, max_size=4
)


@settings(max_examples=150, deadline=None)
@given(small, small, small, small)
def test_any_small_sample_gives_a_nan_free_result(
    y_c: list[float], y_t: list[float], x_c: list[float], x_t: list[float]
) -> None:
    control = Moments.from_values(y_c, (x_c + [0.0] * len(y_c))[: len(y_c)])
    treatment = Moments.from_values(y_t, (x_t + [0.0] * len(y_t))[: len(y_t)])
    for test in MEANS_TESTS:
        assert_nan_free(test(control, treatment))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 6), st.integers(0, 6), st.data())
def test_any_small_conversion_count_gives_a_nan_free_result(
    n_c: int, n_t: int, data: st.DataObject
) -> None:
    control = Moments.from_counts(n_c, data.draw(st.integers(0, n_c)))
    treatment = Moments.from_counts(n_t, data.draw(st.integers(0, n_t)))
    for test in CONVERSION_TESTS:
        assert_nan_free(test(control, treatment))


def test_empty_variant() -> None:
    treatment = Moments.from_values([1.0, 2.0, 3.0])
    result = welch_test(Moments(), treatment)
    assert result.warnings == ("control: empty variant (n = 0)",)
    assert (result.control_mean, result.absolute, result.p_value) == (None, None, None)
    assert result.treatment_mean == 2.0
    assert result.significant is None
    sequential = sequential_test(Moments(), Moments(), tuning_n=10)
    assert sequential.warnings == (
        "control: empty variant (n = 0)",
        "treatment: empty variant (n = 0)",
    )
    bayes = beta_binomial_test(Moments(), Moments.from_counts(10, 3))
    assert bayes.warnings == ("control: empty variant (n = 0): its posterior is the prior",)
    assert bayes.control_mean == 0.5


def test_one_user_per_variant() -> None:
    result = gaussian_test(Moments.from_values([3.0]), Moments.from_values([5.0]))
    assert result.warnings == (
        "control: n = 1, the variance is undefined",
        "treatment: n = 1, the variance is undefined",
    )
    assert result.absolute == 2.0
    assert result.chance_to_beat is None


def test_zero_variance() -> None:
    equal = welch_test(Moments.from_values([5.0] * 10), Moments.from_values([5.0] * 12))
    assert equal.p_value is None
    assert equal.absolute == 0.0
    assert equal.warnings[-1] == "zero variance in both variants: the t-test is undefined"
    one_sided = welch_test(Moments.from_values([5.0] * 10), Moments.from_values([5.0, 6.0, 7.0]))
    assert one_sided.p_value is not None
    assert one_sided.df == pytest.approx(2.0)
    assert one_sided.warnings == ("control: zero variance (every value is 5)",)


def test_all_conversions() -> None:
    every = Moments.from_counts(500, 500)
    z = two_proportion_ztest(every, every)
    assert z.p_value is None
    assert (
        z.warnings[-1]
        == "no variation: every user converted in either variant; the test is undefined"
    )
    bayes = beta_binomial_test(every, every)
    assert bayes.chance_to_beat == pytest.approx(0.5, abs=1e-9)
    assert "control: every user converted; the result leans on the prior" in bayes.warnings
    one = two_proportion_ztest(Moments.from_counts(500, 450), every)
    assert one.p_value is not None
    assert "treatment: every user converted; the Wald interval understates the uncertainty" in (
        one.warnings
    )
    extreme = two_proportion_ztest(Moments.from_counts(50, 0), Moments.from_counts(50, 50))
    assert extreme.absolute_ci is None
    assert "both rates are 0 or 1: the Wald interval is undefined" in extreme.warnings


def test_zero_control_mean_has_no_relative_effect() -> None:
    result = welch_test(Moments.from_values([-1.0, 1.0, 0.0]), Moments.from_values([1.0, 2.0]))
    assert result.relative is None
    assert result.relative_ci is None
    assert "control mean is 0: the relative effect is undefined" in result.warnings
    assert result.p_value is not None


ALL_TESTS: list[Callable[..., Any]] = [
    welch_test,
    two_proportion_ztest,
    cuped_test,
    lambda c, t, alpha: sequential_test(c, t, alpha=alpha, tuning_n=10),
]


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 1.5, float("nan"), "0.05", None, True])
@pytest.mark.parametrize("test", ALL_TESTS)
def test_alpha_outside_0_1_raises(test: Callable[..., Any], alpha: object) -> None:
    arm = Moments.from_counts(10, 4)
    with pytest.raises(ValueError, match="alpha"):
        test(arm, arm, alpha=alpha)


@pytest.mark.parametrize("credibility", [0.0, 1.0, 2.0])
def test_credibility_outside_0_1_raises(credibility: float) -> None:
    arm = Moments.from_counts(10, 4)
    with pytest.raises(ValueError, match="credibility"):
        gaussian_test(arm, arm, credibility=credibility)
    with pytest.raises(ValueError, match="credibility"):
        beta_binomial_test(arm, arm, credibility=credibility)


def test_invalid_arguments_raise() -> None:
    arm = Moments.from_counts(10, 4)
    with pytest.raises(ValueError, match=r"must be a firstmile\.stats\.Moments"):
        welch_test([1.0, 2.0], arm)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="0/1 conversion metric"):
        two_proportion_ztest(Moments.from_values([1.0, 2.0]), arm)
    with pytest.raises(ValueError, match="0/1 conversion metric"):
        beta_binomial_test(arm, Moments.from_values([0.5, 0.5]))
    with pytest.raises(ValueError, match="prior_alpha"):
        beta_binomial_test(arm, arm, prior_alpha=0.0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        Moments(n=-2)
