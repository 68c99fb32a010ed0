# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""The plain recommendation of a report, and how many more users a test needs.

The rules, first match wins:

1. no exposures: ``no data yet``;
2. the sample ratio mismatch check fails: ``stop: sample ratio mismatch`` (nothing else in
   the report can be trusted until the assignment or logging bug is found);
3. a variant below ``min_users``: keep running (too early to act on anything);
4. a treatment significantly worse, by the sequential test, on a guardrail or on the
   primary metric: ``stop: <variant> hurts <metric>``;
5. treatments significantly better on the primary metric by the sequential test:
   ``ship <variant>`` (the best of them);
6. otherwise ``keep running: about N more users``, or, when the users already in are
   enough to detect the primary metric's MDE, ``no winner``.

Decisions read the sequential (always-valid) test, so the report may be read every day.

**N more users.** The sequential test rejects when ``|δ̂|/se > m(N)``, its boundary in
standard errors at N users (:func:`firstmile.stats.boundary_multiplier`), which is the
fixed-horizon rule at ``α_eff(N) = 2Φ(-m(N))``. So the power calculator
(:func:`~firstmile.stats.power_proportions`, :func:`~firstmile.stats.power_means`) at
``α_eff(N)`` gives the sequential test's power at N, and the users needed are the smallest
N where it reaches ``power`` for the MDE (the observed control rate or the observed
standard deviation plugged in), found by bisection. That is more than the fixed-horizon
size (about 1.9× at the tuning size, α = 5%): the price of being allowed to look any time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scipy import special

