"""Power, sample size and MDE against statsmodels.stats.power and power_proportions_2indep."""

from __future__ import annotations

from typing import Any

import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import power_proportions_2indep

from firstmile.stats import (
    mde_means,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from firstmile.stats.power import Test

MEANS = [(0.2, 1.0, 400, 1.0, 0.05), (1.5, 4.0, 120, 2.0, 0.01), (3.0, 2.0, 6, 0.5, 0.1)]


@pytest.mark.parametrize(("effect", "sd", "n", "ratio", "alpha"), MEANS)
def test_power_of_means_matches_statsmodels(
    effect: float, sd: float, n: int, ratio: float, alpha: float
) -> None:
    d = effect / sd
    z = NormalIndPower().power(d, nobs1=n, alpha=alpha, ratio=ratio)
    t = TTestIndPower().power(d, nobs1=n, alpha=alpha, ratio=ratio)
    assert power_means(effect, sd, n, ratio=ratio, alpha=alpha) == pytest.approx(z, abs=1e-12)
    assert power_means(effect, sd, n, ratio=ratio, alpha=alpha, test="t") == pytest.approx(
        t, abs=1e-9
    )
    assert power_means(-effect, sd, n, ratio=ratio, alpha=alpha) == pytest.approx(z, abs=1e-12)


@pytest.mark.parametrize(
    ("effect", "sd", "ratio", "alpha", "power"),
    [
        (0.2, 1.0, 1.0, 0.05, 0.8),
        (1.5, 4.0, 2.0, 0.01, 0.9),
        (3.0, 2.0, 0.5, 0.1, 0.5),
    ],
)
def test_sample_size_of_means_matches_statsmodels(
    effect: float, sd: float, ratio: float, alpha: float, power: float
) -> None:
    d = effect / sd
    cases: tuple[tuple[Test, Any], ...] = (("z", NormalIndPower()), ("t", TTestIndPower()))
    for test, solver in cases:
        expected = solver.solve_power(d, alpha=alpha, power=power, ratio=ratio)
        size = sample_size_means(effect, sd, power=power, alpha=alpha, ratio=ratio, test=test)
        # statsmodels solves with its own root-finder tolerance; ours is exact to ~1e-12.
        assert size.exact_control == pytest.approx(expected, rel=1e-6)
        assert power_means(
            effect, sd, size.exact_control, ratio=ratio, alpha=alpha, test=test
        ) == pytest.approx(power, abs=1e-9)
        assert size.power >= power
        assert size.control >= size.exact_control
        assert size.treatment >= ratio * size.exact_control
        assert size.total == size.control + size.treatment


def test_mde_of_means_matches_statsmodels() -> None:
    cases: tuple[tuple[float, Test, Any], ...] = (
        (1.0, "z", NormalIndPower()),
        (3.0, "t", TTestIndPower()),
    )
    for ratio, test, solver in cases:
        mde = mde_means(2.0, 40, ratio=ratio, power=0.9, test=test)
        # The power statsmodels computes at our MDE is the target (closed form) ...
        achieved = solver.power(mde / 2.0, nobs1=40, alpha=0.05, ratio=ratio)
        assert achieved == pytest.approx(0.9, abs=1e-9)
        # ... and its own root-finder lands within its tolerance (~1e-6 in power).
        d = solver.solve_power(None, nobs1=40, alpha=0.05, power=0.9, ratio=ratio)
        assert mde == pytest.approx(2.0 * d, rel=1e-5)


@pytest.mark.parametrize(
    ("baseline", "effect", "n", "ratio", "alpha"),
    [(0.10, 0.02, 3000, 1.0, 0.05), (0.5, -0.05, 800, 2.0, 0.01), (0.02, 0.004, 40000, 0.5, 0.1)],
)
def test_power_of_proportions_matches_statsmodels(
    baseline: float, effect: float, n: int, ratio: float, alpha: float
) -> None:
    # statsmodels: sample 1 is the treatment (p2 + diff), sample 2 = ratio * sample 1 the
    # control; firstmile: treatment = ratio * control.
    expected = power_proportions_2indep(
        effect, baseline, nobs1=ratio * n, ratio=1 / ratio, alpha=alpha, return_results=False
    )
    ours = power_proportions(baseline, effect, n, ratio=ratio, alpha=alpha)
    assert ours == pytest.approx(expected, abs=1e-12)


def test_sample_size_of_proportions_reaches_the_power() -> None:
    size = sample_size_proportions(0.10, 0.02)
    assert power_proportions(0.10, 0.02, size.exact_control) == pytest.approx(0.8, abs=1e-9)
    assert size.power >= 0.8
    assert (size.control, size.treatment) == (3841, 3841)
    expected = power_proportions_2indep(
        0.02, 0.10, nobs1=size.control, ratio=1.0, return_results=False
    )
    assert size.power == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sample_size_means(0.0, 1.0), "non-zero"),
        (lambda: sample_size_means(0.1, -1.0), "sd"),
        (lambda: sample_size_means(0.1, 1.0, power=1.0), "power"),
        (lambda: sample_size_means(0.1, 1.0, power=0.04), "must exceed alpha"),
        (lambda: sample_size_means(0.1, 1.0, alpha=0.0), "alpha"),
        (lambda: sample_size_means(0.1, 1.0, ratio=0.0), "ratio"),
        (lambda: sample_size_means(0.1, 1.0, test="w"), "'z' or 't'"),  # type: ignore[arg-type]
        (lambda: power_means(0.1, 1.0, -5), "n_control"),
        (lambda: sample_size_proportions(0.0, 0.1), "baseline"),
        (lambda: sample_size_proportions(0.95, 0.1), r"rate in \(0, 1\)"),
        (lambda: sample_size_proportions(0.5, 0.0), "non-zero"),
        (lambda: sample_size_means(1e-9, 1e3), "too small"),
    ],
)
def test_invalid_arguments_raise(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
