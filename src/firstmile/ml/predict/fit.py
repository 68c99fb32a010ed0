# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""Train, validate and calibrate a binary classifier on a feature matrix."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

from firstmile.errors import ModelError
from firstmile.ml.predict.calibration import Calibrator, Method, choose_method
from firstmile.ml.predict.estimators import ALGORITHMS, Algorithm, Scorer, fit_scorer
from firstmile.ml.predict.importance import grouped_importance
from firstmile.ml.predict.model import TrainedClassifier, feature_groups, reference_row
from firstmile.ml.predict.report import (
    Candidate,
    ClassifierReport,
    CrossValidation,
    Estimate,
    Holdout,
    Importance,
    fold_metrics,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Choice = Literal["auto", "choose", "gradient_boosting", "random_forest", "logistic_regression"]

MIN_ROWS = 20
# Larger magnitudes are almost surely a unit mistake, and overflow float32 inside the
# forest (scikit-learn's trees compare float32 values).
MAX_ABS_VALUE = 1e15
IMPORTANCE_REPEATS = 3


def train_classifier(
    X: Any,
    y: Any,
    *,
    columns: Sequence[str],
    features: Sequence[str] | None = None,
    algorithm: Choice = "auto",
    folds: int = 5,
    seed: int = 0,
    times: Sequence[float] | Sequence[datetime] | npt.NDArray[Any] | None = None,
    holdout: float = 0.2,
) -> TrainedClassifier:
    """Train a calibrated classifier of ``y`` (0/1 or booleans) from the rows of ``X``.

    Parameters
    ----------
    X : ``(n, d)`` numbers, usually ``FeaturePipeline.transform(rows)``.
    y : ``n`` outcomes, 0/1 or ``False``/``True``.
    columns : the ``d`` column names.
    features : the feature each column belongs to (``FeaturePipeline.column_feature``);
        importances and reasons are per feature. By default each column is its own.
    algorithm : ``"gradient_boosting"`` (what ``"auto"`` means), ``"random_forest"``,
        ``"logistic_regression"`` (L2-penalised, on standardised columns), or
        ``"choose"``: cross-validate all three and keep the best ROC-AUC (the report
        lists all of them).
    folds : the number of stratified cross-validation folds (at least 2).
    seed : seeds the folds, the models and the importance shuffles: same inputs, same
        model.
    times : optional time of each row (numbers or datetimes): the report then adds a
        temporal holdout, trained on the earliest ``1 - holdout`` of the rows and tested
        on the latest ``holdout``, which is closer to how the model will be used.
    holdout : the share of the latest rows in that holdout.

    What happens: ``folds``-fold stratified cross-validation fits the algorithm on each
    training part and scores the held-out part. Those out-of-fold scores give the
    metrics (each fold's probabilities come from a calibrator fitted on the other
    folds' scores) and, once the model is refitted on all rows, its calibrator
    (isotonic when the rarer outcome has at least 500 users, else Platt's sigmoid).
    Permutation importance is measured on the held-out folds.

    Raises :class:`~firstmile.errors.ModelError` when the data cannot give a model:
    fewer than 20 rows, one outcome only, fewer users of the rarer outcome than
    ``folds``, every column constant, NaN or infinite values, mismatched lengths.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X[:, 0] + rng.normal(size=200) > 0
    >>> model = train_classifier(X, y, columns=["signal", "noise"], algorithm="logistic_regression")
    >>> model.report.cv.roc_auc.mean > 0.7, model.report.calibration
    (True, 'sigmoid')
    >>> 0.0 < model.predict_one(X[0]) < 1.0
    True
    >>> model.explain_one(np.array([2.0, 0.0]))[0][:1]
    ('signal',)
    """
    data = _check(X, y, columns, features, algorithm, folds, times, holdout)
    notes: list[str] = []
    spread = data.X.max(axis=0) - data.X.min(axis=0)
    constant = [name for name, width in zip(data.columns, spread, strict=True) if width == 0]
    if len(constant) == len(data.columns):
        raise ModelError("every feature has the same value for all users: nothing to learn from")
    if constant:
        notes.append(f"constant columns (they cannot help): {', '.join(constant)}")
    method = choose_method(data.y)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(data.X, data.y))
    tried = ALGORITHMS if algorithm == "choose" else (_resolve(algorithm),)
    runs = [_cross_validate(name, data, splits, method, seed, notes) for name in tried]
    best = max(runs, key=lambda run: run.cv.roc_auc.mean)  # ties: the first tried
    with _recording(notes):
        scorer = fit_scorer(best.algorithm, data.X, data.y, seed=seed, keep_model=False)
    calibrator = Calibrator.fit(best.scores, data.y, method)
    groups = feature_groups(data.features)
    importance = _importance(best, data, splits, groups, seed)
    held_out = None
    if data.times is not None:
        held_out = _temporal_holdout(best.algorithm, data, holdout, method, seed, notes)
    report = ClassifierReport(
        algorithm=best.algorithm,
        calibration=method,
        n_rows=len(data.y),
        n_positive=int(data.y.sum()),
        n_columns=len(data.columns),
        seed=seed,
        cv=best.cv,
        holdout=held_out,
        importance=importance,
        candidates=tuple(Candidate(run.algorithm, run.cv) for run in runs),
        notes=tuple(dict.fromkeys(notes)),
    )
    return TrainedClassifier(
        algorithm=best.algorithm,
        columns=data.columns,
        features=data.features,
        scorer=scorer,
        calibrator=calibrator,
        reference=reference_row(data.X, groups),
        report=report,
    )


