"""Experiment definitions and assignments: frozen values, validated when built.

>>> exp = Experiment("welcome-tour", ("control", "tour"), weights=(0.5, 0.5), coverage=0.8)
>>> exp.seed_used, exp.ranges
('welcome-tour', ((0.0, 0.4), (0.5, 0.9)))
>>> Experiment("welcome-tour", ("control", "tour"), coverage=1.5)
Traceback (most recent call last):
...
ValueError: experiment 'welcome-tour': coverage must be between 0 and 1, got 1.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

from firstmile.experiments.buckets import BucketRange, get_bucket_ranges, get_equal_weights
from firstmile.experiments.hashing import HASH_VERSIONS, HashVersion

ExperimentStatus = Literal["draft", "running", "stopped"]
STATUSES: Final[tuple[ExperimentStatus, ...]] = ("draft", "running", "stopped")
WEIGHT_TOLERANCE: Final = 1e-6
"""How far from 1 the weights of a definition may sum (GrowthBook's bucketing accepts 1%)."""


class Namespace(NamedTuple):
    """A slice ``[start, end)`` of a namespace; experiments on disjoint slices share no user.

    >>> Namespace("onboarding", 0.0, 0.5)
    Namespace(name='onboarding', start=0.0, end=0.5)
    """

    name: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Experiment:
    """An experiment as firstmile assigns it, in GrowthBook's terms.

    ``variations`` are the variation keys, control first. ``weights`` (one per variation,
    summing to 1; None: equal) split the ``coverage`` share of users who enter. Users are
    hashed by ``hash_attribute``, or by ``fallback_attribute`` when that is missing; the
    seed is ``seed`` or else the key. ``overrides`` forces QA users (by the value of either
    attribute) into a variation, by key. Only a ``running`` experiment assigns by hash.

    Every rule is checked when the value is built: a bad definition raises ValueError.
    """

    key: str
    variations: tuple[str, ...]
    weights: tuple[float, ...] | None = None
    coverage: float = 1.0
    hash_attribute: str = "id"
    fallback_attribute: str | None = "anonymous_id"
    seed: str | None = None
    hash_version: HashVersion = 1
    namespace: Namespace | None = None
    status: ExperimentStatus = "running"
    overrides: Mapping[str, str] = field(default_factory=dict, hash=False)
    ranges: tuple[BucketRange, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "variations", tuple(self.variations))
        if self.weights is not None:
            set_(self, "weights", tuple(self.weights))
        if self.namespace is not None:
            set_(self, "namespace", Namespace(*self.namespace))
        set_(self, "overrides", MappingProxyType(dict(self.overrides)))
        _check(self)
        set_(self, "ranges", get_bucket_ranges(len(self.variations), self.coverage, self.weights))

    @property
    def seed_used(self) -> str:
        """The hash seed: ``seed``, or the key when no seed (or an empty one) is set."""
        return self.seed or self.key

    @property
    def weights_used(self) -> tuple[float, ...]:
        """The weights, or equal weights when none are set.

        >>> Experiment("e", ("a", "b", "c")).weights_used
        (0.3333333333333333, 0.3333333333333333, 0.3333333333333333)
        """
        if self.weights is None:
            return get_equal_weights(len(self.variations))
        return self.weights


def _check(exp: Experiment) -> None:
    where = f"experiment {exp.key!r}"
    if not isinstance(exp.key, str) or not exp.key:
        raise ValueError(f"an experiment needs a non-empty string key, got {exp.key!r}")
    count = len(exp.variations)
    if count < 2:
        raise ValueError(f"{where} needs at least two variations (control first), got {count}")
    if any(not isinstance(v, str) or not v for v in exp.variations):
        raise ValueError(f"{where}: variation keys must be non-empty strings")
    if len(set(exp.variations)) != count:
        raise ValueError(f"{where}: variation keys must be unique, got {list(exp.variations)}")
    if exp.weights is not None:
        _check_weights(where, count, exp.weights)
    coverage = exp.coverage
    if isinstance(coverage, bool) or not isinstance(coverage, int | float):
        raise ValueError(f"{where}: coverage must be a number between 0 and 1, got {coverage!r}")
    if not 0 <= coverage <= 1:
        raise ValueError(f"{where}: coverage must be between 0 and 1, got {coverage!r}")
    if exp.hash_version not in HASH_VERSIONS:
        raise ValueError(f"{where}: hash_version must be 1 or 2, got {exp.hash_version!r}")
    if exp.status not in STATUSES:
        raise ValueError(
            f"{where}: status must be one of {', '.join(STATUSES)}, got {exp.status!r}"
        )
    if not exp.hash_attribute:
        raise ValueError(f"{where}: hash_attribute must be an attribute name")
    if exp.namespace is not None:
        name, start, end = exp.namespace
        if not name or not 0 <= start < end <= 1:
            raise ValueError(
                f"{where}: namespace needs a name and 0 <= start < end <= 1, "
                f"got {tuple(exp.namespace)!r}"
            )
    for user, variation in exp.overrides.items():
        if variation not in exp.variations:
            raise ValueError(
                f"{where}: the override for {user!r} names variation {variation!r}, which is "
                f"not one of {list(exp.variations)}"
            )


def _check_weights(where: str, count: int, weights: tuple[float, ...]) -> None:
    if len(weights) != count:
        raise ValueError(
            f"{where} has {len(weights)} weights for {count} variations: "
            "give one weight per variation, in the same order"
        )
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(f"{where}: weights must be numbers, got {weight!r}")
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"{where}: weights must be finite and not negative, got {weight!r}")
    total = math.fsum(weights)
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ValueError(
            f"{where}: weights sum to {total:g}, not 1 (within {WEIGHT_TOLERANCE:g}); "
            "give each variation its share of users"
        )


