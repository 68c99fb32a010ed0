# ruff: noqa: RUF002 - the docstrings write formulas in math notation
"""Ratio metrics: the delta-method test of ``Σy / Σd`` between two variants.

A ratio metric divides two per-user sums: revenue per session, errors per page view,
clicks per impression. Users are the randomized unit, so a variant's value is the ratio of
means ``R = ȳ / d̄ = Σy / Σd`` over its users (not the mean of per-user ratios, and not a
mean over sessions: sessions of one user are not independent).

**Inputs.** A ratio metric reuses :class:`Moments`, with the *denominator* in the
covariate slots: ``sum``/``sum_sq`` are Σy and Σy², ``sum_x``/``sum_x_sq`` are Σd and Σd²,
and ``sum_xy`` is Σy·d. So ``Moments.from_values(y, covariate=d)`` builds them and SQL stores
the same six sums for every kind of metric. CUPED therefore does not apply to ratio metrics
(the covariate slots are taken).

**The delta method** (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric
Analytics", KDD, §3). With sample (co)variances s_y², s_d², s_yd (ddof = 1),

    Var(R̂) ≈ (s_y² - 2 R s_yd + R² s_d²) / (n · d̄²),

the variance of the mean of the linearized values ``u_i = R + (y_i - R d_i) / d̄`` (the
first-order Taylor expansion of ``ȳ / d̄`` around the means). Then for two independent
variants:

* ``Δ = R_t - R_c`` with ``Var(Δ) = Var(R̂_t) + Var(R̂_c)``, ``z = Δ / √Var(Δ)``,
  ``p = 2 Φ(-|z|)``, interval ``Δ ± z_{1-α/2} √Var(Δ)``;
* ``r = R_t / R_c - 1`` with ``Var(r) ≈ Var(R̂_t)/R_c² + R_t² Var(R̂_c)/R_c⁴`` and
  interval ``r ± z_{1-α/2} √Var(r)``.

:func:`linearize_ratio` returns the moments of ``u``: any mean-based function
(:func:`~firstmile.stats.sequential_test`, :func:`~firstmile.stats.gaussian_test`, the
power calculator with ``sd = std``) then reads a ratio metric with the delta-method
variance.

Examples
--------
>>> control = Moments.from_values([2.0, 0.0, 3.0, 1.0], covariate=[2.0, 1.0, 2.0, 1.0])
>>> treatment = Moments.from_values([4.0, 1.0, 3.0, 2.0], covariate=[2.0, 1.0, 3.0, 1.0])
>>> r = ratio_test(control, treatment)
>>> r.control_mean, round(r.treatment_mean, 4), round(r.absolute, 4)
(1.0, 1.4286, 0.4286)
>>> round(r.p_value, 4)
0.2964
"""

from __future__ import annotations

import math
from dataclasses import replace

from scipy import special

from firstmile.stats._common import (
    check_level,
    check_moments,
    clamp_probability,
    finite,
    interval,
    relative_with_interval,
)
from firstmile.stats.frequentist import FrequentistResult, means_only
from firstmile.stats.moments import ZERO_VARIANCE_RTOL, Moments, centered_ss


def linearize_ratio(arm: Moments) -> Moments | None:
    """The moments of ``u_i = R + (y_i - R d_i) / d̄``: mean R̂, delta-method variance.

    ``arm`` holds y in ``sum``/``sum_sq`` and the denominator d in ``sum_x``/``sum_x_sq``
    (``sum_xy`` = Σy·d). Returns None when the ratio is undefined (no users, or Σd = 0).
    The covariate slots of the result are 0.

    >>> linearize_ratio(Moments.from_values([2.0, 4.0], covariate=[1.0, 1.0])).mean
    3.0
    """
    arm = check_moments(arm, "arm")
    if arm.n == 0 or arm.sum_x == 0.0:
        return None
    n = arm.n
    ratio = arm.sum / arm.sum_x
    mean_d = arm.sum_x / n
    ss = _linearized_ss(arm, ratio)
    # Written as (ss / d̄) / d̄ so no intermediate square over- or underflows.
    spread = ss / mean_d / mean_d
    total = n * ratio
    if not (math.isfinite(spread) and math.isfinite(total)):
        return None
    return Moments(n=n, sum=total, sum_sq=spread + total * ratio)


