"""Contextual weights: per-context posteriors, with the global weights as fallback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from firstmile.bandits import (
    BanditPolicy,
    Context,
    contextual_weights,
    select_context,
    thompson_weights,
)
from firstmile.conditions import evaluate
from firstmile.stats import Moments

POLICY = BanditPolicy("ctx", ("a", "b"), min_samples=100, min_weight=0.05)
GLOBAL = {"a": Moments.from_counts(4000, 600), "b": Moments.from_counts(4000, 400)}
MOBILE = {"a": Moments.from_counts(1500, 100), "b": Moments.from_counts(1500, 300)}


def test_a_context_with_enough_data_gets_its_own_weights() -> None:
    result = contextual_weights({"mobile": MOBILE}, GLOBAL, POLICY, context="mobile", epoch=0)
    assert (result.context, result.used, result.fallback) == ("mobile", "mobile", False)
    assert result.weights == pytest.approx((0.05, 0.95))
    assert result.reason == "thompson"
    # ... while the global weights prefer the other arm.
    global_only = contextual_weights({"mobile": MOBILE}, GLOBAL, POLICY, context=None, epoch=0)
    assert global_only.weights == pytest.approx((0.95, 0.05))
    assert global_only.result == thompson_weights(GLOBAL, POLICY, epoch=0)
    assert global_only.to_json()["used"] is None


def test_a_context_short_of_samples_falls_back_to_the_global_weights() -> None:
    short = {"mobile": {"a": Moments.from_counts(99, 5), "b": Moments.from_counts(500, 100)}}
    result = contextual_weights(short, GLOBAL, POLICY, context="mobile", epoch=0)
    assert result.fallback
    assert result.used is None
    assert result.result == thompson_weights(GLOBAL, POLICY, epoch=0)
    assert result.reason.startswith("context 'mobile' warming up (arm 'a' has 99 of 100")
    unknown = contextual_weights(short, GLOBAL, POLICY, context="tablet", epoch=0)
    assert unknown.fallback
    assert "arm 'a' has 0 of 100 samples" in unknown.reason
    data = unknown.to_json()
    assert data["fallback"] is True
    assert data["weights"] == {"a": result.weights[0], "b": result.weights[1]}


def test_contexts_draw_on_their_own_stream() -> None:
    policy = BanditPolicy("ctx", ("a", "b"), min_samples=10, min_weight=0.0)
    close = {"a": Moments.from_counts(500, 50), "b": Moments.from_counts(500, 52)}
    own = contextual_weights({"x": close}, close, policy, context="x", epoch=0)
    shared = contextual_weights({}, close, policy, context=None, epoch=0)
    assert own.result.probability_best != shared.result.probability_best


def test_select_context_takes_the_first_match() -> None:
    contexts = [
        Context("young-mobile", {"device.type": "mobile", "age": {"$lt": 30}}),
        Context("mobile", {"device.type": "mobile"}),
    ]

    def matcher(attributes: Mapping[str, Any]) -> Any:
        return lambda condition: evaluate(condition, attributes)

    young = {"device": {"type": "mobile"}, "age": 22}
    older = {"device": {"type": "mobile"}, "age": 40}
    desktop = {"device": {"type": "desktop"}}
    assert select_context(contexts, matcher(young)) == contexts[0]
    assert select_context(contexts, matcher(older)) == contexts[1]
    assert select_context(contexts, matcher(desktop)) is None


def test_context_values_are_checked_and_copied() -> None:
    condition = {"device.type": "mobile"}
    context = Context("m", condition)
    condition["device.type"] = "desktop"
    assert context.condition == {"device.type": "mobile"}
    assert context.to_json() == {"key": "m", "condition": {"device.type": "mobile"}}
    with pytest.raises(ValueError, match="non-empty string"):
        Context("", {})
    with pytest.raises(ValueError, match="must be a condition object"):
        Context("m", "device.type == mobile")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        select_context([Context("m", {}), Context("m", {})], lambda condition: True)
    with pytest.raises(ValueError, match="not among the arms"):
        contextual_weights({"m": {"z": Moments()}}, GLOBAL, POLICY, context="m", epoch=0)
