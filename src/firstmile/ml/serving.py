"""The promoted models, loaded, and what they add to one decision (pure).

:class:`ModelSet` is what ``serve`` holds and swaps whole when a model is promoted or
rolled back (hot loading: a decision reads one set from start to end). For one user's
attributes it adds:

* ``persona``: the key of the nearest persona (assigned on arrival, not only at
  training time), and the segment ``persona-<key>``;
* ``predictions.<key>``: each prediction's calibrated probability (0 to 1).

Conditions, rules and scores read both like any attribute (``predictions.churn_risk >
0.7``). A model that fails on a row is skipped for that decision — the rules that read
it see no value and fall back — and the failure is counted, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from firstmile.ml.artifact import Artifact

log = logging.getLogger(__name__)

PERSONA_ATTRIBUTE: Final = "persona"
PREDICTIONS_ATTRIBUTE: Final = "predictions"
PERSONA_SEGMENT_PREFIX: Final = "persona-"
_MISSING: Final = object()


CACHE_ENTRIES: Final = 50_000


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """One promoted model version, unpacked and checked.

    ``cache`` keeps recent answers by input (a feature row's bytes, a set of completed
    items): a model is a pure function of its input, and the same user asking again, or
    users alike, would pay for the same computation (a gradient-boosting prediction
    costs ~0.5 ms through scikit-learn's public API; a recommendation ~1 ms). It is
    emptied when full, and belongs to this loaded version only.
    """

    name: str
    version: int
    artifact: Artifact
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def remember(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, or the answer kept for ``key``."""
        cache = self.cache
        found = cache.get(key, _MISSING)
        if found is _MISSING:
            if len(cache) >= CACHE_ENTRIES:
                cache.clear()  # simpler than LRU and as good for a hot set that fits
            found = cache[key] = compute()
        return found


@dataclass(frozen=True, slots=True)
class ModelOutputs:
    """What the models said about one user (for reasons and the user view)."""

    persona: str | None = None
    predictions: Mapping[str, float] = field(default_factory=dict)
    failed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelSet:
    """The promoted models by name (empty: decide uses rules only)."""

    models: Mapping[str, LoadedModel] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.models

    def versions(self) -> dict[str, int]:
        return {name: m.version for name, m in sorted(self.models.items())}

    def of_kind(self, kind: str) -> list[LoadedModel]:
        return [m for m in self.models.values() if m.artifact.kind == kind]

    @property
    def recommender(self) -> LoadedModel | None:
        found = self.of_kind("recommender")
        return found[0] if found else None

    def persona_of(self, attributes: Mapping[str, Any]) -> str | None:
        """Only the persona (for counting what each persona completes)."""
        for model in self.of_kind("personas"):
            x = model.artifact.pipeline.transform_one(attributes)
            return str(model.artifact.model.assign_one(x)[0])
        return None

    def outputs(self, attributes: Mapping[str, Any]) -> ModelOutputs:
        """Persona and predictions for one attributes object."""
        persona: str | None = None
        predictions: dict[str, float] = {}
        failed: list[str] = []
        for model in self.models.values():
            artifact = model.artifact
            if artifact.kind == "recommender":
                continue
            try:
                x = artifact.pipeline.transform_one(attributes)
                if artifact.kind == "personas":
                    persona = str(artifact.model.assign_one(x)[0])
                else:
                    score = partial(artifact.model.predict_one, x)
                    predictions[model.name] = float(model.remember(x.tobytes(), score))
            except Exception as exc:  # a model must never fail the decision
                log.warning("model %s v%s failed on a row: %s", model.name, model.version, exc)
                failed.append(model.name)
        return ModelOutputs(persona, predictions, tuple(failed))

    def annotate(self, attributes: MutableMapping[str, Any]) -> ModelOutputs:
        """Add ``persona``, its segment and ``predictions`` to ``attributes``."""
        outputs = self.outputs(attributes)
        if outputs.persona is not None:
            attributes[PERSONA_ATTRIBUTE] = outputs.persona
            segments = attributes.get("segments")
            if isinstance(segments, dict):
                segments[PERSONA_SEGMENT_PREFIX + outputs.persona] = True
        attributes[PREDICTIONS_ATTRIBUTE] = dict(outputs.predictions)
        return outputs
