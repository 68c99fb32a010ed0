# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""The fitted persona model and its report: frozen, picklable, JSON-ready values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from firstmile.errors import ModelError

Algorithm = Literal["kmeans", "dbscan", "agglomerative"]
KSelection = Literal["silhouette", "given", "density"]
ColumnKind = Literal["numeric", "binary"]

OUTLIER_KEY: Final = "unassigned"
OUTLIER_NAME: Final = "Unassigned (outliers)"

FloatArray = npt.NDArray[np.float64]

# Larger values would overflow when squared: no standardised feature comes near it.
MAX_ABS: Final = 1e100

# Rows per block in assign(): bounds the (rows x personas x columns) temporary.
_ASSIGN_BLOCK: Final = 4096


@dataclass(frozen=True, slots=True)
class Distinction:
    """How a persona's centre differs from the population on one column.

    ``z`` is the centre's mean minus the population mean, in population standard
    deviations. ``value`` and ``overall`` are the persona's and the population's mean in
    readable units — a share for binary columns, the raw (or, without ``raw``, the
    standardised) mean for numeric ones.
    """

    column: str
    kind: ColumnKind
    z: float
    value: float
    overall: float

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "z": self.z,
            "value": self.value,
            "overall": self.overall,
        }


@dataclass(frozen=True, slots=True)
class Persona:
    """One cluster of users, named after what sets it apart."""

    key: str  # stable slug: lowercase [a-z0-9-], at most 40 characters
    name: str
    description: str
    size: int
    share: float
    distinctions: tuple[Distinction, ...]  # strongest first
    outlier: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "size": self.size,
            "share": self.share,
            "outlier": self.outlier,
            "distinctions": [d.to_json() for d in self.distinctions],
        }


@dataclass(frozen=True, slots=True)
class KCandidate:
    """One number of clusters tried: its silhouette (None if undefined) and inertia."""

    k: int
    silhouette: float | None
    inertia: float

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "silhouette": self.silhouette, "inertia": self.inertia}


@dataclass(frozen=True, slots=True)
class Stability:
    """Adjusted Rand index of refits against the chosen fit (1 = identical partition)."""

    seed_ari: tuple[float, ...]
    bootstrap_ari: tuple[float, ...]

    @property
    def mean_ari(self) -> float | None:
        runs = self.seed_ari + self.bootstrap_ari
        return float(np.mean(runs)) if runs else None

    @property
    def min_ari(self) -> float | None:
        runs = self.seed_ari + self.bootstrap_ari
        return min(runs) if runs else None

    def to_json(self) -> dict[str, Any]:
        return {
            "mean_ari": self.mean_ari,
            "min_ari": self.min_ari,
            "seed_ari": list(self.seed_ari),
            "bootstrap_ari": list(self.bootstrap_ari),
        }


@dataclass(frozen=True, slots=True)
class PersonaReport:
    """How the personas were found and how much to trust them."""

    algorithm: Algorithm
    estimator: str  # the scikit-learn / scipy estimator actually used
    n_rows: int
    n_columns: int
    seed: int
    k: int  # clusters found, not counting the outlier persona
    k_selection: KSelection
    candidates: tuple[KCandidate, ...]  # silhouette and elbow (inertia) per k tried
    silhouette: float | None
    silhouette_sample: int  # rows the silhouette was computed on
    fit_rows: int  # rows the clustering itself was fitted on
    stability: Stability
    eps: float | None = None  # DBSCAN only
    min_samples: int | None = None  # DBSCAN only
    outlier_share: float | None = None  # DBSCAN only: share of rows left as noise
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "estimator": self.estimator,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "seed": self.seed,
            "k": self.k,
            "k_selection": self.k_selection,
            "candidates": [c.to_json() for c in self.candidates],
            "silhouette": self.silhouette,
            "silhouette_sample": self.silhouette_sample,
            "fit_rows": self.fit_rows,
            "stability": self.stability.to_json(),
            "eps": self.eps,
            "min_samples": self.min_samples,
            "outlier_share": self.outlier_share,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True, eq=False)