from firstmile.experiments.comparison import Comparison, Planning
from firstmile.experiments.metrics import Metric
from firstmile.stats import (
    boundary_multiplier,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from firstmile.stats.group_sequential import boundaries

Action = Literal["no_data", "stop_srm", "stop_harm", "ship", "keep_running", "no_winner"]
_MOST_USERS = 1e13  # beyond this the effect is too small to ever detect


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What to do now: ``action`` (a stable code), ``text`` (a plain sentence), and the
    variant, metric and number of more users it is about, when it is about one."""

    action: Action
    text: str
    variant: str | None = None
    metric: str | None = None
    more_users: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The statistical settings the users-needed estimate shares with the report."""

    sequential_alpha: float
    tuning_n: int
    power: float
    min_users: int
    looks: int | None = None  # planned looks of a group-sequential design


def recommend(
    users: Sequence[int],
    shares: Sequence[float],
    srm_mismatch: bool | None,
    metrics: Sequence[tuple[Metric, Sequence[tuple[Comparison, Planning]]]],
    plan: Plan,
    warnings: list[str],
) -> Recommendation:
    """The recommendation (see the module doc); reasons it cannot be sharper go to
    ``warnings``. ``users`` and ``shares`` are per variant, control first; ``metrics`` pairs
    each metric with its comparisons, treatments in order."""
    total = sum(users)
    if total == 0:
        return Recommendation("no_data", "no data yet")
    if srm_mismatch:
        return Recommendation("stop_srm", "stop: sample ratio mismatch")
    primary = next(((m, c) for m, c in metrics if not m.guardrail), None)
    early = any(count < plan.min_users for count in users)
    # Harm counts on guardrails and on the primary metric; other goal metrics only inform.
    watched = [(m, c) for m, c in metrics if m.guardrail or (primary and m is primary[0])]
    harmed = [(m, c) for m, pairs in watched for c, _ in pairs if c.verdict == "worse"]
    if harmed and not early:
        metric, comparison = harmed[0]
        text = f"stop: {comparison.variant} hurts {metric.key}"
        return Recommendation("stop_harm", text, comparison.variant, metric.key)
    if primary is None:
        return Recommendation("keep_running", "keep running: no primary metric to decide on")
    metric, comparisons = primary
    if not early:
        winners = [c for c, _ in comparisons if c.verdict == "better"]
        if winners:
            sign = 1.0 if metric.direction == "increase" else -1.0
            best = max(winners, key=lambda c: sign * (c.absolute or 0.0))
            return Recommendation("ship", f"ship {best.variant}", best.variant, metric.key)
    needed: list[int] = [math.ceil(plan.min_users / share) for share in shares]
    estimate = _users_needed(metric, comparisons, shares, plan)
    if isinstance(estimate, str):
        warnings.append(f"{metric.key}: the users needed cannot be estimated yet: {estimate}")
    else:
        needed.append(estimate)
    more = max(needed) - total
    if more > 0:
        text = f"keep running: about {more:,} more users"
        return Recommendation("keep_running", text, None, metric.key, more)
    if isinstance(estimate, str):
        text = f"keep running (the users needed cannot be estimated yet: {estimate})"
        return Recommendation("keep_running", text, None, metric.key)
    size = _mde_text(metric)
    text = f"no winner: {total:,} users could detect a {size} change in {metric.key}; none found"
    return Recommendation("no_winner", text, None, metric.key, 0)


def _users_needed(
    metric: Metric,
    comparisons: Sequence[tuple[Comparison, Planning]],
    shares: Sequence[float],
    plan: Plan,
) -> int | str:
    """Total users the experiment needs so every treatment's sequential test has ``power``
    for the metric's MDE; or why that cannot be estimated."""
    largest = 0
    for index, (_, planning) in enumerate(comparisons, start=1):
        ratio = shares[index] / shares[0]
        try:
            control = _control_users(metric, planning, ratio, plan)
        except ValueError as error:  # the power calculator refuses (e.g. a tiny effect)
            return str(error)
        if isinstance(control, str):
            return control
        largest = max(largest, math.ceil(control / shares[0]))
    return largest


def _control_users(metric: Metric, planning: Planning, ratio: float, plan: Plan) -> float | str:
    """Control users for one treatment (bisection on the sequential power, module doc)."""
    baseline, sd, proportions = planning
    if metric.mde_kind == "absolute":
        effect = metric.mde
    elif baseline is None:
        return "no control users to measure the baseline"
    elif baseline == 0.0:
        return "the control's value is 0, so a relative MDE is 0 (give an absolute mde)"
    else:
        effect = abs(baseline) * metric.mde
    alpha = plan.sequential_alpha
    if proportions:
        if baseline is None or not 0.0 < baseline < 1.0:
            return "the control's conversion rate is 0 or 100% so far"
        if baseline + effect >= 1.0:
            effect = -effect
        if not 0.0 < baseline + effect < 1.0:
            return "the MDE moves the conversion rate outside (0, 1)"
        rate = baseline
        planned = sample_size_proportions(rate, effect, power=plan.power, alpha=alpha, ratio=ratio)

        def power_at(alpha_eff: float, n_control: float) -> float:
            return power_proportions(rate, effect, n_control, ratio=ratio, alpha=alpha_eff)

    else:
        if sd is None:
            return "the metric does not vary yet"
        spread = sd
        planned = sample_size_means(effect, spread, power=plan.power, alpha=alpha, ratio=ratio)

        def power_at(alpha_eff: float, n_control: float) -> float:
            return power_means(effect, spread, n_control, ratio=ratio, alpha=alpha_eff)

    final = None if plan.looks is None else boundaries(plan.looks, alpha, "pocock")[-1]

    def sequential_power(n_control: float) -> float:
        pair = max(2, math.ceil(n_control * (1.0 + ratio)))
        # A group-sequential design is read at its last boundary once the plan is met.
        m = final if final is not None else boundary_multiplier(pair, plan.tuning_n, alpha)
        alpha_eff = 2.0 * float(special.ndtr(-m))
        return power_at(alpha_eff, n_control) if alpha_eff > 1e-300 else 0.0

    # The sequential boundary is wider than the fixed one: the fixed size is a lower bound.
    low, high = planned.exact_control, 2.0 * planned.exact_control
    while sequential_power(high) < plan.power:
        low, high = high, 2.0 * high
        if high > _MOST_USERS:
            return "the MDE is too small to detect with any realistic number of users"
    # Half a percent is plenty for "about N": N is an estimate from noisy inputs anyway.
    while high - low > max(1.0, 0.005 * low):
        middle = (low + high) / 2.0
        if sequential_power(middle) >= plan.power:
            high = middle
        else:
            low = middle
    return high


def _mde_text(metric: Metric) -> str:
    return f"{metric.mde * 100:g}%" if metric.mde_kind == "relative" else f"{metric.mde:g}"
