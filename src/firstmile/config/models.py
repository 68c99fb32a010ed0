"""The loaded ``models`` section: what to train, on which features, and how to check it.

Frozen values built by :mod:`firstmile.config.models_build`. The feature list is one
pipeline shared by every model (each model may use a subset); its schema hash is stored
with every trained model, and a model whose hash differs from the config's is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final, Literal

from firstmile.ml.features import FeatureSpec

PERSONAS_MODEL: Final = "personas"
RECOMMENDER_MODEL: Final = "recommendations"
PersonaAlgorithm = Literal["kmeans", "dbscan", "agglomerative"]
ClassifierAlgorithm = Literal["auto", "gradient_boosting", "random_forest", "logistic_regression"]
RecommenderAlgorithm = Literal["auto", "ease", "item_knn", "popular", "content", "hybrid"]
OutcomeKind = Literal["event", "inactive", "trait"]


@dataclass(frozen=True, slots=True)
class PersonaSettings:
    algorithm: PersonaAlgorithm = "kmeans"
    k: int | None = None  # None: chosen by silhouette over k_range
    k_range: tuple[int, int] = (2, 8)
    features: tuple[str, ...] = ()  # (): every feature
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a prediction predicts.

    * ``event``: the track event ``event`` happens within ``within`` after the cut-off;
    * ``inactive``: no event at all within ``within`` after the cut-off (churn);
    * ``trait``: the truthiness of the trait ``trait`` (a label the app records; no time
      split is possible, so the features must not be derived from the label).
    """

    kind: OutcomeKind
    within: timedelta
    event: str | None = None
    trait: str | None = None

    def describe(self) -> str:
        days = self.within / timedelta(days=1)
        span = f"{days:g} days" if days != 1 else "1 day"
        if self.kind == "event":
            return f"`{self.event}` within {span} after the cut-off"
        if self.kind == "inactive":
            return f"no activity for {span} after the cut-off"
        return f"the trait `{self.trait}` is true"


@dataclass(frozen=True, slots=True)
class PredictionSettings:
    key: str
    name: str
    outcome: Outcome
    observe: timedelta = timedelta(days=1)
    algorithm: ClassifierAlgorithm = "auto"
    features: tuple[str, ...] = ()
    folds: int = 5


@dataclass(frozen=True, slots=True)
class RecommendationSettings:
    algorithm: RecommenderAlgorithm = "auto"
    content_weight: float = 0.2
    interests: str | None = None  # attribute path: a list (or comma-separated text)


@dataclass(frozen=True, slots=True)
class DriftSettings:
    threshold: float = 0.2
    recent: timedelta = timedelta(days=7)
    max_age: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class FairnessSettings:
    protected: tuple[str, ...]
    threshold: float = 0.1
    min_group_size: int = 30


@dataclass(frozen=True, slots=True)
class ModelsConfig:
    """The ``models`` section (empty when the file has none: nothing to train)."""

    features: tuple[FeatureSpec, ...] = ()
    personas: PersonaSettings | None = None
    predictions: tuple[PredictionSettings, ...] = ()
    recommendations: RecommendationSettings | None = None
    drift: DriftSettings = field(default_factory=DriftSettings)
    fairness: FairnessSettings | None = None
    min_users: int = 50

    @property
    def empty(self) -> bool:
        return not self.features and self.recommendations is None

    def specs(self, names: tuple[str, ...] = ()) -> tuple[FeatureSpec, ...]:
        """The features named (in the declared order); all of them for ``()``."""
        if not names:
            return self.features
        wanted = set(names)
        return tuple(spec for spec in self.features if spec.name in wanted)

    def prediction(self, key: str) -> PredictionSettings | None:
        return next((p for p in self.predictions if p.key == key), None)

    @property
    def model_names(self) -> tuple[str, ...]:
        """Every model this config trains, in training order."""
        names: list[str] = []
        if self.personas is not None:
            names.append(PERSONAS_MODEL)
        names.extend(p.key for p in self.predictions)
        if self.recommendations is not None:
            names.append(RECOMMENDER_MODEL)
        return tuple(names)