@dataclass(frozen=True, eq=False)
class _Data:
    X: FloatArray
    y: IntArray
    columns: tuple[str, ...]
    features: tuple[str, ...]
    times: FloatArray | None


@dataclass(frozen=True, eq=False)
class _Run:
    algorithm: Algorithm
    cv: CrossValidation
    scores: FloatArray  # out of fold, one per row
    scorers: tuple[Scorer, ...]  # one per fold


@contextmanager
def _recording(notes: list[str]) -> Iterator[None]:
    # A solver stopping at its iteration cap still gives a usable model: say so in the
    # report rather than on stderr, where a scheduled `firstmile train` would lose it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    notes.extend(f"{warning.category.__name__}: {warning.message}" for warning in caught)


def _cross_validate(
    algorithm: Algorithm,
    data: _Data,
    splits: list[tuple[IntArray, IntArray]],
    method: Method,
    seed: int,
    notes: list[str],
) -> _Run:
    scores = np.empty(len(data.y))
    scorers: list[Scorer] = []
    with _recording(notes):
        for train, test in splits:
            scorer = fit_scorer(algorithm, data.X[train], data.y[train], seed=seed)
            scores[test] = scorer.score(data.X[test])
            scorers.append(scorer)
    per_fold = []
    for train, test in splits:
        # Calibrated on the other folds' out-of-fold scores: the fold's own outcomes
        # never reach the probabilities they are judged against.
        calibrator = Calibrator.fit(scores[train], data.y[train], method)
        per_fold.append(fold_metrics(data.y[test], calibrator.apply(scores[test])))
    return _Run(algorithm, CrossValidation.of(per_fold), scores, tuple(scorers))


def _importance(
    run: _Run,
    data: _Data,
    splits: list[tuple[IntArray, IntArray]],
    groups: tuple[tuple[str, IntArray], ...],
    seed: int,
) -> tuple[Importance, ...]:
    columns = [indices for _, indices in groups]
    drops = [
        grouped_importance(
            scorer.model,
            scorer.score,
            data.X[test],
            data.y[test],
            columns,
            repeats=IMPORTANCE_REPEATS,
            seed=seed + fold,
        )
        for fold, (scorer, (_, test)) in enumerate(zip(run.scorers, splits, strict=True))
    ]
    table = np.concatenate(drops, axis=1)
    items = [
        Importance(name, estimate.mean, estimate.sd)
        for (name, _), estimate in zip(groups, map(Estimate.of, table), strict=True)
    ]
    return tuple(sorted(items, key=lambda item: -item.mean))


def _temporal_holdout(
    algorithm: Algorithm, data: _Data, fraction: float, method: Method, seed: int, notes: list[str]
) -> Holdout | None:
    assert data.times is not None
    order = np.argsort(data.times, kind="stable")
    n = len(order)
    n_test = min(n - 1, max(1, round(fraction * n)))
    train, test = order[: n - n_test], order[n - n_test :]
    train_x, y_train = data.X[train], data.y[train]
    rarer = min(int(y_train.sum()), len(y_train) - int(y_train.sum()))
    if rarer < 2 or data.y[test].min() == data.y[test].max():
        notes.append(
            "no temporal holdout: the earliest users or the latest ones lack one of the outcomes"
        )
        return None
    inner = StratifiedKFold(n_splits=min(3, rarer), shuffle=True, random_state=seed)
    scores = np.empty(len(train))
    with _recording(notes):
        for fit_part, score_part in inner.split(train_x, y_train):
            scorer = fit_scorer(algorithm, train_x[fit_part], y_train[fit_part], seed=seed)
            scores[score_part] = scorer.score(train_x[score_part])
        scorer = fit_scorer(algorithm, train_x, y_train, seed=seed)
    calibrator = Calibrator.fit(scores, y_train, method)
    metrics = fold_metrics(data.y[test], calibrator.apply(scorer.score(data.X[test])))
    cutoff = float(data.times[test[0]])
    return Holdout(n_train=len(train), n_test=len(test), cutoff=cutoff, **metrics)


