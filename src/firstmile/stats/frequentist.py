# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""Fixed-horizon tests: Welch's t-test for means and the two-proportion z-test.

Both compare a treatment with a control and report the absolute effect ``mt - mc`` with
its confidence interval, the relative effect ``mt / mc - 1`` with a delta-method interval,
the test statistic and the two-sided p-value. Read them once, at the planned sample size:
looking every day and stopping at the first ``p < alpha`` inflates the false-positive rate
(use :func:`firstmile.stats.sequential_test` for that).

**Welch's t-test** (Welch 1947, "The generalization of Student's problem when several
different population variances are involved", Biometrika 34):

* ``se² = s_t² / n_t + s_c² / n_c`` (sample variances, ddof = 1);
* ``t = (ȳ_t - ȳ_c) / se`` with Welch–Satterthwaite degrees of freedom
  ``ν = se⁴ / ((s_t²/n_t)² / (n_t - 1) + (s_c²/n_c)² / (n_c - 1))``;
* ``p = 2 · T_ν(-|t|)``; the interval is ``ȳ_t - ȳ_c ± t_{ν, 1-α/2} · se``.

It matches ``scipy.stats.ttest_ind(treatment, control, equal_var=False)``.

**Two-proportion z-test** (e.g. Agresti, *Categorical Data Analysis*, 3rd ed., §3.1):

* the statistic uses the pooled rate ``p̂ = (x_t + x_c) / (n_t + n_c)``:
  ``z = (p̂_t - p̂_c) / √(p̂(1 - p̂)(1/n_t + 1/n_c))``, ``p = 2 · Φ(-|z|)``
  (as ``statsmodels.stats.proportion.proportions_ztest``);
* the interval is the unpooled Wald interval
  ``p̂_t - p̂_c ± z_{1-α/2} √(p̂_t(1-p̂_t)/n_t + p̂_c(1-p̂_c)/n_c)``.

**Relative effect** (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric
Analytics", KDD): ``r = ȳ_t / ȳ_c - 1`` with
``Var(r) ≈ Var(ȳ_t) / ȳ_c² + ȳ_t² Var(ȳ_c) / ȳ_c⁴`` and the normal interval
``r ± z_{1-α/2} √Var(r)``.

Bad input never raises: an empty variant, n < 2, zero variance or a zero control mean give
``None`` for what cannot be computed and say why in ``warnings``. Invalid arguments
(``alpha`` outside (0, 1), moments that are not :class:`Moments`) raise ValueError.

Examples
--------
>>> control = Moments.from_values([4.0, 5.0, 6.0, 5.0])
>>> treatment = Moments.from_values([6.0, 7.0, 8.0, 7.0])
>>> result = welch_test(control, treatment)
>>> result.absolute, round(result.relative, 3), round(result.p_value, 4)
(2.0, 0.4, 0.0134)
>>> result.significant
True
>>> welch_test(Moments(), treatment).warnings
('control: empty variant (n = 0)',)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scipy import special

from firstmile.stats._common import (
    Interval,
    check_binary,
    check_level,
    check_moments,
    clamp_probability,
    finite,
    interval,
    relative_effect,
    summarize,
)
from firstmile.stats.moments import Moments


@dataclass(frozen=True, slots=True)
class FrequentistResult:
    """A fixed-horizon comparison of a treatment with a control.

    Every number is a finite float or None (never NaN); ``warnings`` says why a value is
    missing or should be read with care. ``standard_error`` is the one the statistic
    divides by (pooled for the z-test); ``df`` is Welch's ν (None for the z-test).
    """

    method: str
    alpha: float
    control_mean: float | None
    treatment_mean: float | None
    absolute: float | None
    absolute_ci: Interval | None
    relative: float | None
    relative_ci: Interval | None
    statistic: float | None
    p_value: float | None
    df: float | None
    standard_error: float | None
    warnings: tuple[str, ...] = ()

    @property
    def significant(self) -> bool | None:
        """``p_value < alpha``; None when there is no p-value."""
        return None if self.p_value is None else self.p_value < self.alpha


def welch_test(control: Moments, treatment: Moments, *, alpha: float = 0.05) -> FrequentistResult:
    """Welch's unequal-variance t-test of ``mean(treatment) - mean(control)`` (two-sided)."""
    alpha = check_level(alpha, "alpha")
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    warnings: list[str] = []
    c = summarize("control", control, warnings)
    t = summarize("treatment", treatment, warnings)
    empty = _empty(control, treatment, "welch", alpha, warnings)
    if c is None or t is None:
        return empty
    for label, arm in (("control", c), ("treatment", t)):
        if arm.variance == 0.0:
            warnings.append(f"{label}: zero variance (every value is {arm.mean:g})")
    var_c, var_t = c.variance / c.n, t.variance / t.n
    se2 = var_c + var_t
    diff = t.mean - c.mean
    if se2 == 0.0:
        warnings.append("zero variance in both variants: the t-test is undefined")
        return replace(empty, warnings=tuple(warnings))
    se = math.sqrt(se2)
    df = _welch_df(var_c, c.n, var_t, t.n)
    statistic = diff / se
    p_value = clamp_probability(2.0 * float(special.stdtr(df, -abs(statistic))))
    critical = float(special.stdtrit(df, 1.0 - alpha / 2.0))
    relative, relative_ci = _relative(c.mean, var_c, t.mean, var_t, alpha, warnings)
    return FrequentistResult(
        method="welch",
        alpha=alpha,
        control_mean=c.mean,
        treatment_mean=t.mean,
        absolute=finite(diff, "absolute effect", warnings),
        absolute_ci=interval(diff, critical * se, "absolute interval", warnings),
        relative=relative,
        relative_ci=relative_ci,
        statistic=finite(statistic, "t statistic", warnings),
        p_value=p_value,
        df=finite(df, "degrees of freedom", warnings),
        standard_error=finite(se, "standard error", warnings),
        warnings=tuple(warnings),
    )


def two_proportion_ztest(
    control: Moments, treatment: Moments, *, alpha: float = 0.05
) -> FrequentistResult:
    """Two-sided z-test of ``p_treatment - p_control`` for 0/1 conversion metrics.

    The moments must be those of 0/1 values (``sum == sum_sq``), for example from
    :meth:`Moments.from_counts`; anything else is a ValueError.

    >>> r = two_proportion_ztest(Moments.from_counts(1000, 100), Moments.from_counts(1000, 130))
    >>> round(r.absolute, 3), round(r.statistic, 4), round(r.p_value, 4)
    (0.03, 2.1027, 0.0355)
    """
    alpha = check_level(alpha, "alpha")
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    check_binary(control, "control", "the two-proportion z-test")
    check_binary(treatment, "treatment", "the two-proportion z-test")
    warnings: list[str] = []
    for label, arm in (("control", control), ("treatment", treatment)):
        if arm.n == 0:
            warnings.append(f"{label}: empty variant (n = 0)")
    empty = _empty(control, treatment, "two-proportion z", alpha, warnings)
    if control.n == 0 or treatment.n == 0:
        return empty
    n_c, n_t = control.n, treatment.n
    p_c, p_t = control.sum / n_c, treatment.sum / n_t
    for label, rate in (("control", p_c), ("treatment", p_t)):
        if rate in (0.0, 1.0):
            word = "no user" if rate == 0.0 else "every user"
            warnings.append(
                f"{label}: {word} converted; the Wald interval understates the uncertainty"
            )
    diff = p_t - p_c
    pooled = (control.sum + treatment.sum) / (n_c + n_t)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_c + 1.0 / n_t))
    if se0 == 0.0:
        word = "no user" if pooled == 0.0 else "every user"
        warnings.append(f"no variation: {word} converted in either variant; the test is undefined")
        return replace(empty, warnings=tuple(warnings))
    statistic = diff / se0
    p_value = clamp_probability(2.0 * float(special.ndtr(-abs(statistic))))
    var_c, var_t = p_c * (1.0 - p_c) / n_c, p_t * (1.0 - p_t) / n_t
    se1 = math.sqrt(var_c + var_t)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    absolute_ci: Interval | None = None
    if se1 > 0.0:
        absolute_ci = interval(diff, z * se1, "absolute interval", warnings)
    else:
        warnings.append("both rates are 0 or 1: the Wald interval is undefined")
    relative, relative_ci = _relative(p_c, var_c, p_t, var_t, alpha, warnings)
    return FrequentistResult(
        method="two-proportion z",
        alpha=alpha,
        control_mean=p_c,
        treatment_mean=p_t,
        absolute=diff,
        absolute_ci=absolute_ci,
        relative=relative,
        relative_ci=relative_ci,
        statistic=finite(statistic, "z statistic", warnings),
        p_value=p_value,
        df=None,
        standard_error=se0,
        warnings=tuple(warnings),
    )


