# ruff: noqa: N806 - X is the feature matrix, as scikit-learn names it
"""Tests for firstmile.ml.features: reading, filling, scaling, encoding, hashing."""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmile.errors import ConfigError, ModelError
from firstmile.ml.features import (
    FeaturePipeline,
    FeatureSpec,
    check_schema,
    schema_hash,
)


def fit(specs: list[FeatureSpec], rows: list[dict[str, Any]]) -> FeaturePipeline:
    return FeaturePipeline.fit(specs, rows)


def test_numbers_parse_and_missing_takes_the_median() -> None:
    spec = FeatureSpec("age", path="age", scale="none")
    rows: list[dict[str, Any]] = [
        {"age": 10},
        {"age": "30"},
        {"age": True},
        {"age": 20.0},
        {"age": "n/a"},
        {"age": float("nan")},
        {"age": float("inf")},
        {"age": [1, 2]},
        {},
    ]
    pipeline = fit([spec], rows)
    # Observed: 10, 30, 1, 20 -> median 15; the other five are missing.
    assert pipeline.transform(rows)[:, 0].tolist() == [10, 30, 1, 20, 15, 15, 15, 15, 15]
    assert pipeline.raw({"age": "30"}) == {"age": 30.0}
    assert pipeline.raw({"age": "x"}) == {"age": None}


@pytest.mark.parametrize(
    ("missing", "expected"),
    [("median", 2.0), ("mean", 3.0), ("zero", 0.0), (-1, -1.0), (2.5, 2.5)],
)
def test_missing_policies(missing: str | float, expected: float) -> None:
    rows: list[dict[str, Any]] = [{"n": 1}, {"n": 2}, {"n": 6}, {"n": None}]
    pipeline = fit([FeatureSpec("n", path="n", missing=missing, scale="none")], rows)
    assert pipeline.transform(rows)[3, 0] == expected
    assert pipeline.encoders[0].fill == expected  # type: ignore[union-attr]


def test_standard_scale_centres_and_divides_by_the_spread() -> None:
    rows = [{"n": v} for v in (1, 2, 3, 4)]
    column = fit([FeatureSpec("n", path="n")], rows).transform(rows)[:, 0]
    assert column.mean() == pytest.approx(0.0)
    assert column.std() == pytest.approx(1.0)


def test_log_scale_is_log1p_then_standardised() -> None:
    rows: list[dict[str, Any]] = [{"d": 0}, {"d": 9}, {"d": 99}, {"d": None}]
    pipeline = fit([FeatureSpec("d", path="d", scale="log")], rows)
    # Missing is filled with the raw median (9) before the log.
    logged = np.log1p([0.0, 9.0, 99.0, 9.0])
    expected = (logged - logged.mean()) / logged.std()
    np.testing.assert_allclose(pipeline.transform(rows)[:, 0], expected)
    # Negative values keep their sign rather than failing.
    value = pipeline.transform_one({"d": -9})[0]
    assert value == pytest.approx((-math.log1p(9) - logged.mean()) / logged.std())


def test_categories_keep_frequent_levels_and_share_other_and_missing() -> None:
    levels = ["mobile"] * 4 + ["desktop"] * 3 + ["tablet"] * 2 + ["tv"] + [None, ""]
    rows = [{"device": level} for level in levels]
    pipeline = fit([FeatureSpec("device", path="device", kind="category", max_categories=2)], rows)
    assert pipeline.columns == (
        "device=desktop",
        "device=mobile",
        "device=(other)",
        "device=(missing)",
    )
    assert pipeline.column_feature == ("device",) * 4
    X = pipeline.transform(rows)
    assert X.sum(axis=1).tolist() == [1.0] * len(rows)  # one hot per user
    assert X[:, 0].sum() == 3
    assert X[:, 1].sum() == 4
    assert X[:, 2].sum() == 3  # tablet x2, tv
    assert X[:, 3].sum() == 2  # None and ""
    # An unseen level at inference is "(other)".
    assert pipeline.transform_one({"device": "watch"}).tolist() == [0, 0, 1, 0]
    assert pipeline.raw({"device": ""}) == {"device": None}


def test_category_levels_normalise_numbers_and_unseen_without_other_is_all_zero() -> None:
    rows: list[dict[str, Any]] = [{"os": 1}, {"os": "1"}, {"os": 1.0}, {"os": 2}]
    pipeline = fit([FeatureSpec("os", path="os", kind="category")], rows)
    assert pipeline.columns == ("os=1", "os=2")
    assert pipeline.transform(rows).tolist() == [[1, 0], [1, 0], [1, 0], [0, 1]]
    # No rare level and no missing value in training: nothing to set.
    assert pipeline.transform_one({"os": 3}).tolist() == [0, 0]
    assert pipeline.transform_one({}).tolist() == [0, 0]


