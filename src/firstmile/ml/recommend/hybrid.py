"""A weighted blend of recommenders on a common scale.

Scores of different models live on different scales (EASE weights, cosine similarities,
shares of users), so each part's scores are standardised per user — minus the user's
mean over the catalogue, divided by its standard deviation — before the weighted sum.
A part with nothing to say about a user (collaborative scores of someone with no
history are all equal) standardises to zeros and drops out, so the blend falls back on
the other parts: content for a user with history in a new catalogue, popularity for a
brand-new user. The reason of a recommendation is the reason of the part that
contributed most to its blended score.

Examples
--------
>>> import numpy as np
>>> from firstmile.ml.recommend.ease import EASE
>>> from firstmile.ml.recommend.popular import MostPopular
>>> matrix = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 1]])
>>> model = Hybrid(((EASE(l2=0.5), 1.0), (MostPopular(), 0.1)))
>>> model.name
'hybrid(ease(lambda=0.5)*1 + popular*0.1)'
>>> fitted = model.fit(matrix)
>>> [r.item for r in fitted.recommend(np.zeros(4), 2)]  # no history: popularity decides
[0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from firstmile.ml.recommend.base import (
    FittedBase,
    FittedRecommender,
    FloatArray,
    IntArray,
    Reason,
    ReasonKind,
    Recommender,
    as_rows,
    check_matrix,
)


def standardise(scores: FloatArray) -> FloatArray:
    """Per row: ``(s - mean) / std``; rows with no spread become zeros.

    >>> standardise(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])).round(3).tolist()
    [[-1.225, 0.0, 1.225], [0.0, 0.0, 0.0]]
    """
    centred = scores - scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    out: FloatArray = np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 1e-12)
    return out


@dataclass(frozen=True)
class Hybrid:
    """Blend ``parts`` — ``(recommender, weight)`` pairs — on standardised scores."""

    parts: tuple[tuple[Recommender, float], ...]

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError("a hybrid needs at least one part")
        if any(not weight >= 0 for _, weight in self.parts):
            raise ValueError("hybrid weights must be >= 0")

    @property
    def name(self) -> str:
        blend = " + ".join(f"{part.name}*{weight:g}" for part, weight in self.parts)
        return f"hybrid({blend})"

    def variants(self) -> tuple[Hybrid, ...]:
        # The grid of the first (main) part; the blend weights are a separate decision.
        first, weight = self.parts[0]
        return tuple(Hybrid(((v, weight), *self.parts[1:])) for v in first.variants())

    def fit(self, matrix: Any) -> FittedHybrid:
        history = check_matrix(matrix, "Hybrid", min_users=0, min_items=0)
        fitted = tuple(part.fit(history) for part, _ in self.parts)
        return FittedHybrid(history, fitted, tuple(w for _, w in self.parts))


@dataclass(frozen=True, eq=False)
class FittedHybrid(FittedBase):
    """The fitted parts and their weights."""

    history: Any
    parts: tuple[FittedRecommender, ...]
    weights: tuple[float, ...]

    def _contributions(self, user_rows: Any) -> list[FloatArray]:
        rows = as_rows(user_rows, self.n_items)
        return [
            weight * standardise(part.scores(rows))
            for part, weight in zip(self.parts, self.weights, strict=True)
        ]

    def scores(self, user_rows: Any) -> FloatArray:
        total: FloatArray = np.sum(self._contributions(user_rows), axis=0)
        return total

    def explain(self, row: Any, items: IntArray) -> list[Reason]:
        if items.size == 0:
            return []
        stacked = np.stack([c[0, items] for c in self._contributions(row)])
        leader = np.argmax(stacked, axis=0)
        reasons = [Reason(ReasonKind.USERS_LIKE_YOU)] * items.size
        for p, part in enumerate(self.parts):
            mine = np.flatnonzero(leader == p)
            if mine.size:
                for n, reason in zip(mine, part.explain(row, items[mine]), strict=True):
                    reasons[int(n)] = reason
        return reasons