def _welch_df(var_c: float, n_c: int, var_t: float, n_t: int) -> float:
    """Welch–Satterthwaite ν, scaled by the larger variance so no square underflows."""
    scale = max(var_c, var_t)
    a, b = var_c / scale, var_t / scale
    return (a + b) * (a + b) / (a * a / (n_c - 1) + b * b / (n_t - 1))


def _relative(
    mean_c: float, var_c: float, mean_t: float, var_t: float, alpha: float, warnings: list[str]
) -> tuple[float | None, Interval | None]:
    effect = relative_effect(mean_c, var_c, mean_t, var_t)
    if effect is None:
        warnings.append("control mean is 0: the relative effect is undefined")
        return None, None
    relative, variance = effect
    if variance == 0.0:
        return finite(relative, "relative effect", warnings), None
    z = float(special.ndtri(1.0 - alpha / 2.0))
    return (
        finite(relative, "relative effect", warnings),
        interval(relative, z * math.sqrt(variance), "relative interval", warnings),
    )


def _empty(
    control: Moments, treatment: Moments, method: str, alpha: float, warnings: list[str]
) -> FrequentistResult:
    """A result with only the means (and their difference) that exist."""
    return means_only(method, alpha, control.mean, treatment.mean, warnings)


def means_only(
    method: str,
    alpha: float,
    control_mean: float | None,
    treatment_mean: float | None,
    warnings: list[str],
) -> FrequentistResult:
    """A result with only the given means (and their difference, when both exist)."""
    mc, mt = control_mean, treatment_mean
    return FrequentistResult(
        method=method,
        alpha=alpha,
        control_mean=mc,
        treatment_mean=mt,
        absolute=None if mc is None or mt is None else mt - mc,
        absolute_ci=None,
        relative=None,
        relative_ci=None,
        statistic=None,
        p_value=None,
        df=None,
        standard_error=None,
        warnings=tuple(warnings),
    )
