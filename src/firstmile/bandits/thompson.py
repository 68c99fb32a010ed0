# ruff: noqa: RUF002 - the docstrings write formulas in math notation (Greek letters)
"""Thompson sampling: each arm's share of traffic is its chance of being the best arm.

For every update the posterior of each arm's mean reward is sampled ``draws`` times
(Beta-Bernoulli for conversions, the normal approximation for means: see
:class:`~firstmile.bandits.policy.BanditPolicy`), ``probability_best[i]`` is the share of
draws in which arm ``i`` has the highest value (tied draws are shared equally), and the
weights are those probabilities raised to ``min_weight`` by :func:`floor_weights`. Serving
each user the arm with probability equal to its chance of being best is Thompson's rule
(Thompson 1933, *Biometrika* 25; Russo et al. 2018, "A Tutorial on Thompson Sampling",
§3, for the batched form used here, where weights change only once per ``cadence``).

Deterministic: the draws come from a PCG64 generator seeded by ``(seed, stream, epoch)``,
so every process computing the weights of one epoch gets the same numbers.

>>> from firstmile.stats import Moments
>>> policy = BanditPolicy("copy", ("a", "b"), min_samples=100, min_weight=0.1)
>>> stats = {"a": Moments.from_counts(40, 4), "b": Moments.from_counts(120, 30)}
>>> thompson_weights(stats, policy, epoch=0).reason
"warming up: arm 'a' has 40 of 100 samples"
>>> stats["a"] = Moments.from_counts(400, 40)
>>> result = thompson_weights(stats, policy, epoch=0)
>>> result.weights, result.reason
((0.1, 0.9), 'thompson')
>>> [round(w, 6) for w in floor_weights([0.01, 0.09, 0.9], 0.05)]
[0.05, 0.086364, 0.863636]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from firstmile.bandits._common import check_number, check_stats, generator
from firstmile.bandits.policy import BanditPolicy
from firstmile.stats import Moments

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ThompsonWeights:
    """The traffic split of one update, one entry per arm in the policy's order.

    ``weights`` sum to 1 (within 1e-12) and are each at least the policy's ``min_weight``.
    ``probability_best`` is each arm's Monte Carlo chance of being best before the floor
    (None while warming up). ``reason`` is ``"thompson"`` or says which arm is still short
    of samples; ``warnings`` are sentences about the data (never NaN: see the module doc).
    """

    arms: tuple[str, ...]
    weights: tuple[float, ...]
    probability_best: tuple[float, ...] | None
    reason: str
    warming_up: bool
    epoch: int
    warnings: tuple[str, ...] = ()

    def weight(self, arm: str) -> float:
        """The weight of one arm, by key."""
        if arm not in self.arms:
            raise ValueError(f"unknown arm {arm!r}; the arms are {list(self.arms)}")
        return self.weights[self.arms.index(arm)]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: weights and chances keyed by arm."""
        best = self.probability_best
        return {
            "weights": dict(zip(self.arms, self.weights, strict=True)),
            "probability_best": None if best is None else dict(zip(self.arms, best, strict=True)),
            "reason": self.reason,
            "warming_up": self.warming_up,
            "epoch": self.epoch,
            "warnings": list(self.warnings),
        }


def thompson_weights(
    stats: Mapping[str, Moments], policy: BanditPolicy, *, epoch: int, stream: str = ""
) -> ThompsonWeights:
    """The weights of ``policy``'s arms for one update, from each arm's reward moments.

    ``stats`` maps arm keys to :class:`~firstmile.stats.Moments` of the rewards of the users
    who got that arm (``Moments.from_counts(n, conversions)`` for conversions); an arm that
    is missing has no data yet. While some arm has fewer than ``min_samples`` users the
    weights are equal. ``epoch`` (see :func:`~firstmile.bandits.cadence.epoch_of`) and
    ``stream`` (a label keeping independent weight sets, such as contexts, apart) seed the
    draws: the same inputs always give the same weights.

    Raises ValueError for stats naming an unknown arm, non-0/1 rewards in a conversion
    bandit, or an epoch that is not a whole number.
    """
    if not isinstance(policy, BanditPolicy):
        raise ValueError(f"policy must be a BanditPolicy, got {type(policy).__name__}")
    if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer):
        raise ValueError(f"epoch must be a whole number (see epoch_of), got {epoch!r}")
    where = f"bandit {policy.key!r}"
    moments = check_stats(stats, policy.arms, where)
    if policy.kind == "conversion":
        for arm, arm_moments in zip(policy.arms, moments, strict=True):
            _check_binary(arm_moments, f"{where}, arm {arm!r}")
    arms, k = policy.arms, len(policy.arms)
    short = [(m.n, i) for i, m in enumerate(moments) if m.n < policy.min_samples]
    if short:
        fewest, index = min(short)
        return ThompsonWeights(
            arms=arms,
            weights=(1.0 / k,) * k,
            probability_best=None,
            reason=f"warming up: arm {arms[index]!r} has {fewest} of {policy.min_samples} samples",
            warming_up=True,
            epoch=int(epoch),
        )
    warnings: list[str] = []
    rng = generator(policy.seed_used, stream, int(epoch))
    if policy.kind == "conversion":
        samples = _beta_draws(moments, policy, rng, warnings)
    else:
        samples = _normal_draws(moments, policy, rng, warnings)
    best = probability_best(samples)
    return ThompsonWeights(
        arms=arms,
        weights=floor_weights(best, policy.min_weight),
        probability_best=best,
        reason="thompson",
        warming_up=False,
        epoch=int(epoch),
        warnings=tuple(warnings),
    )


