"""Metric definitions, and the incremental sufficient statistics updated as events arrive."""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.experiments import (
    EventValue,
    Metric,
    StatsDelta,
    UserState,
    apply_delta,
    metric_delta,
    pre_exposure_value,
    user_entered,
)
from firstmile.stats import Moments

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGE = Path(__file__).resolve().parents[3] / "docs" / "experiments.md"

# -- definitions ------------------------------------------------------------------------------


def test_defaults() -> None:
    metric = Metric("signup", "conversion", event="Signed Up")
    assert metric.window == timedelta(days=7)
    assert (metric.direction, metric.guardrail, metric.cuped) == ("increase", False, False)
    assert (metric.mde, metric.mde_kind) == (0.05, "relative")
    ratio = Metric(
        "rps",
        "ratio",
        numerator=EventValue("Order", "amount"),
        denominator=EventValue("Session Started"),
    )
    assert ratio.events == frozenset({"Order", "Session Started"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric.key = "other"  # type: ignore[misc]


RATIO: dict[str, Any] = {
    "numerator": EventValue("Order", "amount"),
    "denominator": EventValue("Session"),
}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "", "kind": "count", "event": "e"}, "a metric needs a key (a non-empty name)"),
        ({"key": "m", "kind": "mean", "event": "e"},
         "metric 'm': kind must be one of conversion, count, sum, ratio; got 'mean'"),
        ({"key": "m", "kind": "count"}, "metric 'm': a count metric needs event="),
        ({"key": "m", "kind": "conversion", "event": " "}, "a conversion metric needs event="),
        ({"key": "m", "kind": "sum", "event": "e"}, "a sum metric needs property="),
        ({"key": "m", "kind": "count", "event": "e", "property": "p"},
         "property= is for sum metrics; a count metric counts events"),
        ({"key": "m", "kind": "ratio", "event": "e"}, "a ratio metric needs numerator= and "),
        ({"key": "m", "kind": "ratio", "event": "e", **RATIO}, "not event= or property="),
        ({"key": "m", "kind": "count", "event": "e", **RATIO},
         "numerator= and denominator= are for ratio metrics, not count"),
        ({"key": "m", "kind": "ratio", "cuped": True, **RATIO},
         "CUPED does not apply to ratio metrics"),
        ({"key": "m", "kind": "count", "event": "e", "window": timedelta(0)},
         "window must be a positive timedelta (or None: until the end)"),
        ({"key": "m", "kind": "count", "event": "e", "window": 7},
         "window must be a positive timedelta"),
        ({"key": "m", "kind": "count", "event": "e", "cuped_lookback": timedelta(days=-1)},
         "cuped_lookback must be a positive timedelta"),
        ({"key": "m", "kind": "count", "event": "e", "direction": "up"},
         "direction must be 'increase' or 'decrease' (the good way), got 'up'"),
        ({"key": "m", "kind": "count", "event": "e", "guardrail": "yes"},
         "guardrail must be True or False"),
        ({"key": "m", "kind": "count", "event": "e", "mde": 0}, "mde must be > 0"),
        ({"key": "m", "kind": "count", "event": "e", "mde": float("nan")},
         "mde must be a finite number > 0"),
        ({"key": "m", "kind": "count", "event": "e", "mde_kind": "percent"},
         "mde_kind must be 'relative' or 'absolute'"),
        ({"key": "m", "kind": "conversion", "event": "e", "mde": 1.5, "mde_kind": "absolute"},
         "an absolute mde of a conversion rate must be below 1"),
    ],
)  # fmt: skip
def test_bad_definitions_say_what_to_fix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Metric(**kwargs)


def test_bad_ratio_sides() -> None:
    with pytest.raises(ValueError, match="a ratio side needs an event name"):
        EventValue("")
    with pytest.raises(ValueError, match="must be a non-empty name or None"):
        EventValue("Order", "")


def test_every_metric_field_is_documented() -> None:
    page = PAGE.read_text(encoding="utf-8")
    fields = [field.name for field in dataclasses.fields(Metric)]
    assert [name for name in fields if f"| `{name}` |" not in page] == []


# -- single updates ---------------------------------------------------------------------------

COUNT = Metric("orders", "count", event="Order")
SIGNUP = Metric("signup", "conversion", event="Signed Up", window=timedelta(days=1))
REVENUE = Metric("revenue", "sum", event="Order", property="amount", window=None)


