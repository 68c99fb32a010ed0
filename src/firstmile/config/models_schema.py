"""The shape of the ``models`` section: features, personas, predictions, recommendations,
drift and fairness.

Strict pydantic models; what needs the whole section (feature names that exist, one
outcome per prediction, unique keys) is checked in :mod:`firstmile.config.models_build`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, FiniteFloat

from firstmile.config.schema import Duration, Slug, Text, _Strict

Fraction = Annotated[FiniteFloat, Field(ge=0, le=1)]
ClusterCount = Annotated[int, Field(ge=2, le=30)]


class FeatureIn(_Strict):
    name: Slug
    path: Text | None = None  # an attribute path, as conditions read it
    event: Text | None = None  # or a track event's count over `window`
    window: Literal["1d", "7d", "all"] = "all"
    kind: Literal["number", "category", "flag"] = "number"
    missing: Literal["median", "mean", "zero"] | FiniteFloat | None = None
    scale: Literal["standard", "log", "none"] = "standard"
    max_categories: Annotated[int, Field(ge=2, le=200)] = 20


class PersonasIn(_Strict):
    algorithm: Literal["kmeans", "dbscan", "agglomerative"] = "kmeans"
    k: Annotated[int, Field(ge=2, le=30)] | None = None  # None: chosen by silhouette
    k_range: Annotated[
        list[Annotated[int, Field(ge=2, le=30)]], Field(min_length=2, max_length=2)
    ] = Field(default_factory=lambda: [2, 8])
    features: list[Slug] = Field(default_factory=list)  # []: every feature
    seed: int = 0


class OutcomeIn(_Strict):
    # Exactly one of: the event happens within `within` after the cut-off; no event at
    # all within `within` (churn); the value of a trait (a label recorded by the app).
    event: Text | None = None
    inactive: bool = False
    trait: Text | None = None
    within: Duration = "7d"


class PredictionIn(_Strict):
    key: Slug
    name: str = ""
    outcome: OutcomeIn
    # The cut-off for event outcomes: features from a user's first `observe`, the label
    # from the `within` after it.
    observe: Duration = "1d"
    algorithm: Literal["auto", "gradient_boosting", "random_forest", "logistic_regression"] = "auto"
    features: list[Slug] = Field(default_factory=list)  # []: every feature
    folds: Annotated[int, Field(ge=2, le=20)] = 5


class RecommendationsIn(_Strict):
    algorithm: Literal["auto", "ease", "item_knn", "popular", "content", "hybrid"] = "auto"
    content_weight: Fraction = 0.2  # the hybrid's share of content-based scores
    interests: Text | None = None  # an attribute listing a newcomer's declared interests


class DriftIn(_Strict):
    threshold: Annotated[FiniteFloat, Field(gt=0)] = 0.2  # PSI over this is flagged
    recent: Duration = "7d"  # recent traffic: profiles seen in this window
    max_age: Duration = "30d"  # `train --if-stale` retrains a model older than this


class FairnessIn(_Strict):
    protected: Annotated[list[Text], Field(min_length=1)]  # attribute paths, e.g. age_bracket
    threshold: Fraction = 0.1
    min_group_size: Annotated[int, Field(ge=1)] = 30


class ModelsIn(_Strict):
    features: Annotated[list[FeatureIn], Field(min_length=1)]
    personas: PersonasIn | None = None
    predictions: list[PredictionIn] = Field(default_factory=list)
    recommendations: RecommendationsIn | None = None
    drift: DriftIn = DriftIn()
    fairness: FairnessIn | None = None
    min_users: Annotated[int, Field(ge=10)] = 50  # fewer profiles to train on: refused
