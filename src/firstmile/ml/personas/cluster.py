# ruff: noqa: N803 - X is the feature matrix, as scikit-learn names it
"""The clustering itself: candidate fits, silhouette, the k-distance knee, stability."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.cluster import hierarchy
from sklearn.cluster import DBSCAN, KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.neighbors import NearestNeighbors

from firstmile.errors import ModelError
from firstmile.ml.personas.model import Algorithm, FloatArray

MINIBATCH_FROM: Final = 10_000
SILHOUETTE_SAMPLE: Final = 5_000
FIT_SAMPLE: Final = 5_000  # DBSCAN and Ward fit on at most this many rows
KMEANS_N_INIT: Final = 4
MINIBATCH_SIZE: Final = 2_048
NOISE: Final = -1

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Fit:
    """One clustering of all rows: labels (NOISE for DBSCAN noise) and centres."""

    labels: IntArray
    centres: FloatArray  # one row per cluster label 0..k-1
    inertia: float
    estimator: str


def rng(seed: int, stream: int) -> np.random.Generator:
    # Separate streams per purpose, so changing one sample does not shift the others.
    return np.random.default_rng([seed, stream])


def sample_index(n: int, size: int, seed: int, stream: int) -> IntArray:
    if n <= size:
        return np.arange(n, dtype=np.intp)
    return np.sort(rng(seed, stream).choice(n, size=size, replace=False)).astype(np.intp)


def centroids(X: FloatArray, labels: IntArray, k: int) -> FloatArray:
    centres = np.zeros((k, X.shape[1]))
    for cluster in range(k):
        centres[cluster] = X[labels == cluster].mean(axis=0)
    return centres


def nearest(X: FloatArray, centres: FloatArray) -> tuple[IntArray, FloatArray]:
    squared = np.empty((X.shape[0], centres.shape[0]))
    for c, centre in enumerate(centres):
        squared[:, c] = ((X - centre) ** 2).sum(axis=1)
    index = np.argmin(squared, axis=1).astype(np.intp)
    return index, np.sqrt(squared[np.arange(X.shape[0]), index])


def inertia(X: FloatArray, labels: IntArray, centres: FloatArray) -> float:
    kept = labels != NOISE
    return float(((X[kept] - centres[labels[kept]]) ** 2).sum())


def compact(labels: IntArray) -> tuple[IntArray, int]:
    """Relabel clusters 0..k-1 in order of first appearance; NOISE stays NOISE."""
    out = np.full(labels.shape, NOISE, dtype=np.intp)
    found = [label for label in dict.fromkeys(labels.tolist()) if label != NOISE]
    for new, old in enumerate(found):
        out[labels == old] = new
    return out, len(found)


def kmeans(X: FloatArray, k: int, seed: int) -> Fit:
    if X.shape[0] > MINIBATCH_FROM:
        model = MiniBatchKMeans(
            n_clusters=k, random_state=seed, n_init=3, batch_size=MINIBATCH_SIZE
        )
        name = "MiniBatchKMeans"
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=KMEANS_N_INIT)
        name = "KMeans"
    with warnings.catch_warnings():
        # Duplicate rows can leave fewer distinct clusters than k; the caller checks the
        # labels, so the warning (an error under pytest) adds nothing.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    centres = np.asarray(model.cluster_centers_, dtype=np.float64)
    # Label by the same nearest-centre rule assign_one uses, so the report's sizes are
    # exactly what serving would give the training rows.
    labels, _ = nearest(X, centres)
    used = np.unique(labels)
    if len(used) < len(centres):
        # A centre no row is nearest to would be an empty persona: drop it.
        centres = centres[used]
        labels, _ = nearest(X, centres)
    return Fit(labels, centres, inertia(X, labels, centres), name)


def ward_tree(X: FloatArray, seed: int, stream: int) -> tuple[IntArray, FloatArray]:
    index = sample_index(X.shape[0], FIT_SAMPLE, seed, stream)
    return index, np.asarray(hierarchy.ward(X[index]), dtype=np.float64)


def ward_cut(X: FloatArray, index: IntArray, tree: FloatArray, k: int) -> Fit:
    cut = np.asarray(hierarchy.fcluster(tree, k, criterion="maxclust"), dtype=np.intp) - 1
    sample_labels, found = compact(cut)
    centres = centroids(X[index], sample_labels, found)
    labels, _ = nearest(X, centres)
    # Rows of the fitted sample keep the label the tree gave them.
    labels[index] = sample_labels
    return Fit(labels, centres, inertia(X, labels, centres), "AgglomerativeClustering(ward)")


def knee_eps(X: FloatArray, min_samples: int) -> float:
    """DBSCAN's eps at the knee of the sorted k-distance curve.

    The k-distance of a row is the distance to its ``min_samples``-th nearest row
    (itself included, as DBSCAN counts it). Sorted, the curve is flat inside dense
    regions and rises steeply at the noise; the knee is the point farthest from the chord
    between the curve's ends, both axes scaled to [0, 1] (the "kneedle" construction).
    """
    neighbours = NearestNeighbors(n_neighbors=min_samples).fit(X)
    distances, _ = neighbours.kneighbors(X)
    curve = np.sort(np.asarray(distances, dtype=np.float64)[:, -1])
    span = curve[-1] - curve[0]
    if span <= 0:
        eps = float(curve[-1])
    else:
        x = np.linspace(0.0, 1.0, len(curve))
        y = (curve - curve[0]) / span
        eps = float(curve[int(np.argmax(x - y))])
    if eps <= 0:
        # Many identical rows: the knee sits at distance 0, which DBSCAN refuses.
        positive = curve[curve > 0]
        if not len(positive):
            raise ModelError("All rows are identical: there is nothing to cluster.")
        eps = float(positive[0])
    return eps


def dbscan(X: FloatArray, eps: float, min_samples: int, seed: int, stream: int) -> Fit:
    index = sample_index(X.shape[0], FIT_SAMPLE, seed, stream)
    found_labels = DBSCAN(eps=eps, min_samples=min_samples).fit(X[index]).labels_
    sample_labels, found = compact(np.asarray(found_labels, dtype=np.intp))
    if found == 0:
        raise ModelError(
            f"DBSCAN found no cluster with eps={eps:.4g} and min_samples={min_samples}: "
            "every row is noise. Give a larger eps or a smaller min_samples."
        )
    centres = centroids(X[index], sample_labels, found)
    labels = np.full(X.shape[0], NOISE, dtype=np.intp)
    labels[index] = sample_labels
    if len(index) < X.shape[0]:
        rest = np.setdiff1d(np.arange(X.shape[0]), index)
        labels[rest] = assign_with_radii(X[rest], centres, radii(X, labels, centres))
    return Fit(labels, centres, inertia(X, labels, centres), "DBSCAN")


def radii(X: FloatArray, labels: IntArray, centres: FloatArray) -> FloatArray:
    """Per cluster, the distance from its centroid to its farthest member."""
    out = np.zeros(len(centres))
    for cluster, centre in enumerate(centres):
        members = X[labels == cluster]
        if len(members):
            out[cluster] = float(np.sqrt(((members - centre) ** 2).sum(axis=1)).max())
    return out


def assign_with_radii(X: FloatArray, centres: FloatArray, reach: FloatArray) -> IntArray:
    index, distance = nearest(X, centres)
    return np.where(distance > reach[index], NOISE, index).astype(np.intp)


def silhouette(X: FloatArray, labels: IntArray, sample: IntArray) -> float | None:
    """Silhouette on a fixed sample of rows (noise left out); None when undefined."""
    chosen = sample[labels[sample] != NOISE]
    found = len(np.unique(labels[chosen]))
    if found < 2 or found >= len(chosen):
        return None
    return float(silhouette_score(X[chosen], labels[chosen]))


def refit(
    algorithm: Algorithm,
    X: FloatArray,
    k: int,
    seed: int,
    stream: int,
    eps: float,
    min_samples: int,
) -> Fit:
    if algorithm == "kmeans":
        return kmeans(X, k, seed)
    if algorithm == "agglomerative":
        index, tree = ward_tree(X, seed, stream)
        return ward_cut(X, index, tree, k)
    return dbscan(X, eps, min_samples, seed, stream)


def stability(
    algorithm: Algorithm,
    X: FloatArray,
    chosen: Fit,
    *,
    k: int,
    seed: int,
    runs: int,
    eps: float,
    min_samples: int,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """ARI of seed refits and of bootstrap refits against the chosen labels.

    A bootstrap refit is fitted on n rows drawn with replacement, then labels *all* rows
    by its own assignment rule, so both partitions cover the same rows. DBSCAN and Ward
    are deterministic: seed refits only differ when they fit on a sample, so they are
    skipped when the fit used every row.
    """
    n = X.shape[0]
    deterministic = algorithm != "kmeans" and n <= FIT_SAMPLE
    seed_runs: list[float] = []
    boot_runs: list[float] = []
    for run in range(1, runs + 1):
        if not deterministic:
            other = refit(algorithm, X, k, seed + run, 10 + run, eps, min_samples)
            seed_runs.append(float(adjusted_rand_score(chosen.labels, other.labels)))
        rows = rng(seed, 100 + run).integers(0, n, size=n)
        try:
            boot = refit(algorithm, X[rows], k, seed + run, 200 + run, eps, min_samples)
        except ModelError:
            boot_runs.append(0.0)  # DBSCAN found nothing on this resample: unstable
            continue
        if algorithm == "dbscan":
            labels = assign_with_radii(X, boot.centres, radii(X[rows], boot.labels, boot.centres))
        else:
            labels, _ = nearest(X, boot.centres)
        boot_runs.append(float(adjusted_rand_score(chosen.labels, labels)))
    return tuple(seed_runs), tuple(boot_runs)
