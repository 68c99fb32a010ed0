"""The global holdout: a share of users, hashed with its own seed, who see no experiment.

Held-out users keep seeing the control everywhere, so the combined effect of all
experiments can be measured against them. Membership is ``hash(seed, value, version) <
share``, half-open like a rollout's coverage: a share of k/10,000 holds out exactly k of
version 2's 10,000 buckets. The holdout's seed is its own, so being held out is
independent of every experiment's buckets.

>>> holdout = Holdout(share=0.1)
>>> [holdout.contains({"id": f"user-{i}"}) for i in range(8)]
[False, False, False, False, False, True, False, False]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from firstmile.experiments.hashing import HASH_VERSIONS, HashVersion, fnv_hash
from firstmile.experiments.identity import hash_identity

DEFAULT_HOLDOUT_SEED: Final = "firstmile-global-holdout"


@dataclass(frozen=True, slots=True)
class Holdout:
    """``share`` of users (0.05 for 5%) held out of every experiment.

    Users are hashed by ``hash_attribute``, else ``fallback_attribute``; a user with
    neither is not held out (and cannot be hashed into an experiment either).
    """

    share: float
    seed: str = DEFAULT_HOLDOUT_SEED
    hash_attribute: str = "id"
    fallback_attribute: str | None = "anonymous_id"
    hash_version: HashVersion = 2

    def __post_init__(self) -> None:
        share = self.share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(f"the holdout share must be between 0 and 1, got {share!r}")
        if not self.seed:
            raise ValueError("the holdout needs its own non-empty seed")
        if self.hash_version not in HASH_VERSIONS:
            raise ValueError(f"the holdout hash_version must be 1 or 2, got {self.hash_version!r}")

    def bucket(self, attributes: Mapping[str, Any]) -> float | None:
        """The user's holdout hash in [0, 1), or None when the user cannot be hashed."""
        identity = hash_identity(attributes, self.hash_attribute, self.fallback_attribute)
        if identity is None:
            return None
        return fnv_hash(self.seed, identity[1], self.hash_version)

    def contains(self, attributes: Mapping[str, Any]) -> bool:
        """Whether the user is held out of every experiment.

        >>> Holdout(share=0.0).contains({"id": "u1"}), Holdout(share=1.0).contains({"id": "u1"})
        (False, True)
        """
        n = self.bucket(attributes)
        return n is not None and n < self.share
