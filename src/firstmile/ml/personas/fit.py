# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""fit_personas: validate, cluster, choose k, measure stability, name."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from firstmile.errors import ModelError
from firstmile.ml.personas import cluster
from firstmile.ml.personas.model import (
    MAX_ABS,
    Algorithm,
    FloatArray,
    KCandidate,
    KSelection,
    PersonaModel,
    PersonaReport,
    Stability,
)
from firstmile.ml.personas.naming import distinctions, name_personas, readable

MIN_ROWS: Final = 10
STABILITY_RUNS: Final = 4
WEAK_SILHOUETTE: Final = 0.25
SMALL_SHARE: Final = 0.01
_ALGORITHMS: Final = ("kmeans", "dbscan", "agglomerative")


def _matrix(values: npt.ArrayLike, what: str) -> FloatArray:
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{what} must be a matrix of numbers: {exc}") from exc
    if matrix.ndim != 2:
        raise ModelError(f"{what} must be a 2-D matrix (rows x columns); got {matrix.shape}.")
    if not np.isfinite(matrix).all():
        bad = int((~np.isfinite(matrix)).any(axis=1).sum())
        raise ModelError(
            f"{what} holds NaN or infinite values in {bad} row(s); impute or drop them first."
        )
    if what == "X" and matrix.size and np.abs(matrix).max() > MAX_ABS:
        raise ModelError(
            f"X holds values above {MAX_ABS:g} in magnitude; it should be standardised."
        )
    return matrix


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _validate(
    X: FloatArray,
    columns: tuple[str, ...],
    algorithm: str,
    k: int | None,
    k_range: tuple[int, int],
    seed: int,
    stability_runs: int,
) -> None:
    if algorithm not in _ALGORITHMS:
        raise ModelError(f"Unknown algorithm {algorithm!r}; use one of {', '.join(_ALGORITHMS)}.")
    if len(columns) != X.shape[1]:
        raise ModelError(f"{len(columns)} column names for a matrix of {X.shape[1]} columns.")
    if len(set(columns)) != len(columns):
        raise ModelError("Column names must be unique.")
    if not _is_int(seed) or not 0 <= seed < 2**32 - 1000:
        raise ModelError(f"seed must be a non-negative integer below 2**32 - 1000, not {seed!r}.")
    if not _is_int(stability_runs) or stability_runs < 0:
        raise ModelError(f"stability_runs must be a non-negative integer, not {stability_runs!r}.")
    if len(k_range) != 2 or not all(_is_int(v) for v in k_range):
        raise ModelError(f"k_range must be two integers (low, high), not {k_range!r}.")
    low, high = k_range
    if k is not None and (not _is_int(k) or k < 2):
        raise ModelError(f"k must be an integer of at least 2, not {k!r}.")
    if k is None and not 2 <= low <= high:
        raise ModelError(f"k_range must satisfy 2 <= low <= high; got {k_range!r}.")
    k_max = 2 if algorithm == "dbscan" else (k if k is not None else high)
    needed = max(MIN_ROWS, 2 * k_max)
    if X.shape[0] < needed:
        raise ModelError(
            f"{X.shape[0]} rows are too few to find up to {k_max} personas; "
            f"at least {needed} are needed (2 per persona, 10 at the least)."
        )
    if X.shape[1] == 0 or np.all(X.max(axis=0) == X.min(axis=0)):
        raise ModelError("Every column is constant: there is nothing to tell users apart by.")


def _distinct_rows(X: FloatArray, limit: int) -> int:
    """How many distinct rows there are, counted up to ``limit`` (cheap on big data)."""
    seen = np.unique(X[: max(limit * 50, 1000)], axis=0).shape[0]
    return seen if seen >= limit else int(np.unique(X, axis=0).shape[0])


