"""Experiment reports from sufficient statistics: recommendations, warnings, JSON, text."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.experiments import (
    EventValue,
    Metric,
    Report,
    build_report,
    render_text,
)
from firstmile.stats import (
    Moments,
    benjamini_hochberg,
    holm,
    ratio_test,
    sample_size_proportions,
    sequential_test,
    two_proportion_ztest,
)

VARIANTS = ["control", "tour"]
SIGNUP = Metric("signup", "conversion", event="Signed Up")
ERRORS = Metric("errors", "count", event="Error", guardrail=True, direction="decrease")
REVENUE = Metric("revenue", "sum", event="Order", property="amount", cuped=True)
RPS = Metric("rps", "ratio", numerator=EventValue("Order", "amount"), denominator=EventValue("S"))

Stats = dict[str, dict[str, Moments]]


def _counts(pairs: Mapping[str, tuple[int, int]]) -> dict[str, Moments]:
    return {name: Moments.from_counts(n, x) for name, (n, x) in pairs.items()}


def _errors(n: int, per_user: float) -> Moments:
    """Error counts per user: Poisson-like spread (variance = mean)."""
    total = n * per_user
    return Moments(n=n, sum=total, sum_sq=total + total * per_user)


def _numbers(value: object) -> Iterator[object]:
    """Every leaf of a JSON-like structure."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def _assert_plain_json(report: Report) -> dict[str, Any]:
    body = report.to_json()
    for leaf in _numbers(body):
        assert leaf is None or isinstance(leaf, str | bool | int | float), leaf
        assert not (isinstance(leaf, float) and not math.isfinite(leaf)), body
    json.dumps(body, allow_nan=False)  # raises on NaN or infinity
    return body


# -- the recommendation -------------------------------------------------------------------------


def test_planted_effect_recommends_ship() -> None:
    stats: Stats = {
        "signup": _counts({"control": (5000, 500), "tour": (5000, 620)}),
        "errors": {"control": _errors(5000, 0.2), "tour": _errors(5000, 0.2)},
    }
    report = build_report("welcome-tour", VARIANTS, [SIGNUP, ERRORS], stats)
    assert report.recommendation.text == "ship tour"
    assert (report.recommendation.action, report.recommendation.variant) == ("ship", "tour")
    comparison = report.metrics[0].comparisons[0]
    assert comparison.verdict == "better"
    assert comparison.method == "two-proportion z"
    # The fixed-horizon numbers are the stats engine's, unchanged.
    direct = two_proportion_ztest(stats["signup"]["control"], stats["signup"]["tour"])
    assert (comparison.absolute, comparison.p_value) == (direct.absolute, direct.p_value)
    assert comparison.relative_ci == direct.relative_ci
    assert comparison.chance_to_win is not None
    assert comparison.chance_to_win > 0.99
    assert comparison.sequential_ci is not None
    assert comparison.sequential_ci.lower > 0
    assert report.metrics[0].primary
    assert not report.metrics[1].primary
    assert report.warnings == ()
    _assert_plain_json(report)


def test_aa_recommends_keep_running_with_a_positive_number_of_users() -> None:
    stats: Stats = {"signup": _counts({"control": (2000, 200), "tour": (2000, 201)})}
    report = build_report("welcome-tour", VARIANTS, [SIGNUP], stats, tuning_n=20_000)
    recommendation = report.recommendation
    assert recommendation.action == "keep_running"
    assert recommendation.more_users is not None
    assert recommendation.more_users > 0
    assert recommendation.text == f"keep running: about {recommendation.more_users:,} more users"
    # More than the fixed-horizon size for a 5% lift (the price of looking any time) ...
    fixed = sample_size_proportions(0.1, 0.005)
    needed = recommendation.more_users + report.users
    assert needed > fixed.total
    # ... and at that size the sequential test detects a true 5% lift about 80% of the time.
    rng = np.random.default_rng(11)
    per_variant = needed // 2
    detected = [
        sequential_test(
            Moments.from_counts(per_variant, int(rng.binomial(per_variant, 0.100))),
            Moments.from_counts(per_variant, int(rng.binomial(per_variant, 0.105))),
            tuning_n=20_000,
        ).significant
        for _ in range(1000)
    ]
    assert 0.75 <= sum(bool(flag) for flag in detected) / 1000 <= 0.85


