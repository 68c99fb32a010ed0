"""Fairness: rates and differences on hand-computed tables; small groups set aside."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.errors import ModelError
from firstmile.ml.fairness import assignment_rates, classifier_fairness


def test_assignment_rates_on_a_hand_computed_table() -> None:
    # 18-24: 40 rows, 24 "mobile-newcomers" (0.6), 16 "power-users" (0.4)
    # 25-34: 50 rows, 20 / 30 (0.4 / 0.6)
    # missing: 30 rows, 15 / 15 (0.5 / 0.5), reported as "unknown"
    groups = ["18-24"] * 40 + ["25-34"] * 50 + [None] * 20 + [""] * 10
    labels = (
        ["mobile-newcomers"] * 24
        + ["power-users"] * 16
        + ["mobile-newcomers"] * 20
        + ["power-users"] * 30
        + ["mobile-newcomers"] * 15
        + ["power-users"] * 15
    )
    table = assignment_rates(groups, labels)
    assert table.labels == ("mobile-newcomers", "power-users")
    assert [(g.group, g.size) for g in table.groups] == [
        ("18-24", 40),
        ("25-34", 50),
        ("unknown", 30),
    ]
    assert table.rate("18-24", "mobile-newcomers") == pytest.approx(0.6)
    assert table.rate("25-34", "power-users") == pytest.approx(0.6)
    assert table.rate("unknown", "power-users") == pytest.approx(0.5)
    newcomers = table.disparity("mobile-newcomers")
    assert newcomers.max_difference == pytest.approx(0.2)
    assert (newcomers.highest_group, newcomers.lowest_group) == ("18-24", "25-34")
    assert table.flagged == ("mobile-newcomers", "power-users")
    assert assignment_rates(groups, labels, threshold=0.25).flagged == ()
    assert table.excluded_groups == ()
    assert table.warnings == ()
    payload = json.loads(json.dumps(table.to_json()))
    assert payload["groups"][0]["rates"] == {"mobile-newcomers": 0.6, "power-users": 0.4}
    with pytest.raises(KeyError):
        table.rate("65+", "power-users")
    with pytest.raises(KeyError):
        table.disparity("nobody")


def test_small_groups_are_reported_but_excluded_from_differences() -> None:
    groups = ["DE"] * 40 + ["FR"] * 40 + ["LU"] * 5
    labels = ["tour"] * 20 + ["skip"] * 20 + ["tour"] * 22 + ["skip"] * 18 + ["tour"] * 5
    table = assignment_rates(groups, labels)
    assert table.rate("LU", "tour") == 1.0  # an extreme rate on 5 rows...
    assert table.disparity("tour").max_difference == pytest.approx(0.55 - 0.5)  # ...left out
    assert table.excluded_groups == ("LU",)
    assert table.flagged == ()
    assert "excluded from the differences: LU" in table.warnings[0]
    everyone = assignment_rates(groups, labels, min_group_size=5)
    assert everyone.disparity("tour").max_difference == pytest.approx(0.5)


def test_one_included_group_gives_no_difference() -> None:
    table = assignment_rates(["a"] * 40 + ["b"] * 3, ["x"] * 43)
    assert table.disparity("x").max_difference is None
    assert table.flagged == ()
    assert any("Fewer than two groups" in w for w in table.warnings)


def test_classifier_fairness_on_a_hand_computed_example() -> None:
    # group a: 50 rows, 20 actual positives; predicted 1 for 18 of them and 5 others
    #   positive rate 23/50 = 0.46, TPR 18/20 = 0.9
    # group b: 40 rows, 10 actual positives; predicted 1 for 6 of them and 6 others
    #   positive rate 12/40 = 0.3, TPR 6/10 = 0.6
    # group c: 30 rows, no actual positive; predicted 1 for 3
    #   positive rate 0.1, no TPR
    groups = ["a"] * 50 + ["b"] * 40 + ["c"] * 30
    y_true = [1] * 20 + [0] * 30 + [1] * 10 + [0] * 30 + [0] * 30
    y_pred = (
        [1] * 18 + [0] * 2 + [1] * 5 + [0] * 25
        + [1] * 6 + [0] * 4 + [1] * 6 + [0] * 24
        + [1] * 3 + [0] * 27
    )  # fmt: skip
    report = classifier_fairness(groups, np.array(y_true), np.array(y_pred, dtype=bool))
    rows = {g.group: g for g in report.groups}
    assert (rows["a"].size, rows["a"].positives) == (50, 20)
    assert rows["a"].positive_rate == pytest.approx(0.46)
    assert rows["a"].true_positive_rate == pytest.approx(0.9)
    assert rows["b"].positive_rate == pytest.approx(0.3)
    assert rows["b"].true_positive_rate == pytest.approx(0.6)
    assert rows["c"].true_positive_rate is None
    assert report.demographic_parity_difference == pytest.approx(0.46 - 0.1)
    assert report.equal_opportunity_difference == pytest.approx(0.9 - 0.6)
    assert report.flags == ("demographic_parity", "equal_opportunity")
    relaxed = classifier_fairness(groups, y_true, y_pred, threshold=0.35)
    assert relaxed.flags == ("demographic_parity",)
    payload = json.loads(json.dumps(report.to_json()))
    assert payload["flags"] == ["demographic_parity", "equal_opportunity"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.threshold = 0.5  # type: ignore[misc]


def test_classifier_small_groups_and_missing_positives() -> None:
    groups = ["a"] * 30 + ["b"] * 30 + ["tiny"] * 4
    y_true = [0] * 30 + [1] * 10 + [0] * 20 + [1] * 4
    y_pred = [1] * 9 + [0] * 21 + [1] * 6 + [0] * 24 + [0] * 4
    report = classifier_fairness(groups, y_true, y_pred)
    assert report.excluded_groups == ("tiny",)
    assert [g.included for g in report.groups] == [True, True, False]
    assert report.demographic_parity_difference == pytest.approx(0.3 - 0.2)
    # Only b has an actual positive among the included groups: no difference.
    assert report.equal_opportunity_difference is None
    assert any("excluded from the differences: tiny" in w for w in report.warnings)
    assert any("equal opportunity" in w for w in report.warnings)
    assert report.flags == ()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: assignment_rates(["a"], ["x", "y"]), "1 group labels but 2"),
        (lambda: assignment_rates([], []), "No rows"),
        (lambda: assignment_rates("ab", ["x", "y"]), "sequence"),
        (lambda: assignment_rates([["a"]], ["x"]), "one-dimensional"),
        (lambda: assignment_rates(["a"], ["x"], min_group_size=0), "min_group_size"),
        (lambda: assignment_rates(["a"], ["x"], threshold=2.0), "threshold"),
        (lambda: classifier_fairness(["a"], [2], [1]), "only 0 and 1"),
        (lambda: classifier_fairness(["a"], [1], [0.5]), "only 0 and 1"),
        (lambda: classifier_fairness(["a", "b"], [1, 0], [1]), "predictions"),
    ],
)
def test_bad_input_raises_model_error(call: object, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        call()  # type: ignore[operator]


group_values = st.sampled_from(["a", "b", "c", None, "", float("nan"), 3])
label_values = st.sampled_from(["x", "y", "z", None, 0])
outcomes = st.sampled_from([0, 1, True, False, 1.0, 2, -1, float("nan"), "1"])


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(group_values, max_size=80),
    labels=st.lists(label_values, max_size=80),
    min_group_size=st.integers(1, 40),
)
def test_random_assignments_give_rates_in_range(
    groups: list[object], labels: list[object], min_group_size: int
) -> None:
    try:
        table = assignment_rates(groups, labels, min_group_size=min_group_size)
    except ModelError:
        assert len(groups) != len(labels) or not groups
        return
    for row in table.groups:
        assert all(0.0 <= rate <= 1.0 for rate in row.rates)
        assert math.isclose(sum(row.rates), 1.0)
    assert sum(row.size for row in table.groups) == len(groups)
    for disparity in table.disparities:
        assert disparity.max_difference is None or 0.0 <= disparity.max_difference <= 1.0


@settings(max_examples=150, deadline=None)
@given(
    groups=st.lists(group_values, max_size=60),
    y_true=st.lists(outcomes, max_size=60),
    y_pred=st.lists(outcomes, max_size=60),
    min_group_size=st.integers(1, 20),
)
def test_random_classifier_inputs_never_raise_anything_but_model_error(
    groups: list[object], y_true: list[object], y_pred: list[object], min_group_size: int
) -> None:
    try:
        report = classifier_fairness(groups, y_true, y_pred, min_group_size=min_group_size)
    except ModelError:
        return
    for row in report.groups:
        assert 0.0 <= row.positive_rate <= 1.0
        assert row.true_positive_rate is None or 0.0 <= row.true_positive_rate <= 1.0
    for value in (report.demographic_parity_difference, report.equal_opportunity_difference):
        assert value is None or 0.0 <= value <= 1.0