def probability_best(samples: FloatArray) -> tuple[float, ...]:
    """Each column's share of the rows in which it holds the maximum (ties shared equally).

    >>> probability_best(np.array([[1.0, 2.0], [3.0, 3.0], [5.0, 4.0], [0.0, 1.0]]))
    (0.375, 0.625)
    """
    top = samples.max(axis=1, keepdims=True)
    is_top = (samples == top).astype(np.float64)
    shares = is_top / is_top.sum(axis=1, keepdims=True)
    return tuple(float(value) for value in shares.mean(axis=0))


def floor_weights(probabilities: Sequence[float], min_weight: float) -> tuple[float, ...]:
    """``probabilities`` with every entry raised to at least ``min_weight``, summing to 1.

    The algorithm: start with no arm at the floor; give the arms not at the floor the
    budget ``1 - min_weight × (arms at the floor)`` in proportion to their probabilities
    (equally if those are all 0); put every arm that now falls below ``min_weight`` at the
    floor, and repeat. The set at the floor only grows, so this ends after at most one
    pass per arm, and the arms above the floor keep their original ratios. Finally the
    rounding residual of the sum (a few ulps) goes to the largest weight, so the result
    sums to 1 within 1e-12 and no floored arm drops below ``min_weight``.

    Raises ValueError for negative or non-finite probabilities, or ``min_weight × arms > 1``.
    """
    p = [check_number(value, "each probability") for value in probabilities]
    k = len(p)
    if k == 0:
        raise ValueError("floor_weights needs at least one probability")
    if any(value < 0 for value in p):
        raise ValueError(f"probabilities must be >= 0, got {p}")
    floor = check_number(min_weight, "min_weight")
    if floor < 0 or floor * k > 1.0 + 1e-12:
        raise ValueError(f"min_weight must be in [0, 1/{k}] for {k} arms, got {floor}")
    floored = [False] * k
    weights = [0.0] * k
    while True:
        free = [i for i in range(k) if not floored[i]]
        if not free:  # only reachable by rounding when min_weight * arms is exactly 1
            return (1.0 / k,) * k
        budget = max(0.0, 1.0 - floor * (k - len(free)))
        mass = math.fsum(p[i] for i in free)
        for i in free:
            weights[i] = p[i] * budget / mass if mass > 0 else budget / len(free)
        below = [i for i in free if weights[i] < floor]
        if not below:
            break
        for i in below:
            floored[i] = True
    for i in range(k):
        if floored[i]:
            weights[i] = floor
    largest = max(range(k), key=lambda i: weights[i])
    weights[largest] += 1.0 - math.fsum(weights)
    return tuple(weights)


def _check_binary(moments: Moments, where: str) -> None:
    # 0/1 values have Σy = Σy² <= n (the same check as the stats engine's conversion tests).
    if abs(moments.sum - moments.sum_sq) > 1e-9 * max(1.0, moments.sum) or moments.sum > moments.n:
        raise ValueError(
            f"{where}: a 'conversion' bandit needs 0/1 rewards (sum == sum_sq <= n), e.g. "
            "Moments.from_counts(n, conversions); use kind='mean' for other rewards"
        )


def _beta_draws(
    moments: Sequence[Moments],
    policy: BanditPolicy,
    rng: np.random.Generator,
    warnings: list[str],
) -> FloatArray:
    for arm, m in zip(policy.arms, moments, strict=True):
        if m.n == 0:
            warnings.append(f"arm {arm!r} has no data: its posterior is the prior")
    alpha = np.array([policy.prior_alpha + m.sum for m in moments])
    beta = np.array([policy.prior_beta + max(0.0, m.n - m.sum) for m in moments])
    return rng.beta(alpha, beta, size=(policy.draws, len(moments)))


def _normal_draws(
    moments: Sequence[Moments],
    policy: BanditPolicy,
    rng: np.random.Generator,
    warnings: list[str],
) -> FloatArray:
    # Warm-up guarantees n >= min_samples >= 2 for every arm of a 'mean' bandit.
    means = np.array([m.sum / m.n for m in moments])
    variances = [m.variance or 0.0 for m in moments]
    pooled_ss = math.fsum(v * (m.n - 1) for v, m in zip(variances, moments, strict=True))
    pooled = pooled_ss / sum(m.n - 1 for m in moments)
    for i, arm in enumerate(policy.arms):
        if variances[i] == 0.0 and pooled > 0.0:
            # A constant arm would otherwise have a point-mass posterior and never be
            # explored again; the pooled variance gives it the uncertainty of its n.
            variances[i] = pooled
            warnings.append(f"arm {arm!r} has zero variance: the pooled variance is used")
    if pooled == 0.0:
        warnings.append("every arm has zero variance: the posteriors are point masses at the means")
    scales = np.sqrt(np.array(variances) / np.array([m.n for m in moments], dtype=np.float64))
    noise = rng.standard_normal((policy.draws, len(moments)))
    samples: FloatArray = means + scales * noise
    return samples