def ratio_test(control: Moments, treatment: Moments, *, alpha: float = 0.05) -> FrequentistResult:
    """Delta-method z-test of ``Σy_t/Σd_t - Σy_c/Σd_c`` (see the module doc; two-sided).

    ``control_mean`` and ``treatment_mean`` of the result are the ratios. Bad input never
    raises: no users, a zero denominator, n < 2 or zero variance give ``None`` where a
    number cannot be computed, with the reason in ``warnings``.
    """
    alpha = check_level(alpha, "alpha")
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    warnings: list[str] = []
    c = _summary("control", control, warnings)
    t = _summary("treatment", treatment, warnings)
    mc, mt = _ratio(control), _ratio(treatment)
    result = means_only("delta-method ratio", alpha, mc, mt, warnings)
    if c is None or t is None or mc is None or mt is None:
        return result
    (ratio_c, var_c), (ratio_t, var_t) = c, t
    for label, variance in (("control", var_c), ("treatment", var_t)):
        if variance == 0.0:
            warnings.append(f"{label}: zero variance of the ratio (y = R·d for every user)")
    variance = var_c + var_t
    diff = ratio_t - ratio_c
    if variance == 0.0:
        warnings.append("zero variance in both variants: the ratio test is undefined")
        return replace(result, warnings=tuple(warnings))
    se = math.sqrt(variance)
    z_crit = float(special.ndtri(1.0 - alpha / 2.0))
    statistic = diff / se
    p_value = clamp_probability(2.0 * float(special.ndtr(-abs(statistic))))
    relative, relative_ci = relative_with_interval(
        (ratio_c, ratio_t), (var_c, var_t), z_crit, warnings, what="control ratio"
    )
    return FrequentistResult(
        method="delta-method ratio",
        alpha=alpha,
        control_mean=ratio_c,
        treatment_mean=ratio_t,
        absolute=finite(diff, "absolute effect", warnings),
        absolute_ci=interval(diff, z_crit * se, "absolute interval", warnings),
        relative=relative,
        relative_ci=relative_ci,
        statistic=finite(statistic, "z statistic", warnings),
        p_value=p_value,
        df=None,
        standard_error=finite(se, "standard error", warnings),
        warnings=tuple(warnings),
    )


def _summary(label: str, arm: Moments, warnings: list[str]) -> tuple[float, float] | None:
    """``(R̂, Var(R̂))`` of one variant, or None with a warning."""
    if arm.n == 0:
        warnings.append(f"{label}: empty variant (n = 0)")
        return None
    if arm.sum_x == 0.0:
        warnings.append(f"{label}: the denominator sums to 0, so the ratio is undefined")
        return None
    if arm.n < 2:
        warnings.append(f"{label}: n = 1, the variance is undefined")
        return None
    ratio = arm.sum / arm.sum_x
    mean_d = arm.sum_x / arm.n
    variance = _linearized_ss(arm, ratio) / (arm.n - 1) / arm.n / mean_d / mean_d
    if not math.isfinite(variance):
        warnings.append(f"{label}: the ratio's variance is not finite")
        return None
    return ratio, variance


def _linearized_ss(arm: Moments, ratio: float) -> float:
    """``Σ (y - R d)²`` from centered sums (``Σ (y - R d) = 0`` at ``R = Σy/Σd``)."""
    n = arm.n
    ss_y = centered_ss(n, arm.sum, arm.sum_sq)
    ss_d = centered_ss(n, arm.sum_x, arm.sum_x_sq)
    cross = arm.sum_xy - arm.sum * arm.sum_x / n
    value = ss_y - 2.0 * ratio * cross + ratio * ratio * ss_d
    # Below the rounding noise of the raw sums it is 0: y = R·d for every user.
    noise = ZERO_VARIANCE_RTOL * (arm.sum_sq + ratio * ratio * arm.sum_x_sq)
    return 0.0 if value <= noise else value


def _ratio(arm: Moments) -> float | None:
    return None if arm.n == 0 or arm.sum_x == 0.0 else arm.sum / arm.sum_x
