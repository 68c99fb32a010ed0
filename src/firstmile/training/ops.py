"""Operating the models: drift against recent traffic, staleness, the fairness audit and
one user's explanation. Reads the store; the arithmetic is in :mod:`firstmile.ml`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from firstmile.conditions.paths import compile_getter
from firstmile.config.model import OnboardingConfig
from firstmile.config.models import PERSONAS_MODEL, RECOMMENDER_MODEL, ModelsConfig
from firstmile.config.onboarding import ContentItem
from firstmile.decide.popular import completed_items, recommendable
from firstmile.errors import ModelError
from firstmile.events.consent import ConsentPolicy
from firstmile.ml.drift import drift_against
from firstmile.ml.fairness import assignment_rates, classifier_fairness
from firstmile.ml.serving import LoadedModel, ModelSet
from firstmile.profiles.model import Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.storage import Store
from firstmile.training.data import attribute_rows, consenting, training_profiles
from firstmile.training.loading import load_model, load_model_set
from firstmile.training.rows import truthy


def _recent_rows(
    store: Store, models: ModelsConfig, policy: ConsentPolicy, now: datetime
) -> list[dict[str, Any]]:
    since = now - models.drift.recent
    profiles = [
        p
        for p in training_profiles(store, policy)[0]
        if (p.computed.last_seen or p.updated_at) >= since
    ]
    return attribute_rows(profiles, now=now, policy=policy)


def _drift_of(model: LoadedModel, rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    reference = model.artifact.extra.get("reference")
    out: dict[str, Any] = {"name": model.name, "version": model.version, "recent_rows": len(rows)}
    if reference is None or model.artifact.pipeline is None:
        return {**out, "skipped": "this model reads no features (a recommender)"}
    if not rows:
        return {**out, "skipped": "no recent users to compare with"}
    recent = model.artifact.pipeline.transform(rows)
    report = drift_against(reference, recent, threshold=threshold)
    return {**out, **report.to_json()}


def drift_reports(
    store: Store, models: ModelsConfig, policy: ConsentPolicy, loaded: ModelSet, *, now: datetime
) -> list[dict[str, Any]]:
    """For each promoted model: PSI per feature, training window vs recent users."""
    promoted = _promoted(store, models, loaded)
    rows = _recent_rows(store, models, policy, now)
    return [_drift_of(model, rows, models.drift.threshold) for model in promoted]


def _promoted(store: Store, models: ModelsConfig, loaded: ModelSet) -> list[LoadedModel]:
    """The promoted models: those ``serve`` holds, else read from the registry (one that
    cannot be loaded is left out: `models list`/`show` report it)."""
    if loaded.empty:
        loaded = load_model_set(store, models)[0]
    return list(loaded.models.values())


def stale_models(
    store: Store, models: ModelsConfig, policy: ConsentPolicy, *, now: datetime
) -> dict[str, str]:
    """The configured models to retrain, each with why: none promoted, not loadable
    (schema changed, corrupt), older than ``drift.max_age``, or drifted."""
    out: dict[str, str] = {}
    records = {r.name: r for r in store.promoted_models()}
    rows: list[dict[str, Any]] | None = None
    for name in models.model_names:
        record = records.get(name)
        if record is None:
            out[name] = "no promoted version"
            continue
        try:
            model = load_model(store, models, record)
        except ModelError as exc:
            out[name] = exc.message
            continue
        if now - record.created_at > models.drift.max_age:
            out[name] = f"older than {models.drift.max_age.days} days"
            continue
        if rows is None:
            rows = _recent_rows(store, models, policy, now)
        drift = _drift_of(model, rows, models.drift.threshold)
        if drift.get("flagged"):
            out[name] = f"drifted: {', '.join(drift['flagged'])}"
    return out


def fairness_audit(
    store: Store,
    config: OnboardingConfig,
    policy: ConsentPolicy,
    loaded: ModelSet,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Per protected trait: persona assignment rates per group, and each prediction's
    positive rate and true positive rate per group (at probability 0.5) on the users
    whose outcome is known now."""
    models = config.models
    settings = models.fairness
    if settings is None:
        raise ModelError("The config has no `models.fairness` section naming protected traits.")
    promoted = {m.name: m for m in _promoted(store, models, loaded)}
    profiles = training_profiles(store, policy)[0]
    rows = attribute_rows(profiles, now=now, policy=policy)
    if not rows:
        raise ModelError("No users with personalization consent to audit.")
    # What each user is given does not depend on the protected trait: worked out once.
    assigned: dict[str, list[Any]] = {}
    personas = promoted.get(PERSONAS_MODEL)
    if personas is not None:
        x = personas.artifact.pipeline.transform(rows)
        assigned["personas"] = list(personas.artifact.model.assign(x))
    recommender = promoted.get(RECOMMENDER_MODEL)
    if recommender is not None:
        # The content each group is steered to: the recommender's first pick per user.
        items = recommendable(config.onboarding)
        assigned["content"] = [_first_pick(recommender, p, items) for p in profiles]
    predicted = [_predicted(model, models, profiles, rows) for model in promoted.values()]
    audits: list[dict[str, Any]] = []
    for protected in settings.protected:
        get = compile_getter(protected)
        groups = [get(row) for row in rows]
        entry: dict[str, Any] = {"protected": protected, "personas": None, "content": None}
        for key, labels in assigned.items():
            entry[key] = assignment_rates(
                groups, labels, min_group_size=settings.min_group_size, threshold=settings.threshold
            ).to_json()
        entry["predictions"] = []
        for name, outcome in predicted:
            if outcome is None:
                continue
            if isinstance(outcome, str):
                entry["predictions"].append({"name": name, "skipped": outcome})
                continue
            users, truth, positive = outcome
            report = classifier_fairness(
                [groups[i] for i in users],
                truth,
                positive,
                min_group_size=settings.min_group_size,
                threshold=settings.threshold,
            )
            entry["predictions"].append({"name": name, **report.to_json()})
        audits.append(entry)
    return {"threshold": settings.threshold, "audits": audits}


