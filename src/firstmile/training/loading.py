"""Loading the promoted models for ``serve``, and keeping the last good ones.

``serve`` calls :func:`load_model_set` at start and then every few seconds: a model
promoted (or rolled back) in the registry is picked up without a restart. A model that
cannot be loaded — its artifact missing or corrupt, or trained on another feature
schema than the config declares — is reported, and the version loaded before keeps
serving when it still fits the config; with none, decide falls back to rules.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from firstmile.config.models import PERSONAS_MODEL, RECOMMENDER_MODEL, ModelsConfig
from firstmile.errors import ModelError
from firstmile.ml.artifact import unpack
from firstmile.ml.features import schema_hash
from firstmile.ml.serving import LoadedModel, ModelSet
from firstmile.storage import Store
from firstmile.storage.base import ModelRecord


def expected_schema_hash(models: ModelsConfig, name: str) -> str | None:
    """The feature schema hash the config gives model ``name`` (``None``: not configured)."""
    if name == PERSONAS_MODEL:
        return (
            None if models.personas is None else schema_hash(models.specs(models.personas.features))
        )
    if name == RECOMMENDER_MODEL:
        return None if models.recommendations is None else ""
    settings = models.prediction(name)
    return None if settings is None else schema_hash(models.specs(settings.features))


def check_record(models: ModelsConfig, record: ModelRecord) -> None:
    """Refuse a model the config does not declare, whose feature schema differs, or that
    another scikit-learn release pickled (its estimators may load and mis-predict)."""
    expected = expected_schema_hash(models, record.name)
    if expected is None:
        raise ModelError(
            f"Model `{record.name}` is promoted but the config has no such model; it is not loaded."
        )
    trained_with = (record.meta.get("libraries") or {}).get("scikit-learn")
    running = _release("scikit-learn")
    if trained_with and running and trained_with.split(".")[:2] != running.split(".")[:2]:
        raise ModelError(
            f"Model `{record.name}` version {record.version} was trained with scikit-learn "
            f"{trained_with}, and this process runs {running}: retrain it with "
            f"`firstmile train --model {record.name}`."
        )
    if record.schema_hash != expected:
        raise ModelError(
            f"Model `{record.name}` version {record.version} was trained on feature schema "
            f"{record.schema_hash}, but the config declares {expected}: retrain it with "
            f"`firstmile train --model {record.name}`."
        )


def _release(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def load_model(store: Store, models: ModelsConfig, record: ModelRecord) -> LoadedModel:
    check_record(models, record)
    data = store.model_artifact(record.name, record.version)
    artifact = unpack(data, sha256=record.sha256, name=record.name, version=record.version)
    return LoadedModel(record.name, record.version, artifact)


def load_model_set(
    store: Store, models: ModelsConfig, previous: ModelSet | None = None
) -> tuple[ModelSet, list[str]]:
    """The promoted models that fit ``models``, and a message per model not loaded."""
    problems: list[str] = []
    loaded: dict[str, LoadedModel] = {}
    before = previous.models if previous is not None else {}
    for record in store.promoted_models():
        prior = before.get(record.name)
        expected = expected_schema_hash(models, record.name)
        # The version loaded before still fits the config (same feature schema).
        prior_fits = (
            prior is not None and expected is not None and prior.artifact.schema_hash == expected
        )
        if prior is not None and prior_fits and prior.version == record.version:
            loaded[record.name] = prior  # unchanged: no need to read it again
            continue
        try:
            loaded[record.name] = load_model(store, models, record)
        except ModelError as exc:
            problems.append(exc.message)
            if prior is not None and prior_fits:
                loaded[record.name] = prior  # the last good version keeps serving
    return ModelSet(loaded), problems