def test_sample_ratio_mismatch_says_stop_and_wins_over_everything() -> None:
    stats: Stats = {"signup": _counts({"control": (5000, 500), "tour": (4500, 700)})}
    report = build_report("welcome-tour", VARIANTS, [SIGNUP], stats)
    assert report.recommendation.text == "stop: sample ratio mismatch"
    assert report.srm.mismatch is True
    assert report.srm.p_value is not None
    assert report.srm.p_value < 1e-6
    assert report.srm.expected == (4750.0, 4750.0)
    # With the matching configured split the same counts are healthy.
    weighted = build_report("welcome-tour", VARIANTS, [SIGNUP], stats, expected_weights=[10, 9])
    assert weighted.srm.mismatch is False
    assert weighted.recommendation.action == "ship"


def test_guardrail_breach_says_stop() -> None:
    stats: Stats = {
        "signup": _counts({"control": (5000, 500), "tour": (5000, 620)}),
        "errors": {"control": _errors(5000, 0.2), "tour": _errors(5000, 0.3)},
    }
    report = build_report("welcome-tour", VARIANTS, [SIGNUP, ERRORS], stats)
    assert report.recommendation.text == "stop: tour hurts errors"
    assert (report.recommendation.variant, report.recommendation.metric) == ("tour", "errors")
    guardrail = report.metrics[1].comparisons[0]
    assert (guardrail.verdict, guardrail.guardrail_breached) == ("worse", True)
    # Fewer errors is better: the chance to win is the chance of going down.
    assert guardrail.chance_to_win is not None
    assert guardrail.chance_to_win < 0.01


def test_primary_metric_significantly_worse_says_stop() -> None:
    stats: Stats = {"signup": _counts({"control": (5000, 600), "tour": (5000, 480)})}
    report = build_report("welcome-tour", VARIANTS, [SIGNUP], stats)
    assert report.recommendation.text == "stop: tour hurts signup"


def test_lower_is_better_primary_ships_on_a_decrease() -> None:
    churn = Metric("churn", "conversion", event="Churned", direction="decrease")
    stats: Stats = {"churn": _counts({"control": (5000, 600), "tour": (5000, 480)})}
    report = build_report("welcome-tour", VARIANTS, [churn], stats)
    assert report.recommendation.text == "ship tour"
    assert report.metrics[0].comparisons[0].verdict == "better"


def test_enough_users_and_no_effect_says_no_winner() -> None:
    stats: Stats = {"signup": _counts({"control": (400_000, 40_000), "tour": (400_000, 40_010)})}
    report = build_report("welcome-tour", VARIANTS, [SIGNUP], stats)
    assert report.recommendation.action == "no_winner"
    assert report.recommendation.text == (
        "no winner: 800,000 users could detect a 5% change in signup; none found"
    )


def test_too_few_users_never_ship() -> None:
    stats: Stats = {"signup": _counts({"control": (60, 2), "tour": (60, 40)})}
    report = build_report("welcome-tour", VARIANTS, [SIGNUP], stats)
    assert report.metrics[0].comparisons[0].verdict == "better"
    assert report.recommendation.action == "keep_running"
    assert "variant 'tour' has only 60 users: results are unreliable below 100 per variant" in (
        report.warnings
    )


def test_several_treatments_split_the_sequential_alpha_and_ship_the_best() -> None:
    variants = ["control", "a", "b", "c"]
    stats: Stats = {
        "signup": _counts(
            {"control": (5000, 500), "a": (5000, 640), "b": (5000, 700), "c": (5000, 505)}
        )
    }
    report = build_report("welcome-tour", variants, [SIGNUP], stats)
    assert report.sequential_alpha == pytest.approx(0.05 / 3)
    assert [c.verdict for c in report.metrics[0].comparisons] == [
        "better",
        "better",
        "inconclusive",
    ]
    assert report.recommendation.text == "ship b"


