# ruff: noqa: RUF002 - the docstring writes Σ and formulas
"""Ranking metrics at a cut-off K, and :func:`evaluate` for a fitted recommender.

Relevance is binary: an item is relevant if the user interacted with it in the held-out
part. For a ranked list ``r`` of K items and the relevant set ``R``:

* Precision@K = hits / K; Recall@K = hits / |R|;
* NDCG@K = DCG / IDCG with DCG = Σ 1/log2(rank + 1) over the hits (rank from 1) and IDCG
  the DCG of min(K, |R|) hits at the top, so a perfect list scores 1 even when |R| > K;
* MAP@K: the mean over users of AP@K = Σ_{hits} precision@rank / min(K, |R|);
* MRR: the reciprocal rank of the first hit within the top K (0 without one);
* coverage: the share of the catalogue recommended to at least one user.

Users with no relevant item are left out (every metric would be 0 whatever the model).
All functions are numpy only; the per-list functions and :func:`evaluate` share one
vectorised implementation over a hits matrix.

Examples
--------
>>> round(ndcg_at_k([3, 1, 2], {1, 4}, k=3), 4)  # hit at rank 2; ideal: ranks 1 and 2
0.3869
>>> round(average_precision_at_k([1, 3, 4], {1, 4}, k=3), 4)  # (1/1 + 2/3) / 2
0.8333
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from firstmile.ml.recommend.base import (
    FittedRecommender,
    FloatArray,
    IntArray,
    as_rows,
    top_k_rows,
)


@dataclass(frozen=True, slots=True)
class RankingReport:
    """Mean ranking metrics at ``k`` over ``users`` evaluated users."""

    k: int
    users: int
    precision: float
    recall: float
    ndcg: float
    map: float
    mrr: float
    coverage: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _discounts(k: int) -> FloatArray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def _per_user(
    hits: np.ndarray[Any, Any], n_relevant: np.ndarray[Any, Any], k: int
) -> dict[str, FloatArray]:
    """Per-user metrics from a (users × k) hits matrix and the relevant-set sizes."""
    hits = hits[:, :k].astype(np.float64)
    if hits.shape[1] < k:  # fewer than k items could be ranked: the rest are misses
        hits = np.pad(hits, ((0, 0), (0, k - hits.shape[1])))
    n_relevant = n_relevant.astype(np.float64)
    ideal_n = np.minimum(n_relevant, k).astype(np.int64)
    discounts = _discounts(k)
    ideal = np.concatenate(([0.0], np.cumsum(discounts)))[ideal_n]
    count = hits.sum(axis=1)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    precision_at_rank = np.cumsum(hits, axis=1) / ranks
    first = np.where(count > 0, hits.argmax(axis=1) + 1.0, np.inf)
    safe = np.maximum(n_relevant, 1.0)
    return {
        "precision": count / k,
        "recall": count / safe,
        "ndcg": (hits @ discounts) / np.maximum(ideal, 1e-12),
        "map": (precision_at_rank * hits).sum(axis=1) / np.maximum(ideal_n, 1),
        "mrr": 1.0 / first,
    }


def _one(ranked: Sequence[int], relevant: Collection[int], k: int) -> dict[str, FloatArray]:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    hits = np.array([[item in relevant for item in list(ranked)[:k]]], dtype=bool)
    return _per_user(hits.reshape(1, -1), np.array([len(relevant)]), k)


def precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Share of the top ``k`` that is relevant."""
    return float(_one(ranked, relevant, k)["precision"][0])


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Share of the relevant items found in the top ``k`` (0 if nothing is relevant)."""
    return float(_one(ranked, relevant, k)["recall"][0])


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Binary-relevance NDCG; the ideal list has min(k, |relevant|) hits on top."""
    return float(_one(ranked, relevant, k)["ndcg"][0])


def average_precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """AP@k normalised by min(k, |relevant|) (the MAP@k of one user)."""
    return float(_one(ranked, relevant, k)["map"][0])


def reciprocal_rank(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """1 / rank of the first relevant item within the top ``k``, 0 if there is none."""
    return float(_one(ranked, relevant, k)["mrr"][0])


def coverage(recommended: Sequence[Sequence[int]], n_items: int) -> float:
    """Share of the ``n_items`` catalogue that appears in at least one list."""
    seen = {int(i) for items in recommended for i in items}
    return len(seen) / n_items if n_items else 0.0


def evaluate(
    recommender: FittedRecommender,
    train: Any,
    test_relevant: Any,
    k: int = 10,
    *,
    exclude: Any = None,
) -> RankingReport:
    """Rank the top ``k`` for every user with a relevant test item and measure.

    ``train`` (users × items) holds the rows the model scores from, and its items are
    excluded; ``exclude`` (same shape, optional) excludes more — the items a user saw but
    that do not count as a signal. ``test_relevant`` marks the relevant items (non-zero).
    """
    rows = as_rows(train, train.shape[1])
    seen = rows if exclude is None else abs(rows) + abs(sp.csr_matrix(exclude))
    return evaluate_scores(lambda users: recommender.scores(rows[users]), seen, test_relevant, k)


def evaluate_scores(
    scores_of: Callable[[IntArray], FloatArray],
    seen: Any,
    test_relevant: Any,
    k: int = 10,
    *,
    batch_size: int = 512,
) -> RankingReport:
    """:func:`evaluate` for any model: ``scores_of(user_indices)`` gives their score rows.

    Items marked in ``seen`` (users × items, non-zero) are excluded from the rankings;
    this is how models from other libraries are measured under the same protocol.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    blocked = sp.csr_matrix(seen)
    relevant = sp.csr_matrix(test_relevant)
    relevant.eliminate_zeros()
    if relevant.shape != blocked.shape:
        raise ValueError(f"seen is {blocked.shape} but test_relevant is {relevant.shape}")
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    per_user: list[dict[str, FloatArray]] = []
    shown: set[int] = set()
    for start in range(0, users.size, batch_size):
        batch = users[start : start + batch_size]
        scores = np.array(scores_of(batch), dtype=np.float64)
        cells = blocked[batch].tocoo()
        scores[cells.row, cells.col] = -np.inf
        top = top_k_rows(scores, k)
        valid = np.isfinite(np.take_along_axis(scores, top, axis=1))
        truth = relevant[batch].toarray() != 0
        hits = np.take_along_axis(truth, top, axis=1) & valid
        shown.update(int(i) for i in top[valid])
        per_user.append(_per_user(hits, np.diff(relevant[batch].indptr), k))
    if not per_user:
        return RankingReport(k, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    def mean(name: str) -> float:
        return float(np.concatenate([p[name] for p in per_user]).mean())

    return RankingReport(
        k=k,
        users=int(users.size),
        precision=mean("precision"),
        recall=mean("recall"),
        ndcg=mean("ndcg"),
        map=mean("map"),
        mrr=mean("mrr"),
        coverage=len(shown) / blocked.shape[1],
    )