def test_flags() -> None:
    values: list[Any] = [True, False, "TRUE", "no", 1, 0.0, None, "maybe"]
    rows = [{"paid": value} for value in values]
    pipeline = fit([FeatureSpec("paid", path="paid", kind="flag")], rows)
    # Observed 1,0,1,0,1,0 -> median 0.5 fills the two missing; flags are never scaled.
    assert pipeline.transform(rows)[:, 0].tolist() == [1, 0, 1, 0, 1, 0, 0.5, 0.5]
    assert pipeline.raw({"paid": "yes"}) == {"paid": True}
    zero = fit([FeatureSpec("paid", path="paid", kind="flag", missing="zero")], rows)
    assert zero.transform_one({"paid": None}).tolist() == [0.0]


def test_event_windows_read_counts_without_splitting_dotted_names() -> None:
    specs = [
        FeatureSpec(f"sent_{window}", event="app.Invite Sent", window=window, scale="none")
        for window in ("1d", "7d", "all")
    ]
    counts = {"count": 9, "count_7d": 4, "count_1d": 1}
    rows: list[dict[str, Any]] = [
        {"events": {"app.Invite Sent": counts}},
        {"events": {"other": {"count": 3}}},  # never sent: counts 0, not missing
        {},
    ]
    pipeline = fit(specs, rows)
    assert pipeline.transform(rows).tolist() == [[1, 4, 9], [0, 0, 0], [0, 0, 0]]
    assert pipeline.raw(rows[0]) == {"sent_1d": 1.0, "sent_7d": 4.0, "sent_all": 9.0}


def test_event_flag_is_whether_it_happened() -> None:
    spec = FeatureSpec("invited", event="Invite", kind="flag")
    rows: list[dict[str, Any]] = [{"events": {"Invite": {"count": 3}}}, {"events": {}}]
    assert fit([spec], rows).transform(rows).tolist() == [[1.0], [0.0]]


def test_constant_features_are_kept_with_scale_one_and_reported() -> None:
    specs = [
        FeatureSpec("same", path="same"),
        FeatureSpec("plan", path="plan", kind="category"),
        FeatureSpec("varies", path="varies"),
        FeatureSpec("never", path="never"),
    ]
    rows = [{"same": 5, "plan": "pro", "varies": i} for i in range(4)]
    pipeline = fit(specs, rows)
    assert pipeline.constant == ("same", "plan", "never")
    X = pipeline.transform(rows)
    assert np.isfinite(X).all()
    assert X[:, 0].tolist() == [0.0] * 4  # centred, not divided by zero
    assert pipeline.encoders[0].scale == 1.0  # type: ignore[union-attr]
    assert pipeline.transform_one({"same": 7})[0] == 2.0


def test_fit_refuses_zero_rows_no_specs_and_repeated_names() -> None:
    spec = FeatureSpec("a", path="a")
    with pytest.raises(ModelError, match="zero users"):
        FeaturePipeline.fit([spec], [])
    with pytest.raises(ModelError, match="at least one feature"):
        FeaturePipeline.fit([], [{"a": 1}])
    with pytest.raises(ModelError, match="unique"):
        FeaturePipeline.fit([spec, FeatureSpec("a", path="b")], [{"a": 1}])


def test_fit_refuses_columns_that_collide() -> None:
    specs = [FeatureSpec("a=x", path="p"), FeatureSpec("a", path="a", kind="category")]
    with pytest.raises(ModelError, match="same column"):
        FeaturePipeline.fit(specs, [{"p": 1, "a": "x"}])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x"}, "give `path`"),
        ({"name": "x", "path": "a", "event": "b"}, "not both"),
        ({"name": "", "path": "a"}, "non-empty name"),
        ({"name": "x", "path": ""}, "non-empty attribute path"),
        ({"name": "x", "event": "e", "window": "30d"}, "window"),
        ({"name": "x", "path": "a", "kind": "text"}, "kind"),
        ({"name": "x", "event": "e", "kind": "category"}, "not a category"),
        ({"name": "x", "path": "a", "scale": "minmax"}, "scale"),
        ({"name": "x", "path": "a", "missing": "mode"}, "missing"),
        ({"name": "x", "path": "a", "missing": float("nan")}, "missing"),
        ({"name": "x", "path": "a", "missing": True}, "missing"),
        ({"name": "x", "path": "a", "max_categories": 0}, "max_categories"),
    ],
)
def test_invalid_specs_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FeatureSpec(**kwargs)


