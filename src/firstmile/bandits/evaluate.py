# ruff: noqa: RUF002, RUF003 - docstrings and comments write formulas in math notation
"""Off-policy evaluation: a candidate policy's value, estimated from logged decisions.

Every bandit decision logs the arm chosen, the **propensity** (the probability the logging
policy gave that arm, i.e. its weight at decision time), the context and, later, the
reward. A candidate policy π — probabilities per (context, arm) — can then be scored before
it is switched on. With μ_i the logged propensity, w_i = π(a_i | c_i) / μ_i and n logs:

* **IPS** (inverse propensity scoring; Horvitz & Thompson 1952): V̂ = (1/n) Σ w_i r_i,
  unbiased when every arm π may choose had μ > 0. Its standard error is the sample standard
  deviation (ddof = 1) of the w_i r_i over √n.
* **SNIPS** (self-normalized IPS; Swaminathan & Joachims 2015, "The Self-Normalized
  Estimator for Counterfactual Learning", NeurIPS): V̂ = Σ w_i r_i / Σ w_i, slightly biased
  but with far less variance when weights are uneven, and always within the range of the
  rewards. Its standard error is the delta method's for a ratio of means: with the
  linearization ψ_i = w_i (r_i − V̂) (whose sum is 0), SE² = n/(n − 1) · Σ ψ_i² / (Σ w_i)².
  When the weights average 1, SNIPS equals IPS.

Intervals are V̂ ± z_{1−α/2}·SE (normal approximation). The **effective sample size**
(Σ w)² / Σ w² (Kish) says how many logs the estimate is really worth: when the candidate
differs a lot from the logging policy, a few heavily weighted logs carry it.

Assumptions: the propensities are the true probabilities of the logged choices (log them
at decision time; a sticky arm reused later is not a new decision), and the candidate puts
probability only on arms the logging policy could choose in that context (a ``min_weight``
above 0 guarantees it). Warnings flag logs without a usable propensity, candidate arms
never logged in a context, and a small effective sample size.

>>> logs = [LoggedDecision("a", 0.5, 1.0), LoggedDecision("b", 0.5, 0.0),
...         LoggedDecision("a", 0.5, 0.0), LoggedDecision("b", 0.5, 1.0)]
>>> result = evaluate_policy(logs, {None: {"a": 1.0}})
>>> result.ips.value, result.snips.value, result.logging.value
(0.5, 0.5, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

from firstmile.bandits._common import SUM_TOLERANCE, check_key, check_number, interval_json
from firstmile.stats import Interval

TargetPolicy = (
    Mapping[str | None, Mapping[str, float]]
    | Mapping[str, Mapping[str, float]]
    | Mapping[None, Mapping[str, float]]
)
"""Candidate probabilities: context key (None: the default for other contexts) → arm → p.

(Mapping keys are invariant, so the union lets a plain ``dict[str, ...]`` through.)
"""

#: Below this effective sample size the normal intervals are not to be trusted.
SMALL_ESS: Final = 100.0
#: Warn when the effective sample size is below this share of the usable logs.
SMALL_ESS_SHARE: Final = 0.1
_MAX_LISTED: Final = 5
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One logged decision: the arm, its propensity (None when not logged), the reward."""

    arm: str
    propensity: float | None
    reward: float
    context: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoggedDecision:
        """From ``{"arm", "propensity", "reward", "context"}`` (propensity, context optional).

        >>> LoggedDecision.from_json({"arm": "a", "propensity": 0.4, "reward": 1})
        LoggedDecision(arm='a', propensity=0.4, reward=1, context=None)
        """
        if not isinstance(data, Mapping) or "arm" not in data or "reward" not in data:
            raise ValueError(f"a logged decision needs 'arm' and 'reward', got {data!r}")
        return cls(data["arm"], data.get("propensity"), data["reward"], data.get("context"))

    def to_json(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "propensity": self.propensity,
            "reward": self.reward,
            "context": self.context,
        }


@dataclass(frozen=True, slots=True)
class Estimate:
    """A policy value with its standard error and interval (None where undefined)."""

    value: float | None
    standard_error: float | None
    interval: Interval | None

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "standard_error": self.standard_error,
            "interval": interval_json(self.interval),
        }


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """IPS and SNIPS estimates of a candidate's value, and the logging policy's own value.

    ``n_logged`` logs were read, ``n_used`` had a usable propensity. ``logging`` is the mean
    reward of all logs (what the policy that made them achieved). Every number is finite or
    None, never NaN; ``warnings`` says why something is missing or doubtful.
    """

    n_logged: int
    n_used: int
    ips: Estimate
    snips: Estimate
    logging: Estimate
    effective_sample_size: float | None
    mean_weight: float | None
    max_weight: float | None
    confidence: float
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "n_logged": self.n_logged,
            "n_used": self.n_used,
            "ips": self.ips.to_json(),
            "snips": self.snips.to_json(),
            "logging": self.logging.to_json(),
            "effective_sample_size": self.effective_sample_size,
            "mean_weight": self.mean_weight,
            "max_weight": self.max_weight,
            "confidence": self.confidence,
            "warnings": list(self.warnings),
        }


