# ruff: noqa: N806 - X is the feature matrix, as scikit-learn names it
"""Bad training data is a ModelError with a clear message, and nothing else ever is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from threadpoolctl import threadpool_limits

from firstmile.errors import ModelError
from firstmile.ml.predict import MIN_ROWS, train_classifier


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread() -> Iterator[None]:
    # See test_predict_train: OpenMP thread teams stall on a busy small machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def data(n: int = 40, width: int = 2) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, width))
    y = np.arange(n) % 2 == 0
    return X, y, [f"c{i}" for i in range(width)]


def test_the_valid_baseline_trains() -> None:
    X, y, columns = data()
    model = train_classifier(X, y, columns=columns, algorithm="logistic_regression")
    assert model.report.n_rows == 40


def bad(**changes: Any) -> dict[str, Any]:
    X, y, columns = data()
    arguments: dict[str, Any] = {"X": X, "y": y, "columns": columns}
    arguments.update(changes)
    return arguments


def with_value(value: float) -> np.ndarray:
    X = data()[0]
    X[3, 1] = value
    return X


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (bad(X=data(n=MIN_ROWS - 1)[0], y=data(n=MIN_ROWS - 1)[1]), "at least 20 users"),
        (bad(y=np.zeros(40, dtype=bool)), "every user has a negative outcome"),
        (bad(y=np.ones(40)), "every user has a positive outcome"),
        (bad(y=np.arange(40) < 4), "rarer outcome has 4 users; 5-fold"),
        (bad(y=np.arange(40) < 2, folds=3), "rarer outcome has 2 users; 3-fold"),
        (bad(X=np.ones((40, 2))), "same value for all users"),
        (bad(X=with_value(float("nan"))), "NaN or infinite"),
        (bad(X=with_value(float("inf"))), "NaN or infinite"),
        (bad(X=with_value(1e300)), "exceed"),
        (bad(y=data()[1][:39]), "one outcome per user"),
        (bad(columns=["only one"]), "1 column names for a matrix of 2 columns"),
        (bad(features=["a", "b", "c"]), "3 feature names for a matrix of 2 columns"),
        (bad(times=list(range(39))), "one value per user"),
        (bad(times=[float("nan")] * 40), "times contain NaN"),
        (bad(times=["yesterday"] * 40), "numbers or datetimes"),
        (bad(times=5), "sequence"),
        (bad(X=data()[0][:, 0], columns=["c0"]), "must be 2-D"),
        (bad(X=np.zeros((40, 0)), columns=[]), "no columns"),
        (bad(X=[["a", "b"]] * 40), "numbers only"),
        (bad(X=[[1.0, None]] * 40), "NaN or infinite"),
        (bad(y=np.arange(40) % 3), "0/1 or False/True"),
        (bad(y=["yes", "no"] * 20), "0/1 or False/True"),
        (bad(algorithm="xgboost"), "unknown algorithm 'xgboost'"),
        (bad(folds=1), "`folds` must be an integer of at least 2"),
        (bad(folds=2.5), "`folds`"),
        (bad(holdout=1.0), "`holdout` must be a share"),
        (bad(holdout=0), "`holdout`"),
    ],
)
def test_bad_input_is_a_model_error(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelError, match=message) as caught:
        train_classifier(**arguments)
    assert caught.value.code == "model_error"


def test_predicting_with_the_wrong_shape_or_values_is_a_model_error() -> None:
    X, y, columns = data()
    model = train_classifier(X, y, columns=columns, algorithm="logistic_regression")
    with pytest.raises(ModelError, match="takes 2 columns"):
        model.predict_one(np.zeros(3))
    with pytest.raises(ModelError, match="takes 2 columns"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(ModelError, match="takes 2 columns"):
        model.explain_one(np.zeros((1, 2)))
    with pytest.raises(ModelError, match="NaN"):
        model.predict_one(np.array([np.nan, 0.0]))
    with pytest.raises(ModelError, match="NaN"):
        model.explain_one(np.array([np.inf, 0.0]))


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, Any]:
    # Mostly data that can train (so the fitting code is exercised), some that cannot.
    n = draw(st.one_of(st.integers(MIN_ROWS, 36), st.integers(0, MIN_ROWS)))
    width = draw(st.integers(1, 3))
    values = st.one_of(st.sampled_from([0.0, 1.0, -1.0]), st.floats(-1e6, 1e6))
    X = draw(hnp.arrays(np.float64, (n, width), elements=values, fill=st.nothing()))
    if n and draw(st.integers(0, 9)) == 0:
        X[draw(st.integers(0, n - 1)), 0] = draw(st.sampled_from([np.nan, np.inf, 1e300]))
    positives = draw(st.integers(0, n))
    y = np.array(draw(st.permutations([True] * positives + [False] * (n - positives))))
    arguments: dict[str, Any] = {
        "X": X,
        "y": y,
        "columns": [f"c{i}" for i in range(width)],
        "algorithm": draw(st.sampled_from(["gradient_boosting", "logistic_regression"])),
        "folds": draw(st.integers(2, 4)),
        "seed": draw(st.integers(0, 3)),
    }
    if draw(st.booleans()):
        arguments["times"] = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
        arguments["holdout"] = draw(st.sampled_from([0.1, 0.3, 0.5]))
    return arguments


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arguments=datasets())
def test_random_small_datasets_train_or_raise_a_model_error(arguments: dict[str, Any]) -> None:
    try:
        model = train_classifier(**arguments)
    except ModelError:
        event("ModelError")
        return
    event("trained")
    X = arguments["X"]
    probabilities = model.predict(X)
    assert np.isfinite(probabilities).all()
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert 0.0 <= model.predict_one(X[0]) <= 1.0
    for reason in model.explain_one(X[0]):
        assert reason.direction in {"raises", "lowers"}
    report = model.report.to_json()
    assert report["n_rows"] == len(X)


def test_a_forest_on_the_smallest_valid_data_trains() -> None:
    X, y, columns = data(n=MIN_ROWS)
    model = train_classifier(X, y, columns=columns, algorithm="random_forest", folds=2)
    assert 0.0 <= model.predict_one(X[0]) <= 1.0
