"""Recommendations by key, with the cold-start path: what a registry stores and serving uses.

Fitted models speak in row and column indices. :class:`RecommenderModel` wraps one with
the keys of its :class:`~firstmile.ml.recommend.interactions.Interactions` and the two
models cold start needs, and answers in item keys with a sentence of reason each:

* a known user with history: the fitted model (EASE, item-kNN, a hybrid…);
* anyone else: popularity within their ``group`` when given and known, else their
  declared ``interests`` through the content model (topped up with popular items when
  few items match), else global popularity.

Items in ``exclude`` (done already), outside ``allowed``, or in the user's history never
come back.

Examples
--------
>>> from firstmile.ml.recommend.ease import EASE
>>> from firstmile.ml.recommend.interactions import build_interactions
>>> data = build_interactions([
...     ("ann", "intro", 1), ("ann", "invite", 1), ("bob", "intro", 1), ("bob", "invite", 1),
...     ("cid", "intro", 1), ("dee", "export", 1), ("eve", "export", 1), ("eve", "intro", 1),
... ])
>>> model = build_model(data, EASE(l2=0.5).fit(data.matrix), user_groups={"dee": "admins"})
>>> model.recommend("cid", 1)  # doctest: +ELLIPSIS
[Suggestion(item='invite', score=..., reason='similar to intro')]
>>> [s.item for s in model.recommend("new-user", 2, group="admins")]
['export', 'intro']
>>> [s.reason for s in model.recommend(None, 1, allowed={"invite"})]
['popular']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from firstmile.ml.recommend.base import BoolArray, FittedRecommender, Recommendation
from firstmile.ml.recommend.content import ContentRecommender, FittedContent
from firstmile.ml.recommend.interactions import Interactions, keys_to_mask
from firstmile.ml.recommend.popular import FittedPopular, MostPopular


class Suggestion(NamedTuple):
    """One recommended item by key, its score, and why, in words."""

    item: str
    score: float
    reason: str


@dataclass(frozen=True, eq=False)
class RecommenderModel:
    """A fitted recommender with its keys, popularity (by group) and content models."""

    fitted: FittedRecommender
    user_keys: tuple[str, ...]
    item_keys: tuple[str, ...]
    popularity: FittedPopular
    content: FittedContent | None = None
    name: str = "recommender"
    user_index: Mapping[str, int] = field(init=False, repr=False)
    item_index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_index", {k: n for n, k in enumerate(self.user_keys)})
        object.__setattr__(self, "item_index", {k: n for n, k in enumerate(self.item_keys)})

    def recommend(
        self,
        user: str | None,
        k: int = 10,
        *,
        exclude: Iterable[str] = (),
        allowed: Iterable[str] | BoolArray | None = None,
        group: str | None = None,
        interests: Sequence[str] = (),
    ) -> list[Suggestion]:
        """The top ``k`` items for ``user`` (``None`` or unknown: cold start)."""
        n_items = len(self.item_keys)
        blocked = keys_to_mask(exclude, self.item_index, n_items)
        if allowed is not None:
            allowed_mask = (
                allowed.astype(bool)
                if isinstance(allowed, np.ndarray)
                else keys_to_mask(allowed, self.item_index, n_items)
            )
            blocked |= ~allowed_mask
        row = self.user_index.get(user) if user is not None else None
        if row is not None and self.fitted.history[row].nnz > 0:
            return self._named(self.fitted.recommend(row, k, exclude=blocked))
        if row is not None:
            blocked[self.fitted.history[row].indices] = True
        return self._named(self._cold_start(k, blocked, group, interests))

    def _cold_start(
        self, k: int, blocked: BoolArray, group: str | None, interests: Sequence[str]
    ) -> list[Recommendation]:
        if group is not None and group in self.popularity.group_counts:
            return self.popularity.recommend_for_group(group, k, exclude=blocked)
        found: list[Recommendation] = []
        if interests and self.content is not None:
            found = self.content.recommend_for_interests(interests, k, exclude=blocked)
        if len(found) < k:
            taken = blocked.copy()
            taken[[r.item for r in found]] = True
            found += self.popularity.recommend_for_group(None, k - len(found), exclude=taken)
        return found

    def _named(self, recommendations: list[Recommendation]) -> list[Suggestion]:
        return [
            Suggestion(self.item_keys[r.item], r.score, r.reason.text(self.item_keys))
            for r in recommendations
        ]


def build_model(
    interactions: Interactions,
    fitted: FittedRecommender,
    *,
    user_groups: Mapping[str, str] | None = None,
    item_texts: Mapping[str, str] | None = None,
    item_tags: Mapping[str, Sequence[str]] | None = None,
    name: str = "recommender",
) -> RecommenderModel:
    """Wrap ``fitted`` (fitted on ``interactions.matrix``) for serving by key.

    ``user_groups`` (user key → persona or segment) feeds group popularity; ``item_texts``
    and ``item_tags`` (item key → description, tags) feed the content model used for
    declared interests. Missing entries are simply absent (no group, empty text).
    """
    groups = None
    if user_groups is not None:
        groups = [user_groups.get(u) for u in interactions.user_keys]
    popularity = MostPopular(user_groups=groups).fit(interactions.matrix)
    content = None
    if item_texts is not None or item_tags is not None:
        texts = item_texts or {}
        tags = item_tags or {}
        content = ContentRecommender(
            item_texts=[texts.get(i, "") for i in interactions.item_keys],
            item_tags=[tuple(tags.get(i, ())) for i in interactions.item_keys],
        ).fit(interactions.matrix)
    return RecommenderModel(
        fitted, interactions.user_keys, interactions.item_keys, popularity, content, name
    )
