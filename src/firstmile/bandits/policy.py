"""A bandit's definition: its arms, its model, and the rules that keep it safe.

>>> policy = BanditPolicy("welcome-copy", ("short", "long", "video"), min_weight=0.1)
>>> policy.seed_used, policy.cadence
('welcome-copy', datetime.timedelta(seconds=3600))
>>> BanditPolicy("welcome-copy", ("a", "b", "c"), min_weight=0.4)
Traceback (most recent call last):
...
ValueError: bandit 'welcome-copy': min_weight * arms must be <= 1: with 3 arms min_weight \
can be at most 0.3333, got 0.4
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Literal

from firstmile.bandits._common import check_arms, check_int, check_key, check_number

BanditKind = Literal["conversion", "mean"]
KINDS: Final[tuple[BanditKind, ...]] = ("conversion", "mean")
#: Fewer draws estimate each arm's chance of being best too coarsely to be worth it.
MIN_DRAWS: Final = 100
MAX_DRAWS: Final = 1_000_000
_FLOOR_SLACK: Final = 1e-12


@dataclass(frozen=True, slots=True)
class BanditPolicy:
    """How a multi-armed bandit splits traffic between its arms (Thompson sampling).

    ``arms`` are the arm keys (at least two, unique). ``kind`` is the reward model:

    * ``"conversion"`` — 0/1 rewards, a Beta-Bernoulli model with the prior
      ``Beta(prior_alpha, prior_beta)`` (uniform by default): an arm with ``x`` conversions
      among ``n`` users has the posterior ``Beta(prior_alpha + x, prior_beta + n - x)``.
    * ``"mean"`` — any numeric reward (revenue, steps completed), the normal approximation
      used by ``firstmile.stats.gaussian_test``: a flat prior on the mean and the sample
      variance plugged in, so the posterior of an arm's mean is ``N(ȳ, s²/n)``. Chosen over
      a conjugate Normal-Inverse-Gamma prior because it needs no prior scale in the metric's
      units (which nobody can pick well for revenue) and it is what the experiment reports
      show, so the bandit and the analysis agree; it is only trustworthy once each arm has a
      few dozen users, which ``min_samples`` guarantees (it must be at least 2 here).

    ``min_weight`` is each arm's minimum share of traffic (so no arm starves and the logs
    keep enough data on every arm to evaluate other policies); ``min_weight * len(arms)``
    must be at most 1. Until every arm has ``min_samples`` users the weights stay equal.
    ``cadence`` is how often the weights are recomputed; ``seed`` (default: the key) seeds
    both the Monte Carlo draws and the hashing of users; ``draws`` is the number of Monte
    Carlo draws per update.

    Every rule is checked when the value is built: a bad definition raises ValueError.
    """

    key: str
    arms: tuple[str, ...]
    kind: BanditKind = "conversion"
    min_weight: float = 0.05
    min_samples: int = 100
    cadence: timedelta = timedelta(hours=1)
    seed: str | int | None = None
    draws: int = 10_000
    prior_alpha: float = 1.0
    prior_beta: float = 1.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        check_key(self.key, "a bandit's key")
        where = f"bandit {self.key!r}"
        set_(self, "arms", check_arms(self.arms, where))
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind must be 'conversion' or 'mean', got {self.kind!r}")
        set_(self, "min_weight", _check_min_weight(self.min_weight, len(self.arms), where))
        min_samples = check_int(self.min_samples, f"{where}: min_samples", 0)
        if self.kind == "mean" and min_samples < 2:
            raise ValueError(
                f"{where}: a 'mean' bandit needs min_samples >= 2 so that every arm has a "
                f"sample variance, got {min_samples}"
            )
        set_(self, "min_samples", min_samples)
        if not isinstance(self.cadence, timedelta) or self.cadence <= timedelta(0):
            raise ValueError(
                f"{where}: cadence must be a positive datetime.timedelta, got {self.cadence!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, str | int | None):
            raise ValueError(f"{where}: seed must be a string or an integer, got {self.seed!r}")
        draws = check_int(self.draws, f"{where}: draws", MIN_DRAWS)
        if draws > MAX_DRAWS:
            raise ValueError(f"{where}: draws must be <= {MAX_DRAWS:,}, got {draws:,}")
        set_(self, "draws", draws)
        for name in ("prior_alpha", "prior_beta"):
            value = check_number(getattr(self, name), f"{where}: {name}")
            if value <= 0:
                raise ValueError(
                    f"{where}: {name} must be > 0 (Beta(1, 1) is uniform), got {value}"
                )
            set_(self, name, value)

    @property
    def seed_used(self) -> str:
        """The seed as text: ``seed``, or the key when no seed (or an empty one) is set."""
        if self.seed is None or self.seed == "":
            return self.key
        return str(self.seed)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready; the cadence is in seconds.

        >>> BanditPolicy("b", ("x", "y"), min_samples=50).to_json()["min_samples"]
        50
        """
        return {
            "key": self.key,
            "arms": list(self.arms),
            "kind": self.kind,
            "min_weight": self.min_weight,
            "min_samples": self.min_samples,
            "cadence_seconds": self.cadence.total_seconds(),
            "seed": self.seed_used,
            "draws": self.draws,
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
        }


def _check_min_weight(value: object, arms: int, where: str) -> float:
    weight = check_number(value, f"{where}: min_weight")
    if weight < 0:
        raise ValueError(f"{where}: min_weight must be >= 0, got {weight}")
    if weight * arms > 1.0 + _FLOOR_SLACK:
        largest = math.floor(1e4 / arms) / 1e4
        raise ValueError(
            f"{where}: min_weight * arms must be <= 1: with {arms} arms min_weight can be at "
            f"most {largest:.4g}, got {weight:g}"
        )
    return weight