def test_user_entered_adds_one_user_with_the_covariate() -> None:
    cuped = Metric("orders", "count", event="Order", cuped=True)
    state, delta = user_entered(cuped, covariate=3.0)
    assert state == UserState(value=0.0, covariate=3.0)
    assert delta == StatsDelta(n=1, sum_x=3.0, sum_x_sq=9.0)
    with pytest.raises(ValueError, match="has no CUPED covariate"):
        user_entered(COUNT, covariate=1.0)
    with pytest.raises(ValueError, match="the covariate must be finite"):
        user_entered(cuped, covariate=float("inf"))


def test_conversion_counts_once_and_only_inside_the_window() -> None:
    state, _ = user_entered(SIGNUP)
    first = metric_delta(SIGNUP, state, "Signed Up", {}, T0 + timedelta(hours=2), T0)
    assert (first.state.value, first.delta, first.ignored) == (
        1.0,
        StatsDelta(sum=1.0, sum_sq=1.0),
        None,
    )
    again = metric_delta(SIGNUP, first.state, "Signed Up", {}, T0 + timedelta(hours=3), T0)
    assert again.delta.is_zero
    assert again.ignored == "the user already converted"
    late = metric_delta(SIGNUP, state, "Signed Up", {}, T0 + timedelta(days=1), T0)
    assert late.delta.is_zero
    assert late.ignored == "the event is not within 1 day of the first exposure"
    early = metric_delta(SIGNUP, state, "Signed Up", {}, T0 - timedelta(seconds=1), T0)
    assert early.ignored == "the event happened before the first exposure"
    at_exposure = metric_delta(SIGNUP, state, "Signed Up", {}, T0, T0)
    assert at_exposure.ignored is None


def test_property_values_that_are_not_finite_numbers_are_ignored_with_a_reason() -> None:
    state = UserState()
    at = T0 + timedelta(days=30)  # window=None: counts until the end
    cases: list[tuple[dict[str, object], str]] = [
        ({"amount": float("nan")}, "property 'amount' is not a finite number (nan)"),
        ({"amount": float("inf")}, "property 'amount' is not a finite number (inf)"),
        ({"amount": "12"}, "property 'amount' is not a number (str)"),
        ({"amount": True}, "property 'amount' is not a number (bool)"),
        ({}, "the event has no 'amount' property"),
    ]
    for properties, reason in cases:
        update = metric_delta(REVENUE, state, "Order", properties, at, T0)
        assert (update.state, update.delta.is_zero, update.ignored) == (state, True, reason)
    other = metric_delta(REVENUE, state, "Signed Up", {"amount": 1}, at, T0)
    assert other.ignored == "metric 'revenue' does not use 'Signed Up'"


def test_sum_uses_squared_differences() -> None:
    cuped = Metric("revenue", "sum", event="Order", property="amount", cuped=True)
    state, _ = user_entered(cuped, covariate=2.0)
    one = metric_delta(cuped, state, "Order", {"amount": 3}, T0, T0)
    two = metric_delta(cuped, one.state, "Order", {"amount": -1.5}, T0, T0)
    assert two.state.value == 1.5
    # 3 -> 1.5: Σy += -1.5, Σy² += 1.5² - 3², Σxy += 2·(-1.5)
    assert two.delta == StatsDelta(sum=-1.5, sum_sq=2.25 - 9.0, sum_xy=-3.0)


def test_ratio_with_one_event_on_both_sides() -> None:
    metric = Metric(
        "aov", "ratio", numerator=EventValue("Order", "amount"), denominator=EventValue("Order")
    )
    state, delta = user_entered(metric)
    assert delta == StatsDelta(n=1)
    one = metric_delta(metric, state, "Order", {"amount": 10}, T0, T0)
    two = metric_delta(metric, one.state, "Order", {"amount": 20}, T0, T0)
    assert (two.state.value, two.state.denominator) == (30.0, 2.0)
    total = apply_delta(apply_delta(apply_delta(Moments(), delta), one.delta), two.delta)
    assert total == Moments.from_values([30.0], covariate=[2.0])
    bad = metric_delta(metric, two.state, "Order", {"amount": "x"}, T0, T0)
    # The denominator still counts the order; the numerator ignores its bad amount.
    assert (bad.state.value, bad.state.denominator, bad.ignored) == (30.0, 3.0, None)
    zero = metric_delta(metric, state, "Order", {"amount": 0}, T0, T0)
    assert zero.ignored is None


def test_times_must_agree_on_time_zones() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        metric_delta(COUNT, UserState(), "Order", {}, datetime(2026, 3, 1), T0)


