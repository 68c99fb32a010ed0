# ruff: noqa: RUF002 - the docstrings write "users x items" with the multiplication sign
"""The one small protocol every recommender follows, and what they share.

A recommender is a configuration (``EASE(l2=200)``) whose ``fit(matrix)`` returns a
fitted, picklable value. The fitted value scores users given their interaction rows
(``scores(rows) -> (n_users, n_items)``) and ranks items for one user
(``recommend(user, k, exclude=..., allowed=...)``), each item with a :class:`Reason`.

Ranking rules shared by all of them, so none can forget one:

* the user's own history (the rows given to ``fit``) is excluded unless
  ``exclude_seen=False``; ``exclude`` removes more items, ``allowed`` keeps only some;
  excluded or disallowed items never come back, whatever their score;
* ties are broken by item index (ascending), so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from firstmile.errors import ModelError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
#: Items as a boolean mask over the catalogue or as item indices.
ItemSelection = BoolArray | Iterable[int]
#: A user as a row index into the fitted history, or as an interaction row of their own.
UserRef = int | Any


class ReasonKind(StrEnum):
    """Why an item was recommended; :meth:`Reason.text` renders it for people."""

    POPULAR = "popular"
    POPULAR_IN_GROUP = "popular_in_group"
    SIMILAR_TO_ITEM = "similar_to_item"
    MATCHES_INTERESTS = "matches_interests"
    USERS_LIKE_YOU = "users_like_you"


@dataclass(frozen=True, slots=True)
class Reason:
    """A short, structured explanation: a kind and what contributed most.

    ``item`` is the index of the item the recommendation is most similar to, ``detail``
    the group or the interest term. :meth:`text` names items by key when given them.

    >>> Reason(ReasonKind.SIMILAR_TO_ITEM, item=1).text(("intro", "invite"))
    'similar to invite'
    >>> Reason(ReasonKind.POPULAR_IN_GROUP, detail="admins").text()
    'popular in admins'
    """

    kind: ReasonKind
    item: int | None = None
    detail: str | None = None

    def text(self, item_keys: tuple[str, ...] | None = None) -> str:
        if self.kind is ReasonKind.SIMILAR_TO_ITEM and self.item is not None:
            name = item_keys[self.item] if item_keys is not None else f"item {self.item}"
            return f"similar to {name}"
        if self.kind is ReasonKind.POPULAR_IN_GROUP and self.detail is not None:
            return f"popular in {self.detail}"
        if self.kind is ReasonKind.MATCHES_INTERESTS:
            if self.detail is None:
                return "matches your interests"
            return f"matches your interests: {self.detail}"
        if self.kind is ReasonKind.USERS_LIKE_YOU:
            return "users like you chose it"
        return "popular"


class Recommendation(NamedTuple):
    """One ranked item: its column index, its score (model-specific scale), and why."""

    item: int
    score: float
    reason: Reason


@runtime_checkable
class FittedRecommender(Protocol):
    """A fitted recommender: picklable, scores rows, ranks items for one user."""

    @property
    def history(self) -> Any:
        """The users × items CSR matrix it was fitted on (what users have seen)."""

    def scores(self, user_rows: Any) -> FloatArray:
        """Scores of every item for each row of ``user_rows`` (CSR or dense), higher is better."""

    def explain(self, row: Any, items: IntArray) -> list[Reason]:
        """One reason per item of ``items`` for the user whose row is ``row`` (1 × items)."""

    def recommend(
        self,
        user: UserRef,
        k: int = 10,
        *,
        exclude: ItemSelection | None = None,
        allowed: ItemSelection | None = None,
        exclude_seen: bool = True,
    ) -> list[Recommendation]:
        """The top ``k`` items for a user index or an interaction row."""


class Recommender(Protocol):
    """A recommender's configuration: a name, a small grid around it, and ``fit``."""

    @property
    def name(self) -> str:
        """A short label with the main hyper-parameters, e.g. ``ease(lambda=200)``."""

    def variants(self) -> tuple[Recommender, ...]:
        """A small grid around this configuration (itself included) for model selection."""

    def fit(self, matrix: Any) -> FittedRecommender:
        """Learn from a users × items matrix; raises ModelError on too little data."""


def check_matrix(matrix: Any, who: str, *, min_users: int = 2, min_items: int = 2) -> Any:
    """``matrix`` as CSR float64, or ModelError saying what is missing or wrong."""
    csr = sp.csr_matrix(matrix, dtype=np.float64)
    csr.sum_duplicates()
    if not np.isfinite(csr.data).all():
        raise ModelError(f"{who}: the interaction weights contain NaN or infinity.")
    if (csr.data < 0).any():
        raise ModelError(f"{who}: the interaction weights must not be negative.")
    csr.eliminate_zeros()
    users = int((np.diff(csr.indptr) > 0).sum())
    items = int(np.unique(csr.indices).size)
    if users < min_users:
        raise ModelError(
            f"{who} needs interactions from at least {min_users} users; "
            f"the data has {users} user(s) with interactions."
        )
    if items < min_items:
        raise ModelError(
            f"{who} needs interactions with at least {min_items} distinct items; "
            f"the data has {items}."
        )
    return csr


