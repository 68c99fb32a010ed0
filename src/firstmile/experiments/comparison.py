"""One metric, one treatment against the control: every number a report shows.

Which test reads the sufficient statistics depends on the metric:

=============  ==========================================  ===============================
kind           fixed-horizon effect and p-value            Bayesian and sequential read
=============  ==========================================  ===============================
conversion     two-proportion z (Welch on CUPED values)    the 0/1 (or CUPED) moments
count, sum     Welch, or Welch on CUPED-adjusted values    the raw (or CUPED) moments
ratio          the delta-method ratio test                 the linearized ratio moments
=============  ==========================================  ===============================

The Bayesian numbers come from the Gaussian model (closed forms) for every kind: for a
conversion it is the normal approximation of the Beta posteriors, which the exact
Beta-Binomial quadrature (~30 ms per comparison) would only refine at tiny samples, and a
report must stay fast. ``chance_to_win`` and ``expected_loss`` are oriented by the metric's
``direction``: for a metric where lower is better, winning means going down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

from firstmile.experiments.metrics import Metric
from firstmile.stats import (
    FrequentistResult,
    Interval,
    Moments,
    cuped_adjust,
    gaussian_test,
    group_sequential_test,
    linearize_ratio,
    ratio_test,
    sequential_test,
    two_proportion_ztest,
    welch_test,
)

Verdict = Literal["better", "worse", "inconclusive", "undefined"]


@dataclass(frozen=True, slots=True)
class Comparison:
    """A treatment against the control on one metric.

    ``control_value``/``variant_value`` are the observed means (rates, ratios); effects are
    treatment minus control, relative effects a fraction (0.05 = +5%), intervals at level
    ``1 - alpha``. ``adjusted_p_value`` is corrected across every comparison of the report
    and ``significant`` reads it. ``sequential_*`` are always valid (read them at any
    time); ``verdict`` is the sequential one in the metric's good direction. Every number
    is a finite float or None, and ``warnings`` says why one is missing.
    """

    variant: str
    method: str
    control_value: float | None
    variant_value: float | None
    absolute: float | None
    absolute_ci: Interval | None
    relative: float | None
    relative_ci: Interval | None
    p_value: float | None
    adjusted_p_value: float | None
    significant: bool | None
    chance_to_win: float | None
    expected_loss: float | None
    sequential_ci: Interval | None
    sequential_relative_ci: Interval | None
    sequential_p_value: float | None
    sequential_method: str
    verdict: Verdict
    guardrail_breached: bool
    cuped_variance_reduction: float | None
    warnings: tuple[str, ...]


class Planning(NamedTuple):
    """What the power calculator needs about one comparison (for "about N more users")."""

    baseline: float | None  # the control's mean (rate, ratio), the base of a relative MDE
    sd: float | None  # pooled standard deviation of the analysed values
    proportions: bool  # plan with the two-proportion formula (a conversion without CUPED)


def compare(
    metric: Metric,
    control: Moments,
    treatment: Moments,
    variant: str,
    *,
    alpha: float,
    sequential_alpha: float,
    tuning_n: int,
    looks: int | None = None,
) -> tuple[Comparison, Planning]:
    """The comparison of ``treatment`` (named ``variant``) with ``control`` on ``metric``.

    With ``looks`` planned, the sequential reading is the group-sequential test of
    ``looks`` equally spaced looks up to ``tuning_n`` users (it spends all of alpha over
    them); otherwise the always-valid sequence, which holds for any peeking.
    """
    notes: list[str] = []
    fixed, analysed, reduction = _fixed_horizon(metric, control, treatment, alpha, notes)
    notes.extend(fixed.warnings)
    chance: float | None = None
    loss: float | None = None
    seq_ci: Interval | None = None
    seq_rel: Interval | None = None
    seq_p: float | None = None
    seq_method = "always_valid" if looks is None else "group_sequential"
    verdict: Verdict = "undefined"
    if analysed is not None:
        a_c, a_t = analysed
        bayes = gaussian_test(a_c, a_t)
        notes.extend(bayes.warnings)
        up = metric.direction == "increase"
        chance = bayes.chance_to_beat
        if chance is not None and not up:
            chance = 1.0 - chance
        loss = bayes.expected_loss if up else bayes.expected_loss_control
        significant: bool | None
        if looks is None:
            seq = sequential_test(a_c, a_t, tuning_n=tuning_n, alpha=sequential_alpha)
            notes.extend(seq.warnings)
            seq_ci, seq_rel, seq_p = seq.absolute_ci, seq.relative_ci, seq.p_value
            significant, effect = seq.significant, seq.absolute
        else:
            grouped = group_sequential_test(
                a_c, a_t, planned_n=max(2, tuning_n), looks=looks, alpha=sequential_alpha
            )
            notes.extend(grouped.warnings)
            seq_ci, seq_rel = grouped.absolute_ci, grouped.relative_ci
            seq_method = f"group_sequential (look {grouped.look} of {looks})"
            significant = grouped.significant if grouped.z is not None else None
            effect = grouped.absolute
        if significant is not None and effect is not None:
            better = (effect > 0) == up
            verdict = "better" if significant and better else "inconclusive"
            if significant and not better:
                verdict = "worse"
    comparison = Comparison(
        variant=variant,
        method=fixed.method,
        control_value=_observed(metric, control),
        variant_value=_observed(metric, treatment),
        absolute=fixed.absolute,
        absolute_ci=fixed.absolute_ci,
        relative=fixed.relative,
        relative_ci=fixed.relative_ci,
        p_value=fixed.p_value,
        adjusted_p_value=fixed.p_value,
        significant=fixed.significant,
        chance_to_win=chance,
        expected_loss=loss,
        sequential_ci=seq_ci,
        sequential_relative_ci=seq_rel,
        sequential_p_value=seq_p,
        sequential_method=seq_method,
        verdict=verdict,
        guardrail_breached=metric.guardrail and verdict == "worse",
        cuped_variance_reduction=reduction,
        warnings=_distinct(notes),
    )
    return comparison, _planning(metric, control, analysed)


def _fixed_horizon(
    metric: Metric, control: Moments, treatment: Moments, alpha: float, notes: list[str]
) -> tuple[FrequentistResult, tuple[Moments, Moments] | None, float | None]:
    """The fixed-horizon test, the moments Bayes and sequential read, the CUPED reduction."""
    if metric.kind == "ratio":
        fixed = ratio_test(control, treatment, alpha=alpha)
        c, t = linearize_ratio(control), linearize_ratio(treatment)
        return fixed, None if c is None or t is None else (c, t), None
    if metric.cuped and _has_covariate(control, treatment):
        adjustment = cuped_adjust(control, treatment)
        notes.extend(adjustment.warnings)
        adjusted = (adjustment.control, adjustment.treatment)
        test = welch_test(*adjusted, alpha=alpha)
        return replace(test, method="welch (CUPED)"), adjusted, adjustment.variance_reduction
    if metric.cuped:
        notes.append("CUPED: no pre-exposure values yet (all 0), so no adjustment")
    if metric.kind == "conversion":
        if _binary(control) and _binary(treatment):
            return two_proportion_ztest(control, treatment, alpha=alpha), (control, treatment), None
        notes.append("the statistics are not those of 0/1 values: read with Welch's t-test")
    return welch_test(control, treatment, alpha=alpha), (control, treatment), None


def _planning(
    metric: Metric, control: Moments, analysed: tuple[Moments, Moments] | None
) -> Planning:
    baseline = _observed(metric, control)
    if analysed is None:
        return Planning(baseline, None, proportions=False)
    proportions = metric.kind == "conversion" and analysed[0] is control
    variances = [arm.variance for arm in analysed if arm.variance is not None]
    sd = math.sqrt(sum(variances) / len(variances)) if variances else None
    return Planning(baseline, sd if sd else None, proportions=proportions)


def _distinct(warnings: list[str]) -> tuple[str, ...]:
    """The warnings without repeats: the three tests often say the same thing, as in
    "zero variance in both variants: the t-test (the posterior, ...) is undefined"."""
    seen: set[str] = set()
    kept: list[str] = []
    for text in warnings:
        key = text.split(": the ")[0]
        if key not in seen:
            seen.add(key)
            kept.append(text)
    return tuple(kept)


def _observed(metric: Metric, arm: Moments) -> float | None:
    if metric.kind == "ratio":
        return arm.sum / arm.sum_x if arm.n and arm.sum_x else None
    return arm.mean


def _has_covariate(control: Moments, treatment: Moments) -> bool:
    return control.sum_x_sq > 0.0 or treatment.sum_x_sq > 0.0


def _binary(arm: Moments) -> bool:
    """The moments of 0/1 values (what two_proportion_ztest accepts)."""
    return abs(arm.sum - arm.sum_sq) <= 1e-9 * max(1.0, arm.sum) and arm.sum <= arm.n
