"""Experiments and bandits in the running system: assignment at decide time, exposures,
metrics fed by ingest, bandit weights and reports.

The pure engines live in :mod:`firstmile.experiments` (assignment, metrics, reports),
:mod:`firstmile.bandits` and :mod:`firstmile.stats`; this package connects them to the
config (:mod:`firstmile.config.experiments`), decide and the store. ``docs/experiments.md``
is the guide.
"""

from firstmile.trials.assign import (
    Candidate,
    TrialAssignments,
    assign_trials,
    check_forced,
    shown,
)
from firstmile.trials.record import record_events, record_exposures
from firstmile.trials.results import (
    bandit_status,
    bandit_tree,
    evaluate_bandit,
    experiment_report,
    refresh_bandits,
)

__all__ = [
    "Candidate",
    "TrialAssignments",
    "assign_trials",
    "bandit_status",
    "bandit_tree",
    "check_forced",
    "evaluate_bandit",
    "experiment_report",
    "record_events",
    "record_exposures",
    "refresh_bandits",
    "shown",
]
