"""Model artifacts: what the registry stores for a trained model, and how it is checked.

An artifact is one :class:`Artifact` pickled (protocol 5). The registry keeps its
SHA-256 and size beside it; :func:`unpack` refuses bytes whose hash does not match
(corruption, truncation) before unpickling, and anything that does not unpickle to an
:class:`Artifact` of this format. Pickle runs code on load, so an artifact must only
come from this database: firstmile never loads artifacts from elsewhere.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from firstmile.errors import ModelError

ARTIFACT_FORMAT: Final = 1
ArtifactKind = Literal["personas", "prediction", "recommender"]


@dataclass(frozen=True, slots=True)
class Artifact:
    """A trained model with the fitted feature pipeline its inputs go through.

    ``pipeline`` is ``None`` for a recommender (it reads completed items, not features);
    ``extra`` holds what serving needs beside the model (item keys, reference profiles
    for drift, the training window's feature distribution).
    """

    name: str
    kind: ArtifactKind
    schema_hash: str
    pipeline: Any
    model: Any
    extra: dict[str, Any] = field(default_factory=dict)
    format: int = ARTIFACT_FORMAT


def pack(artifact: Artifact) -> tuple[bytes, str]:
    """The artifact's bytes and their SHA-256 (hex)."""
    data = pickle.dumps(artifact, protocol=5)
    return data, hashlib.sha256(data).hexdigest()


def unpack(data: bytes | None, *, sha256: str, name: str, version: int) -> Artifact:
    """The artifact from its bytes, checked; a clear :class:`ModelError` otherwise."""
    where = f"model `{name}` version {version}"
    if data is None:
        raise ModelError(f"The artifact of {where} is missing from the registry; retrain it.")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelError(
            f"The artifact of {where} is corrupt (its SHA-256 does not match the one recorded "
            "when it was trained); retrain it or roll back to another version."
        )
    try:
        artifact = pickle.loads(data)  # noqa: S301 - only our own registry's bytes, hash-checked
    except Exception as exc:  # a library upgrade can break old pickles in many ways
        raise ModelError(
            f"The artifact of {where} cannot be loaded ({type(exc).__name__}: {exc}); "
            "it was probably made by other library versions. Retrain it."
        ) from exc
    if not isinstance(artifact, Artifact) or artifact.format != ARTIFACT_FORMAT:
        raise ModelError(f"The artifact of {where} is not a firstmile model of this version.")
    return artifact
