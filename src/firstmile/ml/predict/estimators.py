# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""The three algorithms, their defaults, and the cheap scoring paths used for one user.

Each algorithm is fitted through scikit-learn and then wrapped in a *scorer*: a small
picklable value whose ``score(X)`` returns one number per row that grows with the chance
of a positive outcome (log-odds for boosting and the linear model, the vote share for the
forest). The calibrator maps scores to probabilities. The scorers exist because
scikit-learn's ``predict_proba`` on a single row spends most of its time in input checks
and per-call setup; each scorer gives the same numbers through public attributes only.

Measured on the online-shoppers data (74 columns; 2-core machine, load ~2), one row:

* gradient boosting: ``predict_proba`` ~1 ms; here ~0.5 ms, the public
  ``decision_function`` with scikit-learn's input checks switched off (what is left is
  ~4 µs a tree);
* random forest of 200 trees: ``predict_proba`` ~6 ms; here ~0.1 ms, all trees walked at
  once with numpy over their public ``tree_`` arrays;
* logistic regression: ``predict_proba`` ~0.1 ms; here ~2 µs, one dot product.

Boosting predicts through OpenMP thread teams, one per tree. When the CPU is busy they
wait on each other: at load 6 one row took 7-25 ms with two threads and ~1 ms with one,
and at load 7 training on the shoppers data took 111 s with two threads and 6.5 s with
one. On small or shared hosts, run training and serving with OpenMP limited to one
thread (``OMP_NUM_THREADS=1``, or ``threadpoolctl.threadpool_limits(1, "openmp")``
around the call); the forest and linear scorers use no threads when scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

Algorithm = Literal["gradient_boosting", "random_forest", "logistic_regression"]
ALGORITHMS: tuple[Algorithm, ...] = ("gradient_boosting", "random_forest", "logistic_regression")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
_WALK_ROWS = 64


class Scorer(Protocol):
    """Scores that increase with the chance of a positive outcome."""

    @property
    def model(self) -> Any:
        """The fitted scikit-learn estimator behind the scores."""
        ...

    def score(self, X: FloatArray) -> FloatArray:
        """One score per row of the 2-D ``X``."""
        ...

    def score_one(self, x: FloatArray) -> float:
        """The score of one row given as a 1-D array."""
        ...


def fit_scorer(
    algorithm: Algorithm, X: FloatArray, y: IntArray, *, seed: int, keep_model: bool = True
) -> Scorer:
    """Fit ``algorithm`` with the defaults users get and wrap it in its scorer.

    ``keep_model=False`` lets a forest drop the scikit-learn model once its trees are
    packed (its pickle is twice the size of the packed arrays and adds nothing to
    serving); the other scorers keep theirs, which are small.
    """
    if algorithm == "gradient_boosting":
        return BoostingScorer(_boosting(len(y), seed).fit(X, y))
    if algorithm == "random_forest":
        return ForestScorer.from_model(_forest(seed).fit(X, y), keep_model=keep_model)
    return LinearScorer.from_data(X, y)


