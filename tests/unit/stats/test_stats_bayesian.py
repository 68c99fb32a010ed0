"""Bayesian models against closed forms (to 1e-9) and high-sample Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from firstmile.stats import Moments, beta_binomial_test, beta_prob_greater, gaussian_test


def miller_prob_greater(a1: int, b1: float, a2: float, b2: float) -> float:
    """P(X > Y), X ~ Beta(a1, b1), Y ~ Beta(a2, b2), integer a1 (Miller 2015, exact sum)."""
    log_terms = [
        special.betaln(a2 + i, b1 + b2)
        - math.log(b1 + i)
        - special.betaln(1 + i, b1)
        - special.betaln(a2, b2)
        for i in range(a1)
    ]
    return math.fsum(math.exp(term) for term in log_terms)


def miller_expected_loss(a_c: int, b_c: int, a_t: int, b_t: int) -> float:
    """E[max(X_c - X_t, 0)] from Miller's sum (Stucchio's closed form), integer parameters."""
    mean_c, mean_t = a_c / (a_c + b_c), a_t / (a_t + b_t)
    return mean_c * miller_prob_greater(a_c + 1, b_c, a_t, b_t) - mean_t * miller_prob_greater(
        a_c, b_c, a_t + 1, b_t
    )


CASES = [
    (1, 1, 1, 1),
    (2, 1, 1, 1),
    (131, 871, 101, 901),
    (5, 3, 50, 2),
    (3, 400, 1, 1),
    (1001, 20, 900, 120),
    (2501, 7501, 2401, 7601),
    (40, 10, 38, 12),
]


@pytest.mark.parametrize(("a1", "b1", "a2", "b2"), CASES)
def test_prob_greater_matches_the_exact_sum(a1: int, b1: int, a2: int, b2: int) -> None:
    assert beta_prob_greater(a1, b1, a2, b2) == pytest.approx(
        miller_prob_greater(a1, b1, a2, b2), abs=1e-9
    )


@pytest.mark.parametrize(("x_c", "n_c", "x_t", "n_t"), [(100, 1000, 130, 1000), (12, 40, 9, 45)])
def test_beta_binomial_matches_closed_forms(x_c: int, n_c: int, x_t: int, n_t: int) -> None:
    result = beta_binomial_test(Moments.from_counts(n_c, x_c), Moments.from_counts(n_t, x_t))
    a_c, b_c, a_t, b_t = 1 + x_c, 1 + n_c - x_c, 1 + x_t, 1 + n_t - x_t
    assert result.chance_to_beat == pytest.approx(miller_prob_greater(a_t, b_t, a_c, b_c), abs=1e-9)
    assert result.expected_loss == pytest.approx(miller_expected_loss(a_c, b_c, a_t, b_t), abs=1e-9)
    assert result.expected_loss_control == pytest.approx(
        miller_expected_loss(a_t, b_t, a_c, b_c), abs=1e-9
    )
    assert result.control_mean == pytest.approx(a_c / (a_c + b_c), rel=1e-12)
    assert result.control_interval is not None
    assert result.control_interval.lower == pytest.approx(stats.beta.ppf(0.025, a_c, b_c), rel=1e-9)
    assert result.control_interval.upper == pytest.approx(stats.beta.ppf(0.975, a_c, b_c), rel=1e-9)


def test_beta_binomial_matches_monte_carlo() -> None:
    # 1,000,000 posterior draws. Monte Carlo standard errors: chance to beat ~3e-4 (tolerance
    # 1.5e-3), 5%/95% quantiles of the difference ~1.6e-5 (1e-4) and of the lift ~2.1e-4
    # (1e-3), expected loss: its own SE (tolerance 5 SE).
    x_c, n_c, x_t, n_t = 410, 5000, 455, 5100
    prior_a, prior_b = 0.5, 0.5  # Jeffreys: non-integer parameters, no closed form
    result = beta_binomial_test(
        Moments.from_counts(n_c, x_c),
        Moments.from_counts(n_t, x_t),
        prior_alpha=prior_a,
        prior_beta=prior_b,
        credibility=0.9,
    )
    rng = np.random.default_rng(20261125)
    draws = 1_000_000
    p_c = rng.beta(prior_a + x_c, prior_b + n_c - x_c, draws)
    p_t = rng.beta(prior_a + x_t, prior_b + n_t - x_t, draws)
    diff, lift = p_t - p_c, p_t / p_c - 1.0
    assert result.chance_to_beat == pytest.approx(np.mean(p_t > p_c), abs=0.0015)
    loss = np.maximum(p_c - p_t, 0.0)
    assert result.expected_loss == pytest.approx(loss.mean(), abs=5 * loss.std() / math.sqrt(draws))
    assert result.absolute_interval is not None
    assert result.relative_interval is not None
    low, high = np.quantile(diff, [0.05, 0.95])
    assert result.absolute_interval.lower == pytest.approx(low, abs=1e-4)
    assert result.absolute_interval.upper == pytest.approx(high, abs=1e-4)
    low, high = np.quantile(lift, [0.05, 0.95])
    assert result.relative_interval.lower == pytest.approx(low, abs=1e-3)
    assert result.relative_interval.upper == pytest.approx(high, abs=1e-3)


def test_expected_losses_differ_by_the_difference_of_means() -> None:
    result = beta_binomial_test(Moments.from_counts(300, 40), Moments.from_counts(310, 52))
    assert result.expected_loss is not None
    assert result.expected_loss_control is not None
    assert result.treatment_mean is not None
    assert result.control_mean is not None
    assert result.expected_loss_control - result.expected_loss == pytest.approx(
        result.treatment_mean - result.control_mean, abs=1e-12
    )


def test_gaussian_matches_scipy_normal_and_quadrature() -> None:
    rng = np.random.default_rng(31)
    control, treatment = rng.normal(10.0, 3.0, 400), rng.normal(10.4, 3.5, 420)
    result = gaussian_test(
        Moments.from_values(control), Moments.from_values(treatment), credibility=0.9
    )
    m = treatment.mean() - control.mean()
    sigma = math.sqrt(control.var(ddof=1) / 400 + treatment.var(ddof=1) / 420)
    posterior = stats.norm(m, sigma)
    assert result.chance_to_beat == pytest.approx(posterior.sf(0.0), abs=1e-12)
    loss, _ = integrate.quad(lambda d: -d * posterior.pdf(d), -np.inf, 0.0, epsabs=1e-13)
    gain, _ = integrate.quad(lambda d: d * posterior.pdf(d), 0.0, np.inf, epsabs=1e-13)
    assert result.expected_loss == pytest.approx(loss, abs=1e-9)
    assert result.expected_loss_control == pytest.approx(gain, abs=1e-9)
    assert result.absolute_interval is not None
    assert result.absolute_interval.lower == pytest.approx(posterior.ppf(0.05), rel=1e-9)
    assert result.absolute_interval.upper == pytest.approx(posterior.ppf(0.95), rel=1e-9)
    assert result.treatment_interval is not None
    assert result.treatment_interval.upper == pytest.approx(
        stats.norm(treatment.mean(), treatment.std(ddof=1) / math.sqrt(420)).ppf(0.95), rel=1e-9
    )


def test_gaussian_matches_beta_binomial_on_large_samples() -> None:
    control, treatment = Moments.from_counts(200_000, 20_000), Moments.from_counts(200_000, 20_400)
    normal = gaussian_test(control, treatment)
    beta = beta_binomial_test(control, treatment)
    assert normal.chance_to_beat == pytest.approx(beta.chance_to_beat, abs=2e-3)
    assert normal.expected_loss == pytest.approx(beta.expected_loss, rel=0.02)


def test_prior_matters_only_with_little_data() -> None:
    control, treatment = Moments.from_counts(10, 1), Moments.from_counts(10, 3)
    flat = beta_binomial_test(control, treatment)
    strong = beta_binomial_test(control, treatment, prior_alpha=50, prior_beta=450)
    assert flat.chance_to_beat is not None
    assert strong.chance_to_beat is not None
    assert strong.chance_to_beat < flat.chance_to_beat
    assert strong.treatment_mean == pytest.approx(53 / 510)
