# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""Permutation importance per feature, with the columns of one feature shuffled together.

scikit-learn's ``permutation_importance`` shuffles one column at a time. A category is
several one-hot columns, and shuffling one of them alone makes users with two levels or
none, which says little about the feature. So it is handed a matrix of *row numbers*, one
column per feature, and a scorer that rebuilds the real matrix from them: shuffling the
row numbers of one feature moves all of that feature's columns together, and everything
else (repeats, seeding, the baseline) is scikit-learn's own procedure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata
from sklearn.inspection import permutation_importance

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def grouped_importance(
    estimator: Any,
    score: Callable[[FloatArray], FloatArray],
    X: FloatArray,
    y: IntArray,
    groups: Sequence[IntArray],
    *,
    repeats: int,
    seed: int,
) -> FloatArray:
    """ROC-AUC drops, shape ``(len(groups), repeats)``, shuffling each group of columns.

    ``estimator`` is the fitted scikit-learn model behind ``score`` (scikit-learn checks
    it is fitted); ``score`` maps a matrix to scores; ``X``, ``y`` are held-out users
    with both outcomes present.
    """
    n = len(X)
    positions = np.tile(np.arange(n, dtype=np.float64)[:, None], (1, len(groups)))

    def scorer(_estimator: Any, rows: FloatArray, outcomes: IntArray) -> float:
        index = rows.astype(np.intp)
        rebuilt = np.empty((len(index), X.shape[1]))
        for g, columns in enumerate(groups):
            rebuilt[:, columns] = X[np.ix_(index[:, g], columns)]
        return rank_auc(outcomes, score(rebuilt))

    result = permutation_importance(
        estimator, positions, y, scoring=scorer, n_repeats=repeats, random_state=seed
    )
    return np.asarray(result.importances, dtype=np.float64)


def rank_auc(y: IntArray, scores: FloatArray) -> float:
    """ROC-AUC by the Mann-Whitney rank sum (ties count half), equal to scikit-learn's
    ``roc_auc_score`` for 0/1 ``y`` with both outcomes and ~50 times cheaper, which
    matters here: it runs once per feature, repeat and fold.

    >>> rank_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    ranks = rankdata(scores)
    positive = y == 1
    n_positive = int(positive.sum())
    n_negative = len(y) - n_positive
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)
