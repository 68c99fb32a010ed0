"""The loaded model set: what it adds to a decision, its cache, and failures."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from firstmile.errors import ModelError
from firstmile.ml.artifact import Artifact, pack, unpack
from firstmile.ml.features import FeaturePipeline, FeatureSpec
from firstmile.ml.serving import LoadedModel, ModelSet


class CountingModel:
    """A stand-in classifier that counts its calls (the cache must spare them)."""

    def __init__(self) -> None:
        self.calls = 0

    def predict_one(self, x: Any) -> float:
        self.calls += 1
        return float(min(1.0, x[0] / 10))


class Broken:
    def predict_one(self, x: Any) -> float:
        raise RuntimeError("boom")


def _loaded(name: str, model: Any) -> LoadedModel:
    spec = FeatureSpec(name="sessions", path="sessions", scale="none")
    pipeline = FeaturePipeline.fit((spec,), [{"sessions": n} for n in range(10)])
    return LoadedModel(name, 1, Artifact(name, "prediction", "h", pipeline, model))


def test_predictions_are_added_and_cached_by_feature_row() -> None:
    model = CountingModel()
    models = ModelSet({"churn": _loaded("churn", model)})
    attributes: dict[str, Any] = {"sessions": 4, "segments": {}}
    outputs = models.annotate(attributes)
    assert attributes["predictions"] == {"churn": 0.4}
    assert outputs.predictions == {"churn": 0.4}
    models.annotate({"sessions": 4})
    models.annotate({"sessions": 7})
    assert model.calls == 2  # the second 4-session row came from the cache


def test_a_failing_model_is_skipped_not_raised() -> None:
    models = ModelSet({"ok": _loaded("ok", CountingModel()), "bad": _loaded("bad", Broken())})
    outputs = models.annotate({"sessions": 2})
    assert outputs.predictions == {"ok": 0.2}
    assert outputs.failed == ("bad",)


def test_an_artifact_round_trips_and_refuses_tampering() -> None:
    artifact = _loaded("churn", CountingModel()).artifact
    data, digest = pack(artifact)
    assert unpack(data, sha256=digest, name="churn", version=1).name == "churn"
    for bad in (data[:-1], b"x" + data[1:]):
        with pytest.raises(ModelError, match="corrupt"):
            unpack(bad, sha256=digest, name="churn", version=1)
    with pytest.raises(ModelError, match="missing"):
        unpack(None, sha256=digest, name="churn", version=1)
    garbage = b"not a pickle"
    with pytest.raises(ModelError, match="cannot be loaded"):
        unpack(garbage, sha256=hashlib.sha256(garbage).hexdigest(), name="churn", version=1)
    assert np.isfinite(artifact.pipeline.transform_one({"sessions": None})).all()
