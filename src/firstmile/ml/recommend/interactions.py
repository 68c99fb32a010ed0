# ruff: noqa: RUF002 - the docstrings write "users x items" with the multiplication sign
"""Implicit feedback as a users × items sparse matrix, and the temporal split that evaluates it.

An interaction is ``(user_key, item_key, weight[, timestamp])``: a user completed a step,
opened a template, rated a film. :func:`build_interactions` sums the weights of repeated
pairs into one cell of a CSR matrix (scipy.sparse) and keeps the latest timestamp of each
pair; the keys are sorted, so the same triples in any order give the same matrix, and the
key ↔ row/column mappings travel with it in the frozen :class:`Interactions`.

:func:`temporal_split` holds out the most recent part of every user's history, which is
what a recommender faces in production (predict what comes next from what came before),
unlike a random split that lets the model peek at the future.

Examples
--------
>>> data = build_interactions([
...     ("ann", "intro", 1.0, 10), ("ann", "invite", 1.0, 20), ("ann", "export", 1.0, 30),
...     ("bob", "intro", 1.0, 10), ("bob", "export", 2.0, 15),
... ])
>>> data.shape, data.item_keys
((2, 3), ('export', 'intro', 'invite'))
>>> train, test = temporal_split(data, fraction=0.34)
>>> [data.item_keys[i] for i in test.matrix[data.user_index["ann"]].indices]
['export']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from firstmile.errors import ModelError

Triple = tuple[str, str, float] | tuple[str, str, float, float]


@dataclass(frozen=True, eq=False)
class Interactions:
    """A users × items implicit-feedback matrix with its keys.

    ``matrix`` holds the summed weight of each (user, item) pair (CSR, float64, sorted
    indices, no explicit zeros); ``times`` has the same sparsity and holds the pair's
    latest timestamp (or, without timestamps, the position of its last triple). Row ``u``
    is ``user_keys[u]``; column ``i`` is ``item_keys[i]``.
    """

    matrix: Any  # scipy.sparse.csr_matrix (scipy ships no type stubs)
    times: Any
    user_keys: tuple[str, ...]
    item_keys: tuple[str, ...]
    user_index: Mapping[str, int] = field(init=False, repr=False)
    item_index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Derived once here so lookups are O(1) for serving; frozen, hence object.__setattr__.
        object.__setattr__(self, "user_index", {k: n for n, k in enumerate(self.user_keys)})
        object.__setattr__(self, "item_index", {k: n for n, k in enumerate(self.item_keys)})

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.user_keys), len(self.item_keys))

    @property
    def n_interactions(self) -> int:
        return int(self.matrix.nnz)

    def with_matrix(self, matrix: Any, times: Any) -> Interactions:
        """The same keys over another matrix (a split, a filtered copy)."""
        return Interactions(matrix, times, self.user_keys, self.item_keys)


def build_interactions(
    triples: Iterable[Triple],
    *,
    users: Iterable[str] = (),
    items: Iterable[str] = (),
) -> Interactions:
    """Build :class:`Interactions` from ``(user, item, weight[, timestamp])`` triples.

    ``users`` and ``items`` add keys that have no interaction yet (a catalogue item nobody
    opened still needs a column for content-based and cold-start ranking). Timestamps are
    numbers (epoch seconds, say); without them the order of the triples stands for time.
    Weights must be positive finite numbers; anything else raises
    :class:`~firstmile.errors.ModelError`, because one NaN would poison every score.
    """
    user_list: list[str] = []
    item_list: list[str] = []
    weights: list[float] = []
    stamps: list[float] = []
    for position, triple in enumerate(triples):
        user_list.append(triple[0])
        item_list.append(triple[1])
        weights.append(float(triple[2]))
        stamps.append(float(triple[3]) if len(triple) > 3 else float(position))
    weight = np.asarray(weights, dtype=np.float64)
    stamp = np.asarray(stamps, dtype=np.float64)
    bad = ~np.isfinite(weight) | (weight <= 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ModelError(
            f"Interaction weights must be positive finite numbers; triple {first} "
            f"({user_list[first]!r}, {item_list[first]!r}) has weight {weights[first]!r}."
        )
    if not np.isfinite(stamp).all():
        first = int(np.flatnonzero(~np.isfinite(stamp))[0])
        raise ModelError(f"Timestamps must be finite numbers; triple {first} has {stamps[first]}.")
    user_keys = tuple(sorted(set(user_list).union(users)))
    item_keys = tuple(sorted(set(item_list).union(items)))
    user_pos = {k: n for n, k in enumerate(user_keys)}
    item_pos = {k: n for n, k in enumerate(item_keys)}
    rows = np.fromiter((user_pos[k] for k in user_list), dtype=np.int64, count=len(user_list))
    cols = np.fromiter((item_pos[k] for k in item_list), dtype=np.int64, count=len(item_list))
    matrix, times = _aggregate(rows, cols, weight, stamp, (len(user_keys), len(item_keys)))
    return Interactions(matrix, times, user_keys, item_keys)


def _aggregate(
    rows: np.ndarray[Any, Any],
    cols: np.ndarray[Any, Any],
    weight: np.ndarray[Any, Any],
    stamp: np.ndarray[Any, Any],
    shape: tuple[int, int],
) -> tuple[Any, Any]:
    """Sum weights and take the latest time per (row, col): two CSR matrices, one sparsity."""
    codes = rows * shape[1] + cols
    unique, inverse = np.unique(codes, return_inverse=True)
    summed = np.bincount(inverse, weights=weight, minlength=len(unique))
    latest = np.full(len(unique), -np.inf)
    np.maximum.at(latest, inverse, stamp)
    urows, ucols = unique // shape[1], unique % shape[1]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(urows, minlength=shape[0]), out=indptr[1:])
    # unique() sorts the codes, so rows and the columns within a row are already in order.
    matrix = sp.csr_matrix((summed, ucols, indptr), shape=shape)
    times = sp.csr_matrix((latest, ucols.copy(), indptr.copy()), shape=shape)
    return matrix, times


def temporal_split(
    interactions: Interactions, fraction: float = 0.2
) -> tuple[Interactions, Interactions]:
    """Hold out the most recent ``fraction`` of each user's interactions.

    A user with ``n`` interactions keeps the first ``n - h`` (by time) for training, where
    ``h = floor(n * fraction + 0.5)`` and at least one interaction stays in training; a
    user with a single interaction keeps it. Ties in time are broken by item key (the
    column order), so the split is deterministic. Both halves share the keys and shape.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be strictly between 0 and 1, not {fraction}")
    matrix, times = interactions.matrix, interactions.times
    n_users = matrix.shape[0]
    counts = np.diff(matrix.indptr)
    held = np.minimum(counts - 1, np.floor(counts * fraction + 0.5).astype(np.int64))
    held = np.maximum(held, 0)
    row_of = np.repeat(np.arange(n_users), counts)
    # Order each row's entries by (time, column); columns are sorted within a row already,
    # so a stable sort on time within rows keeps ties in column (item key) order.
    order = np.lexsort((matrix.indices, times.data, row_of))
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], counts)
    is_test = rank >= np.repeat(counts - held, counts)
    return _subset(interactions, ~is_test), _subset(interactions, is_test)


def _subset(interactions: Interactions, keep: np.ndarray[Any, Any]) -> Interactions:
    matrix, times = interactions.matrix, interactions.times
    row_of = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of[keep], minlength=matrix.shape[0]), out=indptr[1:])
    cols = matrix.indices[keep]
    return interactions.with_matrix(
        sp.csr_matrix((matrix.data[keep], cols, indptr), shape=matrix.shape),
        sp.csr_matrix((times.data[keep], cols.copy(), indptr.copy()), shape=matrix.shape),
    )


def filter_weights(interactions: Interactions, min_weight: float) -> Interactions:
    """Only the pairs whose weight is at least ``min_weight`` (ratings >= 4, say)."""
    if math.isnan(min_weight):
        raise ValueError("min_weight is NaN")
    return _subset(interactions, interactions.matrix.data >= min_weight)


def keys_to_mask(keys: Iterable[str], index: Mapping[str, int], size: int) -> np.ndarray[Any, Any]:
    """A mask over ``size`` columns with the known ``keys`` set; unknown keys are skipped."""
    mask = np.zeros(size, dtype=bool)
    positions = [index[k] for k in keys if k in index]
    mask[positions] = True
    return mask
