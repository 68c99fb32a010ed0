# ruff: noqa: N806 - X is the feature matrix, as scikit-learn names it
"""Classifiers on planted signals: they learn, calibrate, explain, report and pickle."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from firstmile.ml.predict import ALGORITHMS, Algorithm, TrainedClassifier, train_classifier
from firstmile.ml.predict.calibration import ISOTONIC_MIN_CLASS, Calibrator
from firstmile.ml.predict.estimators import ForestScorer, LinearScorer, fit_scorer
from firstmile.ml.predict.importance import rank_auc

FloatArray = npt.NDArray[np.float64]
COLUMNS = ("signal", "noise", "plan=a", "plan=b", "plan=c")
FEATURES = ("signal", "noise", "plan", "plan", "plan")


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread() -> Iterator[None]:
    # Boosting runs OpenMP thread teams; on a small, busy CI box they wait on each other
    # and a fit of 200 rows takes seconds instead of milliseconds.
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def planted(n: int = 300, seed: int = 0) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """``signal`` drives the outcome; ``noise`` and the one-hot ``plan`` do not."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    plan = np.eye(3)[rng.integers(0, 3, size=n)]
    X = np.column_stack([signal, rng.normal(size=n), plan])
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-(3.0 * signal - 0.5)))
    return X, y


@pytest.fixture(scope="module")
def models() -> dict[str, TrainedClassifier]:
    X, y = planted()
    return {
        name: train_classifier(X, y, columns=COLUMNS, features=FEATURES, algorithm=name, folds=3)
        for name in ALGORITHMS
    }


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_learns_the_planted_signal_with_sane_calibration(
    models: dict[str, TrainedClassifier], algorithm: Algorithm
) -> None:
    model = models[algorithm]
    report = model.report
    assert model.algorithm == report.algorithm == algorithm
    assert report.cv.roc_auc.mean > 0.8
    assert report.cv.folds == 3
    # Calibrated: clearly better than always predicting the base rate.
    assert report.cv.brier.mean < 0.8 * report.cv.brier_baseline.mean
    assert report.calibration == "sigmoid"  # 300 users: too few for isotonic
    assert report.cv.lift.mean > 1.2
    assert 0.0 < report.cv.base_rate.mean < 1.0
    assert report.importance[0].feature == "signal"
    assert {item.feature for item in report.importance} == {"signal", "noise", "plan"}
    assert report.importance[0].mean > 0.1
    assert [c.algorithm for c in report.candidates] == [algorithm]
    assert report.holdout is None


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_explain_one_names_the_planted_feature_first(
    models: dict[str, TrainedClassifier], algorithm: Algorithm
) -> None:
    model = models[algorithm]
    high = model.reference.copy()
    high[0] = 2.5
    reasons = model.explain_one(high, {"signal": 2.5, "plan": "b"})
    assert reasons[0].feature == "signal"
    assert reasons[0].direction == "raises"
    assert reasons[0].contribution > 0.2
    assert reasons[0].value == 2.5
    low = model.reference.copy()
    low[0] = -2.5
    first = model.explain_one(low, top=1)
    assert len(first) == 1
    assert first[0][:1] == ("signal",)
    assert first[0].direction == "lowers"
    assert first[0].value is None
    # The contribution is the probability as predicted minus with the feature typical.
    assert first[0].contribution == pytest.approx(
        model.predict_one(low) - model.predict_one(model.reference)
    )
    # A typical user has nothing to explain.
    assert model.explain_one(model.reference) == []


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_predict_one_matches_predict_and_survives_pickling(
    models: dict[str, TrainedClassifier], algorithm: Algorithm
) -> None:
    model = models[algorithm]
    X, _ = planted(n=100, seed=1)
    batch = model.predict(X)
    assert ((batch >= 0) & (batch <= 1)).all()
    np.testing.assert_allclose([model.predict_one(x) for x in X], batch, atol=1e-12)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(loaded.predict(X), batch, atol=1e-12)
    assert loaded.explain_one(X[0]) == model.explain_one(X[0])
    assert loaded.report == model.report


def test_forest_walk_matches_scikit_learn() -> None:
    X, y = planted(n=200)
    scorer = fit_scorer("random_forest", X, y.astype(np.intp), seed=3)
    assert isinstance(scorer, ForestScorer)
    assert scorer.model is not None
    expected = scorer.model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(scorer.score(X[:50]), expected[:50], atol=1e-12)
    np.testing.assert_allclose([scorer.score_one(x) for x in X[:20]], expected[:20], atol=1e-12)
    # Without the scikit-learn model, large batches are walked in chunks.
    lean = fit_scorer("random_forest", X, y.astype(np.intp), seed=3, keep_model=False)
    assert isinstance(lean, ForestScorer)
    assert lean.model is None
    np.testing.assert_allclose(lean.score(X), expected, atol=1e-12)


