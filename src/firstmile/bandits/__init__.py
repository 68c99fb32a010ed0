"""Multi-armed and contextual bandits: Thompson sampling with propensities, and their evaluation.

Pure functions and frozen values on numpy, scipy, ``firstmile.stats`` (arm statistics are
:class:`~firstmile.stats.Moments`) and ``firstmile.experiments`` (users are hashed as
GrowthBook does); no I/O. ``docs/bandits.md`` is the guide.

* the definition: :class:`BanditPolicy`
* weights: :func:`thompson_weights` → :class:`ThompsonWeights`, :func:`floor_weights`
* cadence: :func:`weights_due`, :func:`epoch_of`, :func:`epoch_start`
* decide time: :func:`choose_arm` → :class:`ArmChoice` (the arm and its propensity)
* contexts: :class:`Context`, :func:`select_context`, :func:`contextual_weights`
  → :class:`ContextualWeights`; :func:`fit_context_tree` → :class:`ContextTree`
* off-policy evaluation: :func:`evaluate_policy` → :class:`EvaluationResult`

>>> from firstmile.stats import Moments
>>> policy = BanditPolicy("welcome-copy", ("short", "long"), min_samples=100)
>>> stats = {"short": Moments.from_counts(1000, 100), "long": Moments.from_counts(1000, 150)}
>>> weights = thompson_weights(stats, policy, epoch=0)
>>> weights.weights
(0.05, 0.95)
>>> choose_arm(weights.arms, weights.weights, "u2", seed=policy.seed_used).arm
'long'
"""

from firstmile.bandits._attributes import AttributeKind, TreeAttribute
from firstmile.bandits.cadence import epoch_of, epoch_start, weights_due
from firstmile.bandits.choose import ArmChoice, choose_arm
from firstmile.bandits.contextual import (
    Context,
    ContextualWeights,
    contextual_weights,
    select_context,
)
from firstmile.bandits.evaluate import (
    Estimate,
    EvaluationResult,
    LoggedDecision,
    TargetPolicy,
    evaluate_policy,
)
from firstmile.bandits.policy import BanditKind, BanditPolicy
from firstmile.bandits.thompson import ThompsonWeights, floor_weights, thompson_weights
from firstmile.bandits.tree import ContextTree, Leaf, LeafArm, TreeRow, fit_context_tree

__all__ = [
    "ArmChoice",
    "AttributeKind",
    "BanditKind",
    "BanditPolicy",
    "Context",
    "ContextTree",
    "ContextualWeights",
    "Estimate",
    "EvaluationResult",
    "Leaf",
    "LeafArm",
    "LoggedDecision",
    "TargetPolicy",
    "ThompsonWeights",
    "TreeAttribute",
    "TreeRow",
    "choose_arm",
    "contextual_weights",
    "epoch_of",
    "epoch_start",
    "evaluate_policy",
    "fit_context_tree",
    "floor_weights",
    "select_context",
    "thompson_weights",
    "weights_due",
]
