"""Assigning a user to an experiment: GrowthBook's ``run``, for the parts firstmile uses.

The checks run in this order, and the first that decides gives the reason:

1. ``forced``: the request forces a variation (``forced``, keyed by experiment key), or the
   experiment's QA ``overrides`` name the user;
2. ``inactive``: the experiment is a draft or stopped;
3. ``no_hash_attribute``: neither the hash attribute nor the fallback identifies the user;
4. ``holdout``: the user is in the global holdout;
5. ``not_in_namespace``: the user's namespace hash is outside the experiment's slice;
6. ``coverage``: the experiment hash falls in no variation's range;
7. ``assigned``: it falls in a variation's range.

>>> exp = Experiment("welcome-tour", ("control", "tour"), hash_version=2)
>>> [assign(exp, {"id": user}).variation_key for user in ("u1", "u2", "u3", "u4")]
['control', 'control', 'control', 'tour']
>>> assign(exp, {"id": "u1"}, forced={"welcome-tour": "tour"}).reason
<AssignmentReason.FORCED: 'forced'>
>>> assign(exp, {}).reason
<AssignmentReason.NO_HASH_ATTRIBUTE: 'no_hash_attribute'>
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firstmile.experiments.buckets import choose_variation
from firstmile.experiments.hashing import fnv_hash, in_namespace
from firstmile.experiments.holdout import Holdout
from firstmile.experiments.identity import hash_identity, identities
from firstmile.experiments.model import Assignment, AssignmentReason, Experiment

Reason = AssignmentReason


def assign(
    experiment: Experiment,
    attributes: Mapping[str, Any],
    *,
    holdout: Holdout | None = None,
    forced: Mapping[str, int | str] | None = None,
) -> Assignment:
    """Assign one user to ``experiment``; deterministic, no I/O.

    ``attributes`` is the user's attributes object (the hash attribute and its fallback
    are read at its top level). ``forced`` maps experiment keys to a variation, by index or
    key, for QA of one request; it wins over everything else, as GrowthBook's
    ``forcedVariations``. Returns an ``Assignment`` in every case: out of the experiment,
    the control (index 0) with ``in_experiment`` false and the reason.

    >>> exp = Experiment("checklist", ("short", "long"), coverage=0.5, hash_version=2)
    >>> result = assign(exp, {"id": "user-10"})
    >>> result.in_experiment, result.reason.value, result.bucket
    (False, 'coverage', 0.387)
    """
    identity = hash_identity(attributes, experiment.hash_attribute, experiment.fallback_attribute)
    attribute, value = identity if identity is not None else (None, None)

    def outcome(reason: Reason, index: int = -1, bucket: float | None = None) -> Assignment:
        inside = index >= 0
        index = max(index, 0)
        return Assignment(
            experiment_key=experiment.key,
            variation=index,
            variation_key=experiment.variations[index],
            in_experiment=inside,
            reason=reason,
            hash_attribute=attribute,
            hash_value=value,
            bucket=bucket,
        )

    chosen = forced.get(experiment.key) if forced is not None else None
    if chosen is not None:
        return outcome(Reason.FORCED, _variation_index(experiment, chosen))
    if experiment.overrides:
        for _name, user in identities(
            attributes, experiment.hash_attribute, experiment.fallback_attribute
        ):
            if user in experiment.overrides:
                index = experiment.variations.index(experiment.overrides[user])
                return outcome(Reason.FORCED, index)
    if experiment.status != "running":
        return outcome(Reason.INACTIVE)
    if value is None:
        return outcome(Reason.NO_HASH_ATTRIBUTE)
    if holdout is not None and holdout.contains(attributes):
        return outcome(Reason.HOLDOUT)
    if experiment.namespace is not None and not in_namespace(value, experiment.namespace):
        return outcome(Reason.NOT_IN_NAMESPACE)
    bucket = fnv_hash(experiment.seed_used, value, experiment.hash_version)
    index = -1 if bucket is None else choose_variation(bucket, experiment.ranges)
    if index < 0:
        return outcome(Reason.COVERAGE, bucket=bucket)
    return outcome(Reason.ASSIGNED, index, bucket)


def _variation_index(experiment: Experiment, chosen: int | str) -> int:
    if isinstance(chosen, str):
        if chosen in experiment.variations:
            return experiment.variations.index(chosen)
    elif not isinstance(chosen, bool) and 0 <= chosen < len(experiment.variations):
        return chosen
    raise ValueError(
        f"experiment {experiment.key!r}: cannot force variation {chosen!r}; use an index "
        f"from 0 to {len(experiment.variations) - 1} or one of {list(experiment.variations)}"
    )
