"""Checks and builds the ``models`` section, reporting every problem with its place.

Beyond the shape: feature names are unique and each reads one source (a path or an
event), the features a model names exist, a prediction has exactly one outcome, its key
is not `personas` or `recommendations` (the registry's other names), an outcome event
is one the app declares (when `events:` is declared), and a trait outcome is not also
a feature (the label would leak into the features).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from firstmile.config.models import (
    PERSONAS_MODEL,
    RECOMMENDER_MODEL,
    DriftSettings,
    FairnessSettings,
    ModelsConfig,
    Outcome,
    OutcomeKind,
    PersonaSettings,
    PredictionSettings,
    RecommendationSettings,
)
from firstmile.config.models_schema import FeatureIn, ModelsIn, PredictionIn
from firstmile.config.problems import FieldPath
from firstmile.config.schema import parse_duration
from firstmile.errors import FirstmileError
from firstmile.ml.features import FeatureSpec

M = TypeVar("M", bound=BaseModel)


class Reporter(Protocol):
    """What the file builder offers: shape validation and problems with their place."""

    def validate(self, model: type[M], data: Any, path: FieldPath) -> M | None: ...

    def add(self, path: FieldPath, message: str, *, at_key: bool = False) -> None: ...


def _feature(item: FeatureIn) -> FeatureSpec:
    missing: Any = item.missing
    if missing is None:
        missing = "median" if item.kind == "number" else "zero"
    return FeatureSpec(
        name=item.name,
        path=item.path,
        event=item.event,
        window=item.window,
        kind=item.kind,
        missing=missing,
        scale=item.scale,
        max_categories=item.max_categories,
    )


def _outcome(item: PredictionIn, path: FieldPath, report: Reporter) -> Outcome | None:
    o = item.outcome
    given: tuple[tuple[OutcomeKind, object], ...] = (
        ("event", o.event),
        ("inactive", o.inactive),
        ("trait", o.trait),
    )
    chosen = [kind for kind, value in given if value]
    if len(chosen) != 1:
        report.add(
            (*path, "outcome"),
            "An outcome needs exactly one of `event` (it happens within `within`), "
            "`inactive: true` (no activity within `within`) or `trait` (a label the app "
            f"records); this one has {', '.join(chosen) or 'none'}.",
        )
        return None
    return Outcome(
        kind=chosen[0],
        within=parse_duration(o.within),
        event=o.event,
        trait=o.trait,
    )


def build_models(
    raw: Any, report: Reporter, *, events: Collection[str] | None = None
) -> ModelsConfig:
    """The section as a :class:`ModelsConfig` (empty when absent or invalid: the
    problems are in ``report``)."""
    if raw is None:
        return ModelsConfig()
    path: FieldPath = ("models",)
    section = report.validate(ModelsIn, raw, path)
    if section is None:
        return ModelsConfig()
    names: dict[str, int] = {}
    features: list[FeatureSpec] = []
    for index, feature in enumerate(section.features):
        where = (*path, "features", index)
        if feature.name in names:
            report.add((*where, "name"), f"Duplicate feature name `{feature.name}`.")
        names[feature.name] = index
        if (feature.path is None) == (feature.event is None):
            report.add(where, "A feature reads exactly one of `path` (an attribute) or `event`.")
            continue
        try:
            features.append(_feature(feature))
        except FirstmileError as exc:  # what the spec itself refuses (e.g. a bad default)
            report.add(where, exc.message)

    def known(features: list[str], where: FieldPath) -> tuple[str, ...]:
        for i, name in enumerate(features):
            if name not in names:
                report.add(
                    (*where, i),
                    f"Unknown feature `{name}`; the features are {', '.join(sorted(names))}.",
                )
        return tuple(features)

    personas = None
    if section.personas is not None:
        p = section.personas
        low, high = p.k_range
        if low > high:
            report.add((*path, "personas", "k_range"), "k_range is [smallest, largest].")
        personas = PersonaSettings(
            algorithm=p.algorithm,
            k=p.k,
            k_range=(low, high),
            features=known(p.features, (*path, "personas", "features")),
            seed=p.seed,
        )
    predictions: list[PredictionSettings] = []
    keys: set[str] = set()
    feature_paths = {f.path for f in section.features if f.path is not None}
    for index, item in enumerate(section.predictions):
        where = (*path, "predictions", index)
        if item.key in (PERSONAS_MODEL, RECOMMENDER_MODEL) or item.key in keys:
            report.add(
                (*where, "key"),
                f"Prediction key `{item.key}` is taken; use another (not `personas` or "
                "`recommendations`, and each prediction its own).",
            )
        keys.add(item.key)
        outcome = _outcome(item, where, report)
        if outcome is None:
            continue
        if outcome.event is not None and events is not None and outcome.event not in events:
            report.add(
                (*where, "outcome", "event"),
                f"`{outcome.event}` is not in `events:`; declare it or fix the name.",
            )
        if outcome.trait is not None and outcome.trait in feature_paths:
            report.add(
                (*where, "outcome", "trait"),
                f"The label trait `{outcome.trait}` is also a feature: the model would read "
                "its own answer. Remove it from the features.",
            )
        predictions.append(
            PredictionSettings(
                key=item.key,
                name=item.name or item.key.replace("_", " ").capitalize(),
                outcome=outcome,
                observe=parse_duration(item.observe),
                algorithm=item.algorithm,
                features=known(item.features, (*where, "features")),
                folds=item.folds,
            )
        )
    rec = section.recommendations
    fair = section.fairness
    return ModelsConfig(
        features=tuple(features),
        personas=personas,
        predictions=tuple(predictions),
        recommendations=None
        if rec is None
        else RecommendationSettings(
            algorithm=rec.algorithm, content_weight=rec.content_weight, interests=rec.interests
        ),
        drift=DriftSettings(
            threshold=section.drift.threshold,
            recent=parse_duration(section.drift.recent),
            max_age=parse_duration(section.drift.max_age),
        ),
        fairness=None
        if fair is None
        else FairnessSettings(
            protected=tuple(fair.protected),
            threshold=fair.threshold,
            min_group_size=fair.min_group_size,
        ),
        min_users=section.min_users,
    )


def normalized_models(data: Mapping[str, Any]) -> dict[str, Any]:
    """The section as validated JSON, for the config's content hash (absent: nothing)."""
    raw = data.get("models")
    if raw is None:
        return {}
    return {"models": ModelsIn.model_validate(raw).model_dump(mode="json")}