def evaluate_policy(
    logs: Iterable[LoggedDecision], target: TargetPolicy, *, alpha: float = 0.05
) -> EvaluationResult:
    """Estimate the value of ``target`` from ``logs`` (IPS and SNIPS; see the module doc).

    ``target[context][arm]`` is the probability the candidate gives ``arm`` in ``context``;
    arms it does not list get 0, and ``target[None]`` applies to contexts it does not list
    (and to logs without a context). Each context's probabilities must sum to 1.

    Logs whose propensity is None or 0 cannot be reweighted: they are left out of IPS and
    SNIPS (with a warning) but count in the logging policy's value. Raises ValueError for a
    propensity outside [0, 1], a non-finite reward, a log in a context the target does not
    cover, an invalid target, or ``alpha`` outside (0, 1).
    """
    confidence_z = _z(alpha)
    policy = _check_target(target)
    arms, contexts, propensities, rewards = _read_logs(logs)
    n_logged = len(rewards)
    warnings: list[str] = []
    reward_all = np.array(rewards, dtype=np.float64)
    logging = _mean_estimate(reward_all, confidence_z)

    usable = [i for i, p in enumerate(propensities) if p is not None and p > 0.0]
    if len(usable) < n_logged:
        warnings.append(
            f"{n_logged - len(usable)} of {n_logged} logged decisions have no propensity or "
            "a propensity of 0 and were left out: log the chosen arm's weight with every "
            "decision"
        )
    probabilities = []
    for i in usable:
        context = contexts[i]
        row = policy.get(context, policy.get(None))
        if row is None:
            raise ValueError(
                f"the candidate policy has no probabilities for context {context!r} and no "
                "default (key None): give one for every logged context"
            )
        probabilities.append(row.get(arms[i], 0.0))
    warnings.extend(_unlogged_arms(policy, [(contexts[i], arms[i]) for i in usable]))
    n = len(usable)
    empty = Estimate(None, None, None)
    nothing = EvaluationResult(
        n_logged, n, empty, empty, logging, None, None, None, 1.0 - alpha, ()
    )
    if not usable:
        warnings.append("no logged decision has a usable propensity: nothing to estimate")
        return replace(nothing, warnings=tuple(warnings))
    # Huge weights or rewards may overflow to inf along the way (never NaN: see _finite);
    # numpy must not warn about it.
    with np.errstate(all="ignore"):
        weights = np.array(probabilities) / np.array([propensities[i] for i in usable])
        reward = reward_all[usable]
        weighted = weights * reward
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(weighted))):
            warnings.append("the weights overflow (propensities too close to 0): no estimate")
            return replace(nothing, warnings=tuple(warnings))
        # ESS and SNIPS do not change when every weight is scaled: scaling to a maximum of
        # 1 keeps their sums of squares finite.
        largest = float(weights.max())
        scaled = weights / largest if largest > 0.0 else weights
        scaled_total = _fsum(scaled)
        squares = _fsum(scaled * scaled)
        ess = scaled_total * scaled_total / squares if squares > 0.0 else 0.0
        ips = _mean_estimate(weighted, confidence_z)
        snips = _snips(scaled, reward, scaled_total, confidence_z, warnings)
    if ess < SMALL_ESS:
        warnings.append(
            f"the effective sample size is {ess:.1f} (below {SMALL_ESS:g}): the estimates are "
            "noisy and their intervals unreliable"
        )
    if ess < SMALL_ESS_SHARE * n:
        warnings.append(
            f"the effective sample size is {ess / n:.1%} of the usable decisions: the "
            "candidate differs a lot from the logging policy and a few logs carry the estimate"
        )
    return EvaluationResult(
        n_logged=n_logged,
        n_used=n,
        ips=ips,
        snips=snips,
        logging=logging,
        effective_sample_size=_finite(ess),
        mean_weight=_finite(_fsum(weights) / n),
        max_weight=_finite(largest),
        confidence=1.0 - alpha,
        warnings=tuple(warnings),
    )


def _z(alpha: float) -> float:
    level = check_number(alpha, "alpha")
    if not 0.0 < level < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    return float(scipy_stats.norm.ppf(1.0 - level / 2.0))