class AssignmentReason(StrEnum):
    """Why a user is, or is not, in an experiment (in the order they are checked)."""

    FORCED = "forced"  # a QA override or a forced variation for the request
    INACTIVE = "inactive"  # the experiment is a draft or stopped
    NO_HASH_ATTRIBUTE = "no_hash_attribute"  # neither attribute identifies the user
    HOLDOUT = "holdout"  # the user is in the global holdout
    NOT_IN_NAMESPACE = "not_in_namespace"  # outside the experiment's namespace slice
    COVERAGE = "coverage"  # hashed outside every variation's range
    ASSIGNED = "assigned"  # hashed into a variation (or kept there, when sticky)


@dataclass(frozen=True, slots=True)
class Assignment:
    """The outcome of assigning one user to one experiment.

    Out of the experiment, ``variation`` is 0 (the control is shown), as GrowthBook's
    ``variationId``. ``hash_attribute``/``hash_value`` say who the user was taken for,
    ``bucket`` is the hash ``n`` when the assignment was hashed, and ``sticky`` is true
    when a recorded assignment kept the variation (see ``sticky_assign``).
    """

    experiment_key: str
    variation: int
    variation_key: str
    in_experiment: bool
    reason: AssignmentReason
    hash_attribute: str | None = None
    hash_value: str | None = None
    bucket: float | None = None
    sticky: bool = False

    @property
    def hash_used(self) -> bool:
        """Whether the variation came from the hash (GrowthBook's ``hashUsed``)."""
        return self.reason is AssignmentReason.ASSIGNED

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for the decision response and the exposure log.

        >>> done = Assignment("e", 1, "b", True, AssignmentReason.ASSIGNED, "id", "u1", 0.62)
        >>> done.to_json()["variation"], done.to_json()["reason"]
        ('b', 'assigned')
        """
        return {
            "variation": self.variation_key,
            "variation_index": self.variation,
            "in_experiment": self.in_experiment,
            "reason": self.reason.value,
            "hash_attribute": self.hash_attribute,
            "hash_value": self.hash_value,
            "bucket": self.bucket,
            "sticky": self.sticky,
        }
