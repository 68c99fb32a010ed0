# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""A trained classifier: probabilities and reasons for one user, cheaply."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from firstmile.errors import ModelError
from firstmile.ml.predict.calibration import Calibrator
from firstmile.ml.predict.estimators import Algorithm, Scorer
from firstmile.ml.predict.report import ClassifierReport

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class Reason(NamedTuple):
    """One reason for a prediction: see :meth:`TrainedClassifier.explain_one`."""

    feature: str
    contribution: float
    direction: Literal["raises", "lowers"]
    value: Any = None


@dataclass(frozen=True, eq=False)
class TrainedClassifier:
    """A calibrated binary classifier fitted on all training users, and its report.

    Build one with :func:`~firstmile.ml.predict.train_classifier`. It is immutable and
    pickles. ``columns`` name the input columns (a fitted pipeline's
    :attr:`~firstmile.ml.features.FeaturePipeline.columns`); ``features`` name the
    feature each column belongs to; ``reference`` is a typical training user, column by
    column (per feature: the median of a single column, the most common combination of a
    category's columns), which :meth:`explain_one` compares against.

    Cost of one call, measured on the online-shoppers data (74 columns, 17 features;
    2-core machine at load ~2; scikit-learn's own ``predict_proba`` on one row takes
    0.1-6 ms depending on the algorithm):

    ========================  ==============  ==============
    algorithm                 predict_one     explain_one
    ========================  ==============  ==============
    ``gradient_boosting``     ~0.5 ms         ~0.5-0.7 ms
    ``random_forest``         ~0.1 ms         ~0.9-1.2 ms
    ``logistic_regression``   ~2 µs           ~20-30 µs
    ========================  ==============  ==============

    ``explain_one`` scores the user and one variant per feature in a single batch.
    Boosting pays ~4 µs per tree inside scikit-learn's public ``decision_function`` (a
    faster path would need its private tree arrays), and its OpenMP threads stall on a
    busy CPU: see :mod:`firstmile.ml.predict.estimators` for why serving should limit
    OpenMP to one thread.
    """

    algorithm: Algorithm
    columns: tuple[str, ...]
    features: tuple[str, ...]
    scorer: Scorer
    calibrator: Calibrator
    reference: FloatArray
    report: ClassifierReport
    groups: tuple[tuple[str, IntArray], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", feature_groups(self.features))

    @property
    def width(self) -> int:
        """The number of input columns."""
        return len(self.columns)

    def predict_one(self, x: FloatArray) -> float:
        """The calibrated probability of a positive outcome for one row of columns."""
        if x.shape != (len(self.columns),):
            raise ModelError(
                f"this model takes {len(self.columns)} columns, got an array of shape {x.shape}"
            )
        score = self.scorer.score_one(x)
        if not math.isfinite(score):
            raise ModelError("the features contain NaN or infinite values; check the pipeline")
        return self.calibrator.apply_one(score)

    def predict(self, X: FloatArray) -> FloatArray:
        """Calibrated probabilities for the rows of a ``(n, width)`` matrix."""
        if X.ndim != 2 or X.shape[1] != len(self.columns):
            raise ModelError(
                f"this model takes {len(self.columns)} columns, got an array of shape {X.shape}"
            )
        if not np.isfinite(X).all():
            raise ModelError("the features contain NaN or infinite values; check the pipeline")
        return self.calibrator.apply(self.scorer.score(X))

    def explain_one(
        self, x: FloatArray, raw: Mapping[str, Any] | None = None, *, top: int | None = 3
    ) -> list[Reason]:
        """The features that move this user's probability most, largest first.

        For each feature, its columns are set to the typical training value
        (``reference``) and the user is scored again, everything else kept: the
        ``contribution`` is the probability as predicted minus the probability with that
        feature made typical. ``direction`` is ``"raises"`` when the user's value makes a
        positive outcome likelier than a typical value would, ``"lowers"`` otherwise.
        ``value`` is ``raw[feature]`` when ``raw`` (e.g. ``FeaturePipeline.raw(row)``)
        is given.

        These are honest counterfactuals of this model, not causes, and they do not add
        up to the prediction: two features that act together each get the full joint
        effect or none of it. A feature at its typical value contributes nothing and is
        left out, as is one whose change the calibration map absorbs (isotonic maps are
        flat in places).
        """
        if x.shape != (len(self.columns),):
            raise ModelError(
                f"this model takes {len(self.columns)} columns, got an array of shape {x.shape}"
            )
        if not np.isfinite(x).all():
            raise ModelError("the features contain NaN or infinite values; check the pipeline")
        batch = np.repeat(x[None, :], len(self.groups) + 1, axis=0)
        for i, (_, columns) in enumerate(self.groups, start=1):
            batch[i, columns] = self.reference[columns]
        probabilities = self.calibrator.apply(self.scorer.score(batch))
        changes = probabilities[0] - probabilities[1:]
        order = np.argsort(-np.abs(changes), kind="stable")
        reasons: list[Reason] = []
        for i in order:
            change = float(changes[i])
            if abs(change) < 1e-9 or (top is not None and len(reasons) >= top):
                break
            name = self.groups[i][0]
            value = None if raw is None else raw.get(name)
            reasons.append(Reason(name, change, "raises" if change > 0 else "lowers", value))
        return reasons


def feature_groups(features: tuple[str, ...]) -> tuple[tuple[str, IntArray], ...]:
    """The column indices of each feature, in order of first appearance."""
    indices: dict[str, list[int]] = {}
    for i, name in enumerate(features):
        indices.setdefault(name, []).append(i)
    return tuple((name, np.asarray(columns, dtype=np.intp)) for name, columns in indices.items())


def reference_row(X: FloatArray, groups: tuple[tuple[str, IntArray], ...]) -> FloatArray:
    """A typical row: per feature, the median of a single column, or the most common
    combination of several (a category's one-hot columns, so the row stays valid)."""
    reference = np.empty(X.shape[1])
    for _, columns in groups:
        if len(columns) == 1:
            reference[columns] = np.median(X[:, columns[0]])
        else:
            patterns, counts = np.unique(X[:, columns], axis=0, return_counts=True)
            reference[columns] = patterns[int(np.argmax(counts))]
    return reference