def fit_personas(
    X: npt.ArrayLike,
    columns: Sequence[str],
    *,
    algorithm: Algorithm = "kmeans",
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    seed: int = 0,
    raw: npt.ArrayLike | None = None,
    eps: float | None = None,
    min_samples: int | None = None,
    stability_runs: int = STABILITY_RUNS,
) -> PersonaModel:
    """Cluster users into named personas; see the package docstring for the method.

    ``X`` is the standardised feature matrix (rows x ``columns``); ``raw``, when given,
    the same rows and columns unscaled, used only for the numbers in descriptions.
    ``k`` fixes the number of clusters; otherwise it is chosen by silhouette over
    ``k_range`` (inclusive). ``eps`` and ``min_samples`` are DBSCAN's, chosen when None.
    ``stability_runs`` seed refits and as many bootstrap refits measure stability.
    """
    matrix = _matrix(X, "X")
    names = tuple(str(c) for c in columns)
    _validate(matrix, names, algorithm, k, k_range, seed, stability_runs)
    unscaled = None if raw is None else _matrix(raw, "raw")
    if unscaled is not None and unscaled.shape != matrix.shape:
        raise ModelError(f"raw has shape {unscaled.shape}; X has {matrix.shape}.")

    n = matrix.shape[0]
    sample = cluster.sample_index(n, cluster.SILHOUETTE_SAMPLE, seed, stream=1)
    if algorithm == "dbscan":
        chosen = _choose_density(matrix, eps, min_samples, seed, sample)
    else:
        chosen = _choose_k(algorithm, matrix, k, k_range, seed, sample)
    fit, warnings = chosen.fit, list(chosen.warnings)
    chosen_eps, chosen_min_samples = chosen.eps, chosen.min_samples

    labels, found = fit.labels, len(fit.centres)
    if found < chosen.wanted:
        warnings.append(f"Only {found} of {chosen.wanted} clusters hold rows (duplicate rows).")
    chosen_silhouette = chosen.silhouette
    if chosen_silhouette is not None and chosen_silhouette < WEAK_SILHOUETTE:
        warnings.append(
            f"Silhouette {chosen_silhouette:.2f} is below {WEAK_SILHOUETTE}: the personas are "
            "not well separated; read them as tendencies, not types."
        )
    seed_ari, boot_ari = cluster.stability(
        algorithm,
        matrix,
        fit,
        k=found,
        seed=seed,
        runs=stability_runs,
        eps=chosen_eps or 0.0,
        min_samples=chosen_min_samples or 0,
    )

    data = readable(matrix, names, unscaled)
    sizes = [int((labels == c).sum()) for c in range(found)]
    noise = int((labels == cluster.NOISE).sum())
    ranked = [distinctions(data, matrix, labels, c, names) for c in range(found)]
    personas, outlier = name_personas(
        ranked, sizes, data.scaled, with_outliers=noise if algorithm == "dbscan" else None
    )
    if any(size / n < SMALL_SHARE for size in sizes):
        warnings.append(f"A persona holds less than {SMALL_SHARE:.0%} of the rows.")

    report = PersonaReport(
        algorithm=algorithm,
        estimator=fit.estimator,
        n_rows=n,
        n_columns=matrix.shape[1],
        seed=seed,
        k=found,
        k_selection=chosen.selection,
        candidates=chosen.candidates,
        silhouette=chosen_silhouette,
        silhouette_sample=len(sample),
        fit_rows=n if algorithm == "kmeans" else min(n, cluster.FIT_SAMPLE),
        stability=Stability(seed_ari, boot_ari),
        eps=chosen_eps,
        min_samples=chosen_min_samples,
        outlier_share=noise / n if algorithm == "dbscan" else None,
        warnings=tuple(warnings),
    )
    centres = np.array(fit.centres, dtype=np.float64)
    centres.setflags(write=False)
    reach = None
    if algorithm == "dbscan":
        reach = cluster.radii(matrix, labels, fit.centres)
        reach.setflags(write=False)
    return PersonaModel(names, centres, tuple(personas), report, reach, outlier)


@dataclass(frozen=True, slots=True)
class _Chosen:
    fit: cluster.Fit
    candidates: tuple[KCandidate, ...]
    selection: KSelection
    wanted: int  # the number of clusters asked for (k-means, Ward) or found (DBSCAN)
    silhouette: float | None
    eps: float | None = None
    min_samples: int | None = None
    warnings: tuple[str, ...] = ()


