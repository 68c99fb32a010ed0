# ruff: noqa: RUF002, RUF003 - docstrings and comments write formulas in math notation
"""Power, sample size and minimum detectable effect of the fixed-horizon tests.

All are two-sided at level ``alpha``, for a control of ``n_c`` users and a treatment of
``n_t = ratio · n_c`` users, and count *both* rejection tails (so they match
``statsmodels.stats.power`` to rounding, not just approximately).

**Means** (effect ``δ``, common standard deviation ``σ``; Cohen 1988, *Statistical Power
Analysis for the Behavioral Sciences*, ch. 2). With ``se = σ √(1/n_c + 1/n_t)``:

* ``test="z"`` (the normal approximation; ``NormalIndPower``):
  ``power = Φ(δ/se - z_{1-α/2}) + Φ(-δ/se - z_{1-α/2})``;
* ``test="t"`` (``TTestIndPower``): the noncentral t with ``ν = n_c + n_t - 2`` degrees of
  freedom and noncentrality ``δ/se``:
  ``power = 1 - T_{ν,δ/se}(t_{ν,1-α/2}) + T_{ν,δ/se}(-t_{ν,1-α/2})``.

For the sample sizes of online experiments Welch's test (:func:`welch_test`) has the same
power as either to well under a point; the simulation tests check it.

**Proportions** (baseline rate ``p_c``, ``p_t = p_c + δ``; Fleiss, Levin & Paik,
*Statistical Methods for Rates and Proportions*, 3rd ed., §4.2). The test statistic uses
the pooled rate ``p̄ = (n_c p_c + n_t p_t) / (n_c + n_t)`` (as :func:`two_proportion_ztest`),
so with ``se₀ = √(p̄(1-p̄)(1/n_c + 1/n_t))`` and ``se₁ = √(p_c(1-p_c)/n_c + p_t(1-p_t)/n_t)``:

    power = Φ((δ - z_{1-α/2} se₀) / se₁) + Φ((-δ - z_{1-α/2} se₀) / se₁)

(as ``statsmodels.stats.proportion.power_proportions_2indep``).

Sample sizes solve ``power(n_c) = target`` by Brent's method and round each variant up;
``SampleSize.power`` is the power at those whole numbers.

Examples
--------
>>> sample_size_means(effect=0.5, sd=2.0, power=0.8)  # doctest: +ELLIPSIS
SampleSize(control=252, treatment=252, total=504, power=0.8013..., exact_control=251.1...)
>>> round(power_means(effect=0.5, sd=2.0, n_control=252), 3)
0.801
>>> sample_size_proportions(baseline=0.10, effect=0.02).control
3841
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from scipy import optimize, special

from firstmile.stats._common import check_level, check_positive

Test = Literal["z", "t"]


@dataclass(frozen=True, slots=True)
class SampleSize:
    """Users per variant (rounded up), their total, and the power they achieve."""

    control: int
    treatment: int
    total: int
    power: float
    exact_control: float


# -- means ----------------------------------------------------------------------------------


def power_means(
    effect: float,
    sd: float,
    n_control: float,
    *,
    ratio: float = 1.0,
    alpha: float = 0.05,
    test: Test = "z",
) -> float:
    """Power of the two-sided test of two means to detect a difference ``effect``."""
    delta = _check_effect(effect)
    sd = check_positive(sd, "sd")
    n_control = check_positive(n_control, "n_control")
    ratio = check_positive(ratio, "ratio")
    alpha = check_level(alpha, "alpha")
    test = _check_test(test)
    return _power_means(delta, sd, n_control, ratio * n_control, alpha, test)


def sample_size_means(
    effect: float,
    sd: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
    test: Test = "z",
) -> SampleSize:
    """Users per variant needed to detect a difference of means ``effect`` with ``power``."""
    delta = _check_effect(effect)
    sd = check_positive(sd, "sd")
    target, alpha = _check_power(power, alpha)
    ratio = check_positive(ratio, "ratio")
    test = _check_test(test)

    def achieved(n_control: float) -> float:
        return _power_means(delta, sd, n_control, ratio * n_control, alpha, test)

    # The t-test needs ν = n_c (1 + ratio) - 2 > 0; start the search at ν = 1.
    smallest = 3.0 / (1.0 + ratio) if test == "t" else 1e-9
    exact = _solve_n(achieved, target, smallest)
    control, treatment = math.ceil(exact - 1e-9), math.ceil(ratio * exact - 1e-9)
    return SampleSize(
        control=control,
        treatment=treatment,
        total=control + treatment,
        power=_power_means(delta, sd, control, treatment, alpha, test),
        exact_control=exact,
    )


def mde_means(
    sd: float,
    n_control: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
    test: Test = "z",
) -> float:
    """The smallest positive difference of means detected with ``power`` at this size.

    >>> round(mde_means(sd=2.0, n_control=252), 4)
    0.4992
    """
    sd = check_positive(sd, "sd")
    n_control = check_positive(n_control, "n_control")
    target, alpha = _check_power(power, alpha)
    ratio = check_positive(ratio, "ratio")
    test = _check_test(test)
    if test == "t" and n_control * (1.0 + ratio) <= 2.0:
        raise ValueError("the t-test needs more than 2 users in total")
    n_treatment = ratio * n_control

    def gap(delta: float) -> float:
        return _power_means(delta, sd, n_control, n_treatment, alpha, test) - target

    high = sd
    while gap(high) < 0.0:
        high *= 2.0
    return float(optimize.brentq(gap, 0.0, high, xtol=1e-14 * high, rtol=1e-14))


def _power_means(
    delta: float, sd: float, n_c: float, n_t: float, alpha: float, test: Test
) -> float:
    noncentrality = delta / (sd * math.sqrt(1.0 / n_c + 1.0 / n_t))
    if test == "z":
        z = float(special.ndtri(1.0 - alpha / 2.0))
        return float(special.ndtr(noncentrality - z) + special.ndtr(-noncentrality - z))
    df = n_c + n_t - 2.0
    critical = float(special.stdtrit(df, 1.0 - alpha / 2.0))
    upper = 1.0 - float(special.nctdtr(df, noncentrality, critical))
    lower = float(special.nctdtr(df, noncentrality, -critical))
    return min(1.0, max(0.0, upper + lower))


# -- proportions ----------------------------------------------------------------------------


def power_proportions(
    baseline: float,
    effect: float,
    n_control: float,
    *,
    ratio: float = 1.0,
    alpha: float = 0.05,
) -> float:
    """Power of the two-proportion z-test to detect ``p_t - p_c = effect``.

    >>> round(power_proportions(0.10, 0.02, 3841), 4)
    0.8
    """
    p_c, p_t = _check_rates(baseline, effect)
    n_control = check_positive(n_control, "n_control")
    ratio = check_positive(ratio, "ratio")
    alpha = check_level(alpha, "alpha")
    return _power_proportions(p_c, p_t, n_control, ratio * n_control, alpha)


def sample_size_proportions(
    baseline: float,
    effect: float,
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    ratio: float = 1.0,
) -> SampleSize:
    """Users per variant needed to detect ``p_t - p_c = effect`` from ``p_c = baseline``.

    ``effect`` is absolute (0.02 = two percentage points); for a relative lift pass
    ``baseline * lift``.
    """
    p_c, p_t = _check_rates(baseline, effect)
    target, alpha = _check_power(power, alpha)
    ratio = check_positive(ratio, "ratio")

    def achieved(n_control: float) -> float:
        return _power_proportions(p_c, p_t, n_control, ratio * n_control, alpha)

    exact = _solve_n(achieved, target, 1e-9)
    control, treatment = math.ceil(exact - 1e-9), math.ceil(ratio * exact - 1e-9)
    return SampleSize(
        control=control,
        treatment=treatment,
        total=control + treatment,
        power=_power_proportions(p_c, p_t, control, treatment, alpha),
        exact_control=exact,
    )


def _power_proportions(p_c: float, p_t: float, n_c: float, n_t: float, alpha: float) -> float:
    delta = p_t - p_c
    pooled = (n_c * p_c + n_t * p_t) / (n_c + n_t)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_t))
    se1 = math.sqrt(p_c * (1.0 - p_c) / n_c + p_t * (1.0 - p_t) / n_t)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    return float(special.ndtr((delta - z * se0) / se1) + special.ndtr((-delta - z * se0) / se1))


# -- shared ---------------------------------------------------------------------------------


def _solve_n(achieved: Callable[[float], float], target: float, smallest: float) -> float:
    """The continuous n_control where ``achieved(n) = target`` (power rises with n)."""
    high = 16.0
    while achieved(high) < target:
        high *= 2.0
        if high > 1e15:
            raise ValueError("the effect is too small to detect with any realistic sample")
    low = min(smallest, high / 2.0)
    if achieved(low) >= target:
        return low
    return float(optimize.brentq(lambda n: achieved(n) - target, low, high, xtol=1e-10, rtol=1e-14))


def _check_effect(effect: float) -> float:
    if isinstance(effect, bool) or not isinstance(effect, int | float):
        raise ValueError(f"effect must be a number, got {effect!r}")
    delta = abs(float(effect))
    if not (math.isfinite(delta) and delta > 0.0):
        raise ValueError(f"effect must be a finite non-zero difference, got {effect!r}")
    return delta


def _check_power(power: float, alpha: float) -> tuple[float, float]:
    target = check_level(power, "power")
    alpha = check_level(alpha, "alpha")
    if target <= alpha:
        raise ValueError(f"power ({target}) must exceed alpha ({alpha})")
    return target, alpha


def _check_test(test: str) -> Test:
    if test == "z":
        return "z"
    if test == "t":
        return "t"
    raise ValueError(f"test must be 'z' or 't', got {test!r}")


def _check_rates(baseline: float, effect: float) -> tuple[float, float]:
    p_c = check_level(baseline, "baseline")
    if isinstance(effect, bool) or not isinstance(effect, int | float) or effect == 0:
        raise ValueError(f"effect must be a non-zero difference of rates, got {effect!r}")
    p_t = p_c + float(effect)
    if not 0.0 < p_t < 1.0:
        raise ValueError(f"baseline + effect must be a rate in (0, 1), got {p_t!r}")
    return p_c, p_t
