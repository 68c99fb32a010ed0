"""``firstmile train``: fit the configured models on the store's data and register them.

Each model is trained on its own, so one that cannot be trained (too few users, a
target with one class) is reported with the reason and the others still train; the
previously promoted version of a failed model keeps serving. A trained version is
stored with its metrics, data window, feature schema hash, config version and library
versions, and promoted (what ``serve`` loads) unless the caller asks for a candidate.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from firstmile.config.model import OnboardingConfig
from firstmile.config.models import (
    PERSONAS_MODEL,
    RECOMMENDER_MODEL,
    ModelsConfig,
    PredictionSettings,
)
from firstmile.errors import ModelError
from firstmile.events.consent import ConsentPolicy
from firstmile.ml.artifact import Artifact, ArtifactKind, pack
from firstmile.ml.drift import reference_profile
from firstmile.ml.features import FeaturePipeline, schema_hash
from firstmile.ml.personas import fit_personas
from firstmile.ml.predict import train_classifier
from firstmile.profiles.model import Profile
from firstmile.storage import Store
from firstmile.storage.base import ModelRecord
from firstmile.training.data import attribute_rows, events_by_profile, training_profiles
from firstmile.training.recommender import train_recommender
from firstmile.training.rows import event_outcome_rows, truthy

Progress = Callable[[str], None]
_LIBRARIES = ("firstmile", "scikit-learn", "numpy", "scipy")


@dataclass(frozen=True, slots=True)
class Trained:
    """What training one model gave: the artifact to store and what to record with it."""

    artifact: Artifact
    metrics: dict[str, Any]
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TrainOutcome:
    """One model's result: a registered version, or the reason it was not trained."""

    name: str
    kind: str
    version: int | None = None
    promoted: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "promoted": self.promoted,
            "metrics": self.metrics,
            "meta": self.meta,
            "error": self.error,
        }


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def _constant_columns(pipeline: FeaturePipeline) -> list[str]:
    """A training warning per feature column that had one value for every user."""
    return [f"feature column `{c}` is constant" for c in pipeline.constant]


def _kind(name: str) -> ArtifactKind:
    if name == PERSONAS_MODEL:
        return "personas"
    if name == RECOMMENDER_MODEL:
        return "recommender"
    return "prediction"