SPECS = [
    FeatureSpec("n", path="n"),
    FeatureSpec("logged", path="stats.duration", scale="log", missing="mean"),
    FeatureSpec("raw", path="raw", scale="none", missing=-1),
    FeatureSpec("plan", path="plan", kind="category", max_categories=2),
    FeatureSpec("paid", path="paid", kind="flag"),
    FeatureSpec("sent", event="Sent.Invite", window="7d"),
]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from(["free", "pro", "team", "", "3", "2.5", "yes", "no", "x"]),
    st.lists(st.integers(), max_size=2),
)
rows_strategy = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "n": values,
            "stats": st.fixed_dictionaries({}, optional={"duration": values}) | values,
            "raw": values,
            "plan": values,
            "paid": values,
            "events": st.fixed_dictionaries(
                {}, optional={"Sent.Invite": st.fixed_dictionaries({"count_7d": values})}
            ),
        },
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(train=rows_strategy, score=rows_strategy)
def test_transform_one_equals_transform_rows(
    train: list[dict[str, Any]], score: list[dict[str, Any]]
) -> None:
    pipeline = FeaturePipeline.fit(SPECS, train)
    before = copy.deepcopy(score)
    X = pipeline.transform(score)
    assert X.shape == (len(score), pipeline.width)
    assert X.dtype == np.float64
    assert np.isfinite(X).all()
    for row, expected in zip(score, X, strict=True):
        np.testing.assert_array_equal(pipeline.transform_one(row), expected)
    assert repr(score) == repr(before)  # inputs are not mutated (repr: NaN != NaN)


def test_schema_hash_is_stable() -> None:
    # Pinned: a change here invalidates every stored model, so it must be deliberate.
    assert schema_hash(SPECS) == schema_hash(list(SPECS))
    assert schema_hash([FeatureSpec("a", path="a")]) == "b2608dbdc4fcb86e"


def test_schema_hash_ignores_settings_that_do_not_apply() -> None:
    base = FeatureSpec("plan", path="plan", kind="category")
    assert schema_hash([base]) == schema_hash(
        [FeatureSpec("plan", path="plan", kind="category", scale="log", missing="zero")]
    )
    assert schema_hash([FeatureSpec("a", path="a", missing=1)]) == schema_hash(
        [FeatureSpec("a", path="a", missing=1.0)]
    )


@pytest.mark.parametrize(
    "changed",
    [
        FeatureSpec("b", path="a"),
        FeatureSpec("a", path="b"),
        FeatureSpec("a", event="a"),
        FeatureSpec("a", path="a", kind="flag"),
        FeatureSpec("a", path="a", kind="category"),
        FeatureSpec("a", path="a", missing="mean"),
        FeatureSpec("a", path="a", missing=0.5),
        FeatureSpec("a", path="a", scale="none"),
    ],
)
def test_schema_hash_changes_with_any_setting(changed: FeatureSpec) -> None:
    assert schema_hash([FeatureSpec("a", path="a")]) != schema_hash([changed])


def test_schema_hash_depends_on_order_and_windows() -> None:
    a, b = FeatureSpec("a", path="a"), FeatureSpec("b", path="b")
    assert schema_hash([a, b]) != schema_hash([b, a])
    assert schema_hash([FeatureSpec("e", event="E", window="1d")]) != schema_hash(
        [FeatureSpec("e", event="E", window="7d")]
    )


def test_pickle_round_trip() -> None:
    rows: list[dict[str, Any]] = [
        {"n": i, "plan": ["free", "pro", "team"][i % 3], "paid": i % 2 == 0} for i in range(9)
    ]
    pipeline = FeaturePipeline.fit(SPECS, rows)
    loaded = pickle.loads(pickle.dumps(pipeline))
    assert loaded.columns == pipeline.columns
    assert loaded.schema_hash == pipeline.schema_hash
    assert loaded.constant == pipeline.constant
    np.testing.assert_array_equal(loaded.transform(rows), pipeline.transform(rows))
    np.testing.assert_array_equal(loaded.transform_one(rows[4]), pipeline.transform_one(rows[4]))


def test_check_schema_refuses_a_model_trained_on_other_features() -> None:
    pipeline = FeaturePipeline.fit([FeatureSpec("a", path="a")], [{"a": 1}])
    check_schema(schema_hash([FeatureSpec("a", path="a")]), pipeline)
    declared = schema_hash([FeatureSpec("a", path="a", scale="log")])
    with pytest.raises(ModelError) as caught:
        check_schema(declared, pipeline)
    assert caught.value.message == (
        f"model was trained on feature schema {pipeline.schema_hash}, config declares "
        f"{declared}: retrain with `firstmile train`"
    )