def _resolve(algorithm: str) -> Algorithm:
    if algorithm == "auto":
        return "gradient_boosting"
    for name in ALGORITHMS:
        if algorithm == name:
            return name
    choices = ["auto", "choose", *ALGORITHMS]
    raise ModelError(f"unknown algorithm {algorithm!r}; choose one of {choices}")


def _check(
    X: Any,
    y: Any,
    columns: Sequence[str],
    features: Sequence[str] | None,
    algorithm: str,
    folds: int,
    times: Any,
    holdout: float,
) -> _Data:
    if algorithm != "choose":
        _resolve(algorithm)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ModelError(f"`folds` must be an integer of at least 2, got {folds!r}")
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 < holdout < 1:
        raise ModelError(f"`holdout` must be a share between 0 and 1, got {holdout!r}")
    try:
        matrix = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ModelError(f"the feature matrix must hold numbers only ({error})") from None
    if matrix.ndim != 2:
        raise ModelError(f"the feature matrix must be 2-D (users x columns), got {matrix.shape}")
    n, width = matrix.shape
    names = tuple(columns)
    if len(names) != width:
        raise ModelError(f"{len(names)} column names for a matrix of {width} columns")
    if width == 0:
        raise ModelError("the feature matrix has no columns: declare at least one feature")
    owners = names if features is None else tuple(features)
    if len(owners) != width:
        raise ModelError(f"{len(owners)} feature names for a matrix of {width} columns")
    target = _target(y, n)
    moments = None if times is None else _times(times, n)
    if n < MIN_ROWS:
        raise ModelError(f"a model needs at least {MIN_ROWS} users to learn from; got {n}")
    if not np.isfinite(matrix).all():
        raise ModelError("the features contain NaN or infinite values; check the pipeline")
    if float(np.abs(matrix).max()) > MAX_ABS_VALUE:
        raise ModelError(
            f"some feature values exceed {MAX_ABS_VALUE:g} in size: scale them (e.g. log scale)"
        )
    positives = int(target.sum())
    if positives in (0, n):
        outcome = "positive" if positives else "negative"
        raise ModelError(f"every user has a {outcome} outcome: a model needs both to learn")
    rarer = min(positives, n - positives)
    if rarer < folds:
        raise ModelError(
            f"the rarer outcome has {rarer} users; {folds}-fold cross-validation needs at least "
            f"{folds}: collect more data or lower `folds`"
        )
    return _Data(matrix, target, names, owners, moments)


def _target(y: Any, n: int) -> IntArray:
    target = np.asarray(y)
    if target.ndim != 1 or len(target) != n:
        raise ModelError(
            f"the target must have one outcome per user: {n} users, shape {target.shape}"
        )
    if target.dtype == np.bool_:
        return target.astype(np.intp)
    if target.dtype.kind not in "iuf" or not np.isin(target, (0, 1)).all():
        raise ModelError("the target must be 0/1 or False/True for every user")
    return target.astype(np.intp)


def _times(times: Any, n: int) -> FloatArray:
    if isinstance(times, np.ndarray) and times.dtype.kind == "M":
        values = times.astype("datetime64[ns]").astype(np.int64) / 1e9
    else:
        try:
            items = list(times)
        except TypeError:
            raise ModelError(f"times must be a sequence, got {times!r}") from None
        converted: list[float] = []
        for item in items:
            if isinstance(item, datetime):
                converted.append(item.timestamp())
            elif isinstance(item, int | float | np.integer | np.floating) and not isinstance(
                item, bool
            ):
                converted.append(float(item))
            else:
                raise ModelError(f"times must be numbers or datetimes, got {item!r}")
        values = np.asarray(converted, dtype=np.float64)
    if values.shape != (n,):
        raise ModelError(f"the times must have one value per user: {n} users, {len(values)} times")
    if not np.isfinite(values).all():
        raise ModelError("the times contain NaN or infinite values")
    return np.asarray(values, dtype=np.float64)
