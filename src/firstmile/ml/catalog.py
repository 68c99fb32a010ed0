"""Recommending catalogue items to one user with a fitted recommender (pure).

:class:`CatalogRecommender` is what the registry stores for the ``recommendations``
model: the recommender chosen by measurement, fitted on users x catalogue items (an
item counts when the user completed it), with the item keys. For one user it ranks the
items they have not done, among those decide allows, each with a reason. A user with
no completed item known to the model (a newcomer) has nothing for a collaborative model
to go on: with declared interests (a trait such as ``interests: [team, api]``) the items
whose tags and text match them best come back ("matches your interests: team");
without, nothing does, and decide fills the slot with what is popular in the user's
segments and persona.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
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
    content: Any = None  # a FittedContent over the same items, for declared interests
    index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {k: n for n, k in enumerate(self.item_keys)})

    def recommend(
        self,
        done: Collection[str],
        *,
        allowed: Collection[str] | None = None,
        interests: Sequence[str] = (),
        k: int = 5,
    ) -> list[RecommendedItem]:
        """The top ``k`` items not in ``done`` (and in ``allowed`` when given), best first;
        ``interests`` serve a user with no completion (cold start)."""
        n = len(self.item_keys)
        known = sorted({self.index[i] for i in done if i in self.index})
        blocked = np.zeros(n, dtype=bool)
        blocked[known] = True
        if allowed is not None:
            permitted = np.zeros(n, dtype=bool)
            permitted[[self.index[i] for i in allowed if i in self.index]] = True
            blocked |= ~permitted
        if not known:
            return self._for_interests(interests, blocked, k)
        row = sp.csr_matrix(
            (np.ones(len(known)), (np.zeros(len(known), dtype=np.int64), known)), shape=(1, n)
        )
        ranked = self.fitted.recommend(row, k, exclude=blocked, exclude_seen=True)
        return [
            RecommendedItem(self.item_keys[r.item], float(r.score), r.reason.text(self.item_keys))
            for r in ranked
            if not blocked[r.item] and np.isfinite(r.score)
        ]

    def _for_interests(
        self, interests: Sequence[str], blocked: Any, k: int
    ) -> list[RecommendedItem]:
        if not interests or self.content is None:
            return []
        ranked = self.content.recommend_for_interests(list(interests), k, exclude=blocked)
        return [
            RecommendedItem(self.item_keys[r.item], float(r.score), r.reason.text(self.item_keys))
            for r in ranked
        ]