class Trainer:
    """Trains the models of one config on one store's consenting users."""

    def __init__(
        self,
        store: Store,
        config: OnboardingConfig,
        policy: ConsentPolicy,
        *,
        now: datetime,
        progress: Progress = lambda message: None,
    ) -> None:
        self.store = store
        self.config = config
        self.models: ModelsConfig = config.models
        self.policy = policy
        self.now = now
        self.progress = progress
        self._profiles: list[Profile] | None = None
        self._left_out = 0

    # -- data ----------------------------------------------------------------------------

    def profiles(self) -> list[Profile]:
        if self._profiles is None:
            self.progress("reading profiles")
            self._profiles, self._left_out = training_profiles(self.store, self.policy)
        return self._profiles

    def _enough(self, count: int, what: str) -> None:
        if count < self.models.min_users:
            raise ModelError(
                f"Only {count} {what} to train on; at least {self.models.min_users} are needed "
                "(`models.min_users`). Collect more data, or lower the minimum for a trial run."
            )

    def _meta(self, rows: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        profiles = self.profiles()
        seen = [p.computed.first_seen or p.created_at for p in profiles]
        return {
            "rows": rows,
            "users": len(profiles),
            "left_out_without_consent": self._left_out,
            "window": {
                "from": min(seen).isoformat() if seen else None,
                "to": self.now.isoformat(),
            },
            "libraries": library_versions(),
            **(extra or {}),
        }

    # -- models --------------------------------------------------------------------------

    def personas(self) -> Trained:
        settings = self.models.personas
        if settings is None:
            raise ModelError("The config has no `models.personas` section.")
        profiles = self.profiles()
        self._enough(len(profiles), "users with personalization consent")
        rows = attribute_rows(profiles, now=self.now, policy=self.policy)
        specs = self.models.specs(settings.features)
        pipeline = FeaturePipeline.fit(specs, rows)
        x = pipeline.transform(rows)
        # The same columns unscaled, so descriptions read in the features' own units
        # ("3.1 sessions vs 1.2 overall") rather than in standard deviations.
        unscaled = FeaturePipeline.fit(tuple(replace(s, scale="none") for s in specs), rows)
        raw = unscaled.transform(rows) if unscaled.columns == pipeline.columns else None
        self.progress(f"clustering {len(rows)} users on {len(pipeline.columns)} columns")
        model = fit_personas(
            x,
            pipeline.columns,
            algorithm=settings.algorithm,
            k=settings.k,
            k_range=settings.k_range,
            seed=settings.seed,
            raw=raw,
        )
        artifact = Artifact(
            PERSONAS_MODEL,
            "personas",
            schema_hash(specs),
            pipeline,
            model,
            extra={"reference": reference_profile(x, pipeline.columns)},
        )
        return Trained(
            artifact,
            model.report.to_json(),
            self._meta(len(rows), {"warnings": _constant_columns(pipeline)}),
        )

    def _labelled(
        self, settings: PredictionSettings
    ) -> tuple[list[dict[str, Any]], list[int], list[float]]:
        profiles = self.profiles()
        outcome = settings.outcome
        if outcome.kind == "trait":
            rows: list[dict[str, Any]] = []
            labels: list[int] = []
            times: list[float] = []
            attributes = attribute_rows(profiles, now=self.now, policy=self.policy)
            for profile, row in zip(profiles, attributes, strict=True):
                label = truthy(profile.traits.get(outcome.trait or ""))
                if label is None:
                    continue
                rows.append(row)
                labels.append(label)
                times.append((profile.computed.first_seen or profile.created_at).timestamp())
            return rows, labels, times
        self.progress("reading the event log")
        labelled = []
        for batch, events in events_by_profile(self.store, profiles):
            labelled += event_outcome_rows(
                batch, events, outcome, observe=settings.observe, now=self.now
            )
        rows = [attribute_rows([u.profile], now=u.cutoff, policy=self.policy)[0] for u in labelled]
        return rows, [u.label for u in labelled], [u.cutoff.timestamp() for u in labelled]

    def prediction(self, settings: PredictionSettings) -> Trained:
        rows, labels, times = self._labelled(settings)
        self._enough(len(rows), f"users with a known outcome ({settings.outcome.describe()})")
        specs = self.models.specs(settings.features)
        pipeline = FeaturePipeline.fit(specs, rows)
        x = pipeline.transform(rows)
        y = np.asarray(labels, dtype=np.int64)
        self.progress(f"training `{settings.key}` on {len(rows)} users ({int(y.sum())} positive)")
        stamps = np.asarray(times, dtype=np.float64)
        # A temporal holdout needs time to hold out: users who all arrived within a day
        # (a bulk import) would only test the import's last rows.
        spread = float(stamps.max() - stamps.min()) if len(stamps) else 0.0
        model = train_classifier(
            x,
            y,
            columns=pipeline.columns,
            features=pipeline.column_feature,
            algorithm=settings.algorithm,
            folds=settings.folds,
            times=stamps if spread >= 86_400 else None,
        )
        # Drift compares populations as they are now: for an event outcome the training
        # rows are as of each cut-off, so the reference is the same users' attributes now.
        current = x
        if settings.outcome.kind != "trait":
            now_rows = attribute_rows(self.profiles(), now=self.now, policy=self.policy)
            current = pipeline.transform(now_rows)
        artifact = Artifact(
            settings.key,
            "prediction",
            schema_hash(specs),
            pipeline,
            model,
            extra={"reference": reference_profile(current, pipeline.columns)},
        )
        meta = self._meta(
            len(rows),
            {
                "positives": int(y.sum()),
                "outcome": settings.outcome.describe(),
                "warnings": _constant_columns(pipeline),
            },
        )
        return Trained(artifact, model.report.to_json(), meta)

    def recommender(self) -> Trained:
        settings = self.models.recommendations
        if settings is None:
            raise ModelError("The config has no `models.recommendations` section.")
        profiles = self.profiles()
        model, metrics, rows = train_recommender(
            profiles, self.config.onboarding, settings, progress=self.progress
        )
        artifact = Artifact(RECOMMENDER_MODEL, "recommender", "", None, model)
        return Trained(artifact, metrics, self._meta(rows))

    def train(self, name: str) -> Trained:
        if name == PERSONAS_MODEL:
            return self.personas()
        if name == RECOMMENDER_MODEL:
            return self.recommender()
        settings = self.models.prediction(name)
        if settings is None:
            known = ", ".join(self.models.model_names) or "none (the config has no `models:`)"
            raise ModelError(f"No model `{name}` in the config; the models are {known}.")
        return self.prediction(settings)


def register(
    store: Store,
    trained: Trained,
    *,
    config_version: str,
    now: datetime,
    promote: bool,
) -> ModelRecord:
    """Store a trained model as a new version (promoted when asked)."""
    data, sha256 = pack(trained.artifact)
    with store.write() as tx:
        number = tx.next_model_version(trained.artifact.name)
        record = ModelRecord(
            name=trained.artifact.name,
            version=number,
            kind=trained.artifact.kind,
            status="candidate",
            created_at=now,
            promoted_at=None,
            config_version=config_version,
            schema_hash=trained.artifact.schema_hash,
            metrics=trained.metrics,
            meta=trained.meta,
            sha256=sha256,
            size=len(data),
        )
        tx.add_model(record, data)
        if promote:
            tx.promote_model(record.name, number, now, "promote")
    return record


def train_models(
    store: Store,
    config: OnboardingConfig,
    policy: ConsentPolicy,
    *,
    now: datetime,
    names: Sequence[str] | None = None,
    promote: bool = True,
    progress: Progress = lambda message: None,
) -> list[TrainOutcome]:
    """Train ``names`` (every configured model when ``None``); one outcome per model."""
    models = config.models
    wanted = list(names) if names else list(models.model_names)
    if not wanted:
        raise ModelError("The config declares no models: add a `models:` section (docs/models.md).")
    trainer = Trainer(store, config, policy, now=now, progress=progress)
    out: list[TrainOutcome] = []
    # One thread for OpenMP and BLAS: on a busy machine scikit-learn's gradient boosting
    # threads stall each other (measured: 45 s instead of 0.2 s for a small model at a
    # load of 7 on 2 cores), and a server shares its cores with requests anyway.
    with threadpool_limits(limits=1):
        for name in wanted:
            out.append(_train_one(store, trainer, config, name, promote, progress))
    return out


def _train_one(
    store: Store,
    trainer: Trainer,
    config: OnboardingConfig,
    name: str,
    promote: bool,
    progress: Progress,
) -> TrainOutcome:
    kind = _kind(name)
    progress(f"training {name}")
    try:
        trained = trainer.train(name)
    except ModelError as exc:
        return TrainOutcome(name, kind, error=exc.message)
    record = register(
        store, trained, config_version=config.version_id, now=trainer.now, promote=promote
    )
    return TrainOutcome(
        name,
        kind,
        version=record.version,
        promoted=promote,
        metrics=dict(record.metrics),
        meta=dict(record.meta),
    )
