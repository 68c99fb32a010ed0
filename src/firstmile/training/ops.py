"""Operating the models: drift against recent traffic, staleness, the fairness audit and
one user's explanation. Reads the store; the arithmetic is in :mod:`firstmile.ml`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from firstmile.conditions.paths import compile_getter
from firstmile.config.models import RECOMMENDER_MODEL, ModelsConfig
from firstmile.errors import ModelError
from firstmile.events.consent import ConsentPolicy
from firstmile.ml.drift import drift_against
from firstmile.ml.fairness import assignment_rates, classifier_fairness
from firstmile.ml.serving import LoadedModel, ModelSet
from firstmile.profiles.model import Profile
from firstmile.segments.attributes import profile_attributes
from firstmile.storage import Store
from firstmile.training.data import attribute_rows, consenting, training_profiles
from firstmile.training.loading import load_model
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
    """The promoted models: those ``serve`` holds, else read from the registry."""
    if not loaded.empty:
        return list(loaded.models.values())
    out: list[LoadedModel] = []
    for record in store.promoted_models():
        try:
            out.append(load_model(store, models, record))
        except ModelError:
            continue  # reported by `models list`/`show`; drift needs a loadable model
    return out


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
    store: Store, models: ModelsConfig, policy: ConsentPolicy, loaded: ModelSet, *, now: datetime
) -> dict[str, Any]:
    """Per protected trait: persona assignment rates per group, and each prediction's
    positive rate and true positive rate per group (at probability 0.5) on the users
    whose outcome is known now."""
    settings = models.fairness
    if settings is None:
        raise ModelError("The config has no `models.fairness` section naming protected traits.")
    promoted = {m.name: m for m in _promoted(store, models, loaded)}
    profiles = training_profiles(store, policy)[0]
    rows = attribute_rows(profiles, now=now, policy=policy)
    if not rows:
        raise ModelError("No users with personalization consent to audit.")
    audits: list[dict[str, Any]] = []
    for protected in settings.protected:
        get = compile_getter(protected)
        groups = [get(row) for row in rows]
        entry: dict[str, Any] = {
            "protected": protected,
            "personas": None,
            "content": None,
            "predictions": [],
        }
        personas = promoted.get("personas")
        if personas is not None:
            x = personas.artifact.pipeline.transform(rows)
            labels = list(personas.artifact.model.assign(x))
            entry["personas"] = assignment_rates(
                groups, labels, min_group_size=settings.min_group_size, threshold=settings.threshold
            ).to_json()
        recommender = promoted.get(RECOMMENDER_MODEL)
        if recommender is not None:
            # The content each group is steered to: the recommender's first pick per user.
            firsts = [_first_pick(recommender, p) for p in profiles]
            entry["content"] = assignment_rates(
                groups, firsts, min_group_size=settings.min_group_size, threshold=settings.threshold
            ).to_json()
        for model in promoted.values():
            if model.artifact.kind != "prediction":
                continue
            prediction = models.prediction(model.name)
            if prediction is None or prediction.outcome.kind != "trait":
                entry["predictions"].append(
                    {
                        "name": model.name,
                        "skipped": "event outcomes are audited on trait labels only",
                    }
                )
                continue
            labelled = [
                (g, row, lab)
                for g, row, p in zip(groups, rows, profiles, strict=True)
                if (lab := _trait_label(p, prediction.outcome.trait)) is not None
            ]
            if not labelled:
                continue
            x = model.artifact.pipeline.transform([row for _, row, _ in labelled])
            scores = np.array([model.artifact.model.predict_one(r) for r in x])
            report = classifier_fairness(
                [g for g, _, _ in labelled],
                [lab for _, _, lab in labelled],
                (scores >= 0.5).astype(int).tolist(),
                min_group_size=settings.min_group_size,
                threshold=settings.threshold,
            )
            entry["predictions"].append({"name": model.name, **report.to_json()})
        audits.append(entry)
    return {"threshold": settings.threshold, "audits": audits}


def _first_pick(model: LoadedModel, profile: Profile) -> str | None:
    done = [item for item, state in profile.content.items() if state.completed_at is not None]
    picks = model.artifact.model.recommend(done, k=1)
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
