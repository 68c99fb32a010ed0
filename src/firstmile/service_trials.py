"""The experiments and bandits part of the :class:`~firstmile.service.Firstmile` facade:
reports, bandit weights, evaluation and trees, over the loaded config and the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firstmile.bandits import ContextTree, EvaluationResult, TargetPolicy, TreeAttribute
from firstmile.clock import Clock
from firstmile.config import OnboardingConfig
from firstmile.config.experiments import ExperimentsConfig
from firstmile.decisions import Decider
from firstmile.errors import InvalidRequest, NotFound
from firstmile.events.consent import ConsentPolicy
from firstmile.experiments import Report
from firstmile.storage.base import Store
from firstmile.trials import (
    bandit_status,
    bandit_tree,
    evaluate_bandit,
    experiment_report,
    refresh_bandits,
)


class TrialsFacade:
    """Mixed into :class:`~firstmile.service.Firstmile`, which provides these attributes."""

    store: Store
    config: OnboardingConfig | None
    clock: Clock
    policy: ConsentPolicy
    decider: Decider

    def refresh_bandits(self, *, force: bool = False) -> int:
        """Recompute the weights of bandits that are due; returns how many splits changed."""
        if self.config is None or not self.config.trials.bandits:
            return 0
        fresh = refresh_bandits(
            self.store,
            self.config.trials,
            now=self.clock.now(),
            config_version=self.config.version_id,
            force=force,
        )
        self.decider.reload_bandit_weights()
        return len(fresh)

    def experiment_report(self, key: str) -> Report:
        """The report of one experiment of the loaded config, from its statistics."""
        return experiment_report(self.store, self._trials(), key)

    def bandit_status(self, key: str) -> dict[str, Any]:
        """A bandit's weights per context and its arms' rewards."""
        return bandit_status(self.store, self._trials(), key)

    def bandit_tree(
        self,
        key: str,
        *,
        categorical: Sequence[str] = (),
        numeric: Sequence[str] = (),
        min_leaf: int = 100,
    ) -> ContextTree:
        """A depth-2 tree over these attributes where the bandit's best arm differs; its
        leaves are conditions, ready to paste as the bandit's ``contexts``."""
        try:
            attributes = [TreeAttribute(path) for path in categorical]
            attributes += [TreeAttribute(path, "numeric") for path in numeric]
            if not attributes:
                raise ValueError("name at least one attribute to split on")
            return bandit_tree(
                self.store,
                self._trials(),
                key,
                attributes,
                now=self.clock.now(),
                policy=self.policy,
                min_leaf=min_leaf,
            )
        except ValueError as exc:
            raise InvalidRequest(f"Cannot fit a tree: {exc}.", field="attribute") from None

    def evaluate_bandit(self, key: str, target: TargetPolicy) -> EvaluationResult:
        """Off-policy estimate (IPS, SNIPS) of ``target`` from the bandit's logs."""
        try:
            return evaluate_bandit(self.store, self._trials(), key, target)
        except ValueError as exc:  # a candidate that does not fit the bandit's arms
            raise InvalidRequest(f"Cannot evaluate that policy: {exc}.", field="policy") from None

    def trials_summary(self) -> dict[str, Any]:
        """The experiments and bandits of the loaded config, with users per variant."""
        trials = self._trials()
        out: dict[str, Any] = {"experiments": [], "bandits": []}
        for experiment in trials.experiments:
            exposures = {
                variant: sums[0]
                for (_, _, variant, metric), sums in self.store.trial_stats(experiment.key).items()
                if metric == ""
            }
            out["experiments"].append(
                {
                    "key": experiment.key,
                    "name": experiment.name,
                    "status": experiment.experiment.status,
                    "variants": list(experiment.experiment.variations),
                    "metrics": list(experiment.metrics),
                    "users": {v: exposures.get(v, 0) for v in experiment.experiment.variations},
                }
            )
        for bandit in trials.bandits:
            out["bandits"].append(
                {
                    "key": bandit.key,
                    "name": bandit.name,
                    "status": bandit.status,
                    "arms": list(bandit.policy.arms),
                    "metric": bandit.metric,
                }
            )
        return out

    def _trials(self) -> ExperimentsConfig:
        if self.config is None:
            raise NotFound(
                "No onboarding config is loaded; add experiments to firstmile.yaml first."
            )
        return self.config.trials