def test_linear_scorer_folds_the_standardisation_into_its_coefficients() -> None:
    X, y = planted(n=200)
    X[:, 1] *= 1000.0  # very different column scales
    scorer = LinearScorer.from_data(X, y.astype(np.intp))
    scaler = StandardScaler().fit(X)
    reference = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(X), y)
    expected = reference.decision_function(scaler.transform(X))
    np.testing.assert_allclose(scorer.score(X), expected, rtol=1e-9, atol=1e-9)
    assert scorer.score_one(X[0]) == pytest.approx(expected[0])


def test_calibrator_choice_and_monotone_maps() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=2 * ISOTONIC_MIN_CLASS + 300)
    y = (scores + rng.normal(size=len(scores)) > 0).astype(np.intp)
    isotonic = Calibrator.fit(scores, y)
    assert isotonic.method == "isotonic"
    sigmoid = Calibrator.fit(scores[:300], y[:300])
    assert sigmoid.method == "sigmoid"
    grid = np.linspace(-4, 4, 50)
    for calibrator in (isotonic, sigmoid):
        probabilities = calibrator.apply(grid)
        assert (np.diff(probabilities) >= 0).all()
        assert ((probabilities >= 0) & (probabilities <= 1)).all()
        assert [calibrator.apply_one(s) for s in grid] == pytest.approx(probabilities.tolist())
    # Perfectly separated scores still give a finite, sensible sigmoid.
    separated = Calibrator.fit(np.array([-1.0, -0.5, 0.5, 1.0]), np.array([0, 0, 1, 1]))
    assert 0.5 < separated.apply_one(1.0) < 1.0
    assert 0.0 < separated.apply_one(-1.0) < 0.5


@given(
    y=st.lists(st.booleans(), min_size=2, max_size=40).filter(lambda v: 0 < sum(v) < len(v)),
    data=st.data(),
)
def test_rank_auc_equals_scikit_learn(y: list[bool], data: st.DataObject) -> None:
    scores = data.draw(
        st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, -3.0]), min_size=len(y), max_size=len(y))
    )
    outcomes = np.array(y, dtype=np.intp)
    assert rank_auc(outcomes, np.array(scores)) == pytest.approx(roc_auc_score(outcomes, scores))


def test_choose_tries_all_three_and_keeps_the_best() -> None:
    X, y = planted(n=200, seed=2)
    model = train_classifier(X, y, columns=COLUMNS, algorithm="choose", folds=3)
    candidates = {c.algorithm: c.cv.roc_auc.mean for c in model.report.candidates}
    assert list(candidates) == list(ALGORITHMS)
    assert candidates[model.algorithm] == max(candidates.values())
    assert model.report.cv.roc_auc.mean == max(candidates.values())
    assert model.report.cv.folds == 3


def test_temporal_holdout_trains_on_the_earliest_and_tests_on_the_latest() -> None:
    X, y = planted(n=200, seed=4)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start + timedelta(hours=i) for i in range(200)]
    model = train_classifier(
        X, y, columns=COLUMNS, algorithm="logistic_regression", times=times, holdout=0.25
    )
    holdout = model.report.holdout
    assert holdout is not None
    assert (holdout.n_train, holdout.n_test) == (150, 50)
    assert holdout.cutoff == times[150].timestamp()
    assert holdout.roc_auc > 0.8
    assert holdout.base_rate == pytest.approx(float(y[150:].mean()))
    # Numbers work as times too, in any order.
    order = np.random.default_rng(0).permutation(200)
    shuffled = train_classifier(
        X[order],
        y[order],
        columns=COLUMNS,
        algorithm="logistic_regression",
        times=np.arange(200.0)[order],
        holdout=0.25,
    )
    assert shuffled.report.holdout is not None
    assert shuffled.report.holdout.n_test == 50
    assert shuffled.report.holdout.base_rate == holdout.base_rate


def test_holdout_without_both_outcomes_is_a_note_not_an_error() -> None:
    X, y = planted(n=100, seed=5)
    y[-10:] = True  # the latest 10% are all positive
    model = train_classifier(
        X, y, columns=COLUMNS, algorithm="logistic_regression", times=range(100), holdout=0.1
    )
    assert model.report.holdout is None
    assert any("no temporal holdout" in note for note in model.report.notes)


def test_report_is_json_and_seeded_runs_repeat() -> None:
    X, y = planted(n=100, seed=6)
    X[:, 1] = 4.0  # a constant column is reported, not fatal
    first = train_classifier(X, y, columns=COLUMNS, features=FEATURES, seed=7, times=range(100))
    second = train_classifier(X, y, columns=COLUMNS, features=FEATURES, seed=7, times=range(100))
    body = first.report.to_json()
    assert json.loads(json.dumps(body)) == body
    assert body == second.report.to_json()
    assert body["algorithm"] == "gradient_boosting"
    assert set(body["cv"]) == {"folds", "roc_auc", "pr_auc", "brier", "brier_baseline"} | {
        "base_rate",
        "lift",
    }
    assert body["holdout"]["n_test"] == 20
    assert body["n_rows"] == 100
    assert body["n_positive"] == int(y.sum())
    assert any("constant columns" in note and "noise" in note for note in body["notes"])
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
