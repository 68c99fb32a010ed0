"""Choosing a user's arm at decide time: GrowthBook-style hashing over the current weights.

A user's bucket is ``hash(seed, user, 2)`` (``firstmile.experiments.hash``): a number in
[0, 1) fixed for the user and the bandit. The arms own consecutive slices of [0, 1) as wide
as their weights (``get_bucket_ranges``), and the user gets the arm whose slice holds their
bucket (``choose_variation``). So within an epoch a user always gets the same arm, and
over hashed users each arm is chosen with probability equal to its weight: that weight is
the **propensity** to log with the decision.

**A user's arm can change when the weights change**: the slices move at every update, and
users near a boundary cross it. When a user must keep the arm they first saw (a flow they
are in the middle of), store the first choice and reuse it, as the experiments package's
sticky records do (``firstmile.experiments.StickyRecord``); log the propensity of the
original decision only, since later exposures were not drawn from the policy.

>>> choice = choose_arm(("short", "long"), (0.25, 0.75), "u2", seed="welcome-copy")
>>> choice.arm, choice.propensity, choice.bucket
('long', 0.75, 0.8155)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from firstmile.bandits._common import SUM_TOLERANCE, check_key, check_number
from firstmile.experiments import choose_variation, get_bucket_ranges
from firstmile.experiments import hash as bucket_hash

#: Hash version 2 (10,000 unbiased buckets), the one GrowthBook recommends.
HASH_VERSION: Final = 2


@dataclass(frozen=True, slots=True)
class ArmChoice:
    """The arm a user gets: its key and index, the propensity to log, and the user's bucket."""

    arm: str
    index: int
    propensity: float
    bucket: float

    def to_json(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "index": self.index,
            "propensity": self.propensity,
            "bucket": self.bucket,
        }


def choose_arm(arms: Sequence[str], weights: Sequence[float], user: str, *, seed: str) -> ArmChoice:
    """The arm for ``user`` (the id hashed, e.g. the user id or anonymous id) under ``weights``.

    ``weights`` are the current weights (``ThompsonWeights.weights``), one per arm, summing
    to 1; ``seed`` is the bandit's seed (``BanditPolicy.seed_used``). The propensity is the
    chosen arm's weight. Raises ValueError for an empty user, weights that do not match the
    arms or do not sum to 1, or negative weights.
    """
    keys = tuple(arms)
    check_key(user, "the hashed user value")
    check_key(seed, "seed")
    values = tuple(check_number(w, "each weight") for w in weights)
    if len(values) != len(keys) or not keys:
        raise ValueError(f"{len(values)} weights for {len(keys)} arms: give one weight per arm")
    if any(w < 0 for w in values):
        raise ValueError(f"weights must be >= 0, got {list(values)}")
    total = math.fsum(values)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"weights must sum to 1, got {total:.12g}")
    bucket = bucket_hash(seed, user, HASH_VERSION)
    assert bucket is not None  # version 2 always hashes
    index = choose_variation(bucket, get_bucket_ranges(len(keys), 1.0, values))
    if index < 0:
        # Only when rounding leaves the last slice ending just below the bucket (weights
        # summing to 1 - 1e-6): the bucket belongs to the last arm that has traffic.
        index = max(i for i, w in enumerate(values) if w > 0)
    return ArmChoice(keys[index], index, values[index], bucket)