class PersonaModel:
    """Personas and the centres that assign new users to them.

    ``centres[i]`` (in the standardised feature space the model was fitted on) belongs
    to ``personas[i]``. A new user goes to the nearest centre (Euclidean). For DBSCAN
    models, whose clusters need not be round, the centre is the cluster's centroid, and a
    user farther from the nearest centroid than that cluster's farthest training member
    (``radii``) is an outlier: the ``"unassigned"`` persona, which has no centre.
    """

    columns: tuple[str, ...]
    centres: FloatArray
    personas: tuple[Persona, ...]
    report: PersonaReport
    radii: FloatArray | None = None
    outlier: Persona | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """Every persona key a user can be assigned, outliers last."""
        keys = tuple(p.key for p in self.personas)
        return keys if self.outlier is None else (*keys, self.outlier.key)

    def persona(self, key: str) -> Persona:
        for persona in self.personas:
            if persona.key == key:
                return persona
        if self.outlier is not None and self.outlier.key == key:
            return self.outlier
        raise KeyError(key)

    def assign_one(self, x: npt.ArrayLike) -> tuple[str, float]:
        """The persona key of one standardised row and its distance to that centre."""
        row = np.asarray(x, dtype=np.float64)
        if row.shape != (len(self.columns),):
            raise ModelError(
                f"assign_one expects one row of {len(self.columns)} features; got shape "
                f"{row.shape}."
            )
        # One comparison rejects NaN, infinities and overflowing values alike.
        if not (np.abs(row) <= MAX_ABS).all():
            raise ModelError(f"The row holds NaN, infinite or huge (> {MAX_ABS:g}) values.")
        squared = ((self.centres - row) ** 2).sum(axis=1)
        nearest = int(np.argmin(squared))
        distance = float(np.sqrt(squared[nearest]))
        if self.outlier is not None and self.radii is not None and distance > self.radii[nearest]:
            return self.outlier.key, distance
        return self.personas[nearest].key, distance

    def assign(self, X: npt.ArrayLike) -> npt.NDArray[np.str_]:
        """The persona key of every row; the same rule, row for row, as assign_one."""
        matrix = np.asarray(X, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.columns):
            raise ModelError(
                f"assign expects a matrix of {len(self.columns)} columns; got shape {matrix.shape}."
            )
        if not (np.abs(matrix) <= MAX_ABS).all():
            raise ModelError(f"The matrix holds NaN, infinite or huge (> {MAX_ABS:g}) values.")
        index, distance = self.nearest(matrix)
        keys = np.array([p.key for p in self.personas], dtype=np.str_)
        out = keys[index] if len(index) else np.array([], dtype=np.str_)
        if self.radii is not None and self.outlier is not None:
            out = out.astype(np.result_type(out, np.array([self.outlier.key])))
            out[distance > self.radii[index]] = self.outlier.key
        return out

    def nearest(self, matrix: FloatArray) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Index of and distance to the nearest centre of every row (no validation)."""
        index = np.empty(matrix.shape[0], dtype=np.intp)
        distance = np.empty(matrix.shape[0], dtype=np.float64)
        for start in range(0, matrix.shape[0], _ASSIGN_BLOCK):
            block = matrix[start : start + _ASSIGN_BLOCK]
            # Same arithmetic as assign_one (centre - row, squared, summed over the
            # last axis), so both break near-ties the same way.
            squared = ((self.centres[None, :, :] - block[:, None, :]) ** 2).sum(axis=2)
            nearest = np.argmin(squared, axis=1)
            index[start : start + len(block)] = nearest
            distance[start : start + len(block)] = np.sqrt(squared[np.arange(len(block)), nearest])
        return index, distance

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "centres": self.centres.tolist(),
            "radii": None if self.radii is None else self.radii.tolist(),
            "personas": [p.to_json() for p in self.personas],
            "outlier": None if self.outlier is None else self.outlier.to_json(),
            "report": self.report.to_json(),
        }