# -- bad input: warnings, never exceptions, never NaN -------------------------------------------


def test_no_data() -> None:
    report = build_report("welcome-tour", VARIANTS, [SIGNUP, ERRORS, REVENUE, RPS], {})
    assert report.recommendation.text == "no data yet"
    assert report.warnings == ("no users have been exposed to this experiment yet",)
    assert report.users == 0
    assert report.srm.p_value is None
    for metric in report.metrics:
        assert [c.verdict for c in metric.comparisons] == ["undefined"]
        assert [c.absolute for c in metric.comparisons] == [None]
    body = _assert_plain_json(report)
    assert body["recommendation"]["action"] == "no_data"
    assert "no data yet" in render_text(report)


def test_zero_variance_gives_warnings_and_none() -> None:
    flat = Moments(n=500, sum=1000.0, sum_sq=2000.0)  # every user had exactly 2 orders
    orders = Metric("orders", "count", event="Order")
    stats: Stats = {"orders": {"control": flat, "tour": flat}}
    report = build_report("welcome-tour", VARIANTS, [orders], stats)
    comparison = report.metrics[0].comparisons[0]
    assert comparison.p_value is None
    assert comparison.absolute_ci is None
    assert comparison.chance_to_win is None
    assert comparison.verdict == "undefined"
    assert "orders / tour: zero variance in both variants: the t-test is undefined" in (
        report.warnings
    )
    assert any(
        "cannot be estimated yet: the metric does not vary yet" in w for w in report.warnings
    )
    assert report.recommendation.action == "keep_running"
    _assert_plain_json(report)


def test_a_variant_with_no_users() -> None:
    stats: Stats = {"signup": {"control": Moments.from_counts(6, 1)}}  # SRM p = 0.014
    report = build_report("welcome-tour", VARIANTS, [SIGNUP], stats)
    assert "variant 'tour' has no users yet" in report.warnings
    assert report.recommendation.action == "keep_running"
    _assert_plain_json(report)


def test_a_metric_with_no_statistics_yet() -> None:
    stats: Stats = {"signup": _counts({"control": (300, 30), "tour": (300, 33)})}
    report = build_report("welcome-tour", VARIANTS, [SIGNUP, ERRORS], stats)
    assert "metric 'errors' has no statistics yet" in report.warnings
    assert report.metrics[1].comparisons[0].verdict == "undefined"
    _assert_plain_json(report)


def test_unknown_statistics_are_ignored_with_a_warning() -> None:
    stats: Stats = {
        "signup": {"control": Moments.from_counts(300, 30), "typo": Moments.from_counts(9, 1)},
        "old-metric": {"control": Moments.from_counts(300, 30)},
    }
    report = build_report("welcome-tour", VARIANTS, [SIGNUP], stats)
    assert "statistics for unknown metric 'old-metric' were ignored" in report.warnings
    assert "statistics of 'signup' for unknown variant 'typo' were ignored" in report.warnings