def _check_target(target: TargetPolicy) -> dict[str | None, dict[str, float]]:
    if not isinstance(target, Mapping) or not target:
        raise ValueError(
            "the candidate policy must map contexts (None: every context) to arm "
            'probabilities, e.g. {None: {"a": 0.5, "b": 0.5}}'
        )
    checked: dict[str | None, dict[str, float]] = {}
    for context, row in target.items():
        label = "the default (None)" if context is None else f"context {context!r}"
        if context is not None:
            check_key(context, "a context key of the candidate policy")
        if not isinstance(row, Mapping) or not row:
            raise ValueError(f"the candidate policy for {label} must map arms to probabilities")
        probabilities: dict[str, float] = {}
        for arm, p in row.items():
            check_key(arm, f"an arm key of the candidate policy for {label}")
            value = check_number(p, f"the candidate probability of arm {arm!r} in {label}")
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"the candidate probability of arm {arm!r} in {label} must be in [0, 1], "
                    f"got {value}"
                )
            probabilities[arm] = value
        total = math.fsum(probabilities.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise ValueError(
                f"the candidate probabilities for {label} sum to {total:.6g}, not 1: "
                "give every arm its share"
            )
        checked[context] = probabilities
    return checked


def _read_logs(
    logs: Iterable[LoggedDecision],
) -> tuple[list[str], list[str | None], list[float | None], list[float]]:
    arms: list[str] = []
    contexts: list[str | None] = []
    propensities: list[float | None] = []
    rewards: list[float] = []
    for i, log in enumerate(logs):
        if not isinstance(log, LoggedDecision):
            raise ValueError(f"log {i} must be a LoggedDecision, got {type(log).__name__}")
        arms.append(check_key(log.arm, f"log {i}: the arm"))
        if log.context is not None:
            check_key(log.context, f"log {i}: the context (None when there is none)")
        contexts.append(log.context)
        rewards.append(check_number(log.reward, f"log {i}: the reward"))
        if log.propensity is None:
            propensities.append(None)
            continue
        propensity = check_number(log.propensity, f"log {i}: the propensity")
        if not 0.0 <= propensity <= 1.0:
            raise ValueError(
                f"log {i}: the propensity must be a probability in (0, 1], got {propensity}"
            )
        propensities.append(propensity)
    return arms, contexts, propensities, rewards


def _mean_estimate(values: FloatArray, z: float) -> Estimate:
    """The mean with its standard error sd/√n (ddof = 1) and normal interval."""
    n = values.shape[0]
    if n == 0:
        return Estimate(None, None, None)
    mean = _finite(_fsum(values) / n)
    if mean is None or n < 2:
        return Estimate(mean, None, None)
    with np.errstate(all="ignore"):
        se = _finite(float(np.std(values, ddof=1)) / math.sqrt(n))
    return Estimate(mean, se, _interval(mean, se, z))


def _snips(
    weights: FloatArray, reward: FloatArray, total: float, z: float, warnings: list[str]
) -> Estimate:
    if total <= 0.0:
        warnings.append(
            "the candidate gives probability 0 to every logged decision: SNIPS is undefined "
            "(IPS is 0)"
        )
        return Estimate(None, None, None)
    value = _finite(_fsum(weights * reward) / total)
    n = weights.shape[0]
    if value is None or n < 2:
        return Estimate(value, None, None)
    # Delta method for a ratio of means; the linearized terms w_i (r_i − V̂) sum to 0.
    psi = weights * (reward - value)
    se = _finite(math.sqrt(n / (n - 1) * _fsum(psi * psi)) / total)
    return Estimate(value, se, _interval(value, se, z))


def _interval(center: float, se: float | None, z: float) -> Interval | None:
    if se is None:
        return None
    lower, upper = center - z * se, center + z * se
    if math.isfinite(lower) and math.isfinite(upper):
        return Interval(lower, upper)
    return None


def _fsum(values: FloatArray) -> float:
    """The exactly rounded sum (``math.fsum``); inf when it overflows."""
    try:
        return math.fsum(values.tolist())
    except (OverflowError, ValueError):  # an intermediate overflow, or inf - inf
        return math.inf


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _unlogged_arms(
    policy: dict[str | None, dict[str, float]], logged: list[tuple[str | None, str]]
) -> list[str]:
    """Warnings for arms the candidate would choose in a context where none was logged."""
    seen = set(logged)
    missing: list[str] = []
    for context in sorted({c for c, _ in logged}, key=lambda c: (c is not None, c or "")):
        row = policy.get(context, policy.get(None)) or {}
        for arm, p in row.items():
            if p > 0.0 and (context, arm) not in seen:
                where = "without a context" if context is None else f"in context {context!r}"
                missing.append(
                    f"the candidate gives arm {arm!r} probability {p:g} {where}, but it was "
                    "never logged there: its rewards are missing from the estimates (IPS "
                    "leans toward 0, SNIPS toward the logged arms)"
                )
    if len(missing) > _MAX_LISTED:
        extra = len(missing) - _MAX_LISTED
        missing = [*missing[:_MAX_LISTED], f"... and {extra} more arms never logged"]
    return missing
