"""Most popular items, overall and within a group (a persona, a segment).

The baseline every other model must beat, and the cold-start answer: a user with no
history gets what most users took, or better, what most users *of their group* took
(admins and first-time analysts do not start the same way). Popularity is the number of
distinct users with an interaction of at least ``min_weight``; within a group, ties (and
small groups) fall back on global popularity.

Examples
--------
>>> import numpy as np
>>> matrix = np.array([[1, 1, 0], [1, 0, 1], [0, 0, 1], [0, 0, 1]])
>>> fitted = MostPopular(user_groups=("a", "a", "b", "b")).fit(matrix)
>>> [r.item for r in fitted.recommend(0, 3, exclude_seen=False)]
[2, 0, 1]
>>> [(r.item, r.reason.text()) for r in fitted.recommend_for_group("a", 2)]
[(0, 'popular in a'), (2, 'popular in a')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from firstmile.ml.recommend.base import (
    FittedBase,
    FloatArray,
    IntArray,
    ItemSelection,
    Reason,
    ReasonKind,
    Recommendation,
    as_rows,
    check_matrix,
    mask_of,
    signal,
    top_k,
)


@dataclass(frozen=True)
class MostPopular:
    """Rank items by how many users interacted with them (at least ``min_weight``).

    ``user_groups`` gives each row of the matrix to ``fit`` its group (``None`` for none);
    the fitted model then also ranks within a group (:meth:`FittedPopular.recommend_for_group`).
    """

    min_weight: float | None = None
    user_groups: Sequence[str | None] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return "popular" if self.min_weight is None else f"popular(min_weight={self.min_weight:g})"

    def variants(self) -> tuple[MostPopular, ...]:
        return (self,)

    def fit(self, matrix: Any) -> FittedPopular:
        history = check_matrix(matrix, "Most-popular", min_users=1, min_items=1)
        liked = signal(history, self.min_weight, binary=True)
        counts = np.asarray(liked.sum(axis=0), dtype=np.float64).ravel()
        groups: dict[str, FloatArray] = {}
        sizes: dict[str, int] = {}
        if self.user_groups is not None:
            labels = list(self.user_groups)
            if len(labels) != history.shape[0]:
                raise ValueError(
                    f"user_groups has {len(labels)} labels for {history.shape[0]} users"
                )
            for group in sorted({g for g in labels if g is not None}):
                rows = [n for n, g in enumerate(labels) if g == group]
                groups[group] = np.asarray(liked[rows].sum(axis=0), dtype=np.float64).ravel()
                sizes[group] = len(rows)
        return FittedPopular(history, counts, groups, sizes)

    def with_groups(self, user_groups: Sequence[str | None]) -> MostPopular:
        return replace(self, user_groups=tuple(user_groups))


@dataclass(frozen=True, eq=False)
class FittedPopular(FittedBase):
    """Popularity counts, overall and per group; scores are the share of users."""

    history: Any
    counts: FloatArray
    group_counts: dict[str, FloatArray]
    group_sizes: dict[str, int]

    @property
    def share(self) -> FloatArray:
        share: FloatArray = self.counts / max(1, int(self.history.shape[0]))
        return share

    def scores(self, user_rows: Any) -> FloatArray:
        rows = as_rows(user_rows, self.n_items)
        return np.tile(self.share, (rows.shape[0], 1))

    def explain(self, row: Any, items: IntArray) -> list[Reason]:
        return [Reason(ReasonKind.POPULAR) for _ in items]

    def group_scores(self, group: str | None) -> FloatArray | None:
        """Scores within ``group``: its users' share, global share breaking ties; ``None``
        for an unknown group."""
        if group is None or group not in self.group_counts:
            return None
        counts, size = self.group_counts[group], max(1, self.group_sizes[group])
        # The global term stays below one group user (1 / size), so it only orders ties.
        return counts / size + self.share / (size + 1) * 1e-3

    def recommend_for_group(
        self,
        group: str | None,
        k: int = 10,
        *,
        exclude: ItemSelection | None = None,
        allowed: ItemSelection | None = None,
    ) -> list[Recommendation]:
        """Cold start: the top ``k`` within ``group``, or overall for an unknown group."""
        blocked = mask_of(exclude, self.n_items, default=False)
        blocked |= ~mask_of(allowed, self.n_items, default=True)
        scores = self.group_scores(group)
        reason = Reason(ReasonKind.POPULAR_IN_GROUP, detail=group)
        if scores is None:
            scores, reason = self.share, Reason(ReasonKind.POPULAR)
        return [Recommendation(int(i), float(scores[i]), reason) for i in top_k(scores, k, blocked)]
