"""Sticky assignment: a user keeps the variation they saw when their identity changes.

An onboarding user is often anonymous first (hashed by ``anonymous_id``, the fallback
attribute) and identified later (hashed by ``id``), and the new id would usually hash into
another bucket. As with GrowthBook's sticky bucketing, a recorded assignment under any of
the user's current identities wins over the hash.

How the caller stores it: after each assignment, ``StickyRecord.of(result)`` is the record
to keep (None: nothing to keep), four strings with ``(experiment_key, hash_attribute,
hash_value)`` unique; store it when it is not stored yet. Next time, pass the records
stored under the user's identities (or simply all the records of the user's profile) with
attributes carrying both ``id`` and ``anonymous_id``. After identification the result
comes back keyed by ``id``, so storing that record too makes the id alone enough from
then on. In GrowthBook's terms a record is ``assignments[experiment_key + "__0"] =
variation_key`` in the document of ``hash_attribute + "||" + hash_value``.

>>> exp = Experiment("welcome-tour", ("control", "tour"), hash_version=2)
>>> before = assign(exp, {"anonymous_id": "a-19"})
>>> record = StickyRecord.of(before)
>>> record
StickyRecord(experiment_key='welcome-tour', hash_attribute='anonymous_id', \
hash_value='a-19', variation_key='tour')
>>> assign(exp, {"id": "u1", "anonymous_id": "a-19"}).variation_key
'control'
>>> after = sticky_assign(exp, {"id": "u1", "anonymous_id": "a-19"}, [record])
>>> after.variation_key, after.sticky, after.hash_attribute
('tour', True, 'id')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from firstmile.experiments.assign import assign
from firstmile.experiments.hashing import fnv_hash
from firstmile.experiments.holdout import Holdout
from firstmile.experiments.identity import identities
from firstmile.experiments.model import Assignment, AssignmentReason, Experiment

# A forced or inactive outcome, or a user who cannot be identified, is never made sticky.
_NOT_STICKY = frozenset(
    {AssignmentReason.FORCED, AssignmentReason.INACTIVE, AssignmentReason.NO_HASH_ATTRIBUTE}
)


@dataclass(frozen=True, slots=True)
class StickyRecord:
    """A variation a user was hashed into, under the identity they had then."""

    experiment_key: str
    hash_attribute: str
    hash_value: str
    variation_key: str

    @classmethod
    def of(cls, assignment: Assignment) -> StickyRecord | None:
        """The record to store for an assignment: only hashed (or sticky) ones have one."""
        if (
            assignment.reason is not AssignmentReason.ASSIGNED
            or assignment.hash_attribute is None
            or assignment.hash_value is None
        ):
            return None
        return cls(
            assignment.experiment_key,
            assignment.hash_attribute,
            assignment.hash_value,
            assignment.variation_key,
        )


def sticky_assign(
    experiment: Experiment,
    attributes: Mapping[str, Any],
    records: Iterable[StickyRecord],
    *,
    holdout: Holdout | None = None,
    forced: Mapping[str, int | str] | None = None,
) -> Assignment:
    """``assign``, except that a recorded variation of the user is kept.

    A record applies when it is for this experiment, names a variation it still has, and
    was made under one of the user's current identities (the hash attribute's record is
    preferred to the fallback's). It then wins over the holdout, the namespace and
    coverage, so changing them later never moves a user who already saw a variation; a
    forced variation and an inactive experiment still win over it.
    """
    current = assign(experiment, attributes, holdout=holdout, forced=forced)
    if current.reason in _NOT_STICKY or current.hash_value is None:
        return current
    record = _find(experiment, attributes, records)
    if record is None:
        return current
    bucket = current.bucket
    if bucket is None:
        bucket = fnv_hash(experiment.seed_used, current.hash_value, experiment.hash_version)
    return replace(
        current,
        variation=experiment.variations.index(record.variation_key),
        variation_key=record.variation_key,
        in_experiment=True,
        reason=AssignmentReason.ASSIGNED,
        bucket=bucket,
        sticky=True,
    )


def _find(
    experiment: Experiment, attributes: Mapping[str, Any], records: Iterable[StickyRecord]
) -> StickyRecord | None:
    usable = [
        record
        for record in records
        if record.experiment_key == experiment.key and record.variation_key in experiment.variations
    ]
    for identity in identities(
        attributes, experiment.hash_attribute, experiment.fallback_attribute
    ):
        for record in usable:
            if (record.hash_attribute, record.hash_value) == identity:
                return record
    return None
