"""Training and operating the models on the store's data (the shell around
:mod:`firstmile.ml`): ``firstmile train``, the registry, drift, fairness, hot loading."""

from firstmile.training.loading import load_model_set
from firstmile.training.ops import drift_reports, explain_user, fairness_audit, stale_models
from firstmile.training.run import TrainOutcome, train_models

__all__ = [
    "TrainOutcome",
    "drift_reports",
    "explain_user",
    "fairness_audit",
    "load_model_set",
    "stale_models",
    "train_models",
]
