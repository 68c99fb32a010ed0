"""Group-sequential tests: boundaries that spend exactly alpha over the planned looks, the
A/A false-positive rate under daily peeking inside [3.5%, 6.5%], power, and bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.stats import Moments, group_sequential_test, sequential_test
from firstmile.stats.group_sequential import boundaries, spent

from .test_stats_simulation import ALPHA, EXPERIMENTS, FPR_BAND, Array

DAYS, PER_DAY = 14, 100  # 100 users per variant per day, a look every day for two weeks
PLANNED = 2 * DAYS * PER_DAY


def _crossing(bounds: tuple[float, ...], rng: np.random.Generator, runs: int) -> Array:
    """Monte Carlo: the share of Brownian paths first crossing at each look."""
    looks = len(bounds)
    steps = rng.normal(0.0, math.sqrt(1.0 / looks), (runs, looks))
    z = np.cumsum(steps, axis=1) / np.sqrt(np.arange(1, looks + 1) / looks)
    crossed = np.abs(z) >= np.asarray(bounds)
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    return np.array([(first == k).mean() for k in range(looks)])


@pytest.mark.parametrize("spending", ["pocock", "obrien_fleming"])
@pytest.mark.parametrize("looks", [1, 3, 5, 14, 30])
def test_boundaries_spend_alpha_look_by_look(spending: str, looks: int) -> None:
    kind: Any = spending
    bounds = boundaries(looks, ALPHA, kind)
    runs = 400_000
    first = _crossing(bounds, np.random.default_rng(looks), runs)
    # Each look crosses with the increment of the spending function, and all of them
    # with alpha: within 4 Monte Carlo standard errors.
    assert abs(first.sum() - ALPHA) < 4 * math.sqrt(ALPHA * (1 - ALPHA) / runs)
    for k, share in enumerate(first, start=1):
        wanted = spent(k / looks, ALPHA, kind) - spent((k - 1) / looks, ALPHA, kind)
        assert abs(share - wanted) < 4 * math.sqrt(max(wanted, 1e-6) / runs) + 1e-4


def test_known_shapes() -> None:
    assert boundaries(1, ALPHA, "pocock") == pytest.approx((1.959964,), abs=1e-3)
    pocock = boundaries(5, ALPHA, "pocock")
    assert max(pocock) - min(pocock) < 0.06  # Pocock-type: nearly flat, ~2.4
    assert pocock[0] == pytest.approx(2.438, abs=0.005)
    obf = boundaries(5, ALPHA, "obrien_fleming")
    assert list(obf) == sorted(obf, reverse=True)  # strict early, near 1.96 at the end
    assert obf[0] == pytest.approx(1.959964 / math.sqrt(0.2), abs=1e-3)
    assert 1.96 < obf[-1] < 2.1


def _daily(values: Array) -> tuple[Array, Array]:
    return np.cumsum(values.sum(axis=-1), axis=1), np.cumsum((values * values).sum(axis=-1), axis=1)


def _peeking(control: Array, treatment: Array) -> tuple[float, float]:
    """Share of experiments significant at some daily look: group-sequential, mSPRT."""
    (cs, cq), (ts, tq) = _daily(control), _daily(treatment)
    grouped = always = 0
    for e in range(control.shape[0]):
        looks_c = [Moments(PER_DAY * (d + 1), cs[e, d], cq[e, d]) for d in range(DAYS)]
        looks_t = [Moments(PER_DAY * (d + 1), ts[e, d], tq[e, d]) for d in range(DAYS)]
        pairs = list(zip(looks_c, looks_t, strict=True))
        grouped += any(
            group_sequential_test(c, t, planned_n=PLANNED, looks=DAYS).significant for c, t in pairs
        )
        always += any(sequential_test(c, t, tuning_n=PLANNED).significant for c, t in pairs)
    runs = control.shape[0]
    return grouped / runs, always / runs


def test_aa_false_positive_rate_under_daily_peeking_is_alpha() -> None:
    rng = np.random.default_rng(211)
    shape = (EXPERIMENTS, DAYS, PER_DAY)
    grouped, always = _peeking(rng.normal(10.0, 3.0, shape), rng.normal(10.0, 3.0, shape))
    assert FPR_BAND[0] <= grouped <= FPR_BAND[1], grouped
    assert always < grouped  # the always-valid sequence is the conservative one


def test_aa_false_positive_rate_on_conversions_under_daily_peeking() -> None:
    rng = np.random.default_rng(212)
    shape = (EXPERIMENTS, DAYS, PER_DAY)
    control = (rng.random(shape) < 0.1).astype(np.float64)
    treatment = (rng.random(shape) < 0.1).astype(np.float64)
    grouped, _ = _peeking(control, treatment)
    assert FPR_BAND[0] <= grouped <= FPR_BAND[1], grouped


def test_a_planted_effect_is_found_more_often_than_by_the_always_valid_sequence() -> None:
    rng = np.random.default_rng(213)
    shape = (EXPERIMENTS, DAYS, PER_DAY)
    grouped, always = _peeking(rng.normal(10.0, 3.0, shape), rng.normal(10.4, 3.0, shape))
    assert grouped > always
    assert grouped > 0.8


def test_a_look_is_placed_by_the_users_so_far() -> None:
    c = Moments.from_values([9.0, 11.0] * 350)
    t = Moments.from_values([9.5, 11.5] * 350)
    result = group_sequential_test(c, t, planned_n=PLANNED, looks=DAYS)
    assert (result.look, result.n) == (7, 1400)
    assert result.boundary == boundaries(DAYS, ALPHA, "pocock")[6]
    assert result.absolute == pytest.approx(0.5)
    assert result.absolute_ci is not None
    assert result.absolute_ci.contains(0.5)
    late = group_sequential_test(c, t, planned_n=1000, looks=DAYS)
    assert late.look == DAYS
    assert any("past the 1000 planned" in w for w in late.warnings)


def test_no_data_and_zero_variance_give_warnings_not_nan() -> None:
    empty = group_sequential_test(Moments(), Moments(), planned_n=100, looks=5)
    assert empty.z is None
    assert not empty.significant
    assert empty.warnings
    flat = group_sequential_test(
        Moments.from_values([1.0] * 10), Moments.from_values([1.0] * 10), planned_n=100, looks=5
    )
    assert flat.z is None
    assert any("zero variance" in w for w in flat.warnings)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"looks": 0}, "looks must be an integer from 1 to 200"),
        ({"looks": 201}, "looks must be an integer from 1 to 200"),
        ({"looks": True}, "looks must be an integer"),
        ({"planned_n": 1}, "planned_n must be an integer >= 2"),
        ({"alpha": 1.5}, "alpha must be strictly between 0 and 1"),
        ({"spending": "haybittle"}, "spending must be one of"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"planned_n": 100, "looks": 5, **kwargs}
    control, treatment = Moments.from_values([1.0, 2.0]), Moments.from_values([2.0, 3.0])
    with pytest.raises(ValueError, match=message):
        group_sequential_test(control, treatment, **args)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=30),
    others=st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=30),
    looks=st.integers(1, 20),
)
def test_never_nan(values: list[float], others: list[float], looks: int) -> None:
    result = group_sequential_test(
        Moments.from_values(values), Moments.from_values(others), planned_n=60, looks=looks
    )
    for number in (result.absolute, result.relative, result.z, result.boundary):
        assert number is None or math.isfinite(number)