def test_exposures_default_to_the_largest_metric_count_and_can_be_given() -> None:
    stats: Stats = {
        "signup": _counts({"control": (1000, 100), "tour": (1000, 100)}),
        "newer": _counts({"control": (400, 40), "tour": (420, 40)}),
    }
    newer = Metric("newer", "conversion", event="X")
    report = build_report("welcome-tour", VARIANTS, [SIGNUP, newer], stats)
    assert [v.users for v in report.variants] == [1000, 1000]
    given_ = build_report("e", VARIANTS, [SIGNUP], stats, exposures={"control": 1010, "tour": 990})
    assert [v.users for v in given_.variants] == [1010, 990]
    assert [v.observed_share for v in given_.variants] == [0.505, 0.495]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 3), st.integers(0, 3)),
        min_size=3,
        max_size=3,
    )
)
def test_any_small_or_degenerate_data_gives_a_report_without_nan(
    arms: list[tuple[int, int, int]],
) -> None:
    """Tiny, empty, constant and all-converted variants: always a report, never NaN."""
    stats: Stats = {}
    metrics = [SIGNUP, ERRORS, REVENUE, RPS]
    for metric in metrics:
        stats[metric.key] = {}
        for name, (n, a, b) in zip(["control", "a", "b"], arms, strict=True):
            y = np.array([min(a, 1) if metric.kind == "conversion" else a] * n, dtype=float)
            y[: n // 2] = min(b, 1) if metric.kind == "conversion" else b
            x = np.full(n, float(b))
            stats[metric.key][name] = Moments.from_values(y, covariate=x)
    report = build_report("e", ["control", "a", "b"], metrics, stats, min_users=5)
    _assert_plain_json(report)
    assert render_text(report)


# -- metric kinds and corrections ---------------------------------------------------------------


def test_cuped_is_used_when_the_covariate_is_there() -> None:
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 5.0, (2, 3000))
    y = x + rng.normal(0.0, 3.0, (2, 3000)) + np.array([[0.0], [0.3]])
    arms = {name: Moments.from_values(y[i], covariate=x[i]) for i, name in enumerate(VARIANTS)}
    stats: Stats = {"revenue": arms}
    comparison = build_report("e", VARIANTS, [REVENUE], stats).metrics[0].comparisons[0]
    assert comparison.method == "welch (CUPED)"
    assert comparison.cuped_variance_reduction is not None
    assert comparison.cuped_variance_reduction > 0.5
    plain = {name: Moments.from_values(y[i]) for i, name in enumerate(VARIANTS)}
    without = build_report("e", VARIANTS, [REVENUE], {"revenue": plain})
    assert without.metrics[0].comparisons[0].method == "welch"
    assert "revenue / tour: CUPED: no pre-exposure values yet (all 0), so no adjustment" in (
        without.warnings
    )


def test_ratio_metrics_use_the_delta_method() -> None:
    rng = np.random.default_rng(4)
    d = rng.poisson(3.0, (2, 2000)) + 1.0
    y = d * rng.gamma(2.0, 5.0, (2, 2000))
    arms = {name: Moments.from_values(y[i], covariate=d[i]) for i, name in enumerate(VARIANTS)}
    stats: Stats = {"rps": arms}
    report = build_report("e", VARIANTS, [RPS], stats)
    comparison = report.metrics[0].comparisons[0]
    direct = ratio_test(stats["rps"]["control"], stats["rps"]["tour"])
    assert comparison.method == "delta-method ratio"
    assert (comparison.absolute, comparison.p_value) == (direct.absolute, direct.p_value)
    assert report.metrics[0].values[0].value == pytest.approx(y[0].sum() / d[0].sum())
    assert comparison.sequential_ci is not None
    assert comparison.chance_to_win is not None


def _many_metrics() -> tuple[list[Metric], Stats]:
    metrics = [Metric(f"m{i}", "conversion", event=f"e{i}") for i in range(6)]
    conversions = [560, 540, 525, 515, 505, 500]
    stats: Stats = {
        m.key: _counts({"control": (5000, 500), "tour": (5000, c)})
        for m, c in zip(metrics, conversions, strict=True)
    }
    return metrics, stats


@pytest.mark.parametrize(("correction", "method"), [("holm", holm), ("bh", benjamini_hochberg)])
def test_p_values_are_corrected_across_metrics(correction: Any, method: Any) -> None:
    metrics, stats = _many_metrics()
    report = build_report("e", VARIANTS, metrics, stats, correction=correction)
    comparisons = [m.comparisons[0] for m in report.metrics]
    expected = method([c.p_value for c in comparisons])
    assert tuple(c.adjusted_p_value for c in comparisons) == expected.adjusted
    assert tuple(c.significant for c in comparisons) == expected.reject
    assert comparisons[0].adjusted_p_value > comparisons[0].p_value  # type: ignore[operator]
    assert report.correction == correction


