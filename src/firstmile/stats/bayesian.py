# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""Bayesian comparisons: Beta-Binomial for conversions, a Gaussian model for means.

Both report, for a treatment against a control:

* ``chance_to_beat`` — the posterior probability ``P(μ_t > μ_c | data)``;
* ``expected_loss`` — ``E[max(μ_c - μ_t, 0) | data]``, what shipping the treatment costs
  on average if it is in fact worse (in metric units; Stucchio 2015, "Bayesian A/B Testing
  at VWO"), and ``expected_loss_control`` — ``E[max(μ_t - μ_c, 0)]``, the cost of keeping
  the control;
* equal-tailed credible intervals for each variant, for ``μ_t - μ_c`` and ``μ_t / μ_c - 1``.

**Beta-Binomial** (conjugate; e.g. Gelman et al., *Bayesian Data Analysis*, 3rd ed., §2.4).
With a ``Beta(a, b)`` prior and ``x`` conversions among ``n`` users the posterior is
``Beta(a + x, b + n - x)``. With ``X ~ Beta(a₁, b₁)`` and ``Y ~ Beta(a₂, b₂)`` independent,

* ``P(X > Y) = ∫₀¹ f_X(p) F_Y(p) dp``, computed by adaptive quadrature over the range
  holding all but 2·10⁻¹⁵ of the mass (the exact finite sum of Miller 2015, "Formulas for
  Bayesian A/B Testing", holds for integer ``a``; the tests check against it);
* ``E[max(Y - X, 0)] = E[Y] · P(Y⁺ > X) - E[X] · P(Y > X⁺)`` where ``Y⁺ ~ Beta(a₂ + 1, b₂)``
  and ``X⁺ ~ Beta(a₁ + 1, b₁)`` (size-biasing: ``E[Y·1{Y > X}] = E[Y] · P(Y⁺ > X)``);
* the credible intervals of ``X - Y`` and ``X / Y`` invert their exact distribution
  functions ``P(X - Y ≤ d) = ∫ f_Y(p) F_X(p + d) dp`` and
  ``P(X / Y ≤ s) = ∫ f_Y(p) F_X(s·p) dp`` by root finding (no Monte Carlo).

**Gaussian** (flat prior on each mean, variance plugged in; BDA3 §3.2 in the large-sample
limit, as GrowthBook's and most product-analytics Bayesian engines do). Each mean's
posterior is ``N(ȳ, s²/n)``; the difference ``D = μ_t - μ_c`` is ``N(ȳ_t - ȳ_c, V)`` with
``V = s_t²/n_t + s_c²/n_c``, so with ``m = ȳ_t - ȳ_c`` and ``σ = √V``:

* ``chance_to_beat = Φ(m / σ)``;
* ``expected_loss = σ φ(m/σ) - m Φ(-m/σ)``, ``expected_loss_control = σ φ(m/σ) + m Φ(m/σ)``;
* intervals ``m ± z σ``; the relative interval uses the delta method (as in
  :mod:`firstmile.stats.frequentist`).

Examples
--------
>>> r = beta_binomial_test(Moments.from_counts(1000, 100), Moments.from_counts(1000, 130))
>>> round(r.chance_to_beat, 4), round(r.expected_loss, 6)
(0.9822, 9.2e-05)
>>> r = gaussian_test(Moments.from_values([4.0, 5.0, 6.0]), Moments.from_values([5.0, 6.0, 7.0]))
>>> round(r.chance_to_beat, 4)
0.8897
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from scipy import integrate, optimize, special

from firstmile.stats._common import (
    Interval,
    check_binary,
    check_level,
    check_moments,
    check_positive,
    clamp_probability,
    finite,
    interval,
    relative_with_interval,
    summarize,
)
from firstmile.stats.moments import Moments

#: Probability mass left out at each end of a Beta posterior when integrating.
_TAIL: Final = 1e-15
_QUAD_OPTIONS: Final = {"epsabs": 1e-14, "epsrel": 1e-11, "limit": 200}


@dataclass(frozen=True, slots=True)
class BayesianResult:
    """A Bayesian comparison of a treatment with a control (see the module doc).

    Every number is a finite float or None (never NaN); ``warnings`` says why.
    """

    model: str
    credibility: float
    control_mean: float | None
    treatment_mean: float | None
    control_interval: Interval | None
    treatment_interval: Interval | None
    absolute: float | None
    absolute_interval: Interval | None
    relative: float | None
    relative_interval: Interval | None
    chance_to_beat: float | None
    expected_loss: float | None
    expected_loss_control: float | None
    warnings: tuple[str, ...] = ()


# -- Beta-Binomial --------------------------------------------------------------------------


def beta_binomial_test(
    control: Moments,
    treatment: Moments,
    *,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
    credibility: float = 0.95,
) -> BayesianResult:
    """Beta-Binomial comparison of two conversion rates (0/1 metrics).

    The prior ``Beta(prior_alpha, prior_beta)`` (uniform by default) applies to both
    variants. An empty variant keeps the prior as its posterior, with a warning.
    """
    credibility = check_level(credibility, "credibility")
    a0 = check_positive(prior_alpha, "prior_alpha")
    b0 = check_positive(prior_beta, "prior_beta")
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    check_binary(control, "control", "the Beta-Binomial model")
    check_binary(treatment, "treatment", "the Beta-Binomial model")
    warnings: list[str] = []
    for label, arm in (("control", control), ("treatment", treatment)):
        if arm.n == 0:
            warnings.append(f"{label}: empty variant (n = 0): its posterior is the prior")
        elif arm.sum in (0.0, float(arm.n)):
            word = "no user" if arm.sum == 0.0 else "every user"
            warnings.append(f"{label}: {word} converted; the result leans on the prior")
    a_c, b_c = a0 + control.sum, b0 + control.n - control.sum
    a_t, b_t = a0 + treatment.sum, b0 + treatment.n - treatment.sum
    mean_c, mean_t = a_c / (a_c + b_c), a_t / (a_t + b_t)
    tail = (1.0 - credibility) / 2.0

    chance = beta_prob_greater(a_t, b_t, a_c, b_c)
    loss = mean_c * beta_prob_greater(a_c + 1.0, b_c, a_t, b_t) - mean_t * beta_prob_greater(
        a_c, b_c, a_t + 1.0, b_t
    )
    loss = max(0.0, loss)
    loss_control = max(0.0, loss + (mean_t - mean_c))

    difference = _Difference(a_t, b_t, a_c, b_c)
    absolute_interval = _quantile_interval(
        difference.cdf, difference.bracket, tail, "absolute interval", warnings
    )
    relative_interval: Interval | None = None
    ratio = _Ratio(a_t, b_t, a_c, b_c)
    log_interval = _quantile_interval(ratio.cdf_log, ratio.bracket, tail, "relative", warnings)
    if log_interval is not None:
        relative_interval = Interval(math.expm1(log_interval.lower), math.expm1(log_interval.upper))
    return BayesianResult(
        model="beta-binomial",
        credibility=credibility,
        control_mean=mean_c,
        treatment_mean=mean_t,
        control_interval=_beta_interval(a_c, b_c, tail),
        treatment_interval=_beta_interval(a_t, b_t, tail),
        absolute=mean_t - mean_c,
        absolute_interval=absolute_interval,
        relative=mean_t / mean_c - 1.0,
        relative_interval=relative_interval,
        chance_to_beat=clamp_probability(chance),
        expected_loss=loss,
        expected_loss_control=loss_control,
        warnings=tuple(warnings),
    )


def beta_prob_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """``P(X > Y)`` for independent ``X ~ Beta(a1, b1)`` and ``Y ~ Beta(a2, b2)``.

    ``∫ f_X(p) F_Y(p) dp`` over ``[max(Q_X(ε), Q_Y(ε)), Q_X(1 - ε)]`` with ``ε = 1e-15``
    (outside it the integrand carries at most 2ε), by adaptive Gauss–Kronrod quadrature.

    >>> round(beta_prob_greater(2.0, 1.0, 1.0, 1.0), 12)  # P(max of 2 uniforms > uniform)
    0.666666666667
    """
    for name, value in (("a1", a1), ("b1", b1), ("a2", a2), ("b2", b2)):
        check_positive(value, name)
    lower = max(_beta_quantile(a1, b1, _TAIL), _beta_quantile(a2, b2, _TAIL))
    upper = _beta_quantile(a1, b1, 1.0 - _TAIL)
    if lower >= upper:
        # Y's bulk lies entirely above X's: P(X > Y) < 2ε.
        return 0.0
    log_norm = float(special.betaln(a1, b1))

    def integrand(p: float) -> float:
        return _beta_pdf(p, a1, b1, log_norm) * float(special.betainc(a2, b2, p))

    return clamp_probability(_quad(integrand, lower, upper, _modes(a1, b1) + _modes(a2, b2)))


class _Difference:
    """The distribution of ``X - Y``, X ~ Beta(a_x, b_x), Y ~ Beta(a_y, b_y) independent."""

    def __init__(self, a_x: float, b_x: float, a_y: float, b_y: float) -> None:
        self.a_x, self.b_x, self.a_y, self.b_y = a_x, b_x, a_y, b_y
        self.log_norm_y = float(special.betaln(a_y, b_y))
        self.y_lower = _beta_quantile(a_y, b_y, _TAIL)
        self.y_upper = _beta_quantile(a_y, b_y, 1.0 - _TAIL)
        self.x_lower = _beta_quantile(a_x, b_x, _TAIL)
        self.bracket = (-1.0, 1.0)

    def cdf(self, d: float) -> float:
        """``P(X - Y ≤ d) = ∫ f_Y(p) F_X(p + d) dp``."""
        lower = max(self.y_lower, self.x_lower - d)
        if lower >= self.y_upper:
            return 0.0
        a_x, b_x, a_y, b_y, log_norm = self.a_x, self.b_x, self.a_y, self.b_y, self.log_norm_y

        def integrand(p: float) -> float:
            return _beta_pdf(p, a_y, b_y, log_norm) * float(
                special.betainc(a_x, b_x, min(1.0, p + d))
            )

        return _quad(integrand, lower, self.y_upper, self.points(d))

    def points(self, d: float) -> tuple[float, ...]:
        return _modes(self.a_y, self.b_y) + tuple(m - d for m in _modes(self.a_x, self.b_x))


class _Ratio:
    """The distribution of ``log(X / Y)``, X ~ Beta(a_x, b_x), Y ~ Beta(a_y, b_y)."""

    def __init__(self, a_x: float, b_x: float, a_y: float, b_y: float) -> None:
        self.a_x, self.b_x, self.a_y, self.b_y = a_x, b_x, a_y, b_y
        self.log_norm_y = float(special.betaln(a_y, b_y))
        self.y_lower = _beta_quantile(a_y, b_y, _TAIL)
        self.y_upper = _beta_quantile(a_y, b_y, 1.0 - _TAIL)
        self.x_lower = _beta_quantile(a_x, b_x, _TAIL)
        # log X - log Y spans at most log(Q_X(1-ε) / Q_Y(ε)) down to log(Q_X(ε) / Q_Y(1-ε)).
        x_upper = _beta_quantile(a_x, b_x, 1.0 - _TAIL)
        self.bracket = (
            math.log(max(self.x_lower, 1e-300) / self.y_upper),
            math.log(x_upper / max(self.y_lower, 1e-300)),
        )

    def cdf_log(self, log_s: float) -> float:
        """``P(log X - log Y ≤ log s) = ∫ f_Y(p) F_X(s·p) dp``."""
        s = math.exp(log_s)
        lower = max(self.y_lower, self.x_lower / s)
        if lower >= self.y_upper:
            return 0.0
        a_x, b_x, a_y, b_y, log_norm = self.a_x, self.b_x, self.a_y, self.b_y, self.log_norm_y

        def integrand(p: float) -> float:
            return _beta_pdf(p, a_y, b_y, log_norm) * float(
                special.betainc(a_x, b_x, min(1.0, s * p))
            )

        points = _modes(a_y, b_y) + tuple(m / s for m in _modes(a_x, b_x))
        return _quad(integrand, lower, self.y_upper, points)


def _quantile_interval(
    cdf: Callable[[float], float],
    bracket: tuple[float, float],
    tail: float,
    label: str,
    warnings: list[str],
) -> Interval | None:
    """The equal-tailed interval ``[cdf⁻¹(tail), cdf⁻¹(1 - tail)]`` by Brent's method."""
    low, high = bracket
    ends: list[float] = []
    for target in (tail, 1.0 - tail):
        try:
            root = optimize.brentq(
                lambda d, target=target: cdf(d) - target, low, high, xtol=1e-13, rtol=1e-12
            )
        except ValueError:  # the bracket misses the target (not expected: defensive)
            warnings.append(f"{label}: the credible interval could not be computed")
            return None
        ends.append(float(root))
    return Interval(ends[0], ends[1])


def _beta_interval(a: float, b: float, tail: float) -> Interval:
    return Interval(_beta_quantile(a, b, tail), _beta_quantile(a, b, 1.0 - tail))


def _beta_quantile(a: float, b: float, q: float) -> float:
    return float(special.betaincinv(a, b, q))


def _beta_pdf(p: float, a: float, b: float, log_norm: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return 0.0
    log_density = (a - 1.0) * math.log(p) + (b - 1.0) * math.log1p(-p) - log_norm
    return math.exp(min(log_density, 700.0))  # capped: math.exp raises beyond ~709


def _modes(a: float, b: float) -> tuple[float, ...]:
    """The mode of Beta(a, b) when it is inside (0, 1): where an integrand peaks."""
    return ((a - 1.0) / (a + b - 2.0),) if a > 1.0 and b > 1.0 else ()


def _quad(
    integrand: Callable[[float], float], lower: float, upper: float, points: tuple[float, ...]
) -> float:
    inside = sorted({p for p in points if math.isfinite(p) and lower < p < upper})
    # full_output=1 returns convergence messages instead of emitting IntegrationWarning.
    result = integrate.quad(
        integrand, lower, upper, points=inside or None, full_output=1, **_QUAD_OPTIONS
    )
    return float(result[0])


# -- Gaussian -------------------------------------------------------------------------------


def gaussian_test(
    control: Moments, treatment: Moments, *, credibility: float = 0.95
) -> BayesianResult:
    """Gaussian model of two means with flat priors (see the module doc)."""
    credibility = check_level(credibility, "credibility")
    control = check_moments(control, "control")
    treatment = check_moments(treatment, "treatment")
    warnings: list[str] = []
    c = summarize("control", control, warnings)
    t = summarize("treatment", treatment, warnings)
    mc, mt = control.mean, treatment.mean
    empty = BayesianResult(
        model="gaussian",
        credibility=credibility,
        control_mean=mc,
        treatment_mean=mt,
        control_interval=None,
        treatment_interval=None,
        absolute=None if mc is None or mt is None else mt - mc,
        absolute_interval=None,
        relative=None,
        relative_interval=None,
        chance_to_beat=None,
        expected_loss=None,
        expected_loss_control=None,
        warnings=tuple(warnings),
    )
    if c is None or t is None:
        return empty
    z = float(special.ndtri(1.0 - (1.0 - credibility) / 2.0))
    var_c, var_t = c.variance / c.n, t.variance / t.n
    variance = var_c + var_t
    m = t.mean - c.mean
    if variance == 0.0:
        warnings.append("zero variance in both variants: the posterior is undefined")
        return replace(empty, warnings=tuple(warnings))
    sigma = math.sqrt(variance)
    ratio = m / sigma
    density = math.exp(-0.5 * ratio * ratio) / math.sqrt(2.0 * math.pi)
    loss = sigma * density - m * float(special.ndtr(-ratio))
    loss_control = sigma * density + m * float(special.ndtr(ratio))
    relative, relative_interval = relative_with_interval(
        (c.mean, t.mean), (var_c, var_t), z, warnings
    )
    return BayesianResult(
        model="gaussian",
        credibility=credibility,
        control_mean=c.mean,
        treatment_mean=t.mean,
        control_interval=interval(c.mean, z * math.sqrt(var_c), "control interval", warnings),
        treatment_interval=interval(t.mean, z * math.sqrt(var_t), "treatment interval", warnings),
        absolute=finite(m, "absolute effect", warnings),
        absolute_interval=interval(m, z * sigma, "absolute interval", warnings),
        relative=relative,
        relative_interval=relative_interval,
        chance_to_beat=clamp_probability(float(special.ndtr(ratio))),
        expected_loss=finite(max(0.0, loss), "expected loss", warnings),
        expected_loss_control=finite(max(0.0, loss_control), "expected loss", warnings),
        warnings=tuple(warnings),
    )
