"""The models part of the :class:`~firstmile.service.Firstmile` facade: training, the
registry (list, show, promote, rollback), hot loading, drift, fairness and one user's
model view, over the loaded config and the store."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from firstmile.clock import Clock
from firstmile.config import OnboardingConfig
from firstmile.config.models import ModelsConfig
from firstmile.decisions import Decider
from firstmile.errors import ModelError, NotFound
from firstmile.events.consent import ConsentPolicy
from firstmile.storage.base import ModelRecord, Promotion, Store
from firstmile.training.loading import load_model, load_model_set
from firstmile.training.ops import drift_reports, explain_user, fairness_audit, stale_models

if TYPE_CHECKING:
    from firstmile.training.run import Progress, TrainOutcome

log = logging.getLogger(__name__)


@functools.cache
def single_threaded_models() -> None:
    """Keep scikit-learn's OpenMP and BLAS to one thread in this process, once.

    A decision scores one row: threads only add their start-up, and under load
    gradient boosting's OpenMP threads stall each other (one prediction measured at
    7-25 ms instead of about 1 ms at a load of 6 on 2 cores).
    """
    threadpool_limits(limits=1, user_api="openmp")
    threadpool_limits(limits=1, user_api="blas")


def promotion_stack(history: Sequence[Promotion]) -> list[int]:
    """The versions a rollback walks back through, the promoted one last.

    A promotion pushes its version; a rollback pops the version rolled away from, so
    rolling back twice goes two promotions back, never forth again.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> steps = [Promotion("m", v, at, a) for v, a in
    ...          [(1, "promote"), (2, "promote"), (3, "promote"), (2, "rollback")]]
    >>> promotion_stack(steps)
    [1, 2]
    """
    stack: list[int] = []
    for step in history:
        if step.action == "rollback":
            if stack:
                stack.pop()
            if not stack or stack[-1] != step.version:
                stack.append(step.version)
        elif not stack or stack[-1] != step.version:
            stack.append(step.version)
    return stack


class ModelsFacade:
    """Mixed into :class:`~firstmile.service.Firstmile`, which provides these attributes."""

    store: Store
    config: OnboardingConfig | None
    clock: Clock
    policy: ConsentPolicy
    decider: Decider

    def _loaded_config(self) -> OnboardingConfig:
        if self.config is None:
            raise ModelError("No config is loaded: write firstmile.yaml with a `models:` section.")
        return self.config

    def _models_config(self) -> ModelsConfig:
        return self._loaded_config().models

    def train(
        self,
        names: Sequence[str] | None = None,
        *,
        promote: bool = True,
        if_stale: bool = False,
        progress: Progress = lambda message: None,
    ) -> list[TrainOutcome]:
        """Train the configured models (or ``names``); with ``if_stale``, only those
        that drifted, aged past ``drift.max_age``, or have no usable promoted version."""
        # Imported here: training needs scikit-learn, which a server only loads when it
        # trains or unpickles a model.
        from firstmile.training.run import train_models

        config = self._loaded_config()
        models = config.models
        wanted = list(names) if names else list(models.model_names)
        unknown = [name for name in wanted if name not in models.model_names]
        if unknown:
            known = ", ".join(models.model_names) or "none (the config has no `models:`)"
            raise NotFound(
                f"No model `{unknown[0]}` in the config; the models are {known}.", field="model"
            )
        if if_stale:
            stale = stale_models(self.store, models, self.policy, now=self.clock.now())
            wanted = [name for name in wanted if name in stale]
            if not wanted:
                return []
        outcomes = train_models(
            self.store,
            config,
            self.policy,
            now=self.clock.now(),
            names=wanted,
            promote=promote,
            progress=progress,
        )
        self.reload_models()
        return outcomes

    _models_checked: bool = False

    def ensure_models(self) -> None:
        """Load the promoted models once, on first use (``serve`` reloads them on its own
        schedule; a CLI command or a library user gets them here)."""
        if not self._models_checked:
            try:
                self.reload_models()
            except Exception as exc:  # the registry unreadable: decide on rules, never fail
                self._models_checked = True
                log.warning("models not loaded (decisions use the rules): %s", exc)

    def reload_models(self) -> list[str]:
        """Load newly promoted models (hot loading); returns what could not be loaded."""
        if self.config is None:
            return []
        if self.config.models.model_names:
            single_threaded_models()
        self._models_checked = True
        models, problems = load_model_set(self.store, self.config.models, self.decider.models)
        if models.versions() != self.decider.models.versions():
            log.info("models loaded: %s", models.versions() or "none")
        self.decider.models = models
        return problems

    def model_versions(self, name: str | None = None) -> list[ModelRecord]:
        return self.store.models(name)

    def model_version(self, name: str, version: int | None = None) -> ModelRecord:
        """One version (the promoted one, else the newest, when ``version`` is None)."""
        if version is not None:
            record = self.store.model_record(name, version)
        else:
            versions = self.store.models(name)
            promoted = [r for r in versions if r.status == "promoted"]
            chosen = promoted or versions
            record = chosen[0] if chosen else None
        if record is None:
            shown = name if version is None else f"{name} version {version}"
            raise NotFound(f"No model {shown} in the registry; train it with `firstmile train`.")
        return record

    def promote_model(self, name: str, version: int) -> ModelRecord:
        """Promote a version (checked to load against the config first)."""
        record = self.model_version(name, version)
        load_model(self.store, self._models_config(), record)  # refuse what would not serve
        with self.store.write() as tx:
            tx.promote_model(name, version, self.clock.now(), "promote")
        self.reload_models()
        return self.model_version(name, version)

    def rollback_model(self, name: str) -> ModelRecord:
        """Promote again the version that was promoted before the current one."""
        current = self.model_version(name)
        stack = promotion_stack(self.store.promotions(name))
        if current.status != "promoted" or len(stack) < 2:
            raise ModelError(f"Model `{name}` has no earlier promoted version to roll back to.")
        target = stack[-2]
        record = self.model_version(name, target)
        load_model(self.store, self._models_config(), record)  # refuse what would not serve
        with self.store.write() as tx:
            tx.promote_model(name, target, self.clock.now(), "rollback")
        self.reload_models()
        return self.model_version(name, target)

    def model_drift(self) -> list[dict[str, Any]]:
        """PSI per feature between each promoted model's training data and recent users."""
        return drift_reports(
            self.store,
            self._models_config(),
            self.policy,
            self.decider.models,
            now=self.clock.now(),
        )

    def fairness_audit(self) -> dict[str, Any]:
        """Persona, recommendation and prediction rates per group of the protected traits."""
        return fairness_audit(
            self.store,
            self._loaded_config(),
            self.policy,
            self.decider.models,
            now=self.clock.now(),
        )

    def explain_user(self, user_id: str) -> dict[str, Any]:
        """What the models say about one user, with the reasons for each prediction."""
        profile = self.store.profile_for("user_id", user_id) or self.store.profile_for(
            "anonymous_id", user_id
        )
        if profile is None:
            raise NotFound(f"No user {user_id!r}.", field="user_id")
        self.ensure_models()
        return explain_user(profile, self.decider.models, self.policy, now=self.clock.now())