def test_no_correction_keeps_the_p_values() -> None:
    metrics, stats = _many_metrics()
    report = build_report("e", VARIANTS, metrics, stats, correction=None)
    for metric in report.metrics:
        comparison = metric.comparisons[0]
        assert comparison.adjusted_p_value == comparison.p_value


# -- output -------------------------------------------------------------------------------------


def test_to_json_shape() -> None:
    stats: Stats = {"signup": _counts({"control": (5000, 500), "tour": (5000, 620)})}
    body = _assert_plain_json(build_report("welcome-tour", VARIANTS, [SIGNUP], stats))
    assert set(body) == {
        "experiment",
        "alpha",
        "sequential_alpha",
        "correction",
        "tuning_n",
        "looks",
        "users",
        "variants",
        "srm",
        "metrics",
        "recommendation",
        "warnings",
    }
    comparison = body["metrics"][0]["comparisons"][0]
    assert set(comparison["absolute_ci"]) == {"lower", "upper"}
    assert body["recommendation"] == {
        "action": "ship",
        "text": "ship tour",
        "variant": "tour",
        "metric": "signup",
        "more_users": None,
    }


def test_render_text() -> None:
    stats: Stats = {
        "signup": _counts({"control": (5000, 500), "tour": (5000, 620)}),
        "errors": {"control": _errors(5000, 0.2), "tour": _errors(5000, 0.2)},
    }
    text = render_text(build_report("welcome-tour", VARIANTS, [SIGNUP, ERRORS], stats))
    lines = text.splitlines()
    assert lines[:2] == ["Experiment welcome-tour: 10,000 users", "Recommendation: ship tour"]
    assert "signup (conversion, primary, higher is better)" in lines
    assert "errors (count, guardrail, lower is better)" in lines
    assert re.search(r"tour +5,000 +12\.40% +\+2\.40 pp +\+24\.0% \[\+\d", text)


# -- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"variants": ["control"]}, "a report needs two or more distinct variants"),
        ({"variants": ["a", "a"]}, "a report needs two or more distinct variants"),
        ({"metrics": [SIGNUP, SIGNUP]}, "metric keys must be unique"),
        ({"correction": "bonferroni"}, "correction must be 'holm', 'bh' or None"),
        ({"alpha": 0.0}, "alpha must be strictly between 0 and 1"),
        ({"experiment_key": ""}, "experiment_key must be a non-empty string"),
        ({"expected_weights": [1.0]}, "1 weights for 2 variants"),
        ({"min_users": 0}, "min_users must be a positive integer"),
        ({"tuning_n": 0}, "tuning_n must be a positive integer (planned users)"),
        ({"power": 1.0}, "power must be between alpha (0.05) and 1"),
        ({"srm_threshold": 2.0}, "threshold must be strictly between 0 and 1"),
    ],
)
def test_invalid_arguments_raise(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "experiment_key": "e",
        "variants": VARIANTS,
        "metrics": [SIGNUP],
        "stats": {},
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        build_report(**arguments)


def test_planned_looks_read_the_comparisons_group_sequentially() -> None:
    stats: Stats = {"signup": _counts({"control": (700, 70), "tour": (700, 105)})}
    always = build_report("welcome-tour", VARIANTS, [SIGNUP], stats, tuning_n=2800)
    grouped = build_report("welcome-tour", VARIANTS, [SIGNUP], stats, tuning_n=2800, looks=14)
    seq = grouped.metrics[0].comparisons[0]
    assert seq.sequential_method == "group_sequential (look 7 of 14)"
    assert seq.sequential_p_value is None
    assert always.metrics[0].comparisons[0].sequential_method == "always_valid"
    # Spending alpha over 14 planned looks is less conservative than an always-valid
    # sequence: the same data gives a narrower interval.
    wide = always.metrics[0].comparisons[0].sequential_ci
    narrow = seq.sequential_ci
    assert wide is not None
    assert narrow is not None
    assert narrow.width < wide.width
    assert grouped.looks == 14
    assert "group-sequential, 14 planned looks" in render_text(grouped)