def signal(matrix: Any, min_weight: float | None, binary: bool) -> Any:
    """The part of the history that counts as liking: weights >= ``min_weight``, as 1s if
    ``binary``. Lighter interactions stay in the history (excluded as seen) but carry no
    signal: a film rated 2 was seen, not liked."""
    out = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    if min_weight is not None:
        out.data[out.data < min_weight] = 0.0
        out.eliminate_zeros()
    if binary:
        out.data[:] = 1.0
    return out


def as_rows(user_rows: Any, n_items: int) -> Any:
    """CSR rows from CSR, dense 1-D or 2-D input, checked against the catalogue size."""
    rows = (
        sp.csr_matrix(user_rows, dtype=np.float64)
        if sp.issparse(user_rows)
        else sp.csr_matrix(np.atleast_2d(np.asarray(user_rows, dtype=np.float64)))
    )
    if rows.shape[1] != n_items:
        raise ModelError(f"A user row has {rows.shape[1]} columns; the model has {n_items} items.")
    if not np.isfinite(rows.data).all():
        raise ModelError("A user row contains NaN or infinity.")
    return rows


def mask_of(selection: ItemSelection | None, n_items: int, *, default: bool) -> BoolArray:
    """A boolean mask from a mask or indices; ``None`` gives a mask filled with ``default``."""
    if selection is None:
        return np.full(n_items, default, dtype=bool)
    if isinstance(selection, np.ndarray) and selection.dtype == np.bool_:
        if selection.shape != (n_items,):
            raise ValueError(f"an item mask needs shape ({n_items},), not {selection.shape}")
        return selection.astype(bool, copy=True)
    mask = np.zeros(n_items, dtype=bool)
    mask[np.fromiter((int(i) for i in selection), dtype=np.int64)] = True
    return mask


def top_k(scores: FloatArray, k: int, blocked: BoolArray) -> IntArray:
    """Indices of the ``k`` best unblocked scores, best first, ties by ascending index."""
    candidates = np.flatnonzero(~blocked & ~np.isnan(scores))
    if k <= 0 or candidates.size == 0:
        return np.zeros(0, dtype=np.int64)
    values = scores[candidates]
    if k < candidates.size:
        # Keep everything tied with the k-th value, then a stable sort settles ties by index.
        kth = np.partition(-values, k - 1)[k - 1]
        keep = -values <= kth
        candidates, values = candidates[keep], values[keep]
    order = np.argsort(-values, kind="stable")[:k]
    return candidates[order].astype(np.int64)


def top_k_rows(scores: FloatArray, k: int) -> IntArray:
    """Row-wise :func:`top_k` for a batch (blocked cells already set to -inf)."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    negative = -scores
    # argpartition is O(items) per row, but picks arbitrarily among values tied with the
    # k-th; rows with such ties (popularity counts, all-zero rows) take the exact path.
    part = np.argpartition(negative, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(negative, part, axis=1).max(axis=1, keepdims=True)
    tied = (negative <= kth).sum(axis=1) > k
    values = np.take_along_axis(negative, part, axis=1)
    order = np.lexsort((part, values), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    if tied.any():
        top[tied] = np.argsort(negative[tied], axis=1, kind="stable")[:, :k]
    return top.astype(np.int64)


class FittedBase:
    """What every fitted model shares: the history, ``recommend`` over ``scores`` and
    ``explain``. Subclasses set ``history`` and implement ``scores`` and ``explain``."""

    history: Any

    @property
    def n_items(self) -> int:
        return int(self.history.shape[1])

    def scores(self, user_rows: Any) -> FloatArray:
        raise NotImplementedError

    def explain(self, row: Any, items: IntArray) -> list[Reason]:
        """One reason per item of ``items`` for the user whose row is ``row`` (1 × items)."""
        return [Reason(ReasonKind.USERS_LIKE_YOU) for _ in items]

    def row_of(self, user: UserRef) -> Any:
        if isinstance(user, int | np.integer):
            if not 0 <= int(user) < self.history.shape[0]:
                raise ModelError(
                    f"User row {int(user)} is outside the fitted history "
                    f"({self.history.shape[0]} users); pass the user's interaction row instead."
                )
            return self.history[int(user)]
        return as_rows(user, self.n_items)[0]

    def recommend(
        self,
        user: UserRef,
        k: int = 10,
        *,
        exclude: ItemSelection | None = None,
        allowed: ItemSelection | None = None,
        exclude_seen: bool = True,
    ) -> list[Recommendation]:
        row = self.row_of(user)
        blocked = mask_of(exclude, self.n_items, default=False)
        blocked |= ~mask_of(allowed, self.n_items, default=True)
        if exclude_seen:
            blocked[row.indices[row.data != 0]] = True
        scores = self.scores(row)[0]
        items = top_k(scores, k, blocked)
        reasons = self.explain(row, items)
        return [
            Recommendation(int(i), float(scores[i]), reason)
            for i, reason in zip(items, reasons, strict=True)
        ]


def strongest_contributor(row: Any, weights_to_item: FloatArray) -> int | None:
    """The item of ``row`` whose weighted link to a target contributes most, if positive.

    ``weights_to_item[j]`` is the link from item ``j`` to the target (a similarity, an
    EASE weight); the contribution of ``j`` is ``row[j] * weights_to_item[j]``.
    """
    if row.nnz == 0:
        return None
    contributions = row.data * weights_to_item[row.indices]
    best = int(np.argmax(contributions))
    return int(row.indices[best]) if contributions[best] > 0 else None
