# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""Sequential testing: always-valid confidence intervals for a difference of means.

A fixed-horizon interval covers the true effect with probability ``1 - α`` at *one*
pre-planned look. Looking every day and stopping at the first significant result breaks
that guarantee (the false-positive rate of a 5% t-test read daily for four weeks is well
above 20%). A **confidence sequence** ``(C_N)`` instead satisfies

    P(for every N: δ ∈ C_N) ≥ 1 - α,

so its intervals may be read after every user, every day, or at any data-dependent time,
and an experiment stopped as soon as ``C_N`` excludes 0 has a false-positive rate of at
most ``α``. That is what *always valid* means here.

**The normal-mixture boundary** (Robbins 1970; the mixture SPRT of Johari, Koomen, Pekelis
& Walsh 2022, "Always Valid Inference: Continuous Monitoring of A/B Tests", Operations
Research 70(3); as a confidence sequence, Howard, Ramdas, McAuliffe & Sekhon 2021,
"Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of Statistics
49(2), and with an estimated variance, Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas 2024,
"Time-uniform central limit theory and asymptotic confidence sequences", Annals of
Statistics 52(6)). With ``N = n_c + n_t`` users so far, the estimate
``δ̂ = ȳ_t - ȳ_c`` and its variance ``V = s_t²/n_t + s_c²/n_c``, mixing the likelihood ratio
of ``H₀: δ = δ₀`` over ``δ ~ N(δ₀, τ²)`` gives the mixture likelihood ratio

    Λ_N = √(V / (V + τ²)) · exp(τ² (δ̂ - δ₀)² / (2 V (V + τ²))),

a nonnegative (super)martingale under ``H₀``, so by Ville's inequality
``P(sup_N Λ_N ≥ 1/α) ≤ α``. Writing ``r = τ² / V`` and inverting ``Λ_N < 1/α``:

    C_N = δ̂ ± √V · √( (1 + r)/r · (ln(1 + r) + 2 ln(1/α)) ),
    p_N = min(1, √(1 + r) · exp(-r z² / (2 (1 + r)))),   z = δ̂ / √V.