def _boosting(n_rows: int, seed: int) -> HistGradientBoostingClassifier:
    # Shrinkage 0.05 over 100 small trees (15 leaves, an L2 penalty, leaves of at least
    # 5-40 users growing with the data) beat scikit-learn's defaults (0.1, 31 leaves,
    # 20 users) on the online-shoppers data (5-fold ROC-AUC 0.936 vs 0.932) and are the
    # conservative choice for the small samples a young product has. No early stopping:
    # it would hold out 10% of already small data, and a fixed tree count keeps the cost
    # of one prediction (~4 µs a tree) known.
    return HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=100,
        max_leaf_nodes=15,
        min_samples_leaf=max(5, min(40, n_rows // 100)),
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def _forest(seed: int) -> RandomForestClassifier:
    # Leaves of 3 users at least: fully grown trees would give 0/1 votes that the
    # calibrator can do little with, and deep trees make one prediction slower.
    return RandomForestClassifier(
        n_estimators=200,
        min_samples_leaf=3,
        max_features="sqrt",
        n_jobs=1,  # a server shares its cores with requests; threads stall each other under load
        random_state=seed,
    )


@dataclass(frozen=True, eq=False)
class BoostingScorer:
    """Log-odds of a fitted ``HistGradientBoostingClassifier`` (its ``decision_function``)."""

    model: HistGradientBoostingClassifier

    def score(self, X: FloatArray) -> FloatArray:
        # Our matrices are checked finite float64 before they get here: skipping
        # scikit-learn's own checks halves the cost of one row.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            scores = self.model.decision_function(X)
        return np.asarray(scores, dtype=np.float64)

    def score_one(self, x: FloatArray) -> float:
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return float(self.model.decision_function(x[None, :])[0])


@dataclass(frozen=True, eq=False)
class ForestScorer:
    """The positive vote share of a fitted ``RandomForestClassifier``.

    The trees' public ``tree_`` arrays are packed into one table so that every tree is
    walked at once: ``depth`` numpy steps instead of one Python call per tree. Leaves
    point to themselves, so walking past a leaf stays on it. Equal to ``predict_proba``
    up to float rounding (the forest compares features as float32, and so does this).
    ``model`` is None once dropped (see :func:`fit_scorer`).
    """

    model: RandomForestClassifier | None
    feature: IntArray
    threshold: FloatArray
    left: IntArray
    right: IntArray
    positive: FloatArray
    roots: IntArray
    depth: int

    @classmethod
    def from_model(cls, model: RandomForestClassifier, *, keep_model: bool = True) -> ForestScorer:
        """Pack the trees of a fitted binary forest."""
        features, thresholds, lefts, rights, positives, roots = [], [], [], [], [], []
        offset, depth = 0, 0
        positive_class = int(np.flatnonzero(model.classes_ == 1)[0])
        for estimator in model.estimators_:
            tree: Any = estimator.tree_
            nodes = np.arange(tree.node_count)
            leaf = tree.children_left == -1
            features.append(np.where(leaf, 0, tree.feature))
            thresholds.append(np.where(leaf, 0.0, tree.threshold))
            lefts.append(np.where(leaf, nodes, tree.children_left) + offset)
            rights.append(np.where(leaf, nodes, tree.children_right) + offset)
            value = tree.value[:, 0, :]
            positives.append(value[:, positive_class] / value.sum(axis=1))
            roots.append(offset)
            offset += tree.node_count
            depth = max(depth, int(tree.max_depth))
        return cls(
            model=model if keep_model else None,
            feature=np.concatenate(features).astype(np.intp),
            threshold=np.concatenate(thresholds).astype(np.float64),
            left=np.concatenate(lefts).astype(np.intp),
            right=np.concatenate(rights).astype(np.intp),
            positive=np.concatenate(positives).astype(np.float64),
            roots=np.asarray(roots, dtype=np.intp),
            depth=depth,
        )

    def score(self, X: FloatArray) -> FloatArray:
        if len(X) > _WALK_ROWS and self.model is not None:
            # The walk is for a few rows; scikit-learn batches many better.
            return np.asarray(self.model.predict_proba(X)[:, 1], dtype=np.float64)
        parts = [self._walk(X[i : i + _WALK_ROWS]) for i in range(0, len(X), _WALK_ROWS)]
        return np.concatenate(parts) if parts else np.empty(0)

    def _walk(self, X: FloatArray) -> FloatArray:
        values = X.astype(np.float32).astype(np.float64)
        rows = np.arange(len(X))[:, None]
        nodes = np.broadcast_to(self.roots, (len(X), len(self.roots)))
        for step in range(self.depth):
            go_left = values[rows, self.feature[nodes]] <= self.threshold[nodes]
            moved = np.where(go_left, self.left[nodes], self.right[nodes])
            # Every tree at a leaf? Checking every 4th step costs less than it saves.
            if step % 4 == 3 and np.array_equal(moved, nodes):
                break
            nodes = moved
        return np.asarray(self.positive[nodes].mean(axis=1), dtype=np.float64)

    def score_one(self, x: FloatArray) -> float:
        values = x.astype(np.float32).astype(np.float64)
        nodes = self.roots
        for step in range(self.depth):
            go_left = values[self.feature[nodes]] <= self.threshold[nodes]
            moved = np.where(go_left, self.left[nodes], self.right[nodes])
            if step % 4 == 3 and np.array_equal(moved, nodes):
                break
            nodes = moved
        return float(self.positive[nodes].mean())


@dataclass(frozen=True, eq=False)
class LinearScorer:
    """Log-odds of an L2-penalised logistic regression on standardised columns.

    The standardisation is folded into the coefficients, so a score is one dot product.
    ``model`` is the fitted model on standardised columns; ``coef`` and ``intercept``
    apply to the columns as given; ``standard_coef`` are the
    coefficients per standard deviation of each column (comparable across columns).
    """

    model: LogisticRegression
    coef: FloatArray
    intercept: float
    standard_coef: FloatArray

    @classmethod
    def from_data(cls, X: FloatArray, y: IntArray) -> LinearScorer:
        """Fit on ``X`` standardised (constant columns get scale 1)."""
        scaler = StandardScaler().fit(X)
        # lbfgs with C=1 on standardised data converges well within 1000 steps; the
        # default 100 is sometimes short on wide one-hot matrices.
        model = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(X), y)
        standard = np.asarray(model.coef_[0], dtype=np.float64)
        scale = np.asarray(scaler.scale_, dtype=np.float64)
        mean = np.asarray(scaler.mean_, dtype=np.float64)
        coef = standard / scale
        intercept = float(model.intercept_[0]) - float(coef @ mean)
        return cls(model=model, coef=coef, intercept=intercept, standard_coef=standard)

    def score(self, X: FloatArray) -> FloatArray:
        return np.asarray(X @ self.coef + self.intercept, dtype=np.float64)

    def score_one(self, x: FloatArray) -> float:
        return float(x @ self.coef) + self.intercept