def test_pre_exposure_value_reads_the_lookback_only() -> None:
    metric = Metric("orders", "count", event="Order", cuped=True, cuped_lookback=timedelta(days=7))
    events: list[tuple[str, dict[str, object], datetime]] = [
        ("Order", {}, T0 - timedelta(days=8)),  # before the lookback
        ("Order", {}, T0 - timedelta(days=7)),
        ("Order", {}, T0 - timedelta(hours=1)),
        ("Signed Up", {}, T0 - timedelta(hours=1)),
        ("Order", {}, T0),  # at exposure: not before it
    ]
    assert pre_exposure_value(metric, events, T0) == 2.0
    ratio = Metric("aov", "ratio", **RATIO)
    with pytest.raises(ValueError, match="CUPED does not apply to ratio metrics"):
        pre_exposure_value(ratio, events, T0)


def test_deltas_merge_and_apply() -> None:
    a, b = StatsDelta(n=1, sum=2.0, sum_sq=4.0), StatsDelta(sum=1.0, sum_sq=5.0)
    assert a.merge(b) == StatsDelta(n=1, sum=3.0, sum_sq=9.0)
    assert StatsDelta().is_zero
    assert not a.is_zero
    # Rounding that leaves a sum of squares a hair below 0 is clamped.
    near_zero = apply_delta(Moments(n=1, sum=0.0, sum_sq=1e-17), StatsDelta(sum_sq=-2e-17))
    assert near_zero.sum_sq == 0.0


# -- property: incremental deltas equal the moments of the final per-user values --------------

EVENTS = ("Order", "Session", "Signed Up")
PROPERTY_VALUES = st.one_of(
    st.integers(-40, 40).map(lambda k: k / 4),  # exact in binary: sums compare exactly
    st.sampled_from([float("nan"), float("inf"), "7", True, None]),
)
event_strategy = st.tuples(
    st.integers(0, 5),  # user
    st.sampled_from(EVENTS),
    PROPERTY_VALUES,
    st.integers(-72, 24 * 10),  # hours after the user's exposure
)
METRICS = [
    Metric("signup", "conversion", event="Signed Up", window=timedelta(days=2), cuped=True),
    Metric("orders", "count", event="Order", window=timedelta(days=3), cuped=True),
    Metric("revenue", "sum", event="Order", property="amount", window=None, cuped=True),
    Metric(
        "rps",
        "ratio",
        numerator=EventValue("Order", "amount"),
        denominator=EventValue("Session"),
        window=timedelta(days=5),
    ),
    Metric(
        "aov", "ratio", numerator=EventValue("Order", "amount"), denominator=EventValue("Order")
    ),
]


def _expected(metric: Metric, events: list[tuple[str, object, int]]) -> tuple[float, float]:
    """The user's final (y, d), computed directly from the definition."""
    y = d = 0.0
    for name, value, hours in events:
        elapsed = timedelta(hours=hours)
        if hours < 0 or (metric.window is not None and elapsed >= metric.window):
            continue
        number = value if isinstance(value, float) and math.isfinite(value) else None
        if metric.kind == "ratio":
            assert metric.numerator is not None and metric.denominator is not None  # noqa: PT018
            if name == metric.numerator.event and number is not None:
                y += number
            if name == metric.denominator.event:
                d += 1.0
        elif name == metric.event:
            if metric.kind == "conversion":
                y = 1.0
            elif metric.kind == "count":
                y += 1.0
            elif number is not None:
                y += number
    return y, d


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(METRICS),
    st.lists(event_strategy, max_size=40),
    st.lists(st.integers(0, 6), min_size=6, max_size=6),
)
def test_incremental_deltas_equal_the_moments_of_the_final_values(
    metric: Metric, events: list[tuple[int, str, object, int]], covariates: list[int]
) -> None:
    stats = Moments()
    states: dict[int, UserState] = {}
    for user in range(6):
        x = float(covariates[user]) if metric.cuped else 0.0
        states[user], delta = user_entered(metric, covariate=x)
        stats = apply_delta(stats, delta)
    for user, name, value, hours in events:
        properties = {} if value is None else {"amount": value}
        update = metric_delta(
            metric, states[user], name, properties, T0 + timedelta(hours=hours), T0
        )
        states[user] = update.state
        stats = apply_delta(stats, update.delta)
    finals = [
        _expected(metric, [(n, v, h) for u, n, v, h in events if u == user]) for user in range(6)
    ]
    assert [(s.value, s.denominator) for s in states.values()] == finals
    ys = [y for y, _ in finals]
    if metric.kind == "ratio":
        expected = Moments.from_values(ys, covariate=[d for _, d in finals])
    else:
        expected = Moments.from_values(ys, covariate=[float(c) for c in covariates])
    assert stats == expected
