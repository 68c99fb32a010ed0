"""Recommending catalogue items to one user with a fitted recommender (pure).

:class:`CatalogRecommender` is what the registry stores for the ``recommendations``
model: the recommender chosen by measurement, fitted on users x catalogue items (an
item counts when the user completed it), with the item keys. For one user it ranks the
items they have not done, among those decide allows, each with a reason. A user with
no completed item known to the model (a newcomer) gets the items most completed by
everyone ("popular"), since a collaborative model has nothing to go on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True, slots=True)
class RecommendedItem:
    item_id: str
    score: float
    reason: str


@dataclass(frozen=True, eq=False)
class CatalogRecommender:
    """A fitted recommender over catalogue items, ready for one user at a time."""

    name: str
    fitted: Any  # a firstmile.ml.recommend FittedRecommender
    item_keys: tuple[str, ...]
    index: Mapping[str, int] = field(init=False, repr=False)
    popularity: Any = field(init=False, repr=False)  # completions per item

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {k: n for n, k in enumerate(self.item_keys)})
        counts = np.asarray((self.fitted.history != 0).sum(axis=0)).ravel().astype(np.float64)
        object.__setattr__(self, "popularity", counts)

    def recommend(
        self, done: Collection[str], *, allowed: Collection[str] | None = None, k: int = 5
    ) -> list[RecommendedItem]:
        """The top ``k`` items not in ``done`` (and in ``allowed`` when given), best first."""
        n = len(self.item_keys)
        known = sorted({self.index[i] for i in done if i in self.index})
        blocked = np.zeros(n, dtype=bool)
        blocked[known] = True
        if allowed is not None:
            permitted = np.zeros(n, dtype=bool)
            permitted[[self.index[i] for i in allowed if i in self.index]] = True
            blocked |= ~permitted
        if not known:
            return self._popular(blocked, k)
        row = sp.csr_matrix(
            (np.ones(len(known)), (np.zeros(len(known), dtype=np.int64), known)), shape=(1, n)
        )
        ranked = self.fitted.recommend(row, k, exclude=blocked, exclude_seen=True)
        return [
            RecommendedItem(self.item_keys[r.item], float(r.score), r.reason.text(self.item_keys))
            for r in ranked
            if not blocked[r.item] and np.isfinite(r.score)
        ]

    def _popular(self, blocked: Any, k: int) -> list[RecommendedItem]:
        order = np.argsort(-self.popularity, kind="stable")
        return [
            RecommendedItem(self.item_keys[i], float(self.popularity[i]), "popular")
            for i in order
            if not blocked[i] and self.popularity[i] > 0
        ][:k]
