"""Off-policy evaluation: IPS and SNIPS estimate a known policy's value, with honest intervals."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.bandits import EvaluationResult, LoggedDecision, evaluate_policy

from .helpers import assert_nan_free

ARMS = ("A", "B", "C")
CONTEXTS = ("mobile", "desktop")
CONTEXT_SHARE = np.array([0.4, 0.6])
# Conversion rate per context (rows) and arm (columns).
RATES = np.array([[0.10, 0.30, 0.20], [0.25, 0.10, 0.15]])
LOGGING = np.array([[0.2, 0.3, 0.5], [0.5, 0.25, 0.25]])
TARGET = {"mobile": {"B": 0.9, "C": 0.1}, "desktop": {"A": 0.7, "C": 0.3}}
TARGET_MATRIX = np.array([[0.0, 0.9, 0.1], [0.7, 0.0, 0.3]])
TRUE_VALUE = float(CONTEXT_SHARE @ (TARGET_MATRIX * RATES).sum(axis=1))
LOGGING_VALUE = float(CONTEXT_SHARE @ (LOGGING * RATES).sum(axis=1))


def _simulate(rng: np.random.Generator, n: int) -> list[LoggedDecision]:
    contexts = rng.choice(2, size=n, p=CONTEXT_SHARE)
    uniforms = rng.random(n)
    arms = (uniforms[:, None] > LOGGING[contexts].cumsum(axis=1)).sum(axis=1)
    rewards = rng.random(n) < RATES[contexts, arms]
    propensities = LOGGING[contexts, arms]
    return [
        LoggedDecision(ARMS[a], float(p), float(r), CONTEXTS[c])
        for c, a, p, r in zip(contexts, arms, propensities, rewards, strict=True)
    ]


def test_estimates_cover_the_true_value_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(2026)
    repetitions = 200
    covered = {"ips": 0, "snips": 0, "logging": 0}
    errors = []
    for _ in range(repetitions):
        result = evaluate_policy(_simulate(rng, 1500), TARGET)
        for name, truth in (("ips", TRUE_VALUE), ("snips", TRUE_VALUE), ("logging", LOGGING_VALUE)):
            interval = getattr(result, name).interval
            assert interval is not None
            covered[name] += interval.contains(truth)
        assert result.snips.value is not None
        errors.append(result.snips.value - TRUE_VALUE)
    for name, count in covered.items():
        assert 0.88 <= count / repetitions <= 0.995, (name, count)
    assert abs(float(np.mean(errors))) < 0.005  # nearly unbiased
    assert TRUE_VALUE > LOGGING_VALUE + 0.05  # the candidate is clearly better


def test_snips_equals_ips_when_weights_average_one() -> None:
    # Uniform logging and a uniform target: every weight is exactly 1.
    logs = [
        LoggedDecision(arm, 1 / 3, reward)
        for arm, reward in [("A", 1.0), ("B", 0.0), ("C", 2.5), ("A", 0.5), ("B", 4.0)]
    ]
    result = evaluate_policy(logs, {None: dict.fromkeys(ARMS, 1 / 3)})
    assert result.mean_weight == pytest.approx(1.0)
    assert result.snips.value == pytest.approx(result.ips.value, rel=1e-12)
    assert result.ips.value == pytest.approx(result.logging.value, rel=1e-12)
    assert result.effective_sample_size == pytest.approx(5.0)
    # Uneven weights that still average 1: equal values, different standard errors.
    uneven = [
        LoggedDecision("A", 0.5, 1.0),
        LoggedDecision("B", 0.5, 0.0),
        LoggedDecision("A", 0.5, 3.0),
        LoggedDecision("B", 0.5, 2.0),
    ]
    result = evaluate_policy(uneven, {None: {"A": 0.75, "B": 0.25}})
    assert result.mean_weight == pytest.approx(1.0)
    assert result.snips.value == pytest.approx(result.ips.value, rel=1e-12)


def test_standard_errors_match_their_formulas() -> None:
    logs = [
        LoggedDecision("A", 0.2, 1.0),
        LoggedDecision("B", 0.8, 0.0),
        LoggedDecision("A", 0.2, 0.0),
        LoggedDecision("B", 0.8, 1.0),
        LoggedDecision("B", 0.8, 1.0),
    ]
    result = evaluate_policy(logs, {None: {"A": 0.5, "B": 0.5}})
    w = np.array([2.5, 0.625, 2.5, 0.625, 0.625])
    r = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    assert result.ips.value == pytest.approx(float(np.mean(w * r)))
    assert result.ips.standard_error == pytest.approx(float(np.std(w * r, ddof=1) / math.sqrt(5)))
    snips = float((w * r).sum() / w.sum())
    assert result.snips.value == pytest.approx(snips)
    # The delta method, written out: Var(Ā/B̄) with A = w r, B = w.
    a_bar, b_bar = float(np.mean(w * r)), float(np.mean(w))
    cov = np.cov(np.vstack([w * r, w]), ddof=1)
    var = (cov[0, 0] - 2 * snips * cov[0, 1] + snips**2 * cov[1, 1]) / (5 * b_bar**2)
    assert a_bar / b_bar == pytest.approx(snips)
    assert result.snips.standard_error == pytest.approx(math.sqrt(var))
    assert result.effective_sample_size == pytest.approx(w.sum() ** 2 / (w * w).sum())
    interval, se = result.ips.interval, result.ips.standard_error
    assert interval is not None
    assert se is not None
    assert result.ips.value is not None
    assert interval.upper - result.ips.value == pytest.approx(1.959964 * se)


def test_warnings() -> None:
    logs = [
        LoggedDecision("A", None, 1.0),
        LoggedDecision("A", 0.0, 1.0),
        LoggedDecision("A", 0.5, 1.0, "mobile"),
        LoggedDecision("B", 0.5, 0.0, "mobile"),
    ]
    result = evaluate_policy(logs, {None: {"A": 0.5, "C": 0.5}})
    assert (result.n_logged, result.n_used) == (4, 2)
    assert result.logging.value == 0.75  # every log counts for the logging policy's value
    text = " | ".join(result.warnings)
    assert "2 of 4 logged decisions have no propensity or a propensity of 0" in text
    assert "arm 'C' probability 0.5 in context 'mobile', but it was never logged" in text
    assert "effective sample size is 1.0 (below 100)" in text
    nothing = evaluate_policy(logs[:2], {None: {"A": 1.0}})
    assert nothing.ips.value is None
    assert nothing.snips.value is None
    assert any("nothing to estimate" in w for w in nothing.warnings)
    zero = evaluate_policy(logs[2:], {None: {"C": 1.0}})
    assert zero.ips.value == 0.0
    assert zero.snips.value is None
    assert any("SNIPS is undefined" in w for w in zero.warnings)
    for item in (result, nothing, zero):
        assert_nan_free(item)
        json.dumps(item.to_json(), allow_nan=False)


def test_many_unlogged_arms_are_summarized() -> None:
    target = {None: {f"arm{i}": 0.1 for i in range(10)}}
    result = evaluate_policy([LoggedDecision("arm0", 0.5, 1.0)], target)
    never = [w for w in result.warnings if "never logged" in w]
    assert len(never) == 6
    assert never[-1] == "... and 4 more arms never logged"


def test_tiny_propensities_overflow_to_no_estimate() -> None:
    result = evaluate_policy([LoggedDecision("A", 5e-324, 1e300)], {None: {"A": 1.0}})
    assert result.ips.value is None
    assert any("overflow" in w for w in result.warnings)
    assert_nan_free(result)


@pytest.mark.parametrize(
    ("logs", "target", "message"),
    [
        ([LoggedDecision("A", 1.5, 1.0)], {None: {"A": 1.0}}, r"propensity must be a probability"),
        ([LoggedDecision("A", -0.1, 1.0)], {None: {"A": 1.0}}, r"propensity must be a probability"),
        ([LoggedDecision("A", 0.5, math.inf)], {None: {"A": 1.0}}, "reward must be a finite"),
        (
            [LoggedDecision("A", 0.5, 1.0, "x")],
            {"y": {"A": 1.0}},
            "no probabilities for context 'x'",
        ),
        ([], {None: {"A": 0.5, "B": 0.6}}, "sum to 1.1, not 1"),
        ([], {None: {"A": 1.5, "B": -0.5}}, r"must be in \[0, 1\]"),
        ([], {}, "must map contexts"),
        ([], {None: {}}, "must map arms to probabilities"),
        ([("A", 0.5, 1.0)], {None: {"A": 1.0}}, "must be a LoggedDecision"),
        ([LoggedDecision("", 0.5, 1.0)], {None: {"A": 1.0}}, "the arm must be a non-empty"),
    ],
)
def test_bad_input_raises(logs: list[Any], target: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_policy(logs, target)


def test_bad_alpha_and_from_json() -> None:
    with pytest.raises(ValueError, match="alpha must be strictly between 0 and 1"):
        evaluate_policy([], {None: {"A": 1.0}}, alpha=1.0)
    log = LoggedDecision.from_json({"arm": "A", "propensity": 0.25, "reward": 1.0, "context": "m"})
    assert log == LoggedDecision("A", 0.25, 1.0, "m")
    assert LoggedDecision.from_json(log.to_json()) == log
    with pytest.raises(ValueError, match="needs 'arm' and 'reward'"):
        LoggedDecision.from_json({"arm": "A"})


log_strategy = st.builds(
    LoggedDecision,
    st.sampled_from(["A", "B", "C"]),
    st.none() | st.sampled_from([0.0, 1.0, 1e-9]) | st.floats(0.0, 1.0),
    st.sampled_from([0.0, 1.0, -1e6]) | st.floats(-1e6, 1e6),
    st.none() | st.sampled_from(["m", "d"]),
)
target_strategy = st.sampled_from(
    [
        {None: {"A": 1.0}},
        {None: {"A": 0.5, "B": 0.5}, "m": {"C": 1.0}},
        {None: {"D": 1.0}},
        {None: {"A": 0.2, "B": 0.3, "C": 0.5}},
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(log_strategy, max_size=12), target_strategy)
def test_never_nan(logs: list[LoggedDecision], target: Any) -> None:
    result = evaluate_policy(logs, target)
    assert isinstance(result, EvaluationResult)
    assert_nan_free(result)
    json.dumps(result.to_json(), allow_nan=False)
    if result.snips.value is not None and result.n_used:
        rewards = [log.reward for log in logs if log.propensity]
        assert min(rewards) - 1e-6 <= result.snips.value <= max(rewards) + 1e-6
