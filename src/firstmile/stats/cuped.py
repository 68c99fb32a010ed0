# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""CUPED: variance reduction with a pre-exposure covariate.

Deng, Xu, Kohavi & Walker 2013, "Improving the Sensitivity of Online Controlled Experiments
by Utilizing Pre-Experiment Data" (WSDM). Each user's metric ``y`` is replaced by

    y' = y - θ (x - μ_x)

where ``x`` is a covariate measured *before* exposure (so the treatment cannot move it:
usually the same metric over the weeks before the experiment), ``μ_x`` its mean over all
users of both variants, and

    θ = Σ_arms Σ (x - x̄_arm)(y - ȳ_arm) / Σ_arms Σ (x - x̄_arm)²

the pooled within-variant regression slope. The expected difference of means is unchanged
(``E[x̄_t - x̄_c] = 0`` under randomization) while each variant's variance falls from
``Var(y)`` to ``Var(y) (1 - ρ²)``, ``ρ`` the correlation of ``x`` and ``y``.

With this within-variant θ the adjusted difference ``(ȳ_t - ȳ_c) - θ (x̄_t - x̄_c)`` is
exactly the coefficient of the treatment indicator in the OLS fit ``y ~ 1 + T + x``
(ANCOVA; Frisch–Waugh–Lovell), which the tests check against statsmodels. Deng et al. fit θ
on the pooled data without the per-variant centering; the two agree to O(1/n) under
randomization. θ is then treated as known, as in the paper (its estimation error is
O(1/n)).

Everything runs on :class:`Moments` (``sum_x``, ``sum_x_sq`` and ``sum_xy`` carry the
covariate): :func:`cuped_adjust` returns the *adjusted* moments, which any test in
:mod:`firstmile.stats` then reads — :func:`cuped_test` is the Welch test on them.

Examples
--------
>>> control = Moments.from_values([1.0, 2.0, 3.0, 4.0], covariate=[1.0, 2.0, 3.0, 5.0])
>>> treatment = Moments.from_values([2.0, 4.0, 4.0, 6.0], covariate=[1.0, 3.0, 3.0, 5.0])
>>> adjustment = cuped_adjust(control, treatment)
>>> round(adjustment.theta, 4), round(adjustment.variance_reduction, 3)
(0.8657, 0.966)
>>> round(cuped_test(control, treatment).test.absolute, 4)
1.2836
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from firstmile.stats._common import check_level, check_moments
from firstmile.stats.frequentist import FrequentistResult, welch_test
from firstmile.stats.moments import Moments, centered_ss


@dataclass(frozen=True, slots=True)
class CupedAdjustment:
    """θ, the pooled covariate mean, and each variant's moments of ``y - θ (x - μ_x)``.

    ``variance_reduction`` is ``1 - Σ SS(y') / Σ SS(y)`` over both variants (within-variant
    sums of squares), about ``ρ²``; None when ``y`` does not vary.
    """

    theta: float
    covariate_mean: float | None
    control: Moments
    treatment: Moments
    variance_reduction: float | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CupedResult:
    """The adjustment and the Welch test of the adjusted metric."""

    adjustment: CupedAdjustment
    test: FrequentistResult

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.adjustment.warnings + self.test.warnings


def cuped_adjust(control: Moments, treatment: Moments) -> CupedAdjustment:
    """The CUPED-adjusted moments of both variants (see the module doc)."""
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    warnings: list[str] = []
    arms = (control, treatment)
    n_total = control.n + treatment.n
    ss_x = sum(centered_ss(arm.n, arm.sum_x, arm.sum_x_sq) for arm in arms)
    cross = sum(_cross(arm) for arm in arms)
    if all(arm.sum_x == 0.0 and arm.sum_x_sq == 0.0 for arm in arms):
        warnings.append("no covariate (its sums are all 0): no adjustment")
        theta = 0.0
    elif ss_x == 0.0:
        warnings.append("the covariate does not vary within variants: no adjustment")
        theta = 0.0
    else:
        theta = cross / ss_x
    covariate_mean = (control.sum_x + treatment.sum_x) / n_total if n_total else None
    mu = covariate_mean or 0.0
    try:
        adjusted = (_adjusted(control, theta, mu), _adjusted(treatment, theta, mu))
    except ValueError:  # θ so large the adjusted sums overflow: the covariate is degenerate
        warnings.append(f"the adjustment overflows (θ = {theta:.3g}): no adjustment")
        theta, adjusted = 0.0, (control, treatment)
    ss_y = sum(centered_ss(arm.n, arm.sum, arm.sum_sq) for arm in arms)
    ss_adjusted = sum(centered_ss(arm.n, arm.sum, arm.sum_sq) for arm in adjusted)
    return CupedAdjustment(
        theta=theta,
        covariate_mean=covariate_mean,
        control=adjusted[0],
        treatment=adjusted[1],
        variance_reduction=1.0 - ss_adjusted / ss_y if ss_y > 0.0 else None,
        warnings=tuple(warnings),
    )


def cuped_test(control: Moments, treatment: Moments, *, alpha: float = 0.05) -> CupedResult:
    """Welch's t-test on the CUPED-adjusted metric (effects in the metric's own units)."""
    alpha = check_level(alpha, "alpha")
    adjustment = cuped_adjust(control, treatment)
    test = welch_test(adjustment.control, adjustment.treatment, alpha=alpha)
    return CupedResult(adjustment=adjustment, test=replace(test, method="welch (CUPED)"))


def _cross(arm: Moments) -> float:
    """Σ (x - x̄)(y - ȳ) within one variant."""
    return arm.sum_xy - arm.sum * arm.sum_x / arm.n if arm.n else 0.0


def _adjusted(arm: Moments, theta: float, mu: float) -> Moments:
    """The moments of ``y' = y - θ (x - μ)``, built from centered sums for accuracy."""
    if arm.n == 0 or theta == 0.0:
        return arm
    n = arm.n
    ss_y = centered_ss(n, arm.sum, arm.sum_sq)
    ss_x = centered_ss(n, arm.sum_x, arm.sum_x_sq)
    cross = _cross(arm)
    mean = (arm.sum - theta * (arm.sum_x - n * mu)) / n
    ss = max(0.0, ss_y - 2.0 * theta * cross + theta * theta * ss_x)
    total = n * mean
    return Moments(
        n=n,
        sum=total,
        sum_sq=ss + total * total / n,
        sum_x=arm.sum_x,
        sum_x_sq=arm.sum_x_sq,
        sum_xy=(cross - theta * ss_x) + arm.sum_x * total / n,
    )