Predicted = tuple[list[int], list[int], list[int]]  # users (row indexes), truth, predicted


def _predicted(
    model: LoadedModel,
    models: ModelsConfig,
    profiles: Sequence[Profile],
    rows: Sequence[Mapping[str, Any]],
) -> tuple[str, Predicted | str | None]:
    """A prediction's outcomes and decisions (probability >= 0.5) on the users whose label
    is known; a reason instead when it cannot be audited; None for other models."""
    if model.artifact.kind != "prediction":
        return model.name, None
    prediction = models.prediction(model.name)
    if prediction is None or prediction.outcome.kind != "trait":
        return model.name, "event outcomes are audited on trait labels only"
    users: list[int] = []
    truth: list[int] = []
    for index, profile in enumerate(profiles):
        label = _trait_label(profile, prediction.outcome.trait)
        if label is not None:
            users.append(index)
            truth.append(label)
    if not users:
        return model.name, None
    x = model.artifact.pipeline.transform([rows[i] for i in users])
    scores = np.array([model.artifact.model.predict_one(r) for r in x])
    return model.name, (users, truth, (scores >= 0.5).astype(int).tolist())


def _first_pick(model: LoadedModel, profile: Profile, items: Sequence[ContentItem]) -> str | None:
    picks = model.artifact.model.recommend(tuple(completed_items(profile, items)), k=1)
    return picks[0].item_id if picks else None


def _trait_label(profile: Profile, trait: str | None) -> int | None:
    return truthy(profile.traits.get(trait or ""))


def explain_user(
    profile: Profile, loaded: ModelSet, policy: ConsentPolicy, *, now: datetime
) -> dict[str, Any]:
    """The persona and each prediction for one user, with the top reasons."""
    if not consenting(profile, policy):
        return {
            "profile_id": profile.profile_id,
            "consent": False,
            "note": "no personalization consent: models are not used for this user",
        }
    attributes = profile_attributes(profile, now=now, policy=policy)
    out: dict[str, Any] = {
        "profile_id": profile.profile_id,
        "consent": True,
        "models": loaded.versions(),
        "persona": None,
        "predictions": {},
    }
    for model in loaded.models.values():
        artifact = model.artifact
        if artifact.kind == "recommender":
            continue
        x = artifact.pipeline.transform_one(attributes)
        if artifact.kind == "personas":
            key, distance = artifact.model.assign_one(x)
            out["persona"] = {
                "key": key,
                "distance": float(distance),
                **_persona(artifact.model, key),
            }
        else:
            out["predictions"][model.name] = {
                "probability": float(artifact.model.predict_one(x)),
                "reasons": [
                    _reason(r)
                    for r in artifact.model.explain_one(x, artifact.pipeline.raw(attributes))
                ],
            }
    return out


def _persona(model: Any, key: str) -> Mapping[str, Any]:
    for persona in getattr(model, "personas", ()):
        if persona.key == key:
            return {"name": persona.name, "description": persona.description}
    return {}


def _reason(reason: Any) -> dict[str, Any]:
    """A prediction's reason as JSON: the feature, its value, and how it moves the odds."""
    return {
        "feature": reason.feature,
        "value": reason.value,
        "direction": reason.direction,
        "contribution": round(float(reason.contribution), 4),
    }
