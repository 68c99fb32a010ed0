# ruff: noqa: RUF002 - the docstrings write "users x items" with the multiplication sign
"""Item-based k-nearest neighbours: "users who did this also did that".

The similarity of items ``i`` and ``j`` is the cosine of their user columns, shrunk
towards zero when few users share them (Sarwar et al. 2001; shrinkage as in Koren 2008)::

    sim(i, j) = x_i · x_j / (‖x_i‖ ‖x_j‖ + shrinkage)

and only the ``neighbours`` most similar items of each item are kept, which removes noise
and keeps the fitted model small (a sparse items × items matrix). A user's score for
``i`` is the sum of the similarities of ``i`` to the items in their history, so the
reason names the history item that contributed most ("similar to <item>").

Examples
--------
>>> import numpy as np
>>> matrix = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]])
>>> fitted = ItemKNN(neighbours=2, shrinkage=0.0).fit(matrix)
>>> [(r.item, r.reason.text()) for r in fitted.recommend(3, 1)]
[(1, 'similar to item 0')]
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from firstmile.ml.recommend.base import (
    FittedBase,
    FloatArray,
    IntArray,
    Reason,
    ReasonKind,
    as_rows,
    check_matrix,
    signal,
    strongest_contributor,
)

#: Dense similarity cells computed at once while fitting (about 32 MB of float64).
_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class ItemKNN:
    """Item-kNN with shrunk cosine similarity over the ``neighbours`` closest items.

    ``min_weight`` and ``binary`` say which interactions count as a signal and how
    (see :func:`~firstmile.ml.recommend.base.signal`).
    """

    neighbours: int = 100
    shrinkage: float = 10.0
    min_weight: float | None = None
    binary: bool = True

    def __post_init__(self) -> None:
        if self.neighbours < 1:
            raise ValueError(f"neighbours must be at least 1, not {self.neighbours}")
        if not self.shrinkage >= 0:
            raise ValueError(f"shrinkage must be >= 0, not {self.shrinkage}")

    @property
    def name(self) -> str:
        extra = "" if self.min_weight is None else f", min_weight={self.min_weight:g}"
        return f"item_knn(neighbours={self.neighbours}{extra})"

    def variants(self) -> tuple[ItemKNN, ...]:
        grid = sorted({max(5, self.neighbours // 2), self.neighbours, self.neighbours * 2})
        return tuple(replace(self, neighbours=n) for n in grid)

    def fit(self, matrix: Any) -> FittedItemKNN:
        history = check_matrix(matrix, "Item-kNN")
        x = signal(history, self.min_weight, self.binary)
        check_matrix(x, "Item-kNN (interactions that count as a signal)")
        n_items = x.shape[1]
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        keep = min(self.neighbours, n_items - 1)
        xt = x.T.tocsr()
        xc = x.tocsc()
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        block = max(1, _BLOCK_CELLS // n_items)
        for start in range(0, n_items, block):
            stop = min(n_items, start + block)
            targets = np.arange(start, stop)
            sims = np.asarray((xt @ xc[:, start:stop]).toarray(), dtype=np.float64)
            sims /= np.outer(norms, norms[start:stop]) + self.shrinkage + 1e-12
            sims[targets, targets - start] = 0.0  # an item is not its own neighbour
            if keep < n_items:
                drop = np.argpartition(-sims, keep - 1, axis=0)[keep:]
                np.put_along_axis(sims, drop, 0.0, axis=0)
            src, dst = np.nonzero(sims > 0)
            rows.append(src.astype(np.int64))
            cols.append((dst + start).astype(np.int64))
            vals.append(sims[src, dst])
        similarity = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_items, n_items),
        )
        return FittedItemKNN(history, similarity, self.min_weight, self.binary)


@dataclass(frozen=True, eq=False)
class FittedItemKNN(FittedBase):
    """``similarity[j, i]``: how much having item ``j`` recommends item ``i``."""

    history: Any
    similarity: Any
    min_weight: float | None
    binary: bool

    def scores(self, user_rows: Any) -> FloatArray:
        rows = signal(as_rows(user_rows, self.n_items), self.min_weight, self.binary)
        return np.asarray((rows @ self.similarity).toarray(), dtype=np.float64)

    def explain(self, row: Any, items: IntArray) -> list[Reason]:
        liked = signal(row, self.min_weight, self.binary)
        if items.size == 0:
            return []
        links = np.asarray(self.similarity[:, items].toarray())
        reasons = []
        for n in range(items.size):
            source = strongest_contributor(liked, links[:, n])
            reasons.append(
                Reason(ReasonKind.SIMILAR_TO_ITEM, item=source)
                if source is not None
                else Reason(ReasonKind.USERS_LIKE_YOU)
            )
        return reasons
