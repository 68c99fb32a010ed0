"""What training measured: cross-validated metrics, a temporal holdout, importances.

Every metric is computed on users the scored model did not see:

* ``roc_auc``: the chance that a random positive user scores above a random negative one
  (0.5 is a coin, 1 is perfect);
* ``pr_auc``: average precision, the area under the precision-recall curve (compare it
  with ``base_rate``, which is what a coin gets);
* ``brier``: mean squared error of the probabilities (lower is better);
  ``brier_baseline`` is the Brier score of always predicting the base rate, so a useful
  model is below it;
* ``base_rate``: the share of positive users;
* ``lift``: the precision among the top-scored 10% divided by the base rate (2.0: the top
  decile converts twice as often as the average user).

>>> fold = fold_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
>>> fold["roc_auc"], fold["base_rate"], fold["lift"]
(0.75, 0.5, 2.0)
>>> Estimate.of([0.7, 0.8]).to_json()
{'mean': 0.75, 'sd': 0.0707}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
METRICS = ("roc_auc", "pr_auc", "brier", "brier_baseline", "base_rate", "lift")


def fold_metrics(y: IntArray, p: FloatArray) -> dict[str, float]:
    """All metrics of probabilities ``p`` against 0/1 outcomes ``y`` (both classes present)."""
    base = float(y.mean())
    top = max(1, math.ceil(0.1 * len(y)))
    # A stable sort on -p keeps the order of tied users, so lift is deterministic.
    order = np.argsort(-p, kind="stable")[:top]
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "brier_baseline": base * (1.0 - base),
        "base_rate": base,
        "lift": float(y[order].mean()) / base,
    }


def _round(value: float) -> float:
    return round(value, 4)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean and its standard deviation (over folds, or folds x repeats)."""

    mean: float
    sd: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        """The mean and sample standard deviation (0 for a single value)."""
        array = np.asarray(values, dtype=np.float64)
        sd = float(array.std(ddof=1)) if len(array) > 1 else 0.0
        return cls(float(array.mean()), sd)

    def to_json(self) -> dict[str, float]:
        return {"mean": _round(self.mean), "sd": _round(self.sd)}


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Metrics over ``folds`` stratified folds, each as mean ± sd across the folds."""

    folds: int
    roc_auc: Estimate
    pr_auc: Estimate
    brier: Estimate
    brier_baseline: Estimate
    base_rate: Estimate
    lift: Estimate

    @classmethod
    def of(cls, per_fold: Sequence[Mapping[str, float]]) -> CrossValidation:
        def estimate(name: str) -> Estimate:
            return Estimate.of([fold[name] for fold in per_fold])

        return cls(
            folds=len(per_fold),
            roc_auc=estimate("roc_auc"),
            pr_auc=estimate("pr_auc"),
            brier=estimate("brier"),
            brier_baseline=estimate("brier_baseline"),
            base_rate=estimate("base_rate"),
            lift=estimate("lift"),
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"folds": self.folds}
        body.update({name: getattr(self, name).to_json() for name in METRICS})
        return body


@dataclass(frozen=True, slots=True)
class Holdout:
    """Metrics of a model trained on the earliest users and tested on the latest.

    ``cutoff`` is the time (as given, in seconds if datetimes were given) of the first
    test user.
    """

    n_train: int
    n_test: int
    cutoff: float
    roc_auc: float
    pr_auc: float
    brier: float
    brier_baseline: float
    base_rate: float
    lift: float

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"n_train": self.n_train, "n_test": self.n_test}
        body["cutoff"] = self.cutoff
        body.update({name: _round(getattr(self, name)) for name in METRICS})
        return body


@dataclass(frozen=True, slots=True)
class Importance:
    """How much ROC-AUC drops when one feature's values are shuffled across users.

    Measured on held-out users (each cross-validation fold, with that fold's model), with
    all columns of one feature (the levels of a category) shuffled together. Near zero:
    the model does not rely on it (or another feature carries the same information).
    """

    feature: str
    mean: float
    sd: float

    def to_json(self) -> dict[str, Any]:
        return {"feature": self.feature, "mean": _round(self.mean), "sd": _round(self.sd)}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One algorithm tried while choosing, with its cross-validated metrics."""

    algorithm: str
    cv: CrossValidation

    def to_json(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "cv": self.cv.to_json()}


@dataclass(frozen=True, slots=True)
class ClassifierReport:
    """Everything training measured about the kept model.

    ``candidates`` lists every algorithm tried (one unless ``algorithm="choose"``);
    ``notes`` are sentences about the data or the fit (constant columns, a holdout that
    could not be scored, a solver that stopped early).
    """

    algorithm: str
    calibration: str
    n_rows: int
    n_positive: int
    n_columns: int
    seed: int
    cv: CrossValidation
    holdout: Holdout | None
    importance: tuple[Importance, ...]
    candidates: tuple[Candidate, ...]
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready values (dicts, lists, numbers rounded to 4 places)."""
        return {
            "algorithm": self.algorithm,
            "calibration": self.calibration,
            "n_rows": self.n_rows,
            "n_positive": self.n_positive,
            "n_columns": self.n_columns,
            "seed": self.seed,
            "cv": self.cv.to_json(),
            "holdout": None if self.holdout is None else self.holdout.to_json(),
            "importance": [item.to_json() for item in self.importance],
            "candidates": [item.to_json() for item in self.candidates],
            "notes": list(self.notes),
        }
