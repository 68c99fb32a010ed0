"""Moments: the mergeable sufficient statistics every test reads."""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.stats import Moments

small_ints = st.lists(st.integers(min_value=-1000, max_value=1000), max_size=30)
floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
pairs = st.lists(st.tuples(floats, floats), max_size=40)


def _exact(values: list[int]) -> Moments:
    return Moments.from_values(np.array(values, dtype=float), covariate=np.array(values) % 7)


def _close(a: Moments, b: Moments, data: list[tuple[float, float]]) -> None:
    """Equal up to the rounding bound of summation: n · eps · Σ|terms| per field."""
    assert a.n == b.n
    y = np.array([v for v, _ in data])
    x = np.array([v for _, v in data])
    bounds = {
        "sum": np.abs(y).sum(),
        "sum_sq": (y * y).sum(),
        "sum_x": np.abs(x).sum(),
        "sum_x_sq": (x * x).sum(),
        "sum_xy": np.abs(x * y).sum(),
    }
    for name, magnitude in bounds.items():
        left, right = getattr(a, name), getattr(b, name)
        tolerance = (len(data) + 1) * 2.3e-16 * float(magnitude)
        assert abs(left - right) <= tolerance, (name, left, right)


@settings(max_examples=100, deadline=None)
@given(small_ints, small_ints, small_ints)
def test_merge_is_associative_and_commutative(a: list[int], b: list[int], c: list[int]) -> None:
    # Integer data keeps every sum exact, so equality is exact too.
    ma, mb, mc = _exact(a), _exact(b), _exact(c)
    assert ma.merge(mb).merge(mc) == ma.merge(mb.merge(mc))
    assert ma.merge(mb) == mb.merge(ma)
    assert ma.merge(Moments()) == ma


@settings(max_examples=100, deadline=None)
@given(pairs)
def test_from_values_equals_incremental_adds(data: list[tuple[float, float]]) -> None:
    values = [y for y, _ in data]
    covariate = [x for _, x in data]
    incremental = reduce(lambda m, yx: m.add(yx[0], yx[1]), data, Moments())
    _close(Moments.from_values(values, covariate), incremental, data)


@settings(max_examples=100, deadline=None)
@given(pairs, pairs)
def test_merge_equals_moments_of_the_concatenation(
    left: list[tuple[float, float]], right: list[tuple[float, float]]
) -> None:
    def of(data: list[tuple[float, float]]) -> Moments:
        return Moments.from_values([y for y, _ in data], [x for _, x in data])

    _close(of(left).merge(of(right)), of(left + right), left + right)


@settings(max_examples=100, deadline=None)
@given(st.lists(floats, min_size=2, max_size=40))
def test_variance_is_never_negative(values: list[float]) -> None:
    variance = Moments.from_values(values).variance
    assert variance is not None
    assert variance >= 0.0


def test_statistics_match_numpy() -> None:
    rng = np.random.default_rng(11)
    y = rng.normal(3.0, 2.0, 500)
    x = 0.5 * y + rng.normal(0.0, 1.0, 500)
    m = Moments.from_values(y, covariate=x)
    assert m.n == 500
    assert m.mean == pytest.approx(np.mean(y), rel=1e-12)
    assert m.variance == pytest.approx(np.var(y, ddof=1), rel=1e-10)
    assert m.std == pytest.approx(np.std(y, ddof=1), rel=1e-10)
    assert m.covariate_mean == pytest.approx(np.mean(x), rel=1e-12)
    assert m.covariate_variance == pytest.approx(np.var(x, ddof=1), rel=1e-10)
    assert m.covariance == pytest.approx(np.cov(x, y, ddof=1)[0, 1], rel=1e-10)


def test_undefined_statistics_are_none_not_nan() -> None:
    empty, one = Moments(), Moments.from_values([4.0])
    assert (empty.mean, empty.variance, empty.std, empty.covariance) == (None, None, None, None)
    assert empty.covariate_mean is None
    assert one.mean == 4.0
    assert (one.variance, one.std, one.covariate_variance) == (None, None, None)


def test_constant_values_have_exactly_zero_variance() -> None:
    # 0.1 is not a binary fraction: the raw sums carry rounding that must not show up.
    assert Moments.from_values([0.1] * 1000).variance == 0.0
    assert Moments.from_values([1e6 + 0.3] * 7).variance == 0.0


def test_from_counts_is_a_zero_one_metric() -> None:
    m = Moments.from_counts(n=50, conversions=20)
    assert m == Moments.from_values([1.0] * 20 + [0.0] * 30)
    assert m.mean == 0.4


def test_merged_folds_many_parts() -> None:
    parts = [Moments.from_values([float(i), float(i + 1)]) for i in range(10)]
    assert Moments.merged(parts) == reduce(Moments.merge, parts, Moments())
    assert Moments.merged([]) == Moments()


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers() -> None:
    m = Moments(n=np.int64(3), sum=np.float64(6.0), sum_sq=np.float64(14.0))  # type: ignore[arg-type]
    assert type(m.n) is int
    assert type(m.sum) is float
    assert m.variance == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be >= 0"),
        ({"n": 2.5}, "integer count"),
        ({"n": True}, "integer count"),
        ({"n": 2, "sum": float("nan")}, "finite"),
        ({"n": 2, "sum": 1.0, "sum_sq": -1.0}, ">= 0"),
        ({"n": 0, "sum": 1.0, "sum_sq": 1.0}, "n = 0"),
        ({"n": 2, "sum": 10.0, "sum_sq": 1.0}, "not the sums of real values"),
        ({"n": 2, "sum_x": 10.0, "sum_x_sq": 1.0}, "not the sums of real values"),
        ({"n": 2, "sum_sq": 1.0, "sum_x_sq": 1.0, "sum_xy": 5.0}, "not the sums of real values"),
        ({"n": 2, "sum": "3"}, "must be a number"),
    ],
)
def test_impossible_moments_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Moments(**kwargs)  # type: ignore[arg-type]


def test_bad_values_raise() -> None:
    with pytest.raises(ValueError, match="finite"):
        Moments.from_values([1.0, float("inf")])
    with pytest.raises(ValueError, match="one-dimensional"):
        Moments.from_values([[1.0, 2.0]])
    with pytest.raises(ValueError, match="covariate has 1 values for 2"):
        Moments.from_values([1.0, 2.0], covariate=[1.0])
    with pytest.raises(ValueError, match="finite"):
        Moments().add(float("nan"))
    with pytest.raises(ValueError, match="cannot exceed"):
        Moments.from_counts(n=3, conversions=4)
    with pytest.raises(ValueError, match=">= 0"):
        Moments.from_counts(n=-3, conversions=0)
    with pytest.raises(ValueError, match="only merge Moments"):
        Moments().merge(3)  # type: ignore[arg-type]