def _choose_density(
    X: FloatArray,
    eps: float | None,
    min_samples: int | None,
    seed: int,
    sample: cluster.IntArray,
) -> _Chosen:
    chosen_min_samples = _min_samples(min_samples, X.shape[1])
    if eps is None:
        # The knee is read on the same rows DBSCAN is fitted on (same seed and stream).
        fit_rows = cluster.sample_index(X.shape[0], cluster.FIT_SAMPLE, seed, stream=2)
        chosen_eps = cluster.knee_eps(X[fit_rows], chosen_min_samples)
    else:
        chosen_eps = _eps(eps)
    fit = cluster.dbscan(X, chosen_eps, chosen_min_samples, seed, stream=2)
    found = len(fit.centres)
    score = cluster.silhouette(X, fit.labels, sample)
    warnings: tuple[str, ...] = ()
    if found == 1:
        warnings = ("DBSCAN found a single cluster: the rows form one dense region.",)
    return _Chosen(
        fit,
        (KCandidate(found, score, fit.inertia),),
        "density",
        found,
        score,
        chosen_eps,
        chosen_min_samples,
        warnings,
    )


def _choose_k(
    algorithm: Algorithm,
    X: FloatArray,
    k: int | None,
    k_range: tuple[int, int],
    seed: int,
    sample: cluster.IntArray,
) -> _Chosen:
    ks = [k] if k is not None else list(range(k_range[0], k_range[1] + 1))
    distinct = _distinct_rows(X, max(ks))
    if k is not None and k > distinct:
        raise ModelError(f"k={k} but the matrix has only {distinct} distinct rows.")
    ks = [value for value in ks if value <= distinct]
    if not ks:
        raise ModelError(
            f"k_range {k_range!r} asks for more clusters than the {distinct} distinct rows."
        )
    fits, scored = _candidates(algorithm, X, ks, seed, sample)
    best = _best(scored)
    selection: KSelection = "given" if k is not None else "silhouette"
    return _Chosen(fits[best], tuple(scored), selection, ks[best], scored[best].silhouette)


def _min_samples(value: int | None, n_columns: int) -> int:
    if value is None:
        # Twice the dimension (Sander et al. 1998), within [5, 50].
        return max(5, min(2 * n_columns, 50))
    if not _is_int(value) or value < 2:
        raise ModelError(f"min_samples must be an integer of at least 2, not {value!r}.")
    return int(value)


def _eps(value: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ModelError(f"eps must be a positive number, not {value!r}.")
    return float(value)


def _candidates(
    algorithm: Algorithm, X: FloatArray, ks: list[int], seed: int, sample: cluster.IntArray
) -> tuple[list[cluster.Fit], list[KCandidate]]:
    fits: list[cluster.Fit] = []
    if algorithm == "agglomerative":
        # One Ward tree, cut at every k: the tree does not depend on k.
        index, tree = cluster.ward_tree(X, seed, stream=2)
        fits = [cluster.ward_cut(X, index, tree, value) for value in ks]
    else:
        fits = [cluster.kmeans(X, value, seed) for value in ks]
    scored = [
        KCandidate(value, cluster.silhouette(X, fit.labels, sample), fit.inertia)
        for value, fit in zip(ks, fits, strict=True)
    ]
    return fits, scored


SILHOUETTE_TOLERANCE = 0.02


def _best(scored: list[KCandidate]) -> int:
    """The smallest k whose silhouette is within :data:`SILHOUETTE_TOLERANCE` of the
    highest (all undefined: the smallest k).

    Parsimony, as the one-standard-error rule does for model size: on mostly yes/no
    features the silhouette keeps creeping up as a persona is split in two, and a
    difference of a hundredth says nothing about people. Measured on the demo
    population over five seeds (bench/personas.py): ARI 0.75-0.84 with the highest
    silhouette, 0.81-0.84 with this rule.
    """
    values = [-math.inf if c.silhouette is None else c.silhouette for c in scored]
    top = max(values)
    if top == -math.inf:
        return 0
    return next(i for i, value in enumerate(values) if value >= top - SILHOUETTE_TOLERANCE)