The mixing variance is set on the standardized scale, ``r = r* · N / N*``, where ``N*`` is
``tuning_n`` — the total sample size at which the interval is tightest — and
``r* = 2 ln(1/α) + ln(1 + 2 ln(1/α))`` (Waudby-Smith et al. 2024, the approximate
minimizer of the width at ``N*``; GrowthBook's "estimated sample size" is the same knob).
At ``N*`` and ``α = 5%`` the interval is about 1.55 times the fixed-horizon one; any
``tuning_n`` is valid, a good guess only makes it narrower.

``p_N`` is the always-valid p-value at this look: rejecting whenever it is ``< α`` at any
look keeps the false-positive rate ``≤ α``; the running minimum over looks may be reported
too. Validity is exact for Gaussian data with known variance and asymptotic (as the
variance estimate settles) otherwise; the relative effect uses the delta-method variance
of ``ȳ_t / ȳ_c - 1`` in the same boundary. ``tuning_n`` must be fixed before the
experiment starts, not chosen from the data.

Examples
--------
>>> control = Moments(n=5000, sum=5000 * 10.0, sum_sq=5000 * (100.0 + 4.0))
>>> treatment = Moments(n=5000, sum=5000 * 10.2, sum_sq=5000 * (10.2**2 + 4.0))
>>> r = sequential_test(control, treatment, tuning_n=10_000)
>>> round(r.absolute, 3), round(r.absolute_ci.lower, 4), round(r.absolute_ci.upper, 4)
(0.2, 0.0786, 0.3214)
>>> r.significant
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from firstmile.stats._common import (
    Interval,
    check_level,
    check_moments,
    clamp_probability,
    finite,
    interval,
    relative_with_interval,
    summarize,
)
from firstmile.stats.moments import Moments


@dataclass(frozen=True, slots=True)
class SequentialResult:
    """One look at a running experiment: always-valid intervals and p-value.

    Every number is a finite float or None (never NaN); ``warnings`` says why.
    """

    alpha: float
    tuning_n: int
    n: int
    control_mean: float | None
    treatment_mean: float | None
    absolute: float | None
    absolute_ci: Interval | None
    relative: float | None
    relative_ci: Interval | None
    p_value: float | None
    standard_error: float | None
    warnings: tuple[str, ...] = ()

    @property
    def significant(self) -> bool | None:
        """``p_value < alpha`` (the interval excludes 0); None without a p-value."""
        return None if self.p_value is None else self.p_value < self.alpha


def mixture_ratio(n: int, tuning_n: int, alpha: float) -> float:
    """``r = τ² / V = r* · n / tuning_n`` with ``r* = 2 ln(1/α) + ln(1 + 2 ln(1/α))``.

    >>> round(mixture_ratio(1000, 1000, 0.05), 4)
    7.9362
    """
    two_log = 2.0 * math.log(1.0 / alpha)
    return (two_log + math.log1p(two_log)) * n / tuning_n


def boundary_multiplier(n: int, tuning_n: int, alpha: float) -> float:
    """The half-width of the confidence sequence in standard errors at ``n`` users.

    ``√((1 + r)/r · (ln(1 + r) + 2 ln(1/α)))`` with ``r = mixture_ratio(n, tuning_n, α)``;
    compare 1.96 for a fixed-horizon 95% interval.

    >>> round(boundary_multiplier(1000, 1000, 0.05), 3)
    3.035
    """
    r = mixture_ratio(n, tuning_n, alpha)
    return math.sqrt((1.0 + r) / r * (math.log1p(r) + 2.0 * math.log(1.0 / alpha)))


def sequential_test(
    control: Moments, treatment: Moments, *, tuning_n: int, alpha: float = 0.05
) -> SequentialResult:
    """Always-valid comparison of two means at this look (see the module doc).

    ``tuning_n`` is the planned total number of users (both variants), fixed in advance.
    """
    alpha = check_level(alpha, "alpha")
    if isinstance(tuning_n, bool) or not isinstance(tuning_n, int | np.integer) or tuning_n < 1:
        raise ValueError(f"tuning_n must be a positive integer (planned users), got {tuning_n!r}")
    tuning_n = int(tuning_n)
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    warnings: list[str] = []
    c = summarize("control", control, warnings)
    t = summarize("treatment", treatment, warnings)
    mc, mt = control.mean, treatment.mean
    n = control.n + treatment.n
    empty = SequentialResult(
        alpha=alpha,
        tuning_n=tuning_n,
        n=n,
        control_mean=mc,
        treatment_mean=mt,
        absolute=None if mc is None or mt is None else mt - mc,
        absolute_ci=None,
        relative=None,
        relative_ci=None,
        p_value=None,
        standard_error=None,
        warnings=tuple(warnings),
    )
    if c is None or t is None:
        return empty
    var_c, var_t = c.variance / c.n, t.variance / t.n
    variance = var_c + var_t
    diff = t.mean - c.mean
    if variance == 0.0:
        warnings.append("zero variance in both variants: the sequential test is undefined")
        return replace(empty, warnings=tuple(warnings))
    se = math.sqrt(variance)
    r = mixture_ratio(n, tuning_n, alpha)
    multiplier = boundary_multiplier(n, tuning_n, alpha)
    z = diff / se
    log_p = 0.5 * math.log1p(r) - r * z * z / (2.0 * (1.0 + r))
    p_value = clamp_probability(math.exp(min(0.0, log_p)))
    relative, relative_ci = relative_with_interval(
        (c.mean, t.mean), (var_c, var_t), multiplier, warnings
    )
    return SequentialResult(
        alpha=alpha,
        tuning_n=tuning_n,
        n=n,
        control_mean=c.mean,
        treatment_mean=t.mean,
        absolute=finite(diff, "absolute effect", warnings),
        absolute_ci=interval(diff, multiplier * se, "absolute interval", warnings),
        relative=relative,
        relative_ci=relative_ci,
        p_value=p_value,
        standard_error=finite(se, "standard error", warnings),
        warnings=tuple(warnings),
    )
