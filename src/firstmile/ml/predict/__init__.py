"""Binary classifiers over feature matrices: will this user convert, churn, invite?

:func:`train_classifier` cross-validates, calibrates and explains one of three
algorithms (gradient boosting by default); the :class:`TrainedClassifier` it returns
scores one user in well under a millisecond. See ``docs/models.md``.
"""

from firstmile.ml.predict.calibration import Calibrator
from firstmile.ml.predict.estimators import ALGORITHMS, Algorithm
from firstmile.ml.predict.fit import MIN_ROWS, Choice, train_classifier
from firstmile.ml.predict.model import Reason, TrainedClassifier
from firstmile.ml.predict.report import (
    Candidate,
    ClassifierReport,
    CrossValidation,
    Estimate,
    Holdout,
    Importance,
)

__all__ = [
    "ALGORITHMS",
    "MIN_ROWS",
    "Algorithm",
    "Calibrator",
    "Candidate",
    "Choice",
    "ClassifierReport",
    "CrossValidation",
    "Estimate",
    "Holdout",
    "Importance",
    "Reason",
    "TrainedClassifier",
    "train_classifier",
]
