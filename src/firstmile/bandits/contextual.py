"""Contextual bandits: separate posteriors per context, chosen at decide time.

A :class:`Context` is a key and a condition in the condition language (a segment such as
``{"device.type": "mobile"}``, or a leaf of :func:`~firstmile.bandits.tree.fit_context_tree`).
Each context keeps its own arm statistics and its own weights. At decide time the caller
evaluates the conditions (this package does not import the condition language) and picks
the first context that matches with :func:`select_context`; :func:`contextual_weights`
then gives that context's weights, or the global weights while the context is still short
of data.

Log every decision with the context key that was selected — also while it fell back to the
global weights — so the context's own statistics fill up; the global statistics are all of
the bandit's decisions, whatever their context.

>>> from firstmile.stats import Moments
>>> policy = BanditPolicy("copy", ("a", "b"), min_samples=100)
>>> mobile = Context("mobile", {"device.type": "mobile"})
>>> select_context([mobile], lambda condition: condition == {"device.type": "mobile"}).key
'mobile'
>>> global_stats = {"a": Moments.from_counts(500, 50), "b": Moments.from_counts(500, 80)}
>>> by_context = {"mobile": {"a": Moments.from_counts(30, 3), "b": Moments.from_counts(30, 9)}}
>>> result = contextual_weights(by_context, global_stats, policy, context="mobile", epoch=0)
>>> result.fallback, result.used
(True, None)
>>> result.reason
"context 'mobile' warming up (arm 'a' has 30 of 100 samples): global weights (thompson)"
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from firstmile.bandits._common import check_key, check_stats, json_value
from firstmile.bandits.policy import BanditPolicy
from firstmile.bandits.thompson import ThompsonWeights, thompson_weights
from firstmile.stats import Moments


@dataclass(frozen=True, slots=True)
class Context:
    """A named condition (in the condition language) whose users get their own weights."""

    key: str
    condition: Mapping[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        check_key(self.key, "a context's key")
        if not isinstance(self.condition, Mapping):
            raise ValueError(
                f"context {self.key!r}: the condition must be a condition object (a dict), "
                f"got {type(self.condition).__name__}"
            )
        # A private deep copy: the caller may reuse or mutate its dict.
        object.__setattr__(self, "condition", copy.deepcopy(dict(self.condition)))

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "condition": json_value(self.condition)}


@dataclass(frozen=True, slots=True)
class ContextualWeights:
    """The weights for one decision and where they came from.

    ``context`` is the context asked for (None: no context matched); ``used`` is the
    context whose statistics gave the weights, None for the global ones; ``fallback`` is
    true when the context was still warming up and the global weights were used instead.
    """

    context: str | None
    used: str | None
    fallback: bool
    result: ThompsonWeights
    reason: str

    @property
    def arms(self) -> tuple[str, ...]:
        return self.result.arms

    @property
    def weights(self) -> tuple[float, ...]:
        return self.result.weights

    def to_json(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "used": self.used,
            "fallback": self.fallback,
            "reason": self.reason,
            **{key: value for key, value in self.result.to_json().items() if key != "reason"},
        }


def check_contexts(contexts: Iterable[Context]) -> tuple[Context, ...]:
    """The contexts as a tuple; ValueError unless they are Contexts with unique keys."""
    found = tuple(contexts)
    for context in found:
        if not isinstance(context, Context):
            raise ValueError(f"contexts must be Context values, got {type(context).__name__}")
    keys = [context.key for context in found]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"context keys must be unique, got {duplicates} more than once")
    return found


def select_context(
    contexts: Iterable[Context], matches: Callable[[Mapping[str, Any]], bool]
) -> Context | None:
    """The first context whose condition ``matches`` (the caller's evaluator), else None.

    Order is priority: put narrow contexts before broad ones. The leaves of a context tree
    never overlap, so for them the order does not matter.
    """
    for context in check_contexts(contexts):
        if matches(context.condition):
            return context
    return None


def contextual_weights(
    context_stats: Mapping[str, Mapping[str, Moments]],
    global_stats: Mapping[str, Moments],
    policy: BanditPolicy,
    *,
    context: str | None,
    epoch: int,
) -> ContextualWeights:
    """The weights for a decision in ``context`` (a context key, or None when none matched).

    ``context_stats`` maps context keys to per-arm moments of the decisions logged in that
    context; ``global_stats`` are the per-arm moments of all decisions. A context whose
    arms all have ``min_samples`` users gets Thompson weights from its own statistics
    (drawn on a stream of its own, so contexts do not share random numbers); otherwise,
    and when ``context`` is None, the global weights apply.
    """
    if context is None:
        result = thompson_weights(global_stats, policy, epoch=epoch)
        return ContextualWeights(None, None, False, result, result.reason)
    check_key(context, "context")
    own = context_stats.get(context, {})
    moments = check_stats(own, policy.arms, f"bandit {policy.key!r}, context {context!r}")
    fewest, index = min((m.n, i) for i, m in enumerate(moments))
    if fewest < policy.min_samples:
        result = thompson_weights(global_stats, policy, epoch=epoch)
        reason = (
            f"context {context!r} warming up (arm {policy.arms[index]!r} has {fewest} of "
            f"{policy.min_samples} samples): global weights ({result.reason})"
        )
        return ContextualWeights(context, None, True, result, reason)
    result = thompson_weights(own, policy, epoch=epoch, stream=f"context:{context}")
    return ContextualWeights(context, context, False, result, result.reason)
